/**
 * Verifies the ledger against its seals, day by day: each seal's signature (public key only), its
 * Merkle root over the sealed leaves, its link to the previous day's seal, and every record of the
 * day against its own contentHash and against the sealed leaves. It names records modified,
 * inserted or deleted after sealing, and records whose content no longer matches their hash.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../engine/canonical.js';
import { dayEnd, daysBetween } from './days.js';
import { merkleRoot, type Leaf } from './merkle.js';
import { leafOf, parsePayload, SEAL_TYPE, type LedgerDayReader, type SealPayload } from './seal.js';
import type { SealStore, StoredSeal } from './seal-store.js';
import { sha256Hex, verifySignature, type PublicKeyResolver } from './signer.js';

export const PROBLEM_KINDS = {
  modified: 'a sealed record was changed after sealing',
  inserted: 'a record appeared in a sealed day after sealing',
  deleted: 'a sealed record is gone',
  'hash-mismatch': "a record's content does not match its contentHash",
  'bad-signature': "the seal's signature does not verify with the public key",
  'bad-seal': 'the seal is malformed or its stored leaves do not match what was signed',
  'seal-missing': "a seal the next day's seal links to is gone",
  'seal-replaced': "a seal differs from the one the next day's seal links to",
  unsealed: 'a day that should be sealed by now has records but no seal',
  'untrusted-key': 'the seal was signed by a key other than the expected one',
  unverifiable: "the seal's public key could not be obtained",
  'no-seals': 'the ledger has no seals',
  truncated: 'the newest seals are gone: the chain ends before the head published earlier (or before the daily schedule)',
  'unpinned-key': 'no key was pinned: a chain re-signed with any other key would pass',
  unindexed: "a record has no day, or not its event time's: the by-day reads miss it, so no seal or export covers it",
} as const;
export type ProblemKind = keyof typeof PROBLEM_KINDS;

export interface Problem {
  readonly day: string;
  /** The record concerned; absent for problems of a seal or a day. */
  readonly id?: string;
  readonly kind: ProblemKind;
  readonly detail: string;
}

export interface VerifyReport {
  readonly from: string;
  readonly to: string;
  days: number;
  sealedDays: number;
  records: number;
  /** Days with records and no seal that are not due yet (not a problem). */
  readonly pendingDays: string[];
  /** The newest seal in the range: an auditor can note its digest and check it is still there next time. */
  head?: { day: string; digest: string };
  readonly keys: string[];
  readonly problems: Problem[];
}

export interface VerifyOptions {
  readonly from: string;
  readonly to: string;
  readonly findings: LedgerDayReader & { get(id: string): Promise<unknown> };
  readonly seals: SealStore;
  readonly keys: PublicKeyResolver;
  /** When set, seals signed by any other key id are reported (untrusted-key). */
  readonly expectedKeyId?: string;
  /**
   * The chain head published when it was sealed (the seal Lambda's `ledger head` log line, or the
   * local head file): its seal must still be there, with that digest, or the chain was truncated.
   */
  readonly expectedHead?: ChainHead;
  /**
   * The newest day the sealing schedule must have sealed by now (the seal Lambda seals every
   * settled day, empty ones too): a chain ending earlier was truncated.
   */
  readonly sealedThrough?: string;
  /** Every record of the table (id, day and eventTime suffice): finds those the by-day index misses. */
  readonly everyRecord?: () => AsyncIterable<unknown>;
  /** Where no scan is allowed: item counts of the table and its by-day index (approximate, ~6 h old). */
  readonly indexCounts?: () => Promise<{ tableItems: number; indexItems: number }>;
  readonly now?: Date;
  /** A day with records and no seal is a problem once it ended this long ago (default 48 h: the seal Lambda runs daily after a 26 h settle). */
  readonly sealDueHours?: number;
  readonly onProblem?: (problem: Problem) => void;
  readonly onDay?: (day: string, index: number, total: number) => void;
}

export const SEAL_DUE_HOURS = 48;

/** The newest seal of a chain, as published when it was made: `DAY:DIGEST` on the command line. */
export interface ChainHead {
  readonly day: string;
  readonly digest: string;
}

export function parseChainHead(text: string): ChainHead {
  const match = /^(\d{4}-\d{2}-\d{2}):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) throw new Error(`a chain head is DAY:DIGEST (YYYY-MM-DD:64 hex digits), got ${JSON.stringify(text.slice(0, 100))}`);
  return { day: match[1]!, digest: match[2]! };
}

export function formatChainHead(head: ChainHead): string {
  return `${head.day}:${head.digest}`;
}

