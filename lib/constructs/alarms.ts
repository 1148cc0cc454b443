/**
 * Monitor health (question `monitor.health`): CloudWatch alarms on the dead-letter queue, the detect
 * backlog, every function's errors and throttles, the heartbeat not running, SNS deliveries from the
 * alerts topic failing and the direct tamper-alert rules failing to deliver, published to an encrypted
 * ops topic (separate from the alerts topic, so operational noise never reaches the security channel
 * and vice versa). The monitor.heartbeat rule also reports these alarms entering ALARM as findings.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../../lambdas/handlers/metrics.js';

/** The detect backlog is "stuck" when its oldest message is older than this. */
export const DETECT_BACKLOG_AGE = Duration.minutes(15);
/** The notifier is "behind" when the findings stream's iterator age exceeds this. */
export const NOTIFY_ITERATOR_AGE = Duration.minutes(5);
/** The heartbeat runs every 15 minutes: an hour without a run means its schedule or function is gone. */
export const HEARTBEAT_MISSING_AFTER = Duration.hours(1);

export interface AlarmsProps {
  readonly key: kms.IKey;
  readonly resourcePrefix: string;
  readonly deadLetterQueue: sqs.IQueue;
  readonly detectQueue: sqs.IQueue;
  readonly detectFunction: lambda.IFunction;
  readonly notifyFunction: lambda.IFunction;
  readonly heartbeatFunction?: lambda.IFunction;
  /** NumberOfNotificationsFailed: subscribers (people, the canary receipts) not reached. */
  readonly alertsTopic?: sns.ITopic;
  /** The direct tamper-alert rules: their failed deliveries to the alerts topic. */
  readonly directRules?: readonly events.IRule[];
}

interface AlarmSpec {
  readonly name: string;
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly below?: boolean;
  /** Missing data is a breach: for "it should be running" alarms. */
  readonly missingIsBreach?: boolean;
  /** Consecutive breaching periods before the alarm fires (default 1). */
  readonly periods?: number;
}

export class Alarms extends Construct {
  readonly opsTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const prefix = props.resourcePrefix;
    const { account, region, partition } = Stack.of(this);

    this.opsTopic = new sns.Topic(this, 'Ops', {
      topicName: `${prefix}ops`,
      displayName: 'Buildwatch operations',
      masterKey: props.key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one: let this account's CloudWatch alarms publish.
    this.opsTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:${prefix}*` },
        },
      }),
    );

    const add = (spec: AlarmSpec): void => {
      const alarm = new cloudwatch.Alarm(this, spec.name, {
        alarmName: `${prefix}${spec.name}`,
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.below ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: spec.periods ?? 1,
        treatMissingData: spec.missingIsBreach ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.opsTopic));
      alarm.addOkAction(new actions.SnsAction(this.opsTopic));
      this.alarms.push(alarm);
    };

    const fiveMinutes = Duration.minutes(5);
    add({
      name: 'dead-letter-messages',
      description: 'Messages on the Buildwatch dead-letter queue: events were not evaluated or alerts not sent. Read the reason attributes, fix, then redrive.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
    });
    add({
      name: 'detect-backlog',
      description: `The oldest message on the detect queue is older than ${DETECT_BACKLOG_AGE.toMinutes()} minutes: detection is stalled.`,
      metric: props.detectQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
      threshold: DETECT_BACKLOG_AGE.toSeconds(),
    });

    const functions: Array<[string, lambda.IFunction, string]> = [
      ['detect', props.detectFunction, 'failed messages are retried, then dead-lettered'],
      ['notify', props.notifyFunction, 'alerts may be delayed (the stream batch is retried, then dead-lettered)'],
      ...(props.heartbeatFunction ? [['heartbeat', props.heartbeatFunction, 'health problems may go unreported'] as [string, lambda.IFunction, string]] : []),
    ];
    for (const [name, fn, consequence] of functions) {
      add({ name: `${name}-errors`, description: `The ${name} function failed (see its log group): ${consequence}.`, metric: fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), threshold: 0 });
      add({ name: `${name}-throttles`, description: `The ${name} function was throttled: the account concurrency limit is reached.`, metric: fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), threshold: 0 });
    }
    add({
      name: 'notify-iterator-age',
      description: `The notifier is more than ${NOTIFY_ITERATOR_AGE.toMinutes()} minutes behind the findings stream: alerts are delayed.`,
      metric: props.notifyFunction.metric('IteratorAge', { period: fiveMinutes, statistic: 'Maximum' }),
      threshold: NOTIFY_ITERATOR_AGE.toMilliseconds(),
    });
    if (props.heartbeatFunction) {
      add({
        name: 'heartbeat-missing',
        description: `The heartbeat has not run for ${HEARTBEAT_MISSING_AFTER.toHours()} hour: its schedule rule or function was disabled or removed, so nobody checks whether the monitor is blind.`,
        // Two half-hour periods: right after a deployment, before the first run, one empty period is normal.
        metric: props.heartbeatFunction.metricInvocations({ period: Duration.minutes(HEARTBEAT_MISSING_AFTER.toMinutes() / 2), statistic: 'Sum' }),
        threshold: 1,
        below: true,
        missingIsBreach: true,
        periods: 2,
      });
    }
    if (props.alertsTopic) {
      add({
        name: 'alerts-delivery-failed',
        description: 'Notifications from the alerts topic failed to reach a subscriber (e-mail, chat, SIEM, canary receipts): people may not be getting alerts.',
        metric: props.alertsTopic.metricNumberOfNotificationsFailed({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 0,
      });
    }
    // Chat topics are best effort for the notifier and the heartbeat (the alerts topic is what they
    // retry): a chat publish that fails is counted (DeliveryFailures, channel chat) and alarms here.
    const chatFailures = Object.fromEntries(
      ['notify', 'heartbeat'].map((fn, index) => [
        `c${index}`,
        new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: METRIC.deliveryFailures, dimensionsMap: { service: `${prefix}${fn}`, channel: 'chat' }, period: fiveMinutes, statistic: 'Sum' }),
      ]),
    );
    add({
      name: 'chat-delivery-failed',
      description: "An alert could not be published to a chat topic (deleted, or its key policy changed): that team's chat channel missed it; the alerts topic had it. See the notify log's 'chat publish failed'.",
      metric: new cloudwatch.MathExpression({ expression: Object.keys(chatFailures).map((m) => `FILL(${m}, 0)`).join(' + '), usingMetrics: chatFailures, period: fiveMinutes, label: 'chat publishes that failed' }),
      threshold: 0,
    });
    const direct = props.directRules ?? [];
    if (direct.length > 0) {
      const metrics = Object.fromEntries(
        direct.map((rule, index) => [`m${index}`, new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'FailedInvocations', dimensionsMap: { RuleName: rule.ruleName }, period: fiveMinutes, statistic: 'Sum' })]),
      );
      add({
        name: 'tamper-direct-failed',
        description: 'A direct tamper alert could not be delivered to the alerts topic (see the dead-letter queue): the alerts topic or its key policy may have been changed.',
        // FILL: a rule that never fired has no data, which must not hide another one's failures.
        metric: new cloudwatch.MathExpression({ expression: Object.keys(metrics).map((m) => `FILL(${m}, 0)`).join(' + '), usingMetrics: metrics, period: fiveMinutes, label: 'FailedInvocations of the direct tamper-alert rules' }),
        threshold: 0,
      });
    }
  }
}
