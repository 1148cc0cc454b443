/**
 * The chain head: the newest seal's (day, digest), published where whoever administers the ledger
 * tables cannot rewind it. Seals link backwards, so deleting the newest seals together with their
 * records leaves a shorter chain that is consistent in itself; only the head published earlier shows
 * it is shorter. In AWS the seal Lambda logs it (CloudWatch Logs, with the signed payload, so the
 * line proves itself); offline, `buildwatch seal` keeps it in a file next to the kept store.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { lastSettledDay } from './seal.js';
import type { StoredSeal } from './seal-store.js';
import type { ChainHead } from './verifier.js';

export const LOCAL_HEAD_FILE = 'ledger-head.local.json';
/** The log line of the seal Lambda that carries the head (search the log group for it). */
export const HEAD_LOG_MESSAGE = 'ledger head';

const headFileSchema = z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), digest: z.string().regex(/^[0-9a-f]{64}$/) });

export function headOf(seal: StoredSeal): ChainHead {
  return { day: seal.day, digest: seal.digest };
}

/** What the seal Lambda logs: the head, and the signed payload and signature that vouch for it. */
export function headLogFields(seal: StoredSeal): Record<string, string> {
  return { head: `${seal.day}:${seal.digest}`, day: seal.day, digest: seal.digest, keyId: seal.keyId, payload: seal.payload, signature: seal.signature };
}

export function readHeadFile(file: string): ChainHead | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = headFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: not a chain head file ({"day", "digest"})`);
  return parsed.data;
}

/** Moves the head file forward to `head`; it never goes back to an older day. */
export function advanceHeadFile(file: string, head: ChainHead): ChainHead {
  const current = readHeadFile(file);
  if (current && current.day >= head.day) return current;
  writeFileSync(file, `${JSON.stringify(head, null, 2)}\n`, { mode: 0o600 });
  return head;
}

/**
 * The newest day the daily seal run (03:00 UTC, retried for 6 h) must have sealed by `now`: the day
 * that had settled a full schedule period (plus retries) earlier.
 */
export function scheduledSealedThrough(now: Date): string {
  return lastSettledDay(new Date(now.getTime() - 30 * 3_600_000));
}
