/**
 * monitor.trail-archive-tamper: the trail keeps logging, but its archive is being destroyed: the
 * trail's S3 bucket expires logs (a lifecycle rule of one day is a documented attack technique), its
 * policy denies CloudTrail's writes or opens it, it is deleted, its versioning or object lock is
 * weakened, log objects are deleted (S3 data events, where the trail records them), or the trail's
 * KMS key is disabled, scheduled for deletion or has its policy replaced.
 *
 * Which buckets and keys belong to trails is one piece of state (a drift snapshot per account),
 * kept current by CreateTrail/UpdateTrail (`s3BucketName`, `kmsKeyId`), filled on first use
 * by a DescribeTrails look-up, and extended by the configuration (`trailBuckets`, `trailKeys`).
 */
import * as z from 'zod';
import { failureOutcome } from '../../../engine/failure.js';
import { maxSeverity, type Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { who } from '../tamper.js';
import { lifecycleProblems, policyProblems } from './s3-config.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Lifecycle expiry of log objects sooner than this many days is reported. */
  minimumRetentionDays: z.number().int().min(1).max(36_500).default(365),
  /** Trail buckets known without a CreateTrail or look-up (e.g. an organisation trail's log-archive bucket). */
  trailBuckets: z.array(z.string().min(3)).max(100).default([]),
  /** The trails' KMS keys (id or ARN), likewise. */
  trailKeys: z.array(z.string().min(1)).max(100).default([]),
}));
type Options = z.output<typeof optionsSchema>;

/** A key id from an id, a key ARN, or undefined for aliases (CloudTrail events name keys either way). */
function keyIdOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const arn = /:key\/([^/]+)$/.exec(value);
  if (arn) return arn[1];
  return /^[0-9a-f-]{36}$|^mrk-[0-9a-f]{32}$/.test(value) ? value : undefined;
}

