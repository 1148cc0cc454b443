/**
 * The detect queue (EventBridge → SQS → detect Lambda) and the shared dead-letter queue. SQS absorbs
 * bursts and throttling; the dead-letter queue receives messages the handler gives up on (with a
 * reason, at the 5th receive), messages SQS redrives after 6 receives, EventBridge deliveries that
 * failed, and notifier stream batches that exhausted their retries.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * SQS moves a message to the dead-letter queue (without a reason) once it has been received this
 * many times. The detect handler forwards a message itself, with its reason, at once when the
 * failure is permanent and on its 5th receive (MAX_ATTEMPTS) when it is transient; the three receives
 * above that retry a forward that failed, and the handler logs each reason keyed by message id
 * before forwarding, so even a message this redrive moves keeps its reason in the logs.
 */
export const DETECT_MAX_RECEIVE_COUNT = 8;

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
  }
}
