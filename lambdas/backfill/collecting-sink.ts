/**
 * The findings sink of a backfill: the engine runs exactly as in replay and writes state for real,
 * but findings go here instead of the ledger, so history never raises alerts. The would-be findings
 * are tallied per use case (counts by mode and severity, the commonest dedup keys, principals and
 * resources): that is the what-if (backtest) report. The tallies are plain JSON, so a resumable
 * backfill keeps them in its checkpoint.
 */
import type { Finding, Severity } from '../engine/model.js';
import { principalFromArn } from '../engine/principal.js';
import type { AmendOutcome, FindingsSink, PutOutcome } from '../store/findings-store.js';

/** Distinct keys counted per dimension before the rest are lumped together (memory bound). */
export const MAX_DISTINCT_KEYS = 5_000;
/** Finding ids remembered to recognise repeats (one incident seen in many events). */
const MAX_REMEMBERED_IDS = 500_000;
export const OTHER_KEY = '(other)';

export interface UseCaseTally {
  alerts: number;
  attestations: number;
  bySeverity: Partial<Record<Severity, number>>;
  dedupKeys: Record<string, number>;
  principals: Record<string, number>;
  resources: Record<string, number>;
  firstEventTime?: string;
  lastEventTime?: string;
  /** Findings raised by the current-state step: the live state differs from the history's last known state. */
  fromCurrentState: number;
  /** Repeats folded into an earlier finding by a dedup window (not counted as alerts or attestations). */
  deduplicated?: number;
}

export interface Tallies {
  byUseCase: Record<string, UseCaseTally>;
  repeats: number;
}

/** Event ids the current-state step gives its synthetic events start with this. */
export const CURRENT_STATE_EVENT_PREFIX = 'buildwatch-backfill-current-state:';

export function emptyTallies(): Tallies {
  return { byUseCase: {}, repeats: 0 };
}

/** Distinct keys per counts object, so a bump stays O(1) (the objects themselves stay plain JSON). */
const sizes = new WeakMap<Record<string, number>, number>();

function bump(counts: Record<string, number>, raw: string | undefined): void {
  if (raw === undefined || raw === '') return;
  // Keys come from events: one that names the prototype must stay a plain counter.
  const key = raw === '__proto__' ? '(__proto__)' : raw;
  if (Object.hasOwn(counts, key)) {
    counts[key] = (counts[key] ?? 0) + 1;
    return;
  }
  const size = sizes.get(counts) ?? Object.keys(counts).length;
  const slot = size < MAX_DISTINCT_KEYS ? key : OTHER_KEY;
  if (!Object.hasOwn(counts, slot)) sizes.set(counts, size + 1);
  counts[slot] = (counts[slot] ?? 0) + 1;
}

export class CollectingSink implements FindingsSink {
  readonly tallies: Tallies;
  /** Finding id → its use case, to recognise repeats and tally dedup-window repeats. */
  private readonly seen = new Map<string, string>();

  constructor(initial: Tallies = emptyTallies()) {
    this.tallies = structuredClone(initial);
  }

  async put(finding: Finding): Promise<PutOutcome> {
    if (this.seen.has(finding.id)) {
      this.tallies.repeats += 1;
      return 'duplicate';
    }
    if (this.seen.size >= MAX_REMEMBERED_IDS) this.seen.clear();
    this.seen.set(finding.id, finding.useCase);
    const tally = (this.tallies.byUseCase[finding.useCase] ??= {
      alerts: 0,
      attestations: 0,
      bySeverity: {},
      dedupKeys: {},
      principals: {},
      resources: {},
      fromCurrentState: 0,
    });
    if (finding.mode === 'alert') tally.alerts += 1;
    else tally.attestations += 1;
    tally.bySeverity[finding.severity] = (tally.bySeverity[finding.severity] ?? 0) + 1;
    bump(tally.dedupKeys, finding.dedupKey);
    // A finding names the full session; the report counts principals as baselines do (CI sessions collapse to the role).
    bump(tally.principals, principalFromArn(finding.principal).key);
    bump(tally.resources, finding.resource);
    if (finding.eventId.startsWith(CURRENT_STATE_EVENT_PREFIX)) tally.fromCurrentState += 1;
    if (!tally.firstEventTime || finding.eventTime < tally.firstEventTime) tally.firstEventTime = finding.eventTime;
    if (!tally.lastEventTime || finding.eventTime > tally.lastEventTime) tally.lastEventTime = finding.eventTime;
    return 'created';
  }

  /** A repeat within a dedup window of a finding collected in this run: counted, nothing else. */
  async amend(id: string): Promise<AmendOutcome> {
    const useCase = this.seen.get(id);
    if (!useCase) return 'missing';
    const tally = this.tallies.byUseCase[useCase];
    if (tally) tally.deduplicated = (tally.deduplicated ?? 0) + 1;
    return 'amended';
  }

  totals(): { alerts: number; attestations: number } {
    let alerts = 0;
    let attestations = 0;
    for (const tally of Object.values(this.tallies.byUseCase)) {
      alerts += tally.alerts;
      attestations += tally.attestations;
    }
    return { alerts, attestations };
  }
}

/** The `n` commonest keys, ties broken by key so the report is stable. */
export function topEntries(counts: Readonly<Record<string, number>>, n: number): Array<{ key: string; count: number }> {
  return Object.entries(counts)
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, n);
}