function trailNameOf(value: string | undefined): string {
  return value?.replace(/^arn:[^:]+:cloudtrail:[^:]*:\d*:trail\//, '') ?? 'unknown trail';
}

/** The trail facts a CreateTrail/UpdateTrail carries (the response has the resolved key ARN and the trail ARN). */
function trailFacts(event: PipelineEvent): JsonObject | undefined {
  const record = event.cloudTrail;
  if (!record || !event.succeeded) return undefined;
  const params = record.requestParameters ?? {};
  const response = record.responseElements ?? {};
  const trail = trailNameOf(stringAt(response, 'name') ?? stringAt(params, 'name'));
  const bucket = stringAt(response, 's3BucketName') ?? stringAt(params, 's3BucketName');
  const key = keyIdOf(stringAt(response, 'kmsKeyId') ?? stringAt(params, 'kmsKeyId'));
  const prefix = stringAt(response, 's3KeyPrefix') ?? stringAt(params, 's3KeyPrefix');
  if (!bucket && !key) return undefined;
  return {
    ...(bucket ? { buckets: { [bucket]: { trail, ...(prefix ? { prefix } : {}) } } } : {}),
    ...(key ? { keys: { [key]: trail } } : {}),
  };
}

/** The resource an event acts on: a bucket, or a KMS key id. */
function targetOf(event: PipelineEvent): { bucket?: string; key?: string } {
  const params = event.cloudTrail?.requestParameters ?? {};
  const bucket = stringAt(params, 'bucketName');
  if (bucket) return { bucket };
  const key = keyIdOf(stringAt(params, 'keyId')) ?? keyIdOf(event.cloudTrail?.resources?.find((r) => r.ARN?.includes(':key/'))?.ARN);
  return key ? { key } : {};
}

/** Per account: bucket names are global and a multi-region trail's bucket gets S3 calls from any region. */
export function trailsStateKey(event: PipelineEvent): string {
  return `trails/${event.envelope.account || 'unknown'}`;
}

/** Where each trail of an account writes, as this use case knows it (ctx.knownState), and the key of it. */
export const TRAILS_STATE_OWNER = 'monitor.trail-archive-tamper';

/**
 * An entry that speaks for event time `at`: recorded from events, or looked up no later than `at`
 * (a look-up shows the present, which may already hold the very change being judged).
 */
function knownAt(entry: unknown, at: string): KnownTrail | undefined {
  const found = known(entry);
  return found && (found.lookedUpAt === undefined || Date.parse(found.lookedUpAt) <= Date.parse(at)) ? found : undefined;
}

/** Whether the known state says `trail` already wrote to `bucket` (with `prefix`, when given) at `at`. */
export function trailWritesTo(state: JsonObject, at: string, trail: string, bucket: string, prefix?: string): boolean {
  const entry = knownAt(valueAt(state, 'buckets', bucket), at);
  return entry !== undefined && entry.trail === trailNameOf(trail) && (prefix === undefined || (entry.prefix ?? '') === prefix);
}

/** Whether the known state says `trail` already encrypted with `key` (an id or key ARN; an alias tells nothing) at `at`. */
export function trailEncryptsWith(state: JsonObject, at: string, trail: string, key: string): boolean {
  const id = keyIdOf(key);
  return id !== undefined && knownAt(valueAt(state, 'keys', id), at)?.trail === trailNameOf(trail);
}

async function report(event: PipelineEvent): Promise<StateReport | undefined> {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const key = trailsStateKey(event);
  if (record.eventSource === 'cloudtrail.amazonaws.com') {
    const facts = trailFacts(event);
    return facts ? { key, state: facts, partial: true } : undefined;
  }
  const target = targetOf(event);
  if (!target.bucket && !target.key) return undefined;
  // The last change seen: the snapshot changes, so the engine assesses the event against what is known.
  return { key, resource: target.bucket ?? target.key ?? key, state: { lastChange: { event: event.id, at: event.time } }, partial: true };
}

/** First use: the trails AWS knows now fill in which buckets and keys are the trails' (never a finding by itself). */
async function initialState(_report: StateReport, ctx: UseCaseContext): Promise<JsonObject | undefined> {
  const found = await ctx.lookups.trails?.();
  if (found?.status !== 'found') return { buckets: {}, keys: {} };
  // The look-up tells today's trails: an event older than it is judged with that in mind (assess).
  const lookedUpAt = new Date().toISOString();
  const buckets: JsonObject = {};
  const keys: JsonObject = {};
  for (const trail of found.value) {
    if (trail.s3BucketName) buckets[trail.s3BucketName] = { trail: trail.name, lookedUpAt, ...(trail.s3KeyPrefix ? { prefix: trail.s3KeyPrefix } : {}) };
    const key = keyIdOf(trail.kmsKeyId);
    if (key) keys[key] = { trail: trail.name, lookedUpAt };
  }
  return { buckets, keys };
}

interface KnownTrail {
  readonly trail: string;
  readonly prefix?: string;
  /** Known only from a look-up made at this (wall-clock) time. */
  readonly lookedUpAt?: string;
}

function known(entry: unknown): KnownTrail | undefined {
  if (typeof entry === 'string') return { trail: entry };
  if (!isRecord(entry)) return undefined;
  const prefix = stringAt(entry, 'prefix');
  const lookedUpAt = stringAt(entry, 'lookedUpAt');
  return { trail: stringAt(entry, 'trail') ?? 'a trail', ...(prefix ? { prefix } : {}), ...(lookedUpAt ? { lookedUpAt } : {}) };
}

function knownBucket(before: JsonObject, options: Options, bucket: string): KnownTrail | undefined {
  const fromState = known(valueAt(before, 'buckets', bucket));
  // The configuration holds at any time: a configured bucket is never dated by a look-up.
  if (!options.trailBuckets.includes(bucket)) return fromState;
  return { trail: fromState?.trail ?? 'a configured trail', ...(fromState?.prefix ? { prefix: fromState.prefix } : {}) };
}

function knownKey(before: JsonObject, options: Options, key: string): KnownTrail | undefined {
  if (options.trailKeys.some((configured) => keyIdOf(configured) === key || configured === key)) return { trail: known(valueAt(before, 'keys', key))?.trail ?? 'a configured trail' };
  return known(valueAt(before, 'keys', key));
}

/** An hour of slack between an event and the look-up that says where the trails write. */
const LOOK_UP_SLACK_MS = 3_600_000;

/**
 * A bucket or key known only from a look-up made long after the event may not have been the trail's
 * then (a replay or backfill of history): still reported, at most medium, and said so.
 */
function datedByLookUp(trail: KnownTrail, event: PipelineEvent): string | undefined {
  if (!trail.lookedUpAt) return undefined;
  return Date.parse(event.time) < Date.parse(trail.lookedUpAt) - LOOK_UP_SLACK_MS ? trail.lookedUpAt : undefined;
}

function minSeverity(a: Severity, b: Severity): Severity {
  return maxSeverity(a, b) === a ? b : a;
}

interface Change {
  readonly severity: Severity;
  readonly title: string;
  readonly action: string;
  readonly evidence?: Record<string, unknown>;
}

function bucketChange(event: PipelineEvent, bucket: string, trail: { trail: string; prefix?: string }, options: Options): Change | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const of = `the archive bucket ${bucket} of trail ${trail.trail}`;
  const logRoot = `${trail.prefix ? `${trail.prefix.replace(/\/$/, '')}/` : ''}AWSLogs/`;
  switch (record?.eventName) {
    case 'PutBucketLifecycle':
    case 'PutBucketLifecycleConfiguration': {
      const problems = lifecycleProblems(params, logRoot, options.minimumRetentionDays);
      if (problems.length === 0) return undefined;
      const shortest = Math.min(...problems.map((p) => p.days));
      return {
        severity: shortest <= 30 ? 'critical' : 'high',
        title: 'Trail archive set to expire',
        action: `set a lifecycle rule on ${of} that expires logs after ${shortest} day${shortest === 1 ? '' : 's'} (minimum ${options.minimumRetentionDays}): ${problems.map((p) => p.text).join('; ')}`,
        evidence: { expiries: problems },
      };
    }
    case 'PutBucketPolicy': {
      const problems = policyProblems(params['bucketPolicy']);
      if (problems.length === 0) return undefined;
      return { severity: 'critical', title: 'Trail archive bucket policy weakened', action: `changed the policy of ${of}: ${problems.join('; ')}`, evidence: { problems } };
    }
    case 'DeleteBucketPolicy':
      return { severity: 'critical', title: 'Trail archive bucket policy deleted', action: `deleted the policy of ${of}: CloudTrail can no longer write its logs there` };
    case 'DeleteBucket':
      return { severity: 'critical', title: 'Trail archive bucket deleted', action: `deleted ${of}` };
    case 'PutBucketVersioning': {
      const status = stringAt(params, 'VersioningConfiguration', 'Status');
      const mfaDelete = stringAt(params, 'VersioningConfiguration', 'MfaDelete');
      const weakened = [status === 'Suspended' ? 'versioning suspended' : '', mfaDelete === 'Disabled' ? 'MFA delete disabled' : ''].filter(Boolean);
      if (weakened.length === 0) return undefined;
      return { severity: 'high', title: 'Trail archive versioning weakened', action: `changed ${of}: ${weakened.join(', ')}: deleted or overwritten logs can no longer be recovered` };
    }
    case 'PutObjectLockConfiguration': {
      const retention = valueAt(params, 'ObjectLockConfiguration', 'Rule', 'DefaultRetention');
      const mode = stringAt(retention, 'Mode');
      const days = Number(valueAt(retention, 'Days') ?? Number(valueAt(retention, 'Years') ?? Number.NaN) * 365);
      const weakened = [
        !isRecord(retention) ? 'default retention removed' : '',
        mode === 'GOVERNANCE' ? 'retention mode GOVERNANCE (privileged users can bypass it)' : '',
        Number.isFinite(days) && days < options.minimumRetentionDays ? `default retention ${days} days (minimum ${options.minimumRetentionDays})` : '',
      ].filter(Boolean);
      if (weakened.length === 0) return undefined;
      return { severity: 'high', title: 'Trail archive object lock weakened', action: `changed the object lock of ${of}: ${weakened.join('; ')}` };
    }
    case 'DeleteObject':
    case 'DeleteObjects': {
      const keys = record.eventName === 'DeleteObject' ? [stringAt(params, 'key') ?? ''] : deletedKeys(params);
      const logs = keys.filter((key) => key.includes('AWSLogs/'));
      if (logs.length === 0 && record.eventName === 'DeleteObject') return undefined;
      return {
        severity: 'high',
        title: 'Trail log files deleted',
        action: `deleted ${logs.length > 0 ? `${logs.length} log object${logs.length === 1 ? '' : 's'} (${logs.slice(0, 3).join(', ')})` : 'objects'} from ${of}`,
        evidence: { deleted: logs.slice(0, 25), total: keys.length },
      };
    }
    default:
      return undefined;
  }
}