export async function verifyLedger(options: VerifyOptions): Promise<VerifyReport> {
  const { from, to } = options;
  const now = options.now ?? new Date();
  const dueMs = (options.sealDueHours ?? SEAL_DUE_HOURS) * 3_600_000;
  const report: VerifyReport = { from, to, days: 0, sealedDays: 0, records: 0, pendingDays: [], keys: [], problems: [] };
  const problem = (p: Problem): void => {
    report.problems.push(p);
    options.onProblem?.(p);
  };

  // Headers are small (one per day): read the range's at once, in day order.
  const headers = new Map<string, StoredSeal>();
  for await (const seal of options.seals.range(from, to)) headers.set(seal.day, seal);

  const days = [...daysBetween(from, to)];
  for (const [index, day] of days.entries()) {
    options.onDay?.(day, index, days.length);
    report.days += 1;
    const seal = headers.get(day);
    if (seal) {
      report.sealedDays += 1;
      report.head = { day, digest: sha256Hex(seal.payload) };
      await verifySealedDay(day, seal, options, report, problem);
    } else {
      const count = await checkUnsealedDay(day, options.findings, report, problem);
      if (count > 0) {
        if (dayEnd(day).getTime() + dueMs <= now.getTime()) {
          problem({ day, kind: 'unsealed', detail: `${count} record(s) and no seal: their only protection is their own contentHash` });
        } else {
          report.pendingDays.push(day);
        }
      }
    }
  }
  await checkHead(options, problem);
  if (options.everyRecord) await checkUnindexed(options.everyRecord, problem);
  else if (options.indexCounts) {
    const { tableItems, indexItems } = await options.indexCounts();
    if (tableItems > indexItems) {
      problem({
        day: options.to,
        kind: 'unindexed',
        detail: `the findings table holds ${tableItems} items and its by-day index ${indexItems} (DynamoDB's counts, refreshed about every 6 h): ${tableItems - indexItems} record(s) have no day; a Scan for attribute_not_exists(day) names them`,
      });
    }
  }
  return report;
}

/** Truncation: deleting the newest seals with their records leaves a consistent, shorter chain. */
async function checkHead(options: VerifyOptions, problem: (p: Problem) => void): Promise<void> {
  const newest = await options.seals.edge('last');
  const head = options.expectedHead;
  if (head) {
    const seal = await options.seals.get(head.day);
    if (!seal) {
      problem({ day: head.day, kind: 'truncated', detail: `the published chain head ${formatChainHead(head)} is gone; the chain now ends at ${newest?.day ?? '(no seal)'}` });
    } else if (sha256Hex(seal.payload) !== head.digest) {
      problem({ day: head.day, kind: 'seal-replaced', detail: `the seal of ${head.day} is not the published chain head (digest ${sha256Hex(seal.payload)}, published ${head.digest})` });
    }
  }
  if (options.sealedThrough && (!newest || newest.day < options.sealedThrough)) {
    problem({
      day: options.sealedThrough,
      kind: 'truncated',
      detail: `the chain ends at ${newest?.day ?? '(no seal)'}, but the daily seal run seals every settled day (empty ones too) through ${options.sealedThrough}: newer seals were deleted, or sealing stopped`,
    });
  }
}

/**
 * Records the by-day reads cannot see: no `day`, a `day` that is not a day, or a `day` other than
 * their event time's (moved to a day nobody verifies). Each is a record seals and exports miss.
 */
async function checkUnindexed(everyRecord: () => AsyncIterable<unknown>, problem: (p: Problem) => void): Promise<void> {
  for await (const item of everyRecord()) {
    const record = item as Record<string, unknown>;
    const day = record['day'];
    const time = typeof record['eventTime'] === 'string' ? record['eventTime'] : '';
    const timeDay = /^\d{4}-\d{2}-\d{2}T/.test(time) ? time.slice(0, 10) : undefined;
    if (typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day) && day === timeDay) continue;
    const id = typeof record['id'] === 'string' ? record['id'] : `(id ${JSON.stringify(record['id'] ?? null).slice(0, 60)})`;
    const what = day === undefined ? 'has no day' : `has day ${JSON.stringify(day).slice(0, 40)}`;
    problem({ day: timeDay ?? '-', id, kind: 'unindexed', detail: `${what} and eventTime ${JSON.stringify(time.slice(0, 40))}: no seal, export or by-day check of its day sees it` });
  }
}

async function checkUnsealedDay(day: string, findings: LedgerDayReader, report: VerifyReport, problem: (p: Problem) => void): Promise<number> {
  let count = 0;
  for await (const item of findings.byDay(day)) {
    count += 1;
    report.records += 1;
    const { leaf, storedHash } = leafOf(item);
    if (storedHash !== leaf.contentHash) problem({ day, id: leaf.id, kind: 'hash-mismatch', detail: 'content does not match its contentHash (edited, day not sealed)' });
  }
  return count;
}

