/**
 * monitor.cloudtrail-tamper: CloudTrail stopped, deleted, or narrowed so that it stops recording
 * management or write events. EventBridge only sees CloudTrail events while a trail logs, so this is
 * the attacker's first move against the monitor (EVENTS.md 2 and 7). CloudTrail Lake event data
 * stores do not feed EventBridge, but they are the audit copy: stopping or narrowing one is high.
 */
import { textOf } from '../../../engine/own-keys.js';
import { defineUseCase, type JsonObject, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { TRAILS_STATE_OWNER, trailEncryptsWith, trailWritesTo, trailsStateKey } from '../trail-archive-tamper/use-case.js';
import { failureOutcome, isMissingTarget } from '../../../engine/failure.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';

/** UpdateTrail parameters that, when set this way, record less than before. */
const NARROWING_FLAGS: ReadonlyArray<readonly [string, boolean]> = [
  ['isMultiRegionTrail', false],
  ['includeGlobalServiceEvents', false],
  ['enableLogFileValidation', false],
  ['isOrganizationTrail', false],
];
/**
 * UpdateTrail parameters that send the log files somewhere else, unless they restate where the
 * trail already writes (its bucket, prefix and key as monitor.trail-archive-tamper knows them just
 * before this call). CloudWatch Logs and SNS are extra destinations: setting them moves nothing;
 * turning CloudWatch Logs delivery off (an empty log group) is reported apart.
 */
const REDIRECTING_FIELDS = ['s3BucketName', 's3KeyPrefix', 'kmsKeyId'] as const;

/** Where the account's trails wrote just before this call (monitor.trail-archive-tamper's state), if known. */
async function trailsBefore(event: PipelineEvent, ctx: UseCaseContext): Promise<JsonObject | undefined> {
  // A second before: that use case may already have recorded this very call.
  const before = new Date(Date.parse(event.time) - 1000).toISOString();
  return (await ctx.knownState?.(TRAILS_STATE_OWNER, trailsStateKey(event), before))?.state;
}

/** The redirecting fields an UpdateTrail sets to something other than what the trail already had. */
function redirections(params: Record<string, unknown>, trail: string, known: JsonObject | undefined, at: string): string[] {
  const bucket = stringAt(params, 's3BucketName');
  const prefix = stringAt(params, 's3KeyPrefix');
  const restated = (field: (typeof REDIRECTING_FIELDS)[number], value: string): boolean => {
    if (!known || value === '') return false;
    if (field === 's3BucketName') return trailWritesTo(known, at, trail, value);
    if (field === 'kmsKeyId') return trailEncryptsWith(known, at, trail, value);
    // A prefix alone: restated when the trail's known bucket (or the one sent) has it.
    const buckets = bucket ? [bucket] : Object.keys(isRecord(known['buckets']) ? known['buckets'] : {});
    return buckets.some((name) => trailWritesTo(known, at, trail, name, value));
  };
  return REDIRECTING_FIELDS.filter((field) => params[field] !== undefined && !restated(field, textOf(params[field]))).map((field) => `${field} changed to ${textOf(params[field])}`);
}

function trailName(event: PipelineEvent): string {
  const params = event.cloudTrail?.requestParameters;
  return stringAt(params, 'name') ?? stringAt(params, 'trailName') ?? stringAt(params, 'eventDataStore') ?? 'unknown trail';
}

/**
 * Write-only selectors: the trail (and the monitor's archive and backfills) loses the read-only
 * management events some checks live on. Less than losing the writes (high, not critical).
 */
const READS_DROPPED = 'read-only management events are not recorded any more (KMS Sign, CodeArtifact package reads, the first record of each git push)';

/** What a PutEventSelectors / PutAdvancedEventSelectors call stops recording, if anything. */
function selectorProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const basic = valueAt(params, 'eventSelectors');
  if (Array.isArray(basic)) {
    const selectors = basic.filter(isRecord);
    const management = selectors.filter((s) => s['includeManagementEvents'] !== false);
    if (management.length === 0) problems.push('management events are no longer recorded (includeManagementEvents: false)');
    else if (management.every((s) => s['readWriteType'] === 'ReadOnly')) problems.push('write (mutating) management events are no longer recorded (readWriteType: ReadOnly)');
    else if (management.every((s) => s['readWriteType'] === 'WriteOnly')) problems.push(`${READS_DROPPED} (readWriteType: WriteOnly)`);
    const excluded = management.flatMap((s) => (Array.isArray(s['excludeManagementEventSources']) ? s['excludeManagementEventSources'] : []));
    if (excluded.length > 0) problems.push(`management events of ${excluded.map(textOf).join(', ')} are excluded`);
  }
  const advanced = valueAt(params, 'advancedEventSelectors');
  if (Array.isArray(advanced)) {
    const selectors = advanced.filter(isRecord);
    const management = selectors.filter((selector) => fieldSelector(selector, 'eventCategory')?.some((f) => includes(f['equals'], 'Management')));
    if (management.length === 0) problems.push('no advanced selector records management events any more');
    else {
      const onlyReads = management.every((s) => fieldSelector(s, 'readOnly')?.some((f) => includes(f['equals'], 'true')));
      if (onlyReads) problems.push('write (mutating) management events are no longer recorded (readOnly = true)');
      const onlyWrites = management.every((s) => fieldSelector(s, 'readOnly')?.some((f) => includes(f['equals'], 'false')));
      if (onlyWrites) problems.push(`${READS_DROPPED} (readOnly = false)`);
      const narrowed = management.filter((s) => fieldSelector(s, 'eventSource')?.some((f) => f['notEquals'] !== undefined || f['equals'] !== undefined));
      if (narrowed.length > 0) problems.push('management events are limited or excluded by event source');
    }
  }
  return problems;
}

