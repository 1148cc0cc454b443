/**
 * Daily seals. A seal signs, for one UTC day of the findings ledger: the record count, the Merkle
 * root over the (id, contentHash) of every record of that day, and a link (digest) to the previous
 * day's seal, so deleting a whole day together with its seal still breaks the chain. The sealed
 * leaves themselves are stored (chunked) next to the seal, so verify can name what changed.
 */
import { canonicalJson, contentHashOf } from '../engine/canonical.js';
import { addDays, dayEnd, daysBetween, dayOf } from './days.js';
import { MERKLE_LEAF, MERKLE_TREE, merkleRoot, sortLeaves, type Leaf } from './merkle.js';
import type { SealStore, StoredSeal } from './seal-store.js';
import { SIGNING_ALGORITHM, sha256Hex, type Signer, type SignerKind } from './signer.js';

export const SEAL_TYPE = 'buildwatch.ledger.day-seal' as const;

/** What is signed (as canonical JSON). Changing a field is a new `version`. */
export interface SealPayload {
  readonly type: typeof SEAL_TYPE;
  readonly version: 1;
  readonly day: string;
  readonly count: number;
  readonly merkleRoot: string;
  readonly tree: typeof MERKLE_TREE;
  readonly leaf: typeof MERKLE_LEAF;
  /** The seal of the day before, when it existed at sealing time (null for the first sealed day). */
  readonly previous: { readonly day: string; readonly digest: string } | null;
  readonly signer: { readonly kind: SignerKind; readonly keyId: string };
  readonly algorithm: typeof SIGNING_ALGORITHM;
  readonly sealedAt: string;
}

/** Reads a day of the ledger, items exactly as stored (FindingsStore fits). */
export interface LedgerDayReader {
  byDay(day: string): AsyncIterable<unknown>;
}

export interface SealDeps {
  readonly findings: LedgerDayReader;
  readonly seals: SealStore;
  readonly signer: Signer;
  readonly clock?: () => Date;
}

export interface SealOutcome {
  readonly day: string;
  readonly status: 'sealed' | 'already-sealed';
  readonly count: number;
  readonly merkleRoot: string;
  readonly digest: string;
  /** Records whose stored contentHash did not match their content when sealed (sealed as found). */
  readonly mismatched: readonly string[];
}

/** The leaf of a stored record: its id and the hash of its content as it is now. */
export function leafOf(item: unknown): { leaf: Leaf; storedHash: unknown } {
  const record = item as Record<string, unknown>;
  const id = record['id'];
  if (typeof id !== 'string') throw new Error(`a ledger item has no string id: ${JSON.stringify(record).slice(0, 200)}`);
  return { leaf: { id, contentHash: contentHashOf(record) }, storedHash: record['contentHash'] };
}

export function parsePayload(payload: string): SealPayload {
  return JSON.parse(payload) as SealPayload;
}

/** Seals one day, unless it is sealed already (a seal is never replaced). */
export async function sealDay(day: string, deps: SealDeps): Promise<SealOutcome> {
  const existing = await deps.seals.get(day);
  if (existing) return { day, status: 'already-sealed', count: existing.count, merkleRoot: existing.merkleRoot, digest: existing.digest, mismatched: [] };

  const leaves: Leaf[] = [];
  const mismatched: string[] = [];
  for await (const item of deps.findings.byDay(day)) {
    const { leaf, storedHash } = leafOf(item);
    // Sealed as found: the mismatch stays visible to verify (content vs its contentHash attribute).
    if (storedHash !== leaf.contentHash) mismatched.push(leaf.id);
    leaves.push(leaf);
  }
  const sorted = sortLeaves(leaves);
  const before = await deps.seals.get(addDays(day, -1));
  const payload: SealPayload = {
    type: SEAL_TYPE,
    version: 1,
    day,
    count: sorted.length,
    merkleRoot: merkleRoot(sorted),
    tree: MERKLE_TREE,
    leaf: MERKLE_LEAF,
    previous: before ? { day: before.day, digest: sha256Hex(before.payload) } : null,
    signer: { kind: deps.signer.kind, keyId: deps.signer.keyId },
    algorithm: SIGNING_ALGORITHM,
    sealedAt: (deps.clock?.() ?? new Date()).toISOString(),
  };
  const text = canonicalJson(payload);
  const signature = await deps.signer.sign(Buffer.from(text, 'utf8'));
  const seal: StoredSeal = {
    day,
    payload: text,
    signature: Buffer.from(signature).toString('base64'),
    digest: sha256Hex(text),
    count: payload.count,
    merkleRoot: payload.merkleRoot,
    keyId: payload.signer.keyId,
    signerKind: payload.signer.kind,
    sealedAt: payload.sealedAt,
    leafChunks: 0,
  };
  const outcome = await deps.seals.put(seal, sorted);
  if (outcome === 'exists') {
    const winner = await deps.seals.get(day);
    return { day, status: 'already-sealed', count: winner?.count ?? 0, merkleRoot: winner?.merkleRoot ?? '', digest: winner?.digest ?? '', mismatched: [] };
  }
  return { day, status: 'sealed', count: payload.count, merkleRoot: payload.merkleRoot, digest: seal.digest, mismatched };
}

/** Seals the days in order (oldest first, so each links to the one before). */
export async function sealDays(days: Iterable<string>, deps: SealDeps, onDay?: (outcome: SealOutcome) => void): Promise<SealOutcome[]> {
  const outcomes: SealOutcome[] = [];
  for (const day of [...days].sort()) {
    const outcome = await sealDay(day, deps);
    onDay?.(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

/**
 * Findings arrive late: EventBridge retries delivery for up to 24 h and the detect queue retries
 * after that. A day is sealed once it has been over for SETTLE_HOURS, so late findings are in it;
 * one arriving later still is reported by verify as inserted after sealing.
 */
export const SETTLE_HOURS = 26;

/** The newest day that has settled at `now`. */
export function lastSettledDay(now: Date, settleHours = SETTLE_HOURS): string {
  let day = dayOf(now);
  while (dayEnd(day).getTime() + settleHours * 3_600_000 > now.getTime()) day = addDays(day, -1);
  return day;
}

/**
 * What the scheduled run seals: every settled day after the newest sealed one (empty days too, so
 * the chain has no gaps), at most `maxDays` per run (the next run continues). With no seal yet, the
 * chain starts at the newest settled day; older days are sealed on request (a `{from, to}` event).
 */
export function daysToSeal(lastSealed: string | undefined, now: Date, options: { settleHours?: number; maxDays?: number } = {}): string[] {
  const last = lastSettledDay(now, options.settleHours);
  const from = lastSealed ? addDays(lastSealed, 1) : last;
  return [...daysBetween(from, last)].slice(0, options.maxDays ?? 62);
}
