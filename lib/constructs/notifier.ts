/**
 * The notifier: the findings table is the outbox; its stream (new images, INSERT of alert-mode
 * findings only) drives the notify Lambda, which publishes to the alerts topic and to the chat topics
 * of the routes that want the finding (addChatTopics). A batch that still fails after the retries is
 * recorded on the dead-letter queue (stream position metadata). A repeat folded into a finding by a
 * dedup window is a MODIFY, which the filter drops: it is never announced.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import type { UseCaseNotes } from '../../lambdas/notify/format.js';
import { ENV } from '../../lambdas/store/schema.js';
import { HEARTBEAT_PRINCIPAL } from '../../lambdas/use-cases/monitor/constants.js';
import { publishChatCards } from './alert-routing.js';
import { HandlerFunction, USE_CASE_NOTES_DEFINE } from './handler-function.js';

export const NOTIFY_TIMEOUT = Duration.seconds(30);

/**
 * Only new findings in alert mode reach the notifier; attestations are evidence, not alerts. The
 * heartbeat's own findings are skipped: it publishes them itself, because the path it reports on
 * (this stream and function) may be the broken part.
 */
export function alertInsertFilter(): Record<string, unknown> {
  return lambda.FilterCriteria.filter({
    eventName: lambda.FilterRule.isEqual('INSERT'),
    dynamodb: { NewImage: { mode: { S: lambda.FilterRule.isEqual('alert') }, principal: { S: lambda.FilterRule.notEquals(HEARTBEAT_PRINCIPAL) } } },
  });
}

/**
 * With Security Hub: a dedup-window repeat (MODIFY of an alert-mode finding) updates the imported
 * finding's count and LastObservedAt. The handler never announces a MODIFY on SNS or chat.
 */
export function alertModifyFilter(): Record<string, unknown> {
  return lambda.FilterCriteria.filter({
    eventName: lambda.FilterRule.isEqual('MODIFY'),
    dynamodb: { NewImage: { mode: { S: lambda.FilterRule.isEqual('alert') }, principal: { S: lambda.FilterRule.notEquals(HEARTBEAT_PRINCIPAL) } } },
  });
}

/**
 * With Security Hub: the heartbeat's health findings (new or repeated) are imported too. The heartbeat
 * already published them to people itself, so the handler never announces them on SNS or chat.
 */
export function heartbeatImportFilter(): Record<string, unknown> {
  return lambda.FilterCriteria.filter({
    eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
    dynamodb: { NewImage: { mode: { S: lambda.FilterRule.isEqual('alert') }, principal: { S: lambda.FilterRule.isEqual(HEARTBEAT_PRINCIPAL) } } },
  });
}

/** The account's default Security Hub product, where BatchImportFindings puts its own findings. */
export function securityHubProductArn(): string {
  return `arn:${Aws.PARTITION}:securityhub:${Aws.REGION}:${Aws.ACCOUNT_ID}:product/${Aws.ACCOUNT_ID}/default`;
}

/** The alerts topic's name: known before deployment, so key policies can name it without a reference. */
export function alertsTopicName(resourcePrefix: string): string {
  return `${resourcePrefix}alerts`;
}

/** What the alerts say under "why it matters": each use case's description, by id. */
export function useCaseNotes(useCases: readonly UseCase[]): UseCaseNotes {
  return Object.fromEntries(useCases.map(({ metadata }) => [metadata.id, { description: metadata.description, mitre: metadata.mitre }]));
}

export interface NotifierProps {
  readonly config: BuildwatchConfig;
  /** Their descriptions are inlined into the bundle ("why it matters"), not their code. */
  readonly useCases?: readonly UseCase[];
  readonly entry: string;
  readonly key: kms.IKey;
  readonly findingsTable: dynamodb.ITable;
  readonly deadLetterQueue: sqs.IQueue;
}

export class Notifier extends Construct {
  readonly alertsTopic: sns.Topic;
  readonly function: lambda.IFunction;
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: NotifierProps) {
    super(scope, id);
    const prefix = props.config.monitor.resourcePrefix;
    const securityHub = props.config.routing.securityHub;

    this.alertsTopic = new sns.Topic(this, 'Alerts', {
      topicName: alertsTopicName(prefix),
      displayName: 'Buildwatch alerts',
      masterKey: props.key,
      enforceSSL: true,
    });

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry,
      config: props.config,
      functionName: `${prefix}notify`,
      description: 'Buildwatch: publishes new alert-mode findings to the alerts topic',
      memorySize: 256,
      timeout: NOTIFY_TIMEOUT,
      key: props.key,
      environment: {
        [ENV.alertsTopicArn]: this.alertsTopic.topicArn,
        POWERTOOLS_SERVICE_NAME: `${prefix}notify`,
        ...(securityHub ? { [ENV.securityHubProductArn]: securityHubProductArn() } : {}),
      },
      defines: { [USE_CASE_NOTES_DEFINE]: JSON.stringify(JSON.stringify(useCaseNotes(props.useCases ?? []))) },
    });
    this.function = this.handler.function;

    this.handler.function.addEventSource(
      new DynamoEventSource(props.findingsTable, {
        // An alert is never lost: a replaced mapping re-reads the last 24 h rather than skipping.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        // The findings several use cases raise for one event land within a moment of each other: waiting
        // briefly puts them in one batch, where they fold into one alert per question (notify/fold.ts).
        maxBatchingWindow: Duration.seconds(2),
        bisectBatchOnError: true,
        retryAttempts: 5,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(props.deadLetterQueue),
        filters: securityHub ? [alertInsertFilter(), alertModifyFilter(), heartbeatImportFilter()] : [alertInsertFilter()],
      }),
    );
    this.alertsTopic.grantPublish(this.handler.role);
    if (securityHub) {
      // Only importing, and only into this account's default product.
      this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['securityhub:BatchImportFindings'], resources: [securityHubProductArn()] }));
    }
  }

  /** Route key → chat topics: the function publishes cards there (and may, nowhere else). */
  addChatTopics(byRoute: Readonly<Record<string, readonly sns.ITopic[]>>): void {
    publishChatCards(this.handler, byRoute);
  }
}
