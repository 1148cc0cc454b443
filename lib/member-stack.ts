/**
 * The member stack of an organisation deployment, one per watched account and region (a StackSet
 * instance, or `cdk deploy` per account): rules on the default bus that forward what the enabled use
 * cases match to the central bus (cross-account, and cross-region where the member's region differs),
 * rules forwarding tampering with this stack, a heartbeat, the forwarding role, and the read-only
 * look-up role the central detect function assumes. Nothing that holds data: no queue, table, key,
 * log group or function.
 *
 * One template serves every account and region (StackSets deploy it unchanged), so what differs is
 * decided by CloudFormation conditions: in the central account's central region the central stack
 * already watches the default bus (no forwarding); the named (global) look-up role is created by the
 * stack of one region per account.
 */
import { hostLookupStatements } from './constructs/detector.js';
import { Annotations, Aws, CfnCondition, CfnOutput, Duration, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct, IConstruct } from 'constructs';
import type { BuildwatchConfig, OrganizationConfig } from '../lambdas/config/config.js';
import { centralDetectRoleName, centralSweepRoleName, lookupExternalId, memberLookupRoleName } from '../lambdas/config/organization.js';
import type { UseCase } from '../lambdas/engine/use-case.js';
import { ALL_MANAGEMENT_EVENTS_STATE, enabledUseCases, ruleSlug, toCdkEventPattern } from './constructs/detection-rules.js';
import { HEARTBEAT_INTERVAL } from './constructs/heartbeat.js';
import { nagArnParts } from './constructs/detector.js';
import { memberLookupResources, memberLookupStatements } from './organization/lookup-access.js';
import { CENTRAL_ONLY_USE_CASES, IAM_EVENTS_REGION, MEMBER_HEARTBEAT_SLUG, centralBusArn, memberTamperRules, roleRegion } from './organization/shared.js';

export interface BuildwatchMemberStackProps extends StackProps {
  readonly config: BuildwatchConfig;
  readonly useCases: readonly UseCase[];
}

/** The forwarding role's name: `<prefix>forward-<region>` (roles are global; one per region), recognisable by its prefix. */
export function forwardRoleName(resourcePrefix: string, region: string): string {
  return `${resourcePrefix}forward-${region}`;
}

export class BuildwatchMemberStack extends Stack {
  readonly organization: OrganizationConfig;
  readonly forwardRole: iam.Role;
  readonly lookupRole: iam.Role;
  /** Forwarding rules by use-case id (use cases with the same pattern share one). */
  readonly forwarders = new Map<string, events.Rule>();
  readonly tamperForwarders: events.Rule[] = [];
  readonly heartbeat: events.Rule;
  /** True except in the central account's central region. */
  readonly forwards: CfnCondition;
  /** True in the region whose stack owns the account's look-up role. */
  readonly ownsLookupRole: CfnCondition;

