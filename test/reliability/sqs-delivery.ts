/**
 * The detect queue as SQS runs it, in miniature: batches of 10 to the handler; a record reported as
 * failed becomes visible again a little later (after the visibility timeout: modelled as a number of
 * messages delivered in between) with its receive count raised; a message received more than
 * maxReceiveCount times is moved by the redrive policy, without any reason.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DETECT_MAX_RECEIVE_COUNT } from '../../lib/constructs/queues.js';
import type { QueueMessage } from './history.js';
import { sqsRecord } from '../support/detect-fixtures.js';

export interface DeliveryOptions {
  readonly batchSize?: number;
  /** Messages delivered before a failed one is visible again (the visibility timeout). */
  readonly retryAfterMessages?: number;
  readonly maxReceiveCount?: number;
  /** Makes message ids unique per copy (EventBridge duplicates are distinct SQS messages). */
  readonly idSuffix?: string;
}

export interface DeliveryReport {
  readonly receives: number;
  /** Message ids SQS's own redrive moved (no reason attached). */
  readonly redriven: string[];
}

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export async function deliverThroughQueue(messages: readonly QueueMessage[], handler: Handler, options: DeliveryOptions = {}): Promise<DeliveryReport> {
  const batchSize = options.batchSize ?? 10;
  const retryAfter = options.retryAfterMessages ?? 30;
  const maxReceiveCount = options.maxReceiveCount ?? DETECT_MAX_RECEIVE_COUNT;
  const suffix = options.idSuffix ?? '';
  const queue = messages.map((message) => ({ id: `${message.messageId}${suffix}`, body: message.body, received: 0 }));
  const redriven: string[] = [];
  let receives = 0;
  while (queue.length > 0) {
    const batch: typeof queue = [];
    while (batch.length < batchSize && queue.length > 0) {
      const next = queue.shift()!;
      if (next.received >= maxReceiveCount) redriven.push(next.id);
      else batch.push(next);
    }
    if (batch.length === 0) continue;
    for (const entry of batch) entry.received += 1;
    receives += batch.length;
    const response = await handler({ Records: batch.map((entry) => sqsRecord(entry.id, entry.body, entry.received)) });
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const again = batch.filter((entry) => failed.has(entry.id));
    queue.splice(Math.min(retryAfter, queue.length), 0, ...again);
  }
  return { receives, redriven };
}
