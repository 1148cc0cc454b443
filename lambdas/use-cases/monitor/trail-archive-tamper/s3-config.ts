/**
 * What a trail bucket's new configuration does to the logs, read from CloudTrail's record of the S3
 * call: `LifecycleConfiguration.Rule` (one object or a list; numbers sometimes as strings) and the
 * policy document in `bucketPolicy`.
 */
import { isRecord, stringAt, valueAt } from '../../../engine/pipeline-event.js';

export interface Expiry {
  readonly rule: string;
  readonly days: number;
  readonly text: string;
}

const days = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function daysOf(value: unknown): number | undefined {
  const days = typeof value === 'string' ? Number(value) : value;
  return typeof days === 'number' && Number.isFinite(days) ? days : undefined;
}

/** A rule's key prefix (legacy `Prefix`, or `Filter.Prefix` / `Filter.And.Prefix`); '' for the whole bucket. */
function prefixOf(rule: unknown): string {
  return stringAt(rule, 'Filter', 'Prefix') ?? stringAt(rule, 'Filter', 'And', 'Prefix') ?? stringAt(rule, 'Prefix') ?? '';
}

/** Enabled rules covering the log files (`<prefix>/AWSLogs/…`) that expire them sooner than the minimum. */
export function lifecycleProblems(params: Record<string, unknown>, logRoot: string, minimumDays: number): Expiry[] {
  const rules = listOf(valueAt(params, 'LifecycleConfiguration', 'Rule') ?? valueAt(params, 'LifecycleConfiguration', 'Rules'));
  const problems: Expiry[] = [];
  for (const rule of rules) {
    if (!isRecord(rule) || stringAt(rule, 'Status') === 'Disabled') continue;
    const prefix = prefixOf(rule);
    // A rule for another part of the bucket leaves the logs alone.
    if (prefix !== '' && !logRoot.startsWith(prefix) && !prefix.startsWith(logRoot) && !prefix.includes('AWSLogs')) continue;
    const id = stringAt(rule, 'ID') ?? stringAt(rule, 'Id') ?? 'unnamed rule';
    const current = daysOf(valueAt(rule, 'Expiration', 'Days'));
    if (current !== undefined && current < minimumDays) problems.push({ rule: id, days: current, text: `rule ${id} expires log files after ${days(current)}` });
    const noncurrent = daysOf(valueAt(rule, 'NoncurrentVersionExpiration', 'NoncurrentDays'));
    if (noncurrent !== undefined && noncurrent < minimumDays) problems.push({ rule: id, days: noncurrent, text: `rule ${id} expires earlier versions after ${days(noncurrent)}` });
    const date = stringAt(rule, 'Expiration', 'Date');
    if (date) problems.push({ rule: id, days: 0, text: `rule ${id} expires log files on ${date}` });
  }
  return problems;
}

const CLOUDTRAIL = 'cloudtrail.amazonaws.com';

function policyDocument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function principalsOf(statement: Record<string, unknown>): string[] {
  const principal = statement['Principal'];
  if (principal === '*') return ['*'];
  if (!isRecord(principal)) return [];
  return Object.values(principal).flatMap((v) => listOf(v)).filter((v): v is string => typeof v === 'string');
}

function actionsOf(statement: Record<string, unknown>): string[] {
  return listOf(statement['Action']).filter((a): a is string => typeof a === 'string').map((a) => a.toLowerCase());
}

const WRITES = (action: string): boolean => action === '*' || action === 's3:*' || action === 's3:put*' || action === 's3:putobject';
const READS_OR_DELETES = (action: string): boolean => action === '*' || action === 's3:*' || action.startsWith('s3:get') || action.startsWith('s3:delete') || action.startsWith('s3:list');

/** What a new bucket policy does to the trail's logs: denies CloudTrail's writes, or opens the bucket to anyone. */
export function policyProblems(value: unknown): string[] {
  const document = policyDocument(value);
  const statements = listOf(isRecord(document) ? document['Statement'] : undefined).filter(isRecord);
  const problems: string[] = [];
  const allowsCloudTrail = statements.some((s) => s['Effect'] === 'Allow' && principalsOf(s).includes(CLOUDTRAIL) && actionsOf(s).some(WRITES));
  const deniesCloudTrail = statements.some((s) => s['Effect'] === 'Deny' && (principalsOf(s).includes(CLOUDTRAIL) || principalsOf(s).includes('*')) && actionsOf(s).some(WRITES) && s['Condition'] === undefined);
  if (deniesCloudTrail) problems.push('a Deny statement blocks CloudTrail from writing log files');
  else if (!allowsCloudTrail) problems.push('no statement lets CloudTrail write log files any more');
  const open = statements.filter((s) => s['Effect'] === 'Allow' && principalsOf(s).includes('*') && s['Condition'] === undefined && actionsOf(s).some(READS_OR_DELETES));
  if (open.length > 0) problems.push('anyone (Principal "*") may read or delete the logs');
  return problems;
}
