/**
 * A DynamoDB document client that fails a share of its calls the way DynamoDB does: half before the
 * request has any effect (throttling), half after the write landed (the response is lost: a socket
 * timeout). The stores under test use it unchanged; only `send` is intercepted.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface FaultCounts {
  calls: number;
  failedBefore: number;
  failedAfter: number;
}

export function throttled(): Error {
  return Object.assign(new Error('injected: The level of configured provisioned throughput for the table was exceeded'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

export function responseLost(): Error {
  return Object.assign(new Error('injected: socket timed out after the request was sent'), { name: 'TimeoutError' });
}

export function faultyDocumentClient(doc: DynamoDBDocumentClient, rate: number, random: () => number): { doc: DynamoDBDocumentClient; counts: FaultCounts } {
  const counts: FaultCounts = { calls: 0, failedBefore: 0, failedAfter: 0 };
  const send = async (...args: Parameters<DynamoDBDocumentClient['send']>): Promise<unknown> => {
    counts.calls += 1;
    const roll = random();
    if (roll < rate / 2) {
      counts.failedBefore += 1;
      throw throttled();
    }
    const result: unknown = await (doc.send as (...a: unknown[]) => Promise<unknown>)(...args);
    if (roll < rate) {
      counts.failedAfter += 1;
      throw responseLost();
    }
    return result;
  };
  const wrapped = new Proxy(doc, {
    get(target, property, receiver) {
      if (property === 'send') return send;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { doc: wrapped, counts };
}
