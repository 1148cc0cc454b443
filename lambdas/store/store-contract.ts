/**
 * The store contract: what the engine, the handlers and the CLI use of the state store and the
 * findings ledger. Two implementations keep it: the DynamoDB stores (state-store.ts,
 * findings-store.ts; the cloud path) and the in-process store (memory/; replay and backfill, written
 * behind to a table). One conformance suite (test/store/conformance.test.ts) runs against both, so
 * they cannot drift apart.
 */
import type { Finding } from '../engine/model.js';
import type { PipelineEvent } from '../engine/pipeline-event.js';
import type { JsonObject, StoredCorrelationRecord } from '../engine/use-case.js';
import type { AmendOutcome, FindingAmendment, FindingsSink, PutOutcome } from './findings-store.js';
import type { ChangePosition, DedupWindow, PendingCheck, RepeatMark, SightingInput, SightingResult, Snapshot, StateChange } from './state-store.js';

/** DynamoDB requests a store made (real requests only), for the bench and the metrics. */
export interface CountsCalls {
  readonly calls: number;
}

/** First-seen baselines, drift snapshots and change logs, dedup windows, correlation records and checks. */
export interface StateStorage extends CountsCalls {
  /** Records a sighting; 'new' for the first one (or the first after forget-after, or its redelivery). */
  recordSighting(input: SightingInput): Promise<SightingResult>;
  /** When watching `scope` began: the earliest time ever passed. */
  scopeWatchedSince(useCase: string, scope: string, at: string): Promise<string>;
  /** Values of the scope not forgotten at `at`. */
  countValues(useCase: string, scope: string, at: string): Promise<number>;

  getSnapshot(useCase: string, key: string): Promise<Snapshot | undefined>;
  /** Optimistic: created when `expectedVersion` is undefined and none exists, else only at that version. */
  putSnapshot(useCase: string, key: string, snapshot: Snapshot, expectedVersion: number | undefined): Promise<boolean>;
  /** Moves the head to `to` only if it still sits at `from`. */
  advanceSnapshot(useCase: string, key: string, from: ChangePosition, to: { state: JsonObject; at: string; eventId: string }): Promise<boolean>;
  /** Idempotent: the same position rewrites the same item. */
  putStateChange(useCase: string, key: string, change: StateChange, keepDays: number): Promise<void>;
  /** The change at `position` (if recorded) and the newest change before it. */
  stateChangesAround(useCase: string, key: string, position: ChangePosition): Promise<{ own?: StateChange; prior?: StateChange }>;
  stateChangeAtOrBefore(useCase: string, key: string, at: string): Promise<StateChange | undefined>;
  /** Changes after `after` up to and including `upTo`, oldest first. */
  stateChangesBetween(useCase: string, key: string, after: ChangePosition, upTo: ChangePosition): Promise<StateChange[]>;

  /** The earliest event time the use case evaluated. */
  enabledSince(useCase: string, at: string): Promise<string>;

  getDedupWindow(useCase: string, key: string): Promise<DedupWindow | undefined>;
  putDedupWindow(useCase: string, key: string, window: Omit<DedupWindow, 'version'>, expectedVersion: number | undefined): Promise<boolean>;
  recordDedupWindow(useCase: string, key: string, window: Omit<DedupWindow, 'version'>): Promise<void>;
  dedupWindowsAround(useCase: string, key: string, at: string, windowMinutes: number): Promise<Array<Omit<DedupWindow, 'version'>>>;
  /**
   * Marks a repeat as belonging to the window whose first finding is `window.findingId`, once: the
   * first mark says `fresh`; a later one (a redelivery, a retried count) names the finding the first
   * mark chose (`into`; undefined for a mark written before marks named it).
   */
  markRepeat(useCase: string, key: string, repeatId: string, window: Pick<DedupWindow, 'findingId' | 'start' | 'windowMinutes'>): Promise<RepeatMark>;

  putCorrelationRecord(useCase: string, record: StoredCorrelationRecord, forgetAfterDays: number): Promise<void>;
  correlationRecordsWithKey(useCase: string, join: string, key: string, at: string): Promise<StoredCorrelationRecord[]>;
  correlationRecordsBetween(useCase: string, join: string, from: string, to: string, at: string): Promise<StoredCorrelationRecord[]>;
  /**
   * A redelivered claim leaves its check (open or settled) alone. `claimEvent`: the claim's parsed
   * event, which a store keeping its checks in process may keep with the check (claimEventOf).
   */
  putPendingCheck(useCase: string, check: PendingCheck, claimEvent?: PipelineEvent): Promise<void>;
  /** With `keys`: only the checks that want one of them, or did not say what they want. */
  openPendingChecks(useCase: string, range?: { join: string; from: string; to: string; keys?: readonly string[] }): Promise<PendingCheck[]>;
  /** False when it was settled already. */
  settlePendingCheck(useCase: string, check: PendingCheck, at: string): Promise<boolean>;
  /**
   * The claim's parsed event kept with an open check, if this store keeps its checks in process
   * (then they never leave it): a re-judgement uses it instead of parsing the stored copy again.
   * Undefined otherwise (the DynamoDB store, a check read from a table): `check.event` is parsed.
   */
  claimEventOf?(useCase: string, check: PendingCheck): PipelineEvent | undefined;
}

/** The findings ledger: one item per finding id, amendable (repeat counts) while its day is not sealed. */
export interface FindingsLedger extends FindingsSink, CountsCalls {
  put(finding: Finding): Promise<PutOutcome>;
  get(id: string, consistent?: boolean): Promise<Finding | undefined>;
  amend(id: string, change: (stored: Finding) => FindingAmendment): Promise<AmendOutcome>;
  /** The findings of one day (yyyy-mm-dd) in event-time order. */
  byDay(day: string): AsyncIterable<Finding>;
}

/** A store that keeps changes in memory and writes them to a table later (write-behind). */
export interface Flushable {
  /** Writes every change made since the last flush; resolves once the table holds them. */
  flush(): Promise<void>;
}
