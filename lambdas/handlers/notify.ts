/**
 * notify Lambda: the findings table's stream (INSERT of alert-mode findings, filtered by the event
 * source mapping) → the alerts topic (text and routing attributes, for e-mail, HTTPS, SQS and Lambda
 * subscribers) and the chat topics of the routes that want it (AWS Chatbot cards). The findings table
 * is the outbox: a failed publish is retried from the stream, and a finding is inserted once, so it
 * is announced once; a repeat in a dedup window only updates it (MODIFY), which is never announced.
 */
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
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
import { SecurityHubImportError, SecurityHubNotifier } from '../notify/security-hub-notifier.js';
import { unescapeKeys } from '../store/key-escape.js';
import { ENV } from '../store/schema.js';
import { recordDelivery } from './metrics.js';
import { bundledConfig, bundledUseCaseNotes, logger } from './runtime.js';
import { CANARY_USE_CASE, HEARTBEAT_PRINCIPAL } from '../use-cases/monitor/constants.js';

let notifier: Notifier | undefined;
let securityHub: SecurityHubNotifier | null | undefined;

/** The finding a record's new image holds: INSERT (a new finding) or MODIFY (a dedup-window repeat). */
function findingOf(record: DynamoDBRecord, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): Finding | undefined {
  if (record.eventName !== eventName || !record.dynamodb?.NewImage) return undefined;
  // Keys the document client escaped on the way in (see key-escape.ts) come back as written.
  return unescapeKeys(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>)) as Finding;
}

/**
 * Alerts of one batch are folded by question, resource and event (one incident, one alert; the
 * ledger keeps every finding). A failed alert reports its earliest record, so the stream retries
 * from there: alerts after it may repeat, none is lost.
 */
export async function handleStream(event: DynamoDBStreamEvent, deps: { notifier: Notifier; securityHub?: SecurityHubNotifier | undefined }): Promise<DynamoDBBatchResponse> {
  const alerts: Array<Finding & { readonly sequence: string }> = [];
  // Every alert record, new or repeated, in stream order: what Security Hub imports.
  const imports: Array<{ readonly finding: Finding; readonly sequence: string }> = [];
  for (const record of event.Records) {
    const sequence = record.dynamodb?.SequenceNumber ?? '';
    const inserted = findingOf(record);
    // The heartbeat announces its own findings (the path it watches may be this one): import only.
    if (inserted && inserted.mode === 'alert' && inserted.principal !== HEARTBEAT_PRINCIPAL) alerts.push({ ...inserted, sequence });
    const alert = inserted ?? findingOf(record, 'MODIFY');
    // The hourly canary proves the path to the alerts topic; it reaches no human, Security Hub included.
    if (alert && alert.mode === 'alert' && alert.useCase !== CANARY_USE_CASE) imports.push({ finding: alert, sequence });
  }
  let failedSequence: string | undefined;
  // Groups come in order of their first record.
  for (const group of groupAlerts(alerts)) {
    const alert = foldGroup(group.map(({ sequence: _sequence, ...finding }) => finding));
    try {
      await deps.notifier.notify(alert);
      recordDelivery('sns', 1, 0);
      logger.info('alert published', { id: alert.id, useCase: alert.useCase, severity: alert.severity, ...(alert.aspects ? { folded: alert.aspects.map((a) => a.id) } : {}) });
    } catch (error) {
      logger.error('publish failed', { id: alert.id, error: (error as Error).message });
      recordDelivery('sns', 0, 1);
      failedSequence = alerts[firstIndex(alerts, group)]?.sequence ?? '';
      break;
    }
  }
  if (deps.securityHub && imports.length > 0) {
    try {
      await deps.securityHub.importFindings(imports.map((i) => i.finding));
      recordDelivery('securityhub', imports.length, 0);
      logger.info('alerts imported into Security Hub', { ids: imports.map((i) => i.finding.id) });
    } catch (error) {
      logger.error('Security Hub import failed', { error: (error as Error).message });
      const failedIds = new Set(error instanceof SecurityHubImportError ? error.findingIds : imports.map((i) => i.finding.id));
      recordDelivery('securityhub', imports.filter((i) => !failedIds.has(i.finding.id)).length, failedIds.size);
      const first = imports.find((i) => failedIds.has(i.finding.id)) ?? imports[0];
      failedSequence = earliest(event, failedSequence, first?.sequence);
    }
  }
  // The stream retries from the earliest failed record: alerts after it may repeat, none is lost.
  return { batchItemFailures: failedSequence === undefined ? [] : [{ itemIdentifier: failedSequence }] };
}

/** Of two records' sequence numbers, the one that comes first in the batch. */
function earliest(event: DynamoDBStreamEvent, a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const position = (sequence: string): number => event.Records.findIndex((r) => (r.dynamodb?.SequenceNumber ?? '') === sequence);
  return position(a) <= position(b) ? a : b;
}

/** Position of a group's earliest record in the batch. */
function firstIndex<T>(all: readonly T[], group: readonly T[]): number {
  return Math.min(...group.map((item) => all.indexOf(item)));
}

/** The alerts topic, plus the chat topics when the stack made any (best effort: a failure is logged and counted, and alarms). */
export function createNotifier(client: SNSClient, env: Readonly<Record<string, string | undefined>>, notes: UseCaseNotes, config: BuildwatchConfig = bundledConfig()): Notifier {
  return alertChannels(client, env, config, notes, (finding, error) => {
    logger.error('chat publish failed', { id: finding.id, error: (error as Error).message });
    recordDelivery('chat', 0, 1);
  });
}

/** The Security Hub importer when the stack enabled it (routing.securityHub), else undefined. */
export function createSecurityHubNotifier(client: SecurityHubClient, env: Readonly<Record<string, string | undefined>>, notes: UseCaseNotes): SecurityHubNotifier | undefined {
  const productArn = env[ENV.securityHubProductArn];
  return productArn ? new SecurityHubNotifier(client, productArn, { notes }) : undefined;
}

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  notifier ??= createNotifier(new SNSClient({}), process.env, bundledUseCaseNotes());
  if (securityHub === undefined) securityHub = createSecurityHubNotifier(new SecurityHubClient({}), process.env, bundledUseCaseNotes()) ?? null;
  return handleStream(event, { notifier, securityHub: securityHub ?? undefined });
};
