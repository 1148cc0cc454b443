/**
 * The findings ledger: one item per finding, written with a conditional put on its deterministic id,
 * so a second delivery of the same event is a no-op. Read by day through the by-day index (seal, verify, export).
 * The one change a finding ever gets is its repeat count (dedup windows), and only while its day
 * cannot have been sealed yet; the content hash is recomputed with it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fitItem, fitsItem } from '../engine/bounds.js';
import { contentHashOf } from '../engine/canonical.js';
import type { Finding } from '../engine/model.js';
import { dayEnd } from '../ledger/days.js';
import { findingsOfDay } from './day-index.js';
import { FINDINGS_TABLE } from './schema.js';
import type { FindingsLedger } from './store-contract.js';

export type PutOutcome = 'created' | 'duplicate';

/** amended: changed (content hash recomputed); missing: no such finding; sealed: its day may be sealed, left alone. */
export type AmendOutcome = 'amended' | 'missing' | 'sealed';

/** The fields an amendment may change; empty: nothing to change (the repeat was counted already), nothing is written. */
export type FindingAmendment = Pick<Finding, 'occurrences' | 'lastSeen' | 'repeatIds'>;

/** Where the engine writes findings: the ledger, or a collector for what-if runs and backfills. */
export interface FindingsSink {
  put(finding: Finding): Promise<PutOutcome>;
  /** Updates a stored finding's repeat count; sinks without it give every repeat its own finding. */
  amend?(id: string, change: (stored: Finding) => FindingAmendment): Promise<AmendOutcome>;
}

/**
 * Hours after its day ends during which a finding may still be amended. The seal Lambda seals a day
 * once it has been over for 26 hours (SETTLE_HOURS in lambdas/ledger/seal.ts) and runs at 03:00 UTC;
 * two hours' margin keeps an amendment from racing the seal.
 */
export const AMENDABLE_HOURS = 24;

/** The cloud's rule: a day is amendable until AMENDABLE_HOURS after it ends, on the wall clock. */
export function amendableOnTheClock(clock: () => Date = () => new Date()): (day: string) => boolean {
  return (day) => clock().getTime() < dayEnd(day).getTime() + AMENDABLE_HOURS * 3_600_000;
}

export interface FindingsStoreOptions {
  /**
   * Whether the findings of a day may still change (their day cannot be sealed yet).
   * @default amendableOnTheClock(): the wall clock against the seal schedule
   */
  readonly amendableDay?: (day: string) => boolean | Promise<boolean>;
}

export class FindingsStore implements FindingsLedger {
  /** DynamoDB requests made, for the benchmark's calls-per-event figure. */
  calls = 0;

  private readonly amendableDay: (day: string) => boolean | Promise<boolean>;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: FindingsStoreOptions = {},
  ) {
    this.amendableDay = options.amendableDay ?? amendableOnTheClock();
  }

  async put(finding: Finding): Promise<PutOutcome> {
    try {
      this.calls += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: fitFinding(finding),
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': FINDINGS_TABLE.partitionKey },
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }

  async get(id: string, consistent = false): Promise<Finding | undefined> {
    this.calls += 1;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [FINDINGS_TABLE.partitionKey]: id }, ...(consistent ? { ConsistentRead: true } : {}) }),
    );
    return Item as Finding | undefined;
  }

  /**
   * Read, change, write back with a new content hash, on the condition that nobody changed it in
   * between (its old content hash): GetItem and PutItem only, as the detector is allowed.
   */
  async amend(id: string, change: (stored: Finding) => FindingAmendment): Promise<AmendOutcome> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const stored = await this.get(id, true);
      if (!stored) return 'missing';
      if (!(await this.amendableDay(stored.day))) return 'sealed';
      const { contentHash: previousHash, ...content } = stored;
      const amendment = change(stored);
      if (Object.keys(amendment).length === 0) return 'amended';
      const next = { ...content, ...amendment };
      const finding: Finding = { ...next, contentHash: contentHashOf(next) };
      try {
        this.calls += 1;
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...finding },
            ConditionExpression: 'attribute_exists(#id) AND contentHash = :previous',
            ExpressionAttributeNames: { '#id': FINDINGS_TABLE.partitionKey },
            ExpressionAttributeValues: { ':previous': previousHash },
          }),
        );
        return 'amended';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another repeat was counted in between: read again.
      }
    }
    throw new Error(`finding ${id} kept changing under concurrent repeats`);
  }

  /** The findings of one day (yyyy-mm-dd) in event-time order, each at its latest version (day-index.ts). */
  async *byDay(day: string): AsyncGenerator<Finding> {
    yield* findingsOfDay(this.doc, this.tableName, day, { onRequest: () => void (this.calls += 1) });
  }
}

/**
 * The engine bounds every field, so this is the last guard: a finding too large for DynamoDB is
 * stored cut down (keys and verdict kept, content hash recomputed) rather than lost.
 */
export function fitFinding(finding: Finding): Finding {
  // Without its hash it is smaller still: a finding that fits whole is kept as it is, uncopied.
  if (fitsItem(finding)) return finding;
  const { contentHash, ...content } = finding;
  const fitted = fitItem(content, ['id', 'useCase', 'answers', 'stage', 'severity', 'mode', 'eventId', 'eventTime', 'day', 'recordedAt']);
  return fitted === content ? finding : { ...fitted, contentHash: contentHashOf(fitted) };
}
