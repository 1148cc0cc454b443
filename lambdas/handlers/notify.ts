/**
 * notify Lambda: the findings table's stream (INSERT of alert-mode findings, filtered by the event
 * source mapping) → the alerts topic (text and routing attributes, for e-mail, HTTPS, SQS and Lambda
 * subscribers) and the chat topics of the routes that want it (AWS Chatbot cards). The findings table
 * is the outbox: a failed publish is retried from the stream, and a finding is inserted once, so it
 * is announced once; a repeat in a dedup window only updates it (MODIFY), which is never announced.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { BuildwatchConfig } from '../config/config.js';
import type { Finding } from '../engine/model.js';
import { alertChannels } from '../notify/channels.js';
import { foldGroup, groupAlerts } from '../notify/fold.js';
import type { UseCaseNotes } from '../notify/format.js';
import type { Notifier } from '../notify/notifier.js';
import { unescapeKeys } from '../store/key-escape.js';
import { bundledConfig, bundledUseCaseNotes, logger } from './runtime.js';

let notifier: Notifier | undefined;

function findingOf(record: DynamoDBRecord): Finding | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  // Keys the document client escaped on the way in (see key-escape.ts) come back as written.
  return unescapeKeys(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>)) as Finding;
}

/**
 * Alerts of one batch are folded by question, resource and event (one incident, one alert; the
 * ledger keeps every finding). A failed alert reports its earliest record, so the stream retries
 * from there: alerts after it may repeat, none is lost.
 */
export async function handleStream(event: DynamoDBStreamEvent, deps: { notifier: Notifier }): Promise<DynamoDBBatchResponse> {
  const alerts: Array<Finding & { readonly sequence: string }> = [];
  for (const record of event.Records) {
    const finding = findingOf(record);
    if (finding && finding.mode === 'alert') alerts.push({ ...finding, sequence: record.dynamodb?.SequenceNumber ?? '' });
  }
  // Groups come in order of their first record.
  for (const group of groupAlerts(alerts)) {
    const alert = foldGroup(group.map(({ sequence: _sequence, ...finding }) => finding));
    try {
      await deps.notifier.notify(alert);
      logger.info('alert published', { id: alert.id, useCase: alert.useCase, severity: alert.severity, ...(alert.aspects ? { folded: alert.aspects.map((a) => a.id) } : {}) });
    } catch (error) {
      logger.error('publish failed', { id: alert.id, error: (error as Error).message });
      return { batchItemFailures: [{ itemIdentifier: alerts[firstIndex(alerts, group)]?.sequence ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}

/** Position of a group's earliest record in the batch. */
function firstIndex<T>(all: readonly T[], group: readonly T[]): number {
  return Math.min(...group.map((item) => all.indexOf(item)));
}

/** The alerts topic, plus the chat topics when the stack made any. */
export function createNotifier(client: SNSClient, env: Readonly<Record<string, string | undefined>>, notes: UseCaseNotes, config: BuildwatchConfig = bundledConfig()): Notifier {
  return alertChannels(client, env, config, notes);
}

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  notifier ??= createNotifier(new SNSClient({}), process.env, bundledUseCaseNotes());
  return handleStream(event, { notifier });
};
