/**
 * The cloud path's DynamoDB cost (`npx tsx bench/cloud-path.ts`): a generated history (as the replay
 * bench makes it) delivered the way the detect Lambda receives it, and the calls counted on the
 * DynamoDB client itself, so every call the handler causes is seen, whichever store makes it.
 *
 *  - Every event is routed to the use cases whose rules match it (one EventBridge rule per use case,
 *    so one SQS message per pair), in event-time order.
 *  - Messages are grouped as Lambda's SQS event source mapping does: a batch closes when it holds
 *    DETECT_BATCH_SIZE messages or when DETECT_BATCHING_WINDOW has passed since its first message.
 *  - Each batch goes through the detect handler (`handleBatch`) against dynalite, one container (one
 *    engine and its caches) for the whole run, with the wall clock at the batch's time.
 *  - Steady state: the batches of the last `steadyDays` days (the first weeks built the baselines).
 * Calls are attributed to the use case being evaluated; calls made outside an evaluation (the
 * heartbeat's liveness marker) to the use cases whose items they carry. The liveness markers are a
 * cost per time (at most one write per marker per container per interval), not per event: reported
 * apart, per day per container, and still counted in the total.
 *  - Request units: every counted call asks for its consumed capacity (ReturnConsumedCapacity TOTAL),
 *    which dynalite computes from item sizes as DynamoDB does for the table (1 KB per write unit, 4 KB
 *    per strongly consistent read unit). What dynalite leaves out is added and stated: the findings
 *    table's keys-only `byDayKeys` index gets an entry of the index keys and the table key (its own
 *    write units) for each ledger write that puts an item into it or moves it, not for an amendment
 *    that keeps the item's day and eventTime (keys-only-index.ts); a write refused by its condition
 *    is charged one write unit.
 *  - Optionally (BENCH_CLOUDTRAIL_LAG_S), CloudTrail-relayed events reach the queue that much later
 *    than native ones, as CloudTrail delivers them (about 5 minutes on average).
 * Prints figures, asserts nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { DETECT_BATCH_SIZE, DETECT_BATCHING_WINDOW } from '../lib/constructs/detector.js';
import { loadConfig } from '../lambdas/config/config.js';
import { Engine, type Outcome } from '../lambdas/engine/engine.js';
import type { EventBridgeEvent } from '../lambdas/engine/events.js';
import { normaliseContent } from '../lambdas/engine/normalise-input.js';
import { toPipelineEvent, type PipelineEvent } from '../lambdas/engine/pipeline-event.js';
import { route } from '../lambdas/engine/router.js';
import type { UseCase } from '../lambdas/engine/use-case.js';
import { noLookups } from '../lambdas/lookups/lookups.js';
import { documentClient } from '../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo } from '../lambdas/store/embedded-dynamo.js';
import { amendableOnTheClock, FindingsStore } from '../lambdas/store/findings-store.js';
import { StateStore } from '../lambdas/store/state-store.js';
import { ensureTables } from '../lambdas/store/tables.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { configuredMaxSilenceMinutes, LivenessRecorder, LivenessStore, LIVENESS_PARTITION } from '../lambdas/use-cases/monitor/liveness.js';
import { cloudTrailFileText, eventBridgeFileText, generateHistory } from '../samples/generate-history.js';
import { KeysOnlyIndexWrites } from './keys-only-index.js';

export interface CloudPathOptions {
  /** Days of history (default 28). */
  readonly days?: number;
  /** Developer activity multiplier of the generator (default 8, as `npm run bench`). */
  readonly scale?: number;
  /** The last days counted as steady state (default 7). */
  readonly steadyDays?: number;
  readonly seed?: number;
  /** Messages per batch (default DETECT_BATCH_SIZE). */
  readonly batchSize?: number;
  /** Batching window in ms (default DETECT_BATCHING_WINDOW). */
  readonly batchingWindowMs?: number;
  /**
   * How much later than native events CloudTrail-relayed events reach the queue (default 0: every
   * event in event-time order). CloudTrail delivers in about 5 minutes on average (EVENTS.md), so a
   * build's native event usually arrives before the PublishPackageVersion call it made.
   */
  readonly cloudTrailLagMs?: number;
}

