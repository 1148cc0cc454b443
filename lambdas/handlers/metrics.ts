/**
 * CloudWatch metrics of the Lambdas, as embedded metric format log lines (Powertools Metrics): no
 * PutMetricData call, nothing to fail. Every dimension value comes from a closed set (use-case ids,
 * severities, modes, reason classes, channels), never from event text, so cardinality stays low.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Outcome } from '../engine/engine.js';
import type { Lookups } from '../lookups/lookups.js';

export const METRICS_NAMESPACE = 'Buildwatch';

/** Metric names, shared with the dashboard. */
export const METRIC = {
  eventsEvaluated: 'EventsEvaluated',
  findings: 'Findings',
  repeats: 'Repeats',
  skipped: 'Skipped',
  deadLettered: 'DeadLettered',
  deliveries: 'Deliveries',
  deliveryFailures: 'DeliveryFailures',
  stageEvents: 'StageEvents',
  stageFindings: 'StageFindings',
  evaluationLatency: 'EvaluationLatency',
  dynamoCalls: 'DynamoDBCalls',
  lookupFailures: 'LookupFailures',
  cloudTrailEventAge: 'MinutesSinceCloudTrailEvent',
  canaryAge: 'MinutesSinceCanary',
  healthProblems: 'HealthProblems',
} as const;

export type DeliveryChannel = 'sns' | 'chat' | 'securityhub';

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'buildwatch' });

/** One value with its own dimensions, written at once (a stored batch would share one dimension set). */
function emit(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], dimensions: Readonly<Record<string, string>>, value: number): void {
  try {
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, unit, value);
  } catch {
    // A metric is never worth failing a delivery or an evaluation for.
  }
}

/** One count with its own dimensions. */
export function count(name: string, dimensions: Readonly<Record<string, string>>, value = 1): void {
  emit(name, MetricUnit.Count, dimensions, value);
}

/**
 * Why an evaluation reported nothing, as a class: the reasons themselves carry suppression text,
 * principal keys and error codes, which must not become dimension values.
 */
export function skipReasonClass(reason: string): string {
  if (reason.startsWith('suppressed')) return 'suppressed';
  if (reason === 'use case is off') return 'off';
  if (reason.startsWith('failed call')) return 'failed-call';
  if (reason.startsWith('AWS service principal')) return 'aws-service';
  if (reason === 'principal excluded by configuration') return 'excluded-principal';
  if (reason === 'nothing observed' || reason === 'nothing to correlate') return 'nothing-observed';
  if (reason === 'no verdict by the deadline') return 'no-verdict';
  return 'other';
}

/** What one evaluation cost: wall time and DynamoDB requests. */
export interface EvaluationCost {
  readonly latencyMs: number;
  readonly dynamoCalls: number;
}

/** What one evaluation of one event by one use case produced (and, when measured, what it cost). */
export function recordEvaluation(useCase: string, outcomes: readonly Outcome[], cost?: EvaluationCost): void {
  count(METRIC.eventsEvaluated, { useCase });
  // The pipeline stage is the use case id's first part (source, dependencies, build, artifact, monitor).
  const stage = useCase.split('.')[0] ?? 'unknown';
  count(METRIC.stageEvents, { stage });
  if (cost) {
    emit(METRIC.evaluationLatency, MetricUnit.Milliseconds, { useCase }, cost.latencyMs);
    count(METRIC.dynamoCalls, { useCase }, cost.dynamoCalls);
  }
  for (const outcome of outcomes) {
    if (outcome.status === 'finding') {
      count(METRIC.findings, { severity: outcome.finding.severity, mode: outcome.finding.mode });
      count(METRIC.stageFindings, { stage, mode: outcome.finding.mode });
    }
    else if (outcome.status === 'deduplicated') count(METRIC.repeats, { mode: outcome.finding.mode });
    else count(METRIC.skipped, { reason: skipReasonClass(outcome.reason) });
  }
}

export function recordDeadLetter(failure: string): void {
  count(METRIC.deadLettered, { failure });
}

export function recordDelivery(channel: DeliveryChannel, succeeded: number, failed: number): void {
  if (succeeded > 0) count(METRIC.deliveries, { channel }, succeeded);
  if (failed > 0) count(METRIC.deliveryFailures, { channel }, failed);
}

/**
 * The look-ups, counting the answers that were not to be had (`unavailable`: throttled, denied,
 * unreachable) per look-up. A missing thing (`missing`) is an answer, not a failure.
 */
export function countingLookups(lookups: Lookups): Lookups {
  const counted = <A extends unknown[], R extends { status: string }>(name: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await call(...args);
      if (result.status === 'unavailable') count(METRIC.lookupFailures, { lookup: name });
      return result;
    };
  const inAccount = lookups.inAccount?.bind(lookups);
  return {
    s3Object: counted('s3Object', lookups.s3Object.bind(lookups)),
    packageVersionAssets: counted('packageVersionAssets', lookups.packageVersionAssets.bind(lookups)),
    codeBuildProject: counted('codeBuildProject', lookups.codeBuildProject.bind(lookups)),
    ...(lookups.packageVersionOrigin ? { packageVersionOrigin: counted('packageVersionOrigin', lookups.packageVersionOrigin.bind(lookups)) } : {}),
    ...(lookups.trails ? { trails: counted('trails', lookups.trails.bind(lookups)) } : {}),
    ...(lookups.ecrImage ? { ecrImage: counted('ecrImage', lookups.ecrImage.bind(lookups)) } : {}),
    ...(lookups.codeBuildFleet ? { codeBuildFleet: counted('codeBuildFleet', lookups.codeBuildFleet.bind(lookups)) } : {}),
    ...(lookups.ec2Instance ? { ec2Instance: counted('ec2Instance', lookups.ec2Instance.bind(lookups)) } : {}),
    ...(lookups.launchTemplateDefaultVersion ? { launchTemplateDefaultVersion: counted('launchTemplateDefaultVersion', lookups.launchTemplateDefaultVersion.bind(lookups)) } : {}),
    ...(lookups.organizationAccounts ? { organizationAccounts: counted('organizationAccounts', lookups.organizationAccounts.bind(lookups)) } : {}),
    // Look-ups in member accounts fail (and are counted) like the function's own.
    ...(inAccount ? { inAccount: (account: string, region: string) => countingLookups(inAccount(account, region)) } : {}),
  };
}

/** The heartbeat's view: minutes since the last CloudTrail event and canary, and the problems found. */
export function recordHealth(now: Date, seen: { readonly cloudTrailAt?: string; readonly canaryAt?: string }, problemChecks: readonly string[]): void {
  const minutesSince = (at: string | undefined): number | undefined => {
    const ms = at === undefined ? Number.NaN : Date.parse(at);
    return Number.isNaN(ms) ? undefined : Math.max(0, (now.getTime() - ms) / 60_000);
  };
  const cloudTrail = minutesSince(seen.cloudTrailAt);
  const canary = minutesSince(seen.canaryAt);
  if (cloudTrail !== undefined) emit(METRIC.cloudTrailEventAge, MetricUnit.Count, {}, cloudTrail);
  if (canary !== undefined) emit(METRIC.canaryAge, MetricUnit.Count, {}, canary);
  for (const check of problemChecks) count(METRIC.healthProblems, { check });
}
