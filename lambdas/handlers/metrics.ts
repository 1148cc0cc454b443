/**
 * CloudWatch metrics of the Lambdas, as embedded metric format log lines (Powertools Metrics): no
 * PutMetricData call, nothing to fail. Every dimension value comes from a closed set (use-case ids,
 * severities, modes, reason classes, channels), never from event text, so cardinality stays low.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Outcome } from '../engine/engine.js';

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
} as const;

export type DeliveryChannel = 'sns' | 'securityhub';

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'buildwatch' });

/** One count with its own dimensions, written at once (a stored batch would share one dimension set). */
export function count(name: string, dimensions: Readonly<Record<string, string>>, value = 1): void {
  try {
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Count, value);
  } catch {
    // A metric is never worth failing a delivery or an evaluation for.
  }
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

/** What one evaluation of one event by one use case produced. */
export function recordEvaluation(useCase: string, outcomes: readonly Outcome[]): void {
  count(METRIC.eventsEvaluated, { useCase });
  for (const outcome of outcomes) {
    if (outcome.status === 'finding') count(METRIC.findings, { severity: outcome.finding.severity, mode: outcome.finding.mode });
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