/** Checks the seal itself; the sealed leaves when the seal can be trusted, else undefined. */
async function trustedLeaves(day: string, seal: StoredSeal, options: VerifyOptions, report: VerifyReport, problem: (p: Problem) => void): Promise<{ payload: SealPayload; leaves: Leaf[] } | undefined> {
  let payload: SealPayload;
  try {
    payload = parsePayload(seal.payload);
  } catch {
    problem({ day, kind: 'bad-seal', detail: 'the signed payload is not JSON' });
    return undefined;
  }
  if (payload.type !== SEAL_TYPE || payload.version !== 1 || canonicalJson(payload) !== seal.payload) {
    problem({ day, kind: 'bad-seal', detail: `unknown or non-canonical seal payload (type ${String(payload.type)}, version ${String(payload.version)})` });
    return undefined;
  }
  const keyId = payload.signer?.keyId;
  if (!report.keys.includes(keyId)) report.keys.push(keyId);
  if (options.expectedKeyId && keyId !== options.expectedKeyId) {
    problem({ day, kind: 'untrusted-key', detail: `signed by ${keyId}, not by the expected key ${options.expectedKeyId}` });
    return undefined;
  }
  let publicKey: KeyObject;
  try {
    publicKey = await options.keys.resolve(keyId, payload.signer.kind);
  } catch (error) {
    problem({ day, kind: 'unverifiable', detail: `cannot get the public key of ${payload.signer.kind} key ${keyId}: ${(error as Error).message}` });
    return undefined;
  }
  if (!verifySignature(Buffer.from(seal.payload, 'utf8'), Buffer.from(seal.signature ?? '', 'base64'), publicKey)) {
    problem({ day, kind: 'bad-signature', detail: `signature does not verify with the public key of ${keyId} (the seal was edited or forged)` });
    return undefined;
  }
  // From here the payload is authentic.
  if (payload.day !== day) {
    problem({ day, kind: 'bad-seal', detail: `the seal stored for ${day} was signed for ${payload.day}` });
    return undefined;
  }
  const copies: Array<[string, unknown, unknown]> = [
    ['count', seal.count, payload.count],
    ['merkleRoot', seal.merkleRoot, payload.merkleRoot],
    ['keyId', seal.keyId, payload.signer.keyId],
    ['sealedAt', seal.sealedAt, payload.sealedAt],
    ['digest', seal.digest, sha256Hex(seal.payload)],
  ];
  for (const [field, stored, signed] of copies) {
    if (stored !== signed) problem({ day, kind: 'bad-seal', detail: `the seal's readable ${field} (${String(stored)}) differs from the signed one (${String(signed)})` });
  }
  let leaves: Leaf[];
  try {
    leaves = await options.seals.leaves({ day, digest: sha256Hex(seal.payload) });
  } catch (error) {
    problem({ day, kind: 'bad-seal', detail: (error as Error).message });
    return undefined;
  }
  if (leaves.length !== payload.count || merkleRoot(leaves) !== payload.merkleRoot) {
    problem({ day, kind: 'bad-seal', detail: `the stored sealed leaves (${leaves.length}) do not match the signed count (${payload.count}) and root: the seals table was edited` });
    return undefined;
  }
  return { payload, leaves };
}

async function verifySealedDay(day: string, seal: StoredSeal, options: VerifyOptions, report: VerifyReport, problem: (p: Problem) => void): Promise<void> {
  const trusted = await trustedLeaves(day, seal, options, report, problem);
  if (!trusted) {
    // The seal cannot vouch for anything: check the records against their own hashes only.
    await checkUnsealedDay(day, options.findings, report, problem);
    return;
  }
  const { payload, leaves } = trusted;

  if (payload.previous) {
    const previous = await options.seals.get(payload.previous.day);
    if (!previous) problem({ day: payload.previous.day, kind: 'seal-missing', detail: `the seal of ${day} links to a seal of ${payload.previous.day} that is gone` });
    else if (sha256Hex(previous.payload) !== payload.previous.digest) {
      problem({ day: payload.previous.day, kind: 'seal-replaced', detail: `the seal of ${payload.previous.day} is not the one the seal of ${day} links to` });
    }
  }

  const sealed = new Map(leaves.map((leaf) => [leaf.id, leaf.contentHash]));
  for await (const item of options.findings.byDay(day)) {
    report.records += 1;
    const { leaf, storedHash } = leafOf(item);
    const sealedHash = sealed.get(leaf.id);
    if (sealedHash === undefined) {
      const recordedAt = (item as Record<string, unknown>)['recordedAt'];
      const integrity = storedHash === leaf.contentHash ? '' : '; its content does not match its contentHash either';
      problem({ day, id: leaf.id, kind: 'inserted', detail: `not in the seal of ${payload.sealedAt} (recordedAt ${String(recordedAt)})${integrity}` });
      continue;
    }
    sealed.delete(leaf.id);
    if (leaf.contentHash !== sealedHash) {
      const how =
        storedHash === sealedHash
          ? 'its contentHash attribute still has the sealed value'
          : storedHash === leaf.contentHash
            ? 'its contentHash attribute was recomputed to match'
            : 'its contentHash attribute matches neither';
      problem({ day, id: leaf.id, kind: 'modified', detail: `content changed after sealing (${how})` });
    } else if (storedHash !== leaf.contentHash) {
      problem({ day, id: leaf.id, kind: 'hash-mismatch', detail: 'its contentHash attribute does not match its content (the content is as sealed)' });
    }
  }
  for (const id of sealed.keys()) {
    const now = (await options.findings.get(id)) as Record<string, unknown> | undefined;
    if (now) problem({ day, id, kind: 'modified', detail: `moved to day ${String(now['day'])} after sealing (its day or event time was changed)` });
    else problem({ day, id, kind: 'deleted', detail: `sealed on ${payload.sealedAt}, no longer in the ledger` });
  }
}
