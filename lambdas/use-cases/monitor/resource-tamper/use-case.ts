/**
 * monitor.resource-tamper: the rest of Buildwatch's plumbing weakened. Its SNS topics (alerts deleted,
 * unsubscribed, filtered away, policy or encryption changed), SQS queues (purged, deleted, redrive or
 * policy changed), DynamoDB tables (deleted, point-in-time recovery or deletion protection off, the
 * findings stream turned off) and its CloudWatch alarms (deleted or silenced). Its KMS key is
 * monitor.key-tamper's.
 */
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { STATE_TABLE } from '../../../store/schema.js';
import { isOwn, queueRefOf, refOf, type Ownership } from '../own-resources.js';
import { ownershipOf, tamperObservation, tamperOptionsSchema, type TamperChange } from '../tamper.js';

const optionsSchema = tamperOptionsSchema;

/** Table attributes the monitor relies on: the findings ledger must never expire anything. */
const FINDINGS_TABLE_SUFFIX = 'findings';

function snsChange(event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const subscription = stringAt(params, 'subscriptionArn');
  // A subscription ARN is the topic ARN plus ":<subscription id>".
  const topicArn = stringAt(params, 'topicArn') ?? subscription?.replace(/:[^:]+$/, '');
  const ref = refOf(topicArn);
  if (!record || !isOwn(ref, event, ownership)) return undefined;
  const topic = ref?.name ?? '';
  switch (record.eventName) {
    case 'DeleteTopic':
      return { severity: 'critical', title: "Buildwatch's topic deleted", action: `deleted topic ${topic}: its alerts go nowhere`, resource: topic };
    case 'Unsubscribe':
      return { severity: 'high', title: "Buildwatch's topic lost a subscriber", action: `removed subscription ${subscription ?? ''} from topic ${topic}: that subscriber no longer receives alerts`, resource: topic };
    case 'SetSubscriptionAttributes': {
      const attribute = stringAt(params, 'attributeName') ?? 'an attribute';
      const filters = ['FilterPolicy', 'FilterPolicyScope', 'RedrivePolicy'].includes(attribute);
      return { severity: filters ? 'high' : 'medium', title: "Buildwatch's topic subscription changed", action: `changed ${attribute} of subscription ${subscription ?? ''} to topic ${topic}${filters ? ': alerts may be filtered away from that subscriber' : ''}`, resource: topic, evidence: { attributeName: attribute } };
    }
    case 'SetTopicAttributes': {
      const attribute = stringAt(params, 'attributeName') ?? 'an attribute';
      const weighty = ['Policy', 'KmsMasterKeyId', 'DataProtectionPolicy'].includes(attribute);
      const cleared = attribute === 'KmsMasterKeyId' && !stringAt(params, 'attributeValue');
      return {
        severity: weighty ? 'high' : 'medium',
        title: "Buildwatch's topic reconfigured",
        action: `${cleared ? 'removed the encryption of' : `changed ${attribute} of`} topic ${topic} outside a deployment`,
        resource: topic,
        evidence: { attributeName: attribute },
      };
    }
    case 'AddPermission':
    case 'RemovePermission':
      return { severity: 'high', title: "Buildwatch's topic policy changed", action: `${record.eventName === 'AddPermission' ? 'granted access to' : 'removed a permission from'} topic ${topic} (${stringAt(params, 'label') ?? 'unlabelled'})`, resource: topic };
    default:
      return undefined;
  }
}

/** SQS attributes whose change can drop, divert or expose messages. */
const WEIGHTY_QUEUE_ATTRIBUTES = ['RedrivePolicy', 'RedriveAllowPolicy', 'Policy', 'KmsMasterKeyId', 'SqsManagedSseEnabled'];