function deletedKeys(params: Record<string, unknown>): string[] {
  const objects = valueAt(params, 'delete', 'Object') ?? valueAt(params, 'Delete', 'Object');
  const list = Array.isArray(objects) ? objects : objects === undefined ? [] : [objects];
  return list.map((o) => stringAt(o, 'Key') ?? stringAt(o, 'key') ?? '').filter(Boolean);
}

function keyChange(event: PipelineEvent, key: string, trail: string): Change | undefined {
  const of = `KMS key ${key}, which encrypts the logs of trail ${trail}`;
  switch (event.cloudTrail?.eventName) {
    case 'DisableKey':
      return { severity: 'critical', title: "Trail's KMS key disabled", action: `disabled ${of}: CloudTrail cannot write encrypted logs and nobody can read the archive` };
    case 'ScheduleKeyDeletion':
      return { severity: 'critical', title: "Trail's KMS key scheduled for deletion", action: `scheduled the deletion of ${of} (${String(valueAt(event.cloudTrail?.requestParameters, 'pendingWindowInDays') ?? 30)} days): the archive becomes unreadable for good` };
    case 'PutKeyPolicy':
      return { severity: 'high', title: "Trail's KMS key policy changed", action: `replaced the policy of ${of}: it may no longer let CloudTrail encrypt or auditors decrypt` };
    default:
      return undefined;
  }
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const record = event.cloudTrail;
  if (!record || record.eventSource === 'cloudtrail.amazonaws.com') return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const target = targetOf(event);
  let change: Change | undefined;
  let resource = '';
  let trail: KnownTrail | undefined;
  if (target.bucket) {
    trail = knownBucket(facts.before, options, target.bucket);
    if (trail) change = bucketChange(event, target.bucket, trail, options);
    resource = target.bucket;
  } else if (target.key) {
    trail = knownKey(facts.before, options, target.key);
    if (trail) change = keyChange(event, target.key, trail.trail);
    resource = target.key;
  }
  if (!change || !trail) return undefined;
  const lookedUpAt = datedByLookUp(trail, event);
  if (lookedUpAt) {
    change = {
      ...change,
      severity: minSeverity(change.severity, 'medium'),
      action: `${change.action} (a trail's, according to a look-up made at ${lookedUpAt}, after this event: it may not have been then)`,
      evidence: { ...change.evidence, knownFromLookUpAt: lookedUpAt },
    };
  }
  const evidence = { eventName: record.eventName, resource, requestParameters: record.requestParameters ?? null, ...change.evidence };
  if (!event.succeeded) {
    return {
      resource,
      dedupKey: `${resource}|${record.eventName}`,
      severity: 'medium',
      title: `Failed attempt: ${change.title.toLowerCase()}`,
      summary: `${who(event)} tried and ${failureOutcome(record.errorCode)}: ${change.action}`,
      evidence: { ...evidence, errorCode: record.errorCode, intendedSeverity: change.severity },
    };
  }
  return { resource, dedupKey: `${resource}|${record.eventName}`, severity: change.severity, title: change.title, summary: `${who(event)} ${change.action}`, evidence };
}

