/**
 * Tamper alerts that survive the tampering. Each tamper use case also gets a second EventBridge rule
 * whose pattern approximates its most serious findings and whose target is the alerts topic itself
 * (input transformer, no queue, no Lambda): an attacker who first breaks the detect path (disables a
 * rule, throttles the detect function, purges the queue) still triggers one alert. The patterns are
 * data, like the use cases' own; they filter by name prefix, success and "not CloudFormation"
 * because no code runs on this path.
 */
import type { EventPattern, PatternLeaf } from '../../engine/event-pattern.js';

export interface DirectAlertRule {
  /** The use case whose title and runbook the alert carries. */
  readonly useCase: string;
  /** Rule name suffix: the rule is `<prefix><slug>`. */
  readonly slug: string;
  readonly description: string;
  readonly pattern: EventPattern;
}

const CLOUDFORMATION = 'cloudformation.amazonaws.com';
const API_CALL = ['AWS API Call via CloudTrail'];

/** EventBridge wildcards treat `*` (and `\`) specially: a prefix containing them must be escaped. */
export function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}

/** Conditions every direct pattern shares: a successful call, not made by a CloudFormation deployment. */
function common(includeDeployments = false): EventPattern {
  return {
    errorCode: [{ exists: false }],
    ...(includeDeployments ? {} : { sourceIPAddress: [{ 'anything-but': CLOUDFORMATION }] }),
  };
}

/** `$or` needs two branches or more: a single one is the pattern itself. */
function anyOf(branches: readonly EventPattern[]): EventPattern {
  return branches.length === 1 ? (branches[0] as EventPattern) : { $or: branches as unknown as PatternLeaf };
}

/** The default bus: Buildwatch's rules are there (an explicit "default", or no bus at all). */
const DEFAULT_BUS: PatternLeaf = [{ exists: false }, 'default'];
/** The canary schedule is in the default schedule group. */
const DEFAULT_GROUP: PatternLeaf = [{ exists: false }, 'default'];

export interface DirectAlertOptions {
  /** The monitor's KMS keys (ids and ARNs): key ids cannot be matched by prefix. */
  readonly keys?: readonly string[];
  /** The monitor's account: events and ARNs of other accounts are not about its resources. */
  readonly account?: string;
}