function sqsChange(event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const ref = queueRefOf(stringAt(params, 'queueUrl') ?? stringAt(params, 'QueueUrl'));
  if (!record || !isOwn(ref, event, ownership)) return undefined;
  const queue = ref?.name ?? '';
  const detectQueue = queue === `${ownership.prefix}detect`;
  switch (record.eventName) {
    case 'PurgeQueue':
      return { severity: detectQueue ? 'critical' : 'high', title: "Buildwatch's queue purged", action: `purged queue ${queue}: ${detectQueue ? 'pipeline events waiting to be evaluated were dropped unseen' : 'its messages (and their evidence) are gone'}`, resource: queue };
    case 'DeleteQueue':
      return { severity: 'critical', title: "Buildwatch's queue deleted", action: `deleted queue ${queue}`, resource: queue };
    case 'SetQueueAttributes': {
      const attributes = valueAt(params, 'attributes') ?? valueAt(params, 'Attributes');
      const names = isRecord(attributes) ? Object.keys(attributes) : [];
      const weighty = names.filter((name) => WEIGHTY_QUEUE_ATTRIBUTES.includes(name));
      return {
        severity: weighty.length > 0 ? 'high' : 'medium',
        title: "Buildwatch's queue reconfigured",
        action: `changed ${names.join(', ') || 'attributes'} of queue ${queue} outside a deployment${weighty.includes('RedrivePolicy') ? ': failed events may no longer reach the dead-letter queue' : ''}`,
        resource: queue,
        evidence: { attributeNames: names },
      };
    }
    case 'AddPermission':
    case 'RemovePermission':
      return { severity: 'high', title: "Buildwatch's queue policy changed", action: `${record.eventName === 'AddPermission' ? 'granted access to' : 'removed a permission from'} queue ${queue}`, resource: queue };
    default:
      return undefined;
  }
}

function tableChange(event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const ref = refOf(stringAt(params, 'tableName') ?? stringAt(params, 'resourceArn'));
  if (!record || !isOwn(ref, event, ownership)) return undefined;
  const table = ref?.name ?? '';
  const ledger = table === `${ownership.prefix}${FINDINGS_TABLE_SUFFIX}`;
  switch (record.eventName) {
    case 'DeleteTable':
      return { severity: 'critical', title: "Buildwatch's table deleted", action: `deleted table ${table}${ledger ? ': the findings ledger' : ': baselines and snapshots are lost'}`, resource: table };
    case 'UpdateContinuousBackups':
      if (valueAt(params, 'pointInTimeRecoverySpecification', 'pointInTimeRecoveryEnabled') !== false) return undefined;
      return { severity: 'high', title: "Buildwatch's table backups turned off", action: `turned off point-in-time recovery of table ${table}`, resource: table };
    case 'UpdateTable': {
      const problems: string[] = [];
      let severity: TamperChange['severity'] = 'high';
      if (params['deletionProtectionEnabled'] === false) problems.push('deletion protection turned off');
      if (valueAt(params, 'streamSpecification', 'streamEnabled') === false) {
        problems.push('stream turned off (the notifier reads it: alerts stop)');
        severity = 'critical';
      }
      const sse = valueAt(params, 'sSESpecification') ?? valueAt(params, 'sseSpecification') ?? valueAt(params, 'SSESpecification');
      if (sse !== undefined) problems.push('encryption changed');
      if (problems.length === 0) return undefined;
      return { severity, title: "Buildwatch's table weakened", action: `updated table ${table}: ${problems.join('; ')}`, resource: table, evidence: { problems } };
    }
    case 'UpdateTimeToLive': {
      const enabled = valueAt(params, 'timeToLiveSpecification', 'enabled');
      const attribute = stringAt(params, 'timeToLiveSpecification', 'attributeName');
      // The ledger never expires anything; other tables expire only on the state table's own attribute.
      if (!ledger && enabled === false) return { severity: 'medium', title: "Buildwatch's table expiry changed", action: `turned off time to live on table ${table}: forgotten baselines stay`, resource: table };
      if (!ledger && attribute === STATE_TABLE.ttlAttribute) return undefined;
      return { severity: 'high', title: "Buildwatch's table expiry changed", action: `${enabled === false ? 'turned off' : 'set'} time to live on table ${table}${attribute ? ` (attribute ${attribute})` : ''}: DynamoDB may delete its items`, resource: table };
    }
    case 'PutResourcePolicy':
    case 'DeleteResourcePolicy':
      return { severity: 'high', title: "Buildwatch's table policy changed", action: `${record.eventName === 'PutResourcePolicy' ? 'set' : 'deleted'} the resource policy of table ${table}`, resource: table };
    default:
      return undefined;
  }
}

