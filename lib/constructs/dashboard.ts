/**
 * The `<prefix>overview` CloudWatch dashboard: what Buildwatch saw (events per use case, findings by
 * severity and mode, alerts by severity, skips), whether it keeps up (dead letters, detect queue age,
 * findings stream lag), whether alerts get out (deliveries and failures per channel), the functions'
 * errors, throttles and duration, and every alarm of the stack. The Buildwatch metrics come from the
 * handlers' embedded metric format lines (lambdas/handlers/metrics.ts).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEVERITIES } from '../../lambdas/engine/model.js';
import { METRIC, METRICS_NAMESPACE } from '../../lambdas/handlers/metrics.js';

const PERIOD = Duration.minutes(5);
const WIDTH = 24;

export interface DashboardProps {
  readonly resourcePrefix: string;
  /** Function role (detect, notify, …) → function: errors, throttles and duration. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly detectQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** Every series of a Buildwatch metric by its dimensions (one line per use case, severity, …). */
function search(metricName: string, dimensions: readonly string[], label: string, statistic: 'Sum' | 'Average' | 'Maximum' = 'Sum'): cloudwatch.MathExpression {
  const schema = [METRICS_NAMESPACE, ...[...dimensions, 'service'].sort()].join(',');
  return new cloudwatch.MathExpression({ expression: `SEARCH('{${schema}} MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`, label, usingMetrics: {}, period: PERIOD });
}

export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const prefix = props.resourcePrefix;
    const detectService = `${prefix}detect`;
    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, period: PERIOD, ...options });
    const functions = Object.entries(props.functions);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${prefix}overview`,
      defaultInterval: Duration.days(1),
      widgets: [
        [new cloudwatch.TextWidget({ markdown: '# Buildwatch\nWhat the monitor saw, whether it keeps up, whether alerts get out. Alarms publish to the ops topic.', width: WIDTH, height: 2 })],
        [
          graph('Events evaluated per use case', [search(METRIC.eventsEvaluated, ['useCase'], '')], { stacked: true }),
          graph('Findings by severity and mode', [search(METRIC.findings, ['mode', 'severity'], '')], { stacked: true }),
          graph(
            'Alerts by severity',
            SEVERITIES.map(
              (severity) =>
                new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: METRIC.findings, dimensionsMap: { service: detectService, severity, mode: 'alert' }, statistic: 'Sum', period: PERIOD, label: severity }),
            ),
            { stacked: true },
          ),
        ],
        [
          graph('Evaluations skipped by reason', [search(METRIC.skipped, ['reason'], '')], { stacked: true }),
          graph('Dead letters', [
            props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum', label: 'dead-letter queue depth' }),
            search(METRIC.deadLettered, ['failure'], ''),
          ]),
          graph('Deliveries and failures per channel', [search(METRIC.deliveries, ['channel'], '')], { right: [search(METRIC.deliveryFailures, ['channel'], '')] }),
        ],
        [
          graph('Detect queue: age of oldest message (s)', [props.detectQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: 'detect queue' })]),
          graph(
            'Findings stream lag: iterator age (ms)',
            functions.filter(([name]) => name === 'notify').map(([name, fn]) => fn.metric('IteratorAge', { period: PERIOD, statistic: 'Maximum', label: name })),
          ),
          graph('Lambda duration (p99, ms)', functions.map(([name, fn]) => fn.metricDuration({ period: PERIOD, statistic: 'p99', label: name }))),
        ],
        [
          graph('Events evaluated per stage', [search(METRIC.stageEvents, ['stage'], '')], { width: 12, stacked: true }),
          graph('Findings per stage and mode', [search(METRIC.stageFindings, ['mode', 'stage'], '')], { width: 12, stacked: true }),
        ],
        [
          graph('Evaluation latency per use case (average, ms)', [search(METRIC.evaluationLatency, ['useCase'], '', 'Average')]),
          graph('DynamoDB calls per use case', [search(METRIC.dynamoCalls, ['useCase'], '')], { stacked: true }),
          graph('Look-up failures', [search(METRIC.lookupFailures, ['lookup'], '')], { stacked: true }),
        ],
        [
          graph(
            'Heartbeat: minutes since the last CloudTrail event and canary',
            [
              new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: METRIC.cloudTrailEventAge, dimensionsMap: { service: `${prefix}heartbeat` }, statistic: 'Maximum', period: PERIOD, label: 'last CloudTrail event' }),
              new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: METRIC.canaryAge, dimensionsMap: { service: `${prefix}heartbeat` }, statistic: 'Maximum', period: PERIOD, label: 'last canary' }),
            ],
            { width: 12 },
          ),
          graph('Health problems found by the heartbeat', [search(METRIC.healthProblems, ['check'], '')], { width: 12, stacked: true }),
        ],
        [
          graph('Lambda errors', functions.map(([name, fn]) => fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: name })), { width: 12 }),
          graph('Lambda throttles', functions.map(([name, fn]) => fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: name })), { width: 12 }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: WIDTH, height: Math.max(3, Math.ceil(props.alarms.length / 4) + 2) })],
        props.alarms.map((alarm) => new cloudwatch.AlarmWidget({ title: alarm.node.id, alarm, width: 6, height: 5 })),
      ],
    });
  }
}
