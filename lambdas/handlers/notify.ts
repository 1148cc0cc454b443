/**
 * notify Lambda: the findings table's stream (INSERT of alert-mode findings, filtered by the event
 * source mapping) → SNS. The findings table is the outbox: a failed publish is retried from the
 * stream, and a finding is inserted once, so it is announced once.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Finding } from '../engine/model.js';
import type { Notifier } from '../notify/notifier.js';
import { SnsNotifier } from '../notify/sns-notifier.js';
import { ENV } from '../store/schema.js';
import { logger, requireEnv } from './runtime.js';

let notifier: Notifier | undefined;

function findingOf(record: DynamoDBRecord): Finding | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  return unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) as Finding;
}

/** Stream batches stop at the first failure: report it so earlier records are not sent again. */
export async function handleStream(event: DynamoDBStreamEvent, deps: { notifier: Notifier }): Promise<DynamoDBBatchResponse> {
  for (const record of event.Records) {
    const finding = findingOf(record);
    if (!finding || finding.mode !== 'alert') continue;
    try {
      await deps.notifier.notify(finding);
      logger.info('alert published', { id: finding.id, useCase: finding.useCase, severity: finding.severity });
    } catch (error) {
      logger.error('publish failed', { id: finding.id, error: (error as Error).message });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  notifier ??= new SnsNotifier(new SNSClient({}), requireEnv(ENV.alertsTopicArn));
  return handleStream(event, { notifier });
};