function fieldSelector(selector: Record<string, unknown>, field: string): Record<string, unknown>[] | undefined {
  const fields = selector['fieldSelectors'];
  if (!Array.isArray(fields)) return undefined;
  const matching = fields.filter(isRecord).filter((f) => f['field'] === field);
  return matching.length > 0 ? matching : undefined;
}

function includes(list: unknown, value: string): boolean {
  return Array.isArray(list) && list.includes(value);
}

async function observe(event: PipelineEvent, ctx: UseCaseContext): Promise<Observation | undefined> {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const trail = trailName(event);
  const params = record.requestParameters ?? {};
  const failed = !event.succeeded;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const base = { resource: trail, dedupKey: `${trail}|${record.eventName}` };
  const evidence = { eventName: record.eventName, trail, requestParameters: params, ...(failed ? { errorCode: record.errorCode, errorMessage: record.errorMessage } : {}) };
  // `what` names the action with `{trail}` where the trail goes: "stop CloudTrail logging on {trail}".
  // An attempt AWS refused or a protection stopped is medium; one at a trail that does not exist is low.
  const attempt = (what: string): Observation => ({
    ...base,
    severity: isMissingTarget(record.errorCode) ? 'low' : 'medium',
    title: `Failed attempt to ${what.replace(/ (on|of|into) \{trail\}$/, '').replace(' {trail}', '')}`,
    summary: `${who} tried to ${what.replace('{trail}', trail)} and ${failureOutcome(record.errorCode)}`,
    evidence,
  });

  switch (record.eventName) {
    case 'StopLogging':
      return failed ? attempt('stop CloudTrail logging on {trail}') : { ...base, severity: 'critical', title: 'CloudTrail logging stopped', summary: `${who} stopped logging on trail ${trail}`, evidence };
    case 'DeleteTrail':
      return failed ? attempt('delete the trail {trail}') : { ...base, severity: 'critical', title: 'CloudTrail trail deleted', summary: `${who} deleted trail ${trail}`, evidence };
    case 'UpdateTrail': {
      const narrowed = NARROWING_FLAGS.filter(([field, value]) => params[field] === value).map(([field]) => `${field} set to false`);
      const sendsElsewhere = REDIRECTING_FIELDS.some((field) => params[field] !== undefined);
      const cloudWatchOff = params['cloudWatchLogsLogGroupArn'] === '';
      // A refused attempt is reported on what it asked for; a change, on what it changed.
      if (failed) return narrowed.length > 0 || sendsElsewhere || cloudWatchOff ? attempt('narrow or redirect the trail {trail}') : undefined;
      const redirected = sendsElsewhere ? redirections(params, trail, await trailsBefore(event, ctx), event.time) : [];
      const changes = [...narrowed, ...redirected];
      if (changes.length === 0 && !cloudWatchOff) return undefined;
      if (changes.length === 0) {
        return { ...base, severity: 'medium', title: 'CloudTrail delivery to CloudWatch Logs turned off', summary: `${who} turned off the CloudWatch Logs delivery of trail ${trail} (alarms on its log group stop)`, evidence };
      }
      return { ...base, severity: 'high', title: 'CloudTrail trail narrowed or redirected', summary: `${who} updated trail ${trail}: ${[...changes, ...(cloudWatchOff ? ['CloudWatch Logs delivery turned off'] : [])].join('; ')}`, evidence: { ...evidence, changes } };
    }
    case 'PutEventSelectors':
    case 'PutAdvancedEventSelectors': {
      const problems = selectorProblems(params);
      if (problems.length === 0) return undefined;
      if (failed) return attempt('stop recording events on {trail}');
      const stopsRecording = problems.some((p) => p.includes('no longer recorded') || p.includes('no advanced selector'));
      return {
        ...base,
        severity: stopsRecording ? 'critical' : 'high',
        title: 'CloudTrail event selectors stop recording',
        summary: `${who} changed the event selectors of ${trail}: ${problems.join('; ')}`,
        evidence: { ...evidence, problems },
      };
    }
    case 'StopEventDataStoreIngestion':
      return failed ? attempt('stop ingestion into the CloudTrail Lake event data store {trail}') : { ...base, severity: 'high', title: 'CloudTrail Lake ingestion stopped', summary: `${who} stopped ingestion into event data store ${trail}`, evidence };
    case 'DeleteEventDataStore':
      return failed ? attempt('delete the CloudTrail Lake event data store {trail}') : { ...base, severity: 'high', title: 'CloudTrail Lake event data store deleted', summary: `${who} deleted event data store ${trail}`, evidence };
    case 'UpdateEventDataStore': {
      const problems = [
        ...(params['advancedEventSelectors'] !== undefined ? selectorProblems(params) : []),
        ...(params['multiRegionEnabled'] === false ? ['multiRegionEnabled set to false'] : []),
        ...(params['organizationEnabled'] === false ? ['organizationEnabled set to false'] : []),
      ];
      const unprotected = params['terminationProtectionEnabled'] === false;
      if (problems.length === 0 && !unprotected) return undefined;
      if (failed) return attempt('narrow the CloudTrail Lake event data store {trail}');
      return {
        ...base,
        severity: problems.length > 0 ? 'high' : 'medium',
        title: 'CloudTrail Lake event data store narrowed',
        summary: `${who} updated event data store ${trail}: ${[...problems, ...(unprotected ? ['termination protection turned off'] : [])].join('; ')}`,
        evidence: { ...evidence, problems },
      };
    }
    default:
      return undefined;
  }
}

