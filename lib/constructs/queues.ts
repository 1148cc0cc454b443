/**
 * The detect queue (EventBridge → SQS → detect Lambda) and the shared dead-letter queue. SQS absorbs
 * bursts and throttling; the dead-letter queue receives messages the handler gives up on (with a
 * reason: at once when permanent, at the 5th receive when transient), messages SQS redrives after 8
 * receives (their reasons already logged), EventBridge deliveries that failed, and notifier stream
 * batches that exhausted their retries.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';

/**
 * SQS moves a message to the dead-letter queue (without a reason) once it has been received this
 * many times. The detect handler forwards a message itself, with its reason, at once when the
 * failure is permanent and on its 5th receive (MAX_ATTEMPTS) when it is transient; the three receives
 * above that retry a forward that failed, and the handler logs each reason keyed by message id
 * before forwarding, so even a message this redrive moves keeps its reason in the logs.
 */

/** The dead-letter queue's maximum message size: SQS's largest. */
export const DEAD_LETTER_MAX_MESSAGE_BYTES = 1_048_576;
export const DETECT_MAX_RECEIVE_COUNT = 8;

/**
 * The ARN of every EventBridge rule the stack creates: all are named `<resourcePrefix>…` on the default
 * bus. Queue policies name this pattern once instead of one ARN per rule, so they stay inside SQS's
 * policy quotas (20 statements, 8,192 bytes) for any number of use cases. A foreign rule given the
 * prefix is itself tampering with the monitor's namespace, which monitor.rule-tamper alerts on.
 */
export function stackRuleArnPattern(scope: IConstruct, resourcePrefix: string): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:events:${region}:${account}:rule/${resourcePrefix}*`;
}

/**
 * A rule target whose undeliverable events go to `queue`. Unlike the L2 targets' `deadLetterQueue`
 * option, this adds no per-rule statement to the queue's policy: Queues grants all the stack's rules
 * at once (`stackRuleArnPattern`).
 */
export function withDeadLetter(target: events.IRuleTarget, queue: sqs.IQueue): events.IRuleTarget {
  return {
    bind: (rule, id) => ({ ...target.bind(rule, id), deadLetterConfig: { arn: queue.queueArn } }),
  };
}

export interface QueuesProps {
  readonly key: kms.IKey;
  readonly resourcePrefix: string;
  /** At least 6 × the detect function timeout (+ batching window), as AWS recommends for SQS event sources. */
  readonly visibilityTimeout: Duration;
}

export class Queues extends Construct {
  readonly detect: sqs.Queue;
  readonly deadLetter: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);

    this.deadLetter = new sqs.Queue(this, 'DeadLetter', {
      queueName: `${props.resourcePrefix}dead-letter`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // SQS's largest (1 MiB): the detector forwards a message of the detect queue (up to its 256 KiB)
      // with its reason in message attributes, which count towards the size; at 256 KiB here a
      // forward of a message near the limit could never be sent and would reach this queue through
      // the redrive, without its reason.
      maxMessageSizeBytes: DEAD_LETTER_MAX_MESSAGE_BYTES,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.detect = new sqs.Queue(this, 'Detect', {
      queueName: `${props.resourcePrefix}detect`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetter, maxReceiveCount: DETECT_MAX_RECEIVE_COUNT },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // One statement for every rule of the stack, however many use cases are enabled.
    this.deadLetter.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBuildwatchRulesToDeadLetter',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetter.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': stackRuleArnPattern(this, props.resourcePrefix) } },
      }),
    );
  }
}