  constructor(scope: Construct, id: string, props: BuildwatchMemberStackProps) {
    super(scope, id, { description: 'Buildwatch member: forwards pipeline events to the central Buildwatch, read-only look-up role', ...props });
    const { config } = props;
    if (!config.organization) throw new Error('the member stack needs the configuration\'s organization section');
    const org = config.organization;
    this.organization = org;
    const prefix = config.monitor.resourcePrefix;

    const isCentral = new CfnCondition(this, 'IsCentralAccountAndRegion', {
      expression: Fn.conditionAnd(Fn.conditionEquals(Aws.ACCOUNT_ID, org.central.account), Fn.conditionEquals(Aws.REGION, org.central.region)),
    });
    this.forwards = new CfnCondition(this, 'ForwardsToCentralBus', { expression: Fn.conditionNot(isCentral) });
    this.ownsLookupRole = new CfnCondition(this, 'OwnsLookupRole', { expression: Fn.conditionEquals(Aws.REGION, roleRegion(org)) });

    const busArn = centralBusArn(org, prefix, this.partition);
    this.forwardRole = new iam.Role(this, 'ForwardRole', {
      roleName: forwardRoleName(prefix, Aws.REGION),
      description: 'Buildwatch member: lets EventBridge put this account\'s pipeline events on the central bus',
      // Only this account's rules (confused-deputy guard).
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      inlinePolicies: {
        'put-central-bus': new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ sid: 'PutOnCentralBus', actions: ['events:PutEvents'], resources: [busArn] })] }),
      },
    });

    // Written out rather than the EventBus target: that one adds a statement to the role per rule.
    // EventBridge retries a bus target for 24 hours; bus targets take no retry policy.
    const toCentralBus: events.IRuleTarget = { bind: () => ({ arn: busArn, role: this.forwardRole }) };
    const forwarded = (rule: events.Rule): events.Rule => {
      (rule.node.defaultChild as events.CfnRule).cfnOptions.condition = this.forwards;
      return rule;
    };

    const enabled = enabledUseCases(props.useCases, config);
    // One forwarder per distinct pattern: use cases sharing a pattern would otherwise each forward the
    // same event, and every copy reaches every one of their rules on the central bus.
    const byPattern = new Map<string, UseCase[]>();
    for (const useCase of enabled.filter((candidate) => !CENTRAL_ONLY_USE_CASES.has(candidate.metadata.id))) {
      const key = JSON.stringify(useCase.pattern);
      byPattern.set(key, [...(byPattern.get(key) ?? []), useCase]);
    }
    for (const group of byPattern.values()) {
      const first = group[0] as UseCase;
      const slug = ruleSlug(first.metadata.id);
      const rule = forwarded(
        new events.Rule(this, slug, {
          ruleName: `${prefix}${slug}`,
          description: `Buildwatch ${group.map((useCase) => useCase.metadata.id).join(', ')} (to the central bus): ${first.metadata.title}`.slice(0, 512),
          eventPattern: toCdkEventPattern(first.pattern),
          targets: [toCentralBus],
        }),
      );
      if (group.some((useCase) => useCase.metadata.readOnlyEvents)) (rule.node.defaultChild as events.CfnRule).state = ALL_MANAGEMENT_EVENTS_STATE;
      for (const useCase of group) this.forwarders.set(useCase.metadata.id, rule);
    }

    // Tampering with this stack, forwarded by rules of their own: a disabled forwarder is seen by these.
    const enabledIds = new Set(enabled.map((useCase) => useCase.metadata.id));
    for (const spec of memberTamperRules(prefix).filter((candidate) => enabledIds.has(candidate.useCase))) {
      this.tamperForwarders.push(
        forwarded(
          new events.Rule(this, spec.slug, {
            ruleName: `${prefix}${spec.slug}`,
            description: spec.description.slice(0, 512),
            eventPattern: toCdkEventPattern(spec.pattern),
            targets: [toCentralBus],
          }),
        ),
      );
    }

    if (!org.members.regions.includes(IAM_EVENTS_REGION)) {
      Annotations.of(this).addWarningV2(
        'buildwatch:member-iam-events-region',
        `IAM reports role changes to EventBridge in ${IAM_EVENTS_REGION} only, which is not among organization.members.regions: tampering with the member roles is not forwarded (add ${IAM_EVENTS_REGION} to watch it).`,
      );
    }

    // Its arrival on the central bus proves this account and region forward (rule, role, bus policy).
    this.heartbeat = forwarded(
      new events.Rule(this, 'Heartbeat', {
        ruleName: `${prefix}${MEMBER_HEARTBEAT_SLUG}`,
        description: 'Buildwatch member heartbeat: the central heartbeat reports an account and region that falls silent',
        schedule: events.Schedule.rate(HEARTBEAT_INTERVAL),
        targets: [toCentralBus],
      }),
    );

    // The central detect role, by ARN in a condition rather than as the principal: a principal ARN is
    // bound to the role's unique id, so recreating the central role would silently break every trust.
    const detectRoleArn = `arn:${this.partition}:iam::${org.central.account}:role/${centralDetectRoleName(prefix)}`;
    const sweepRoleArn = `arn:${this.partition}:iam::${org.central.account}:role/${centralSweepRoleName(prefix)}`;
    this.lookupRole = new iam.Role(this, 'LookupRole', {
      roleName: memberLookupRoleName(prefix),
      description: 'Buildwatch member: read-only look-ups (build projects, packages, SBOMs, trails) for the central detect function',
      assumedBy: new iam.PrincipalWithConditions(new iam.AccountPrincipal(org.central.account), {
        ArnEquals: { 'aws:PrincipalArn': [detectRoleArn, sweepRoleArn] },
        StringEquals: { 'sts:ExternalId': lookupExternalId(org.id) },
      }),
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: { lookups: new iam.PolicyDocument({ statements: memberLookupStatements(config, { partition: this.partition, region: '*', account: Aws.ACCOUNT_ID }) }) },
    });
    (this.lookupRole.node.defaultChild as iam.CfnRole).cfnOptions.condition = this.ownsLookupRole;

    new CfnOutput(this, 'CentralBusArn', { value: busArn, description: 'where this account forwards its pipeline events' }).condition = this.forwards;
    new CfnOutput(this, 'LookupRoleArn', { value: this.lookupRole.roleArn, description: 'assumed by the central detect function' }).condition = this.ownsLookupRole;

    this.acknowledgeNagFindings(config);
  }

  private acknowledgeNagFindings(config: BuildwatchConfig): void {
    const ack = (scope: IConstruct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });
    const role = this.lookupRole.node.defaultChild as IConstruct;
    const shown = nagArnParts(this);
    const r = memberLookupResources(config, { partition: shown.partition, region: '*', account: shown.account });
    const anyRegion = 'region "*": the role is global and serves the look-ups of every watched region of this account';
    const reasons: Array<[readonly string[], string]> = [
      [r.projects, `codebuild:BatchGetProjects only, on the configured projects (all of them where a pipeline lists none); ${anyRegion}.`],
      [r.fleets, `codebuild:BatchGetFleets only: fleets are named by the projects the events describe; ${anyRegion}.`],
      [r.repositories, `ecr:DescribeImages only: build images are named by the events; ${anyRegion}.`],
      [r.packages, `CodeArtifact asset and origin look-ups on the configured packages only; ${anyRegion}.`],
      [r.objects, "s3:GetObject only: SBOM keys hold per-build placeholders unknown at deploy time, under the configured template's fixed prefix."],
    ];
    const hostReads = config.organization ? hostLookupStatements(config, { region: config.organization.members.regions }).flatMap((statement) => statement.actions) : [];
    ack(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      `cloudtrail:DescribeTrails only (read-only): it has no resource-level permissions; monitor.trail-archive-tamper learns the trails' buckets from it.${
        hostReads.length > 0 ? ` Also ${hostReads.join(' and ')} (read-only, build.host-access ties an instance to its host group): EC2 Describe* cannot be scoped to resources, so they are held to the watched regions (aws:RequestedRegion).` : ''
      }`,
    );
    for (const [arns, reason] of reasons) {
      for (const arn of arns.filter((a) => a.includes('*'))) ack(role, `AwsSolutions-IAM5[Resource::${arn}]`, reason);
    }
  }
}