export default defineUseCase({
  metadata: {
    id: 'monitor.cloudtrail-tamper',
    answers: 'monitor.tamper',
    title: 'CloudTrail logging stopped, deleted or narrowed',
    stage: 'monitor',
    description:
      'Detects StopLogging, DeleteTrail, UpdateTrail that narrows or redirects a trail (to a bucket, prefix or key other than the ones it wrote with before), and event selectors that stop recording management, write or read-only events. Without a logging trail EventBridge receives no CloudTrail events, so every other use case goes blind. Also CloudTrail Lake: ingestion stopped, an event data store deleted or narrowed (high). Refused attempts are medium; attempts at a trail that does not exist are low.',
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 1,
    mitre: ['T1562.008'],
    falsePositives: [
      'A planned trail migration (new bucket or organisation trail); suppress with an expiry for the change window.',
      'Test accounts where trails are torn down on purpose.',
    ],
    runbook:
      'Confirm with the principal\'s owner whether the change was planned. If not: restart logging (StartLogging) or restore the selectors, revoke the principal\'s sessions, and review its other actions since the change (CloudTrail event history still has 90 days).',
    references: [
      'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-turning-off-logging.html',
      'https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-event-selectors/',
    ],
    includeFailedCalls: true,
  },
  pattern: {
    source: ['aws.cloudtrail'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['cloudtrail.amazonaws.com'],
      eventName: [
        'StopLogging',
        'DeleteTrail',
        'UpdateTrail',
        'PutEventSelectors',
        'PutAdvancedEventSelectors',
        'StopEventDataStoreIngestion',
        'DeleteEventDataStore',
        'UpdateEventDataStore',
      ],
    },
  },
  logic: { kind: 'match', evaluate: observe },
});