export interface CallCount {
  /** DynamoDB requests (a BatchWriteItem or a Query page is one). */
  calls: number;
  /** SQS messages evaluated (one per event and use case whose rule matched it). */
  messages: number;
}

export interface CloudPathResult {
  readonly events: number;
  readonly messages: number;
  readonly batches: number;
  readonly steady: {
    readonly events: number;
    readonly messages: number;
    readonly batches: number;
    /** Every call of the window: the per-event calls plus the fixed liveness cost. */
    readonly calls: number;
    readonly callsPerEvent: number;
    readonly callsPerMessage: number;
    /** Calls caused by events (all but the liveness markers), and per event. */
    readonly eventCalls: number;
    readonly eventCallsPerEvent: number;
    /**
     * The heartbeat's liveness markers: a cost per time, not per event (at most one write per marker
     * per container per interval derived from the silence limit), here one container over the window.
     */
    readonly liveness: { readonly calls: number; readonly days: number; readonly callsPerDayPerContainer: number; readonly intervalMs: number };
    /** Steady-state calls by use case (and `heartbeat liveness`), with calls per event of the window. */
    readonly byUseCase: Record<string, CallCount & { perEvent: number }>;
    /** Steady-state calls by DynamoDB operation. */
    readonly byOperation: Record<string, number>;
    /** Steady-state calls of each use case by DynamoDB operation and table (`Query state`, `PutItem findings`…). */
    readonly byUseCaseOperation: Record<string, Record<string, number>>;
    /** Steady-state calls on the findings table (the ledger: one conditional put per new finding, reads of repeats). */
    readonly ledgerCalls: number;
    /** Steady-state Query calls of artifact.hash-mismatch per claim it judged (a publish or a package version event). */
    readonly correlationQueriesPerClaim: number;
    /** Request units DynamoDB would charge for the steady-state calls (see the header), per event. */
    readonly requestUnits: RequestUnits;
    /** What no batching of the calls could go below at this SQS batching (see EventCallFloors). */
    readonly floors: EventCallFloors;
  };
  /** Calls over the whole history. */
  readonly calls: number;
  /** sha256 of the ledger (every finding, without its wall-clock recordedAt): the same before and after a change. */
  readonly findingsDigest: string;
  readonly findings: number;
  /** Messages the handler sent to the dead-letter queue (expected: none). */
  readonly deadLettered: number;
  /** Records the handler reported as failed (expected: none). */
  readonly failed: number;
}

/**
 * Lower bounds on the calls caused by events, whatever the store did with them: a Query and a write
 * cannot share a call, and DynamoDB's only multi-item write with conditions is TransactWriteItems
 * (2 write units per item), so these bound any design at this SQS batching.
 */
export interface EventCallFloors {
  /** SQS batches in which the handler called DynamoDB for an event: at best one call each. */
  readonly batchesWithCalls: number;
  /** SQS batches that wrote a finding to the ledger: evidence any design must write, one call each at best. */
  readonly batchesWithFindings: number;
  /** Writes with a condition (first-seen, ledger puts, pending checks, versioned snapshots): one call each without transactions. */
  readonly conditionalWrites: number;
}

export interface RequestUnits {
  readonly read: number;
  readonly write: number;
  /** Write units by table; `findings byDayKeys` is the keys-only index's entries. */
  readonly writeByTable: Record<string, number>;
  readonly readPerEvent: number;
  readonly writePerEvent: number;
}

/** Operations billed as reads; every other data-plane call here is a write. */
const READ_OPERATIONS: ReadonlySet<string> = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
/** What DynamoDB charges for a write its condition refused (at least one write unit; items here are small). */
export const REFUSED_WRITE_UNITS = 1;