export default defineUseCase({
  metadata: {
    id: TRAILS_STATE_OWNER,
    answers: 'monitor.tamper',
    title: "CloudTrail's log archive expired, opened, deleted or made unreadable",
    stage: 'monitor',
    description:
      "Watches the trails' S3 buckets and KMS keys (learned from CreateTrail/UpdateTrail, a DescribeTrails look-up, or the configuration): lifecycle rules expiring logs sooner than minimumRetentionDays (default 365; 30 days or less is critical), bucket policies that deny CloudTrail's writes, open the bucket to everyone or are deleted, bucket deletion, versioning suspended or object lock weakened, log objects deleted (S3 data events, where the trail records them), and the trail's KMS key disabled, scheduled for deletion (critical) or given a new policy (high). A bucket or key known only from a look-up made after the event (a replay of history) is at most medium. Log file validation turned off is monitor.cloudtrail-tamper's.",
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1485', 'T1562.008', 'T1070'],
    falsePositives: [
      'A reviewed retention change (logs moved to a log-archive account, shorter retention agreed with auditors): lower minimumRetentionDays or suppress with an expiry.',
      'Decommissioning a trail and its bucket on purpose.',
    ],
    runbook:
      '1. Undo the change at once: restore the lifecycle rule (or delete the new one), the bucket policy, versioning and object lock, or cancel the key deletion (CancelKeyDeletion) and re-enable the key. 2. List what is already gone: compare the bucket\'s log objects with the trail\'s delivery (digest files, if log file validation is on, name every log file). 3. Revoke the principal\'s sessions and review what it did since, from CloudTrail event history (90 days) or the organisation trail. 4. Move the archive to a bucket in a log-archive account with Object Lock in compliance mode.',
    references: [
      'https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-lifecycle-rule/',
      'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html',
    ],
    includeFailedCalls: true,
  },
  pattern: {
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      $or: [
        { eventSource: ['cloudtrail.amazonaws.com'], eventName: ['CreateTrail', 'UpdateTrail'] },
        {
          eventSource: ['s3.amazonaws.com'],
          eventName: ['PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'PutBucketPolicy', 'DeleteBucketPolicy', 'DeleteBucket', 'PutBucketVersioning', 'PutObjectLockConfiguration', 'DeleteObjects'],
        },
        // Data events: only deletions of CloudTrail log files (their keys contain AWSLogs/).
        { eventSource: ['s3.amazonaws.com'], eventName: ['DeleteObject'], requestParameters: { key: [{ wildcard: '*AWSLogs/*' }] } },
        { eventSource: ['kms.amazonaws.com'], eventName: ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy'] },
      ],
    },
  },
  optionsSchema,
  logic: { kind: 'drift', report, initialState, assess },
});
