/**
 * Monitor health (question `monitor.health`): the hourly canary and the heartbeat.
 *
 * - The canary: an EventBridge Scheduler schedule puts a `buildwatch.canary` event on the default bus
 *   every hour (the scheduler's templated PutEvents target: no code). The monitor.canary rule sends it
 *   down the detection path like any event; its info alert comes back from the alerts topic to a small
 *   receipts queue (subscription filtered on useCase = monitor.canary).
 * - The heartbeat: a Lambda run every 15 minutes by an EventBridge rule. It reads the liveness markers
 *   the detector writes, drains the receipts queue, reads the dead-letter depth, and alerts (findings
 *   table + straight to the alerts topic) when the monitor has gone blind. It also tags the receipts
 *   queue each run: a CloudTrail management write that keeps CloudTrail liveness visible in quiet accounts.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import { ENV } from '../../lambdas/store/schema.js';
import { CANARY_DETAIL_TYPE, CANARY_INTERVAL_MINUTES, CANARY_SOURCE, CANARY_USE_CASE, HEARTBEAT_ENV } from '../../lambdas/use-cases/monitor/constants.js';
import { LIVENESS_PARTITION } from '../../lambdas/use-cases/monitor/liveness.js';
import { MONITOR_RESOURCES_ENV } from '../../lambdas/use-cases/monitor/own-resources.js';
import { TABLE_KEY_ACTIONS } from './detector.js';
import { HandlerFunction } from './handler-function.js';
import { withDeadLetter } from './queues.js';
import { alertsTopicName } from './notifier.js';

export const HEARTBEAT_INTERVAL = Duration.minutes(15);
export const HEARTBEAT_TIMEOUT = Duration.seconds(60);

/** What the heartbeat does with the markers (lambdas/use-cases/monitor/liveness.ts): query and conditional updates. */
export const HEARTBEAT_STATE_ACTIONS = ['dynamodb:Query', 'dynamodb:UpdateItem'] as const;
/** The ledger: read an incident's finding back, write a new one. */
export const HEARTBEAT_FINDINGS_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

export interface HeartbeatProps {
  readonly config: BuildwatchConfig;
  readonly entry: string;
  readonly key: kms.IKey;
  readonly stateTable: dynamodb.ITable;
  readonly findingsTable: dynamodb.ITable;
  readonly alertsTopic: sns.ITopic;
  readonly deadLetterQueue: sqs.IQueue;
  /** JSON the Lambdas read from BUILDWATCH_MONITOR_RESOURCES (the account, the key). */
  readonly monitorResources: string;
  /** Send the canary (monitor.canary is enabled). */
  readonly canary: boolean;
  /** The canary's alerts go out through the notifier, so they can be received back (monitor.canary in alert mode). */
  readonly canaryAlerts: boolean;
}

export class Heartbeat extends Construct {
  readonly handler: HandlerFunction;
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;
  readonly receipts: sqs.Queue;
  readonly canarySchedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: HeartbeatProps) {
    super(scope, id);
    const prefix = props.config.monitor.resourcePrefix;

    // Holds canary alerts for minutes at most: the heartbeat reads and deletes them every run.
    this.receipts = new sqs.Queue(this, 'CanaryReceipts', {
      queueName: `${prefix}canary-receipts`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(1),
    });
    if (props.canaryAlerts) this.subscribeReceipts(props);

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry,
      config: props.config,
      functionName: `${prefix}heartbeat`,
      description: 'Buildwatch: alerts when the monitor goes blind (no CloudTrail events, no canary, dead letters)',
      memorySize: 256,
      timeout: HEARTBEAT_TIMEOUT,
      key: props.key,
      environment: {
        [ENV.stateTable]: props.stateTable.tableName,
        [ENV.findingsTable]: props.findingsTable.tableName,
        [ENV.alertsTopicArn]: props.alertsTopic.topicArn,
        [ENV.deadLetterQueueUrl]: props.deadLetterQueue.queueUrl,
        [HEARTBEAT_ENV.receiptsQueueUrl]: this.receipts.queueUrl,
        [MONITOR_RESOURCES_ENV]: props.monitorResources,
        POWERTOOLS_SERVICE_NAME: `${prefix}heartbeat`,
      },
    });
    this.function = this.handler.function;
    const role = this.handler.role;

    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LivenessMarkersOnly',
        actions: [...HEARTBEAT_STATE_ACTIONS],
        resources: [props.stateTable.tableArn],
        // The heartbeat reads and writes its markers, never baselines or snapshots.
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [LIVENESS_PARTITION] } },
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'HealthFindings', actions: [...HEARTBEAT_FINDINGS_ACTIONS], resources: [props.findingsTable.tableArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DeadLetterDepth', actions: ['sqs:GetQueueAttributes'], resources: [props.deadLetterQueue.queueArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'CanaryReceiptsAndProbe', actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:TagQueue'], resources: [this.receipts.queueArn] }),
    );
    props.key.grant(role, ...TABLE_KEY_ACTIONS);
    props.alertsTopic.grantPublish(role);

    this.schedule = new events.Rule(this, 'Schedule', {
      ruleName: `${prefix}heartbeat`,
      description: 'Buildwatch: runs the heartbeat',
      schedule: events.Schedule.rate(HEARTBEAT_INTERVAL),
      targets: [withDeadLetter(new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: HEARTBEAT_INTERVAL }), props.deadLetterQueue)],
    });

    if (props.canary) {
      this.canarySchedule = new scheduler.Schedule(this, 'Canary', {
        scheduleName: `${prefix}canary`,
        description: 'Buildwatch: the hourly canary event that proves the detection path works end to end',
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(CANARY_INTERVAL_MINUTES)),
        target: new schedulerTargets.EventBridgePutEvents(
          {
            eventBus: events.EventBus.fromEventBusName(this, 'DefaultBus', 'default'),
            source: CANARY_SOURCE,
            detailType: CANARY_DETAIL_TYPE,
            detail: scheduler.ScheduleTargetInput.fromObject({
              scheduledTime: scheduler.ContextAttribute.scheduledTime,
              executionId: scheduler.ContextAttribute.executionId,
              schedule: `${prefix}canary`,
            }),
          },
          // A canary older than an interval proves nothing: let it go rather than pile up.
          { retryAttempts: 3, maxEventAge: Duration.minutes(CANARY_INTERVAL_MINUTES / 2) },
        ),
      });
    }
  }

  /**
   * The alerts topic delivers canary alerts to the receipts queue. Written out rather than with
   * SqsSubscription: that one adds a key-policy statement naming the topic's ARN, and the topic is
   * encrypted with the same key (a circular dependency); the topic's name is known, so name it.
   */
  private subscribeReceipts(props: HeartbeatProps): void {
    const { account, region, partition } = Stack.of(this);
    new sns.Subscription(this, 'CanaryReceiptsSubscription', {
      topic: props.alertsTopic,
      protocol: sns.SubscriptionProtocol.SQS,
      endpoint: this.receipts.queueArn,
      filterPolicy: { useCase: sns.SubscriptionFilter.stringFilter({ allowlist: [CANARY_USE_CASE] }) },
    });
    this.receipts.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlertsTopicCanaryReceipts',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.receipts.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': props.alertsTopic.topicArn } },
      }),
    );
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlertsTopicToEncryptCanaryReceipts',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': `arn:${partition}:sns:${region}:${account}:${alertsTopicName(props.config.monitor.resourcePrefix)}` } },
      }),
    );
  }
}