interface ConsumedCapacityShape {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
}

/** The consumed capacity of a response: one entry, or one per table (batch operations). */
function consumedCapacities(output: unknown): ConsumedCapacityShape[] {
  const consumed = (output as { ConsumedCapacity?: ConsumedCapacityShape | ConsumedCapacityShape[] } | undefined)?.ConsumedCapacity;
  if (consumed === undefined) return [];
  return Array.isArray(consumed) ? consumed : [consumed];
}

interface Message {
  readonly at: number;
  readonly useCase: string;
  /**
   * A PublishPackageVersion record: the claims artifact.hash-mismatch judges here (offline, the native
   * package version events make none: their asset listing is a look-up), for its queries per claim.
   */
  readonly claim: boolean;
  readonly record: SQSRecord;
}

const LIVENESS = 'heartbeat liveness';
const HASH_MISMATCH = 'artifact.hash-mismatch';

function historyEvents(options: Required<Pick<CloudPathOptions, 'days' | 'scale' | 'seed'>>): Array<{ envelope: EventBridgeEvent; event: PipelineEvent }> {
  const days = generateHistory({ startDate: '2026-10-01', days: options.days, seed: options.seed, scale: options.scale, attack: false });
  const events: Array<{ envelope: EventBridgeEvent; event: PipelineEvent; at: number; order: number }> = [];
  for (const day of days) {
    for (const file of [normaliseContent('cloudtrail.json', cloudTrailFileText(day)), normaliseContent('eventbridge.jsonl', eventBridgeFileText(day))]) {
      if (file.problems.length > 0) throw new Error(`generated history: ${file.problems.map((p) => p.reason).join('; ')}`);
      for (const envelope of file.events) {
        const event = toPipelineEvent(envelope);
        events.push({ envelope, event, at: Date.parse(event.time), order: events.length });
      }
    }
  }
  // The queue receives events roughly in the order they happen.
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  return events;
}

function sqsRecord(id: string, body: string, sentAt: number): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(sentAt), SenderId: 'events', ApproximateFirstReceiveTimestamp: String(sentAt) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:buildwatch-detect',
    awsRegion: 'eu-west-1',
  };
}