function alarmChange(event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  if (!record) return undefined;
  const names = (Array.isArray(params['alarmNames']) ? params['alarmNames'] : [params['alarmName']]).filter((n): n is string => typeof n === 'string');
  const own = names.filter((name) => isOwn({ name, display: name }, event, ownership));
  if (own.length === 0) return undefined;
  const resource = own.join(', ');
  switch (record.eventName) {
    case 'DeleteAlarms':
      return { severity: 'high', title: "Buildwatch's health alarms deleted", action: `deleted alarm${own.length === 1 ? '' : 's'} ${resource}: failures of the monitor no longer page anyone`, resource };
    case 'DisableAlarmActions':
      return { severity: 'high', title: "Buildwatch's health alarms silenced", action: `disabled the actions of alarm${own.length === 1 ? '' : 's'} ${resource}`, resource };
    case 'PutMetricAlarm':
      return { severity: 'medium', title: "Buildwatch's health alarm redefined", action: `redefined alarm ${resource} outside a deployment`, resource };
    default:
      return undefined;
  }
}

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const options = optionsOf(optionsSchema, ctx);
  const ownership = ownershipOf(ctx, options);
  let change: TamperChange | undefined;
  switch (event.cloudTrail?.eventSource) {
    case 'sns.amazonaws.com':
      change = snsChange(event, ownership);
      break;
    case 'sqs.amazonaws.com':
      change = sqsChange(event, ownership);
      break;
    case 'dynamodb.amazonaws.com':
      change = tableChange(event, ownership);
      break;
    case 'monitoring.amazonaws.com':
      change = alarmChange(event, ownership);
      break;
    default:
      change = undefined;
  }
  return change ? tamperObservation(event, options, change) : undefined;
}

export default defineUseCase({
  metadata: {
    id: 'monitor.resource-tamper',
    answers: 'monitor.tamper',
    title: "Buildwatch's topics, queues, tables or alarms weakened",
    stage: 'monitor',
    description:
      "Detects changes that blind or silence the monitor through its plumbing: SNS topics deleted, unsubscribed, filtered or re-keyed; SQS queues purged, deleted or re-driven; DynamoDB tables deleted, their point-in-time recovery, deletion protection or findings stream turned off, or expiry changed; its CloudWatch alarms deleted or silenced. Same-named resources in other accounts are ignored; CloudFormation deployments are low attestations.",
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 1,
    mitre: ['T1562.001', 'T1485', 'T1490'],
    falsePositives: [
      'A person unsubscribing their own e-mail from the alerts topic (staff changes).',
      'Operators purging the dead-letter queue after handling its messages instead of redriving them.',
    ],
    runbook:
      'Redeploy the stack (cdk deploy) to restore topics, subscriptions, queues, tables and alarms (a deleted table is retained only if it was the findings ledger: restore it from point-in-time recovery). For a deleted or purged queue, replay CloudTrail for the window with `buildwatch replay`. Find out who made the change; if unplanned, revoke the principal.',
    references: ['https://docs.aws.amazon.com/sns/latest/dg/sns-logging-using-cloudtrail.html', 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/logging-using-cloudtrail.html'],
    includeFailedCalls: true,
  },
  pattern: {
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['sns.amazonaws.com', 'sqs.amazonaws.com', 'dynamodb.amazonaws.com', 'monitoring.amazonaws.com'],
      eventName: [
        'DeleteTopic',
        'Unsubscribe',
        'SetTopicAttributes',
        'SetSubscriptionAttributes',
        'AddPermission',
        'RemovePermission',
        'PurgeQueue',
        'DeleteQueue',
        'SetQueueAttributes',
        'DeleteTable',
        'UpdateContinuousBackups',
        'UpdateTable',
        'UpdateTimeToLive',
        'PutResourcePolicy',
        'DeleteResourcePolicy',
        'DeleteAlarms',
        'DisableAlarmActions',
        'PutMetricAlarm',
      ],
    },
  },
  logic: { kind: 'match', evaluate: observe },
  optionsSchema,
});
