/**
 * Where an in-process store writes behind to: a DynamoDB table with the same layout, reached through
 * the document client (so event keys are escaped as the DynamoDB stores escape them).
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface WriteBehindTarget {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * The table is known to hold nothing from before this run (a fresh embedded store): nothing is
   * read through. Otherwise (a kept store, an endpoint, a deployed table) each partition or finding
   * is read once, on first touch, so answers equal those of the DynamoDB stores.
   */
  readonly empty: boolean;
}

/** BatchWriteItem takes at most 25 requests. */
export const BATCH_SIZE = 25;
/** Requests a batch (BatchWriteItem, BatchGetItem) gets before its unprocessed part is an error. */
export const MAX_ATTEMPTS = 10;

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pause before attempt `attempt` (2, 3, …) of a batch's unprocessed part: doubling from 50 ms, at most 5 s. */
export function retryPause(attempt: number): number {
  return Math.min(5_000, 50 * 2 ** (attempt - 2));
}

/**
 * Puts `items` with BatchWriteItem, 25 per request; unprocessed items (throttling) are sent again
 * after a growing pause. Returns the number of requests made. Throws when items stay unprocessed.
 */
export async function batchPut(target: WriteBehindTarget, items: readonly object[], pause: Sleep = sleep): Promise<number> {
  let requests = 0;
  for (let start = 0; start < items.length; start += BATCH_SIZE) {
    let pending = items.slice(start, start + BATCH_SIZE).map((item) => ({ PutRequest: { Item: item as Record<string, unknown> } }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`${target.tableName}: ${pending.length} item(s) still unprocessed after ${MAX_ATTEMPTS} BatchWriteItem attempts`);
      if (attempt > 1) await pause(retryPause(attempt));
      requests += 1;
      const { UnprocessedItems } = await target.doc.send(new BatchWriteCommand({ RequestItems: { [target.tableName]: pending } }));
      pending = (UnprocessedItems?.[target.tableName] ?? []).flatMap((request) => (request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : []));
    }
  }
  return requests;
}