export function directAlertRules(prefix: string, options: DirectAlertOptions = {}): DirectAlertRule[] {
  // CloudTrail names a key by id or ARN, whichever the caller used: match both.
  const keys = [...new Set((options.keys ?? []).flatMap((key) => [key, ...(/:key\/([^/]+)$/.exec(key)?.slice(1) ?? [])]))];
  const p = escapeWildcard(prefix);
  // In ARNs and queue URLs the account precedes the name; without a known account, any account.
  const a = options.account ? `${escapeWildcard(options.account)}:` : '';
  const accountPath = options.account ? `${escapeWildcard(options.account)}/` : '';
  const name: PatternLeaf = [{ prefix }];
  const functionArn: PatternLeaf = [{ wildcard: `*:${a}function:${p}*` }];
  // A function name, a full ARN, or a partial ARN (ACCOUNT:function:NAME).
  const functionName: PatternLeaf = [{ prefix }, ...functionArn, ...(options.account ? [{ wildcard: `${a}function:${p}*` }] : [])];
  const topicArn: PatternLeaf = [{ wildcard: `arn:*:sns:*:${a}${p}*` }];
  const tableName: PatternLeaf = [{ prefix }, { wildcard: `arn:*:dynamodb:*:${a}table/${p}*` }];
  const inAccount: EventPattern = options.account ? { account: [options.account] } : {};

  const rules: DirectAlertRule[] = [
    {
      useCase: 'monitor.cloudtrail-tamper',
      slug: 'monitor-cloudtrail-tamper-direct',
      description: 'Buildwatch direct tamper alert: CloudTrail logging stopped, deleted or its selectors emptied',
      pattern: {
        ...inAccount,
        source: ['aws.cloudtrail'],
        'detail-type': API_CALL,
        detail: {
          eventSource: ['cloudtrail.amazonaws.com'],
          // Trails are not the monitor's own: a deployment that stops logging is still an alert.
          ...common(true),
          $or: [
            { eventName: ['StopLogging', 'DeleteTrail'] },
            { eventName: ['PutEventSelectors'], requestParameters: { eventSelectors: { includeManagementEvents: [false] } } },
            { eventName: ['PutEventSelectors'], requestParameters: { eventSelectors: { includeManagementEvents: [true], readWriteType: ['ReadOnly'] } } },
          ],
        },
      },
    },
    {
      useCase: 'monitor.rule-tamper',
      slug: 'monitor-rule-tamper-direct',
      description: "Buildwatch direct tamper alert: the monitor's event rules or canary schedule disabled, deleted or redirected",
      pattern: {
        ...inAccount,
        'detail-type': API_CALL,
        detail: {
          ...common(),
          $or: [
            { eventSource: ['events.amazonaws.com'], eventName: ['DisableRule', 'DeleteRule'], requestParameters: { name, eventBusName: DEFAULT_BUS } },
            { eventSource: ['events.amazonaws.com'], eventName: ['RemoveTargets', 'PutTargets'], requestParameters: { rule: name, eventBusName: DEFAULT_BUS } },
            { eventSource: ['events.amazonaws.com'], eventName: ['PutRule'], requestParameters: { name, state: ['DISABLED'], eventBusName: DEFAULT_BUS } },
            { eventSource: ['scheduler.amazonaws.com'], eventName: ['DeleteSchedule'], requestParameters: { name, groupName: DEFAULT_GROUP } },
            { eventSource: ['scheduler.amazonaws.com'], eventName: ['UpdateSchedule'], requestParameters: { name, state: ['DISABLED'], groupName: DEFAULT_GROUP } },
          ],
        },
      },
    },
    {
      useCase: 'monitor.function-tamper',
      slug: 'monitor-function-tamper-direct',
      description: "Buildwatch direct tamper alert: the monitor's Lambda functions replaced, deleted, stopped or cut off",
      pattern: {
        ...inAccount,
        'detail-type': API_CALL,
        detail: {
          eventSource: ['lambda.amazonaws.com'],
          ...common(),
          $or: [
            {
              eventName: [{ prefix: 'UpdateFunctionCode' }, { prefix: 'UpdateFunctionConfiguration' }, 'DeleteFunction', { prefix: 'DeleteFunction20' }],
              requestParameters: { functionName },
            },
            { eventName: [{ prefix: 'PutFunctionConcurrency' }], requestParameters: { functionName, reservedConcurrentExecutions: [0] } },
            { eventName: [{ prefix: 'DeleteEventSourceMapping' }], responseElements: { functionArn } },
            { eventName: [{ prefix: 'UpdateEventSourceMapping' }], requestParameters: { enabled: [false] }, responseElements: { functionArn } },
            {
              eventName: [{ prefix: 'UpdateEventSourceMapping' }],
              responseElements: { eventSourceArn: [{ wildcard: `*:${a}${p}*` }, { wildcard: `*:${a}table/${p}*` }], functionArn: [{ 'anything-but': { wildcard: `*:${a}function:${p}*` } }] },
            },
          ],
        },
      },
    },
    {
      useCase: 'monitor.resource-tamper',
      slug: 'monitor-resource-tamper-direct',
      description: "Buildwatch direct tamper alert: the monitor's topics or queues deleted, purged or weakened, its alarms deleted or silenced",
      pattern: {
        ...inAccount,
        'detail-type': API_CALL,
        detail: {
          ...common(),
          $or: [
            { eventSource: ['sns.amazonaws.com'], eventName: ['DeleteTopic'], requestParameters: { topicArn } },
            { eventSource: ['sns.amazonaws.com'], eventName: ['SetTopicAttributes'], requestParameters: { topicArn, attributeName: ['Policy', 'KmsMasterKeyId'] } },
            { eventSource: ['sns.amazonaws.com'], eventName: ['Unsubscribe', 'SetSubscriptionAttributes'], requestParameters: { subscriptionArn: [{ wildcard: `arn:*:sns:*:${a}${p}*:*` }] } },
            { eventSource: ['sqs.amazonaws.com'], eventName: ['PurgeQueue', 'DeleteQueue'], requestParameters: { queueUrl: [{ wildcard: `https://*/${accountPath}${p}*` }] } },
            { eventSource: ['monitoring.amazonaws.com'], eventName: ['DeleteAlarms', 'DisableAlarmActions'], requestParameters: { alarmNames: name } },
          ],
        },
      },
    },
    {
      useCase: 'monitor.resource-tamper',
      slug: 'monitor-table-tamper-direct',
      description: "Buildwatch direct tamper alert: the monitor's tables deleted, their backups, deletion protection or stream turned off",
      pattern: {
        ...inAccount,
        'detail-type': API_CALL,
        detail: {
          eventSource: ['dynamodb.amazonaws.com'],
          ...common(),
          $or: [
            { eventName: ['DeleteTable'], requestParameters: { tableName } },
            { eventName: ['UpdateContinuousBackups'], requestParameters: { tableName, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: [false] } } },
            { eventName: ['UpdateTable'], requestParameters: { tableName, deletionProtectionEnabled: [false] } },
            { eventName: ['UpdateTable'], requestParameters: { tableName, streamSpecification: { streamEnabled: [false] } } },
          ],
        },
      },
    },
    {
      useCase: 'monitor.key-tamper',
      slug: 'monitor-key-tamper-direct',
      description: "Buildwatch direct tamper alert: the monitor's KMS key disabled or deleted, its policy replaced or its alias re-pointed",
      pattern: {
        ...inAccount,
        'detail-type': API_CALL,
        detail: {
          ...common(),
          ...anyOf([
            ...(keys.length > 0 ? [{ eventSource: ['kms.amazonaws.com'], eventName: ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy'], requestParameters: { keyId: [...keys] } }] : []),
            { eventSource: ['kms.amazonaws.com'], eventName: ['UpdateAlias', 'DeleteAlias'], requestParameters: { aliasName: [{ prefix: `alias/${prefix}` }] } },
          ]),
        },
      },
    },
  ];
  return rules;
}