/** Lambda's batching: up to `size` messages, closed early when `windowMs` has passed since the batch's first message. */
export function sqsBatches<T extends { at: number }>(messages: readonly T[], size: number, windowMs: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  for (const message of messages) {
    const first = current[0];
    if (first && (current.length >= size || message.at - first.at > windowMs)) {
      batches.push(current);
      current = [];
    }
    current.push(message);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The use case named by a state item's partition key (`<useCase>#…`) or a finding's `useCase`. */
function useCaseOfItem(item: Record<string, unknown>, ids: ReadonlySet<string>): string {
  if (typeof item['useCase'] === 'string') return item['useCase'];
  const pk = typeof item['pk'] === 'string' ? item['pk'] : '';
  if (pk === LIVENESS_PARTITION) return LIVENESS;
  const id = pk.slice(0, pk.indexOf('#'));
  return ids.has(id) ? id : '(other)';
}

/** Items (or keys) a request carries, to attribute calls made outside an evaluation. */
function itemsOf(input: Record<string, unknown>): Record<string, unknown>[] {
  const requests = input['RequestItems'];
  if (requests && typeof requests === 'object') {
    return Object.values(requests as Record<string, unknown[]>).flatMap((entries) =>
      entries.map((entry) => {
        const e = entry as { PutRequest?: { Item: Record<string, unknown> }; DeleteRequest?: { Key: Record<string, unknown> } };
        return e.PutRequest?.Item ?? e.DeleteRequest?.Key ?? {};
      }),
    );
  }
  const one = (input['Item'] ?? input['Key']) as Record<string, unknown> | undefined;
  return one ? [one] : [];
}

export async function measureCloudPath(options: CloudPathOptions = {}): Promise<CloudPathResult> {
  // The handler's logger and metrics print a line per evaluation: silenced before they are loaded.
  await import('./quiet-handlers.js');
  const { handleBatch } = await import('../lambdas/handlers/detect.js');

  const days = options.days ?? 28;
  const scale = options.scale ?? 8;
  const steadyDays = options.steadyDays ?? 7;
  const batchSize = options.batchSize ?? DETECT_BATCH_SIZE;
  const windowMs = options.batchingWindowMs ?? DETECT_BATCHING_WINDOW.toMilliseconds();
  const config = loadConfig();

  const events = historyEvents({ days, scale, seed: options.seed ?? 7 });
  const lag = options.cloudTrailLagMs ?? 0;
  const messages: Message[] = [];
  for (const { envelope, event } of events) {
    for (const useCase of route(useCases, envelope)) {
      const id = useCase.metadata.id;
      const at = Date.parse(event.time) + (event.cloudTrail ? lag : 0);
      messages.push({ at, useCase: id, claim: event.cloudTrail?.eventName === 'PublishPackageVersion', record: sqsRecord(`${envelope.id}#${id}`, JSON.stringify({ useCase: id, event: envelope }), at) });
    }
  }
  // In the order they reach the queue (stable: event order among equals).
  if (lag !== 0) messages.sort((a, b) => a.at - b.at);
  const batches = sqsBatches(messages, batchSize, windowMs);
  const lastAt = events.at(-1)?.event.time ?? '1970-01-01T00:00:00Z';
  const steadyFrom = Date.parse(`${lastAt.slice(0, 10)}T00:00:00Z`) - (steadyDays - 1) * 86_400_000;

  const server = await startEmbeddedDynamo();
  try {
    const client = new DynamoDBClient({ endpoint: server.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 });
    await ensureTables(client, { state: 'state', findings: 'findings' });

    // Who is being evaluated, so each call is charged to its use case.
    const current = new AsyncLocalStorage<string>();
    const ids = new Set(useCases.map((useCase) => useCase.metadata.id));
    let counting = false;
    const byUseCase = new Map<string, CallCount>();
    const byOperation = new Map<string, number>();
    const byUseCaseOperation = new Map<string, Map<string, number>>();
    let calls = 0;
    let steadyCalls = 0;
    let correlationQueries = 0;
    let ledgerCalls = 0;
    let conditionalWrites = 0;
    let batchesWithCalls = 0;
    let batchesWithFindings = 0;
    /** Whether the batch being handled has called DynamoDB for an event, and written a finding, yet. */
    let batchCalled = false;
    let batchWroteFinding = false;
    const units = { read: 0, write: 0 };
    const writeByTable = new Map<string, number>();
    const chargeWrite = (table: string, consumed: number): void => {
      units.write += consumed;
      writeByTable.set(table, (writeByTable.get(table) ?? 0) + consumed);
    };
    const charge = (id: string, share: number): void => {
      const entry = byUseCase.get(id) ?? { calls: 0, messages: 0 };
      entry.calls += share;
      byUseCase.set(id, entry);
    };
    const dayIndex = new KeysOnlyIndexWrites();
    /** The byDayKeys write units of a successful write to the findings table (PutItem, or BatchWriteItem's processed puts). */
    const findingsWritten = (input: Record<string, unknown>, output: unknown): number => {
      let indexUnits = 0;
      if (input['TableName'] === 'findings' && input['Item']) indexUnits += dayIndex.written(input['Item'] as Record<string, unknown>);
      const requests = (input['RequestItems'] as Record<string, Array<{ PutRequest?: { Item: Record<string, unknown> } }>> | undefined)?.['findings'];
      if (requests) {
        const unprocessed = (output as { UnprocessedItems?: Record<string, Array<{ PutRequest?: { Item: Record<string, unknown> } }>> } | undefined)?.UnprocessedItems?.['findings'] ?? [];
        const notWritten = new Set(unprocessed.map((request) => request.PutRequest?.Item['id']));
        for (const request of requests) {
          const item = request.PutRequest?.Item;
          if (item && !notWritten.has(item['id'])) indexUnits += dayIndex.written(item);
        }
      }
      return indexUnits;
    };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls += 1;
        if (counting) {
          steadyCalls += 1;
          const operation = context.commandName ?? 'unknown';
          if ((args.input as { TableName?: string }).TableName === 'findings') ledgerCalls += 1;
          byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1);
          const evaluating = current.getStore();
          if (evaluating === HASH_MISMATCH && operation === 'QueryCommand') correlationQueries += 1;
          const owners = evaluating ? [evaluating] : itemsOf(args.input as Record<string, unknown>).map((item) => useCaseOfItem(item, ids));
          if (owners.length === 0 || owners.some((owner) => owner !== LIVENESS)) {
            if (!batchCalled) batchesWithCalls += 1;
            batchCalled = true;
            if (typeof (args.input as { ConditionExpression?: unknown }).ConditionExpression === 'string') conditionalWrites += 1;
            if (!batchWroteFinding && !READ_OPERATIONS.has(operation) && (args.input as { TableName?: string }).TableName === 'findings') {
              batchesWithFindings += 1;
              batchWroteFinding = true;
            }
          }
          if (evaluating) {
            charge(evaluating, 1);
            const operations = byUseCaseOperation.get(evaluating) ?? new Map<string, number>();
            const label = `${operation.replace(/Command$/, '')} ${(args.input as { TableName?: string }).TableName ?? 'batch'}`;
            operations.set(label, (operations.get(label) ?? 0) + 1);
            byUseCaseOperation.set(evaluating, operations);
          }
          else {
            for (const owner of owners) charge(owner, 1 / owners.length);
            if (owners.length === 0) charge('(other)', 1);
          }
        }
        const operation = context.commandName ?? 'unknown';
        const isRead = READ_OPERATIONS.has(operation);
        if (!counting) {
          const result = await next(args);
          // The index entries of the history before steady state are not charged, but known.
          if (!isRead) findingsWritten(args.input as Record<string, unknown>, result.output);
          return result;
        }
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
        try {
          const result = await next(args);
          for (const { TableName: table, CapacityUnits: consumed = 0 } of consumedCapacities(result.output)) {
            if (isRead) units.read += consumed;
            else chargeWrite(table ?? 'unknown', consumed);
          }
          if (!isRead) {
            const indexUnits = findingsWritten(args.input as Record<string, unknown>, result.output);
            if (indexUnits > 0) chargeWrite('findings byDayKeys', indexUnits);
          }
          return result;
        } catch (error) {
          if ((error as { name?: string }).name === 'ConditionalCheckFailedException') chargeWrite((args.input as { TableName?: string }).TableName ?? 'unknown', REFUSED_WRITE_UNITS);
          throw error;
        }
      },
      { step: 'initialize', name: 'benchCallCounter' },
    );

    let now = new Date(0);
    const clock = (): Date => now;
    const doc = documentClient(client);
    const engine = new Engine({
      config,
      lookups: noLookups,
      state: new StateStore(doc, 'state'),
      findings: new FindingsStore(doc, 'findings', { amendableDay: amendableOnTheClock(clock) }),
      clock,
    });
    const evaluate = engine.evaluate.bind(engine);
    engine.evaluate = (useCase: UseCase, event: PipelineEvent): Promise<Outcome[]> => current.run(useCase.metadata.id, () => evaluate(useCase, event));

    // The dead-letter queue answers locally: nothing leaves the machine.
    let deadLettered = 0;
    const sqs = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    sqs.middlewareStack.add(
      () => async () => {
        deadLettered += 1;
        return { output: { MessageId: `dlq-${deadLettered}`, $metadata: {} }, response: {} };
      },
      { step: 'initialize', name: 'benchLocalDeadLetterQueue' },
    );
    // As the detect handler builds it: markers as often as the configured silence limit needs.
    const liveness = new LivenessRecorder(new LivenessStore(doc, 'state'), clock, { maxSilenceMinutes: configuredMaxSilenceMinutes(config) });
    const deps = { engine, sqs, deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-dead-letter', liveness };

    let failed = 0;
    const steady = { events: 0, messages: 0, batches: 0 };
    let claims = 0;
    for (const batch of batches) {
      const first = batch[0];
      const last = batch.at(-1);
      if (!first || !last) continue;
      // The batch is handled once its window closed: the wall clock then.
      now = new Date(Math.max(last.at, first.at + windowMs));
      counting = first.at >= steadyFrom;
      if (counting) {
        steady.batches += 1;
        steady.messages += batch.length;
        for (const message of batch) {
          const entry = byUseCase.get(message.useCase) ?? { calls: 0, messages: 0 };
          entry.messages += 1;
          byUseCase.set(message.useCase, entry);
          if (message.useCase === HASH_MISMATCH && message.claim) claims += 1;
        }
      }
      const event: SQSEvent = { Records: batch.map((message) => message.record) };
      batchCalled = false;
      batchWroteFinding = false;
      const response = await handleBatch(event, undefined, deps);
      failed += response.batchItemFailures.length;
    }
    counting = false;
    steady.events = events.filter(({ event }) => Date.parse(event.time) >= steadyFrom).length;

    const ledger: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: 'findings', ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        const { recordedAt: _wallClock, ...finding } = item;
        ledger.push(JSON.stringify(finding, Object.keys(finding).sort()));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    ledger.sort();

    const perEvent = (n: number): number => n / Math.max(1, steady.events);
    const livenessCalls = byUseCase.get(LIVENESS)?.calls ?? 0;
    return {
      events: events.length,
      messages: messages.length,
      batches: batches.length,
      steady: {
        ...steady,
        calls: steadyCalls,
        callsPerEvent: perEvent(steadyCalls),
        callsPerMessage: steadyCalls / Math.max(1, steady.messages),
        eventCalls: steadyCalls - livenessCalls,
        eventCallsPerEvent: perEvent(steadyCalls - livenessCalls),
        liveness: { calls: livenessCalls, days: steadyDays, callsPerDayPerContainer: livenessCalls / steadyDays, intervalMs: liveness.intervalMs },
        byUseCase: Object.fromEntries([...byUseCase].sort((a, b) => b[1].calls - a[1].calls).map(([id, count]) => [id, { ...count, perEvent: perEvent(count.calls) }])),
        byOperation: Object.fromEntries([...byOperation].sort((a, b) => b[1] - a[1])),
        byUseCaseOperation: Object.fromEntries([...byUseCaseOperation].map(([id, operations]) => [id, Object.fromEntries([...operations].sort((a, b) => b[1] - a[1]))])),
        correlationQueriesPerClaim: correlationQueries / Math.max(1, claims),
        requestUnits: { ...units, writeByTable: Object.fromEntries(writeByTable), readPerEvent: perEvent(units.read), writePerEvent: perEvent(units.write) },
        ledgerCalls,
        floors: { batchesWithCalls, batchesWithFindings, conditionalWrites },
      },
      calls,
      findingsDigest: createHash('sha256').update(ledger.join('\n')).digest('hex'),
      findings: ledger.length,
      deadLettered,
      failed,
    };
  } finally {
    await server.close();
  }
}

