/**
 * Monitor health (question `monitor.health`): CloudWatch alarms on the dead-letter queue, the detect
 * backlog and both functions, published to an encrypted ops topic (separate from the alerts topic,
 * so operational noise never reaches the security channel and vice versa).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The detect backlog is "stuck" when its oldest message is older than this. */
export const DETECT_BACKLOG_AGE = Duration.minutes(15);
/** The notifier is "behind" when the findings stream's iterator age exceeds this. */
export const NOTIFY_ITERATOR_AGE = Duration.minutes(5);

export interface AlarmsProps {
  readonly key: kms.IKey;
  readonly resourcePrefix: string;
  readonly deadLetterQueue: sqs.IQueue;
  readonly detectQueue: sqs.IQueue;
  readonly detectFunction: lambda.IFunction;
  readonly notifyFunction: lambda.IFunction;
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

    const fiveMinutes = Duration.minutes(5);
    const add = (name: string, description: string, metric: cloudwatch.IMetric, threshold: number): void => {
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmName: `${prefix}${name}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.opsTopic));
      alarm.addOkAction(new actions.SnsAction(this.opsTopic));
      this.alarms.push(alarm);
    };

    add(
      'dead-letter-messages',
      'Messages on the Buildwatch dead-letter queue: events were not evaluated or alerts not sent. Read the reason attributes, fix, then redrive.',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      0,
    );
    add(
      'detect-backlog',
      `The oldest message on the detect queue is older than ${DETECT_BACKLOG_AGE.toMinutes()} minutes: detection is stalled.`,
      props.detectQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
      DETECT_BACKLOG_AGE.toSeconds(),
    );
    add(
      'detect-errors',
      'The detect function failed (see its log group); failed messages are retried, then dead-lettered.',
      props.detectFunction.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      0,
    );
    add(
      'detect-throttles',
      'The detect function was throttled: the account concurrency limit is reached.',
      props.detectFunction.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      0,
    );
    add(
      'notify-errors',
      'The notify function failed: alerts may be delayed (the stream batch is retried, then dead-lettered).',
      props.notifyFunction.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      0,
    );
    add(
      'notify-throttles',
      'The notify function was throttled: alerts are delayed.',
      props.notifyFunction.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      0,
    );
    add(
      'notify-iterator-age',
      `The notifier is more than ${NOTIFY_ITERATOR_AGE.toMinutes()} minutes behind the findings stream: alerts are delayed.`,
      props.notifyFunction.metric('IteratorAge', { period: fiveMinutes, statistic: 'Maximum' }),
      NOTIFY_ITERATOR_AGE.toMilliseconds(),
    );
  }
}
