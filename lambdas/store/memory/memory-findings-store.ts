/**
 * The findings ledger in process memory, for replay: the FindingsStore's contract and items (fitted
 * findings under their id), written behind to the findings table with BatchWriteItem. Against a
 * table that may hold findings already, a finding id is read once (GetItem) before it is first
 * written or amended, and a day once (by-day index, then the items not held) before it is listed.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { contentHashOf } from '../../engine/canonical.js';
import type { Finding } from '../../engine/model.js';
import { amendableOnTheClock, fitFinding, type AmendOutcome, type FindingAmendment, type FindingsStoreOptions, type PutOutcome } from '../findings-store.js';
import { byTimeThenId, dayIdPages, findingsByIds } from '../day-index.js';
import { FINDINGS_TABLE } from '../schema.js';
import type { FindingsLedger, Flushable } from '../store-contract.js';
import { storedCopy } from './stored-copy.js';
import { batchPut, type Sleep, type WriteBehindTarget } from './write-behind.js';

export class MemoryFindingsStore implements FindingsLedger, Flushable {
  /** DynamoDB requests made: read-throughs and flushes. */
  calls = 0;
  private readonly findings = new Map<string, Finding>();
  /** Ids looked up in the target (found or not): never asked again. */
  private readonly readThrough = new Set<string>();
  private readonly daysRead = new Set<string>();
  private readonly dirty = new Map<string, Finding>();
  private readonly amendableDay: (day: string) => boolean | Promise<boolean>;

  constructor(
    private readonly target?: WriteBehindTarget,
    options: FindingsStoreOptions & { pause?: Sleep } = {},
  ) {
    this.amendableDay = options.amendableDay ?? amendableOnTheClock();
    this.pause = options.pause;
  }

  private readonly pause: Sleep | undefined;

  private async held(id: string): Promise<Finding | undefined> {
    const known = this.findings.get(id);
    if (known || !this.target || this.target.empty || this.readThrough.has(id)) return known;
    this.calls += 1;
    const { Item } = await this.target.doc.send(new GetCommand({ TableName: this.target.tableName, Key: { [FINDINGS_TABLE.partitionKey]: id }, ConsistentRead: true }));
    this.readThrough.add(id);
    // Written meanwhile (another put of this id awaited the same read): the newer one stays.
    const now = this.findings.get(id);
    if (now) return now;
    if (!Item) return undefined;
    const stored = storedCopy(Item as Finding);
    this.findings.set(id, stored);
    return stored;
  }

  private keep(finding: Finding): void {
    const stored = storedCopy(finding);
    this.findings.set(stored.id, stored);
    if (this.target) this.dirty.set(stored.id, stored);
  }

  /** Whether `held` can answer from memory alone (no read through to the target). */
  private answersFromMemory(id: string): boolean {
    return this.findings.has(id) || !this.target || this.target.empty || this.readThrough.has(id);
  }

  async put(finding: Finding): Promise<PutOutcome> {
    const held = this.answersFromMemory(finding.id) ? this.findings.get(finding.id) : await this.held(finding.id);
    if (held) return 'duplicate';
    this.keep(fitFinding(finding));
    return 'created';
  }

  async get(id: string): Promise<Finding | undefined> {
    return this.held(id);
  }

  async amend(id: string, change: (stored: Finding) => FindingAmendment): Promise<AmendOutcome> {
    const stored = await this.held(id);
    if (!stored) return 'missing';
    if (!(await this.amendableDay(stored.day))) return 'sealed';
    const { contentHash: _previous, ...content } = stored;
    const amendment = change(stored);
    if (Object.keys(amendment).length === 0) return 'amended';
    const next = { ...content, ...amendment };
    this.keep({ ...next, contentHash: contentHashOf(next) });
    return 'amended';
  }

  async *byDay(day: string): AsyncGenerator<Finding> {
    if (this.target && !this.target.empty && !this.daysRead.has(day)) {
      const { doc, tableName } = this.target;
      const options = { onRequest: () => void (this.calls += 1), ...(this.pause ? { pause: this.pause } : {}) };
      for await (const ids of dayIdPages(doc, tableName, day, options)) {
        // Only what memory does not hold is read; what it holds is as new as the table's, or newer.
        const unheld = ids.filter((id) => !this.findings.has(id));
        for (const item of await findingsByIds(doc, tableName, unheld, options)) {
          if (!this.findings.has(item.id)) this.findings.set(item.id, storedCopy(item));
        }
        for (const id of ids) this.readThrough.add(id);
      }
      this.daysRead.add(day);
    }
    const ofDay = [...this.findings.values()].filter((finding) => finding.day === day);
    // The index's order: by eventTime (its sort key), ties by id.
    ofDay.sort(byTimeThenId);
    yield* ofDay;
  }

  /** Writes every finding created or amended since the last flush. */
  async flush(): Promise<void> {
    if (!this.target || this.dirty.size === 0) return;
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    try {
      this.calls += await batchPut(this.target, batch, this.pause);
    } catch (error) {
      for (const finding of batch) if (!this.dirty.has(finding.id)) this.dirty.set(finding.id, finding);
      throw error;
    }
  }
}