/** The lower bounds in words, per event (shared with the bench's goal 3). */
export function floorsLine(floors: EventCallFloors, events: number): string {
  const perEvent = (n: number): string => (n / Math.max(1, events)).toFixed(4);
  return (
    `lower bounds at this batching (${DETECT_BATCH_SIZE} messages or ${DETECT_BATCHING_WINDOW.toSeconds()} s): ${floors.batchesWithFindings} SQS batches wrote a finding = ${perEvent(floors.batchesWithFindings)} per event (the evidence itself, one call per such batch at best); ` +
    `${floors.batchesWithCalls} called DynamoDB for events = ${perEvent(floors.batchesWithCalls)} per event (every call of a batch merged into one); ` +
    `${floors.conditionalWrites} writes with a condition = ${perEvent(floors.conditionalWrites)} per event (a call each, or TransactWriteItems at 2 write units per item)`
  );
}

function printResult(result: CloudPathResult, options: CloudPathOptions): void {
  const { steady } = result;
  console.log(`cloud path: ${options.days ?? 28} days x scale ${options.scale ?? 8}: ${result.events} events, ${result.messages} SQS messages in ${result.batches} batches${options.cloudTrailLagMs ? `, CloudTrail events ${options.cloudTrailLagMs / 1000} s behind native ones` : ''}`);
  console.log(`steady state: last ${options.steadyDays ?? 7} days, ${steady.events} events, ${steady.messages} messages, ${steady.batches} batches`);
  console.log(`DynamoDB calls : ${steady.calls} = ${steady.callsPerEvent.toFixed(4)} per event (goal <= 0.05), ${steady.callsPerMessage.toFixed(4)} per message`);
  console.log(`  caused by events: ${steady.eventCalls} = ${steady.eventCallsPerEvent.toFixed(4)} per event`);
  console.log(`  fixed per time (heartbeat liveness markers, at most one write per marker every ${steady.liveness.intervalMs / 1000} s per container): ${steady.liveness.calls} calls in ${steady.liveness.days} days = ${steady.liveness.callsPerDayPerContainer.toFixed(1)} per day per container`);
  for (const [id, count] of Object.entries(steady.byUseCase)) {
    if (count.calls === 0) continue;
    const operations = Object.entries(steady.byUseCaseOperation[id] ?? {}).map(([label, n]) => `${label} ${n}`).join(', ');
    console.log(`    ${id.padEnd(34)} ${count.calls.toFixed(1).padStart(8)} calls for ${String(count.messages).padStart(5)} messages = ${count.perEvent.toFixed(4)} per event${operations ? ` (${operations})` : ''}`);
  }
  console.log(`  of which the findings ledger: ${steady.ledgerCalls} calls = ${(steady.ledgerCalls / Math.max(1, steady.events)).toFixed(4)} per event (one conditional put per finding)`);
  console.log(`  artifact.hash-mismatch: ${steady.correlationQueriesPerClaim.toFixed(2)} queries per claim`);
  console.log(`  request units: ${steady.requestUnits.write} write = ${steady.requestUnits.writePerEvent.toFixed(4)} per event, ${steady.requestUnits.read} read = ${steady.requestUnits.readPerEvent.toFixed(4)} per event; write units by table: ${Object.entries(steady.requestUnits.writeByTable).map(([table, n]) => `${table} ${n}`).join(', ')}`);
  console.log(`  ${floorsLine(steady.floors, steady.events)}`);
  console.log(`  by operation: ${Object.entries(steady.byOperation).map(([op, n]) => `${op.replace(/Command$/, '')} ${n}`).join(', ')}`);
  console.log(`findings: ${result.findings} (digest ${result.findingsDigest.slice(0, 16)}), dead-lettered ${result.deadLettered}, failed records ${result.failed}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const options: CloudPathOptions = {
    days: Number(process.env['BENCH_DAYS'] ?? 28),
    scale: Number(process.env['BENCH_SCALE'] ?? 8),
    cloudTrailLagMs: Number(process.env['BENCH_CLOUDTRAIL_LAG_S'] ?? 0) * 1000,
  };
  printResult(await measureCloudPath(options), options);
}
