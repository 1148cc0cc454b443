/**
 * One "deployment" for a scenario: fresh dynalite tables, and detect-Lambda containers (each its own
 * Engine, so its own caches) built on a document client that may inject faults. Plus what a run
 * leaves behind (the findings table) and how it differs from the clean run.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../../lambdas/config/config.js';
import { Engine } from '../../lambdas/engine/engine.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { sweep } from '../../lambdas/handlers/correlation-sweep.js';
import { handleBatch } from '../../lambdas/handlers/detect.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import type { TestStores } from '../support/local-dynamo.js';

export const DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-dead-letter';
const CONFIG = loadConfig();
/** Wall clock of the correlation sweep: well after the sample history, so every pending check is due. */
const SWEEP_AT = new Date('2026-12-01T00:00:00Z');

export interface Container {
  readonly engine: Engine;
  handle(event: SQSEvent): ReturnType<typeof handleBatch>;
}

/** A detect-Lambda container on `doc` (its own engine and caches). */
export function container(doc: DynamoDBDocumentClient, stores: TestStores): Container {
  const engine = new Engine({
    config: CONFIG,
    lookups: noLookups,
    state: new StateStore(doc, stores.tables.state),
    // Sample events are weeks old: findings stay amendable, as in the other store tests.
    findings: new FindingsStore(doc, stores.tables.findings, { amendableDay: () => true }),
    clock: () => new Date('2026-11-01T00:00:00Z'),
  });
  const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: DEAD_LETTER_QUEUE_URL };
  return { engine, handle: (event) => handleBatch(event, undefined, deps) };
}

/** The scheduled correlation sweep, on a clean client (its own retries are EventBridge's business). */
export async function runSweep(engine: Engine): Promise<void> {
  await sweep({ engine, useCases, clock: () => SWEEP_AT });
}

export async function storedFindings(stores: TestStores): Promise<Finding[]> {
  const items: Finding[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stores.doc.send(new ScanCommand({ TableName: stores.tables.findings, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...((page.Items ?? []) as Finding[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => a.id.localeCompare(b.id));
}

function describe(finding: Finding): string {
  const count = finding.occurrences ? `, ${finding.occurrences} occurrences` : '';
  return `${finding.useCase} ${finding.severity}/${finding.mode} on event ${finding.eventId} at ${finding.eventTime} (${finding.resource ?? '-'}${count}): ${finding.title}`;
}

export interface CompareOptions {
  /** `${eventId}#${useCase}` of messages that reached the dead-letter queue with a reason. */
  readonly deadLettered?: ReadonlySet<string>;
  /** Compare dedup counts too (when the run saw every event the clean run saw). */
  readonly occurrences?: boolean;
}

/**
 * Every difference from the clean run, one precise line each (empty: none). A finding may only be
 * missing when its event went to the dead-letter queue, for its use case, with a reason.
 */
export function differences(clean: readonly Finding[], run: readonly Finding[], options: CompareOptions = {}): string[] {
  const lines: string[] = [];
  const cleanById = new Map(clean.map((f) => [f.id, f]));
  const runById = new Map(run.map((f) => [f.id, f]));
  for (const finding of run) {
    const before = cleanById.get(finding.id);
    if (!before) {
      lines.push(`extra: ${describe(finding)}`);
      continue;
    }
    const changes: string[] = [];
    if (before.severity !== finding.severity) changes.push(`severity ${before.severity} → ${finding.severity}`);
    if (before.mode !== finding.mode) changes.push(`mode ${before.mode} → ${finding.mode}`);
    if (options.occurrences && (before.occurrences ?? 1) !== (finding.occurrences ?? 1)) changes.push(`occurrences ${before.occurrences ?? 1} → ${finding.occurrences ?? 1}`);
    if (changes.length > 0) lines.push(`changed: ${describe(before)}: ${changes.join(', ')}`);
  }
  for (const finding of clean) {
    if (runById.has(finding.id)) continue;
    if (options.deadLettered?.has(`${finding.eventId}#${finding.useCase}`)) continue;
    lines.push(`missing: ${describe(finding)}`);
  }
  return lines;
}
