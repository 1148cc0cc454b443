/**
 * What the central and member stacks agree on beyond lambdas/config/organization.ts: the central bus's
 * ARN, the member heartbeat and the member-tamper patterns (the member forwards them, the central bus
 * alerts on them), and which accounts the configuration names.
 */
import type { OrganizationConfig } from '../../lambdas/config/config.js';
import { centralBusName } from '../../lambdas/config/organization.js';
import type { EventPattern } from '../../lambdas/engine/event-pattern.js';
import { CANARY_USE_CASE, HEARTBEAT_USE_CASE } from '../../lambdas/use-cases/monitor/constants.js';
import { directAlertRules, escapeWildcard, type DirectAlertRule } from '../../lambdas/use-cases/monitor/direct-alerts.js';

/** The central bus, as members name it in their targets and the look-up role names nothing. */
export function centralBusArn(org: OrganizationConfig, resourcePrefix: string, partition: string): string {
  return `arn:${partition}:events:${org.central.region}:${org.central.account}:event-bus/${centralBusName(resourcePrefix)}`;
}

/** Every account the configuration names: the central one, the listed members, the named accounts. */
export function namedAccounts(org: OrganizationConfig): string[] {
  return [...new Set([org.central.account, ...org.members.accounts, ...org.accounts.map((account) => account.id)])].sort();
}

/**
 * The region whose member stack creates the (global) IAM roles of an account: one stack per account
 * may own a named role. The first configured region, so every member account has it.
 */
export function roleRegion(org: OrganizationConfig): string {
  return org.members.regions[0] as string;
}

/**
 * Use cases about the central stack's own health, never forwarded nor matched on the central bus: the
 * canary has a custom source anyone may put on a bus (a member's forged canary would prove a broken
 * central path alive), and the heartbeat's alarms and probe are the central stack's own.
 */
export const CENTRAL_ONLY_USE_CASES: ReadonlySet<string> = new Set([CANARY_USE_CASE, HEARTBEAT_USE_CASE]);

/** The member heartbeat: a scheduled rule on each member's default bus whose target is the central bus. */
export const MEMBER_HEARTBEAT_SLUG = 'member-heartbeat';

/**
 * The member heartbeat as the central bus sees it: EventBridge's own "Scheduled Event", from the
 * member's account and region, naming the member's rule in `resources` (AWS sets all three; nobody
 * can PutEvents with an `aws.` source).
 */
export function memberHeartbeatPattern(resourcePrefix: string): EventPattern {
  return {
    source: ['aws.events'],
    'detail-type': ['Scheduled Event'],
    resources: [{ wildcard: `arn:*:events:*:*:rule/${escapeWildcard(resourcePrefix)}${MEMBER_HEARTBEAT_SLUG}` }],
  };
}

/** IAM's CloudTrail events reach EventBridge in us-east-1 only (a global service). */
export const IAM_EVENTS_REGION = 'us-east-1';

/**
 * Tampering with a member stack: its rules (forwarders, heartbeat) disabled, deleted or retargeted,
 * CloudTrail stopped, its roles (forwarding, look-up) changed or deleted. Each member forwards these
 * with rules of their own (so disabling one forwarder is seen by another), and the central bus sends
 * them straight to the alerts topic. Deployments (CloudFormation, StackSets) are not tampering.
 */
export function memberTamperRules(resourcePrefix: string): DirectAlertRule[] {
  const own = directAlertRules(resourcePrefix);
  const pick = (slug: string, as: string): DirectAlertRule => {
    const rule = own.find((candidate) => candidate.slug === slug);
    if (!rule) throw new Error(`direct alert rule ${slug} is missing`);
    return { ...rule, slug: as, description: `${rule.description} (member account)` };
  };
  return [
    pick('monitor-rule-tamper-direct', 'member-rule-tamper'),
    pick('monitor-cloudtrail-tamper-direct', 'member-cloudtrail-tamper'),
    {
      useCase: 'monitor.resource-tamper',
      slug: 'member-role-tamper',
      description: "Buildwatch member tamper alert: the member's forwarding or look-up role deleted, its trust or permissions changed",
      pattern: {
        source: ['aws.iam'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['iam.amazonaws.com'],
          eventName: [
            'DeleteRole',
            'UpdateAssumeRolePolicy',
            'PutRolePolicy',
            'DeleteRolePolicy',
            'AttachRolePolicy',
            'DetachRolePolicy',
            'PutRolePermissionsBoundary',
            'DeleteRolePermissionsBoundary',
          ],
          errorCode: [{ exists: false }],
          sourceIPAddress: [{ 'anything-but': 'cloudformation.amazonaws.com' }],
          requestParameters: { roleName: [{ prefix: resourcePrefix }] },
        },
      },
    },
  ];
}
