/**
 * seal Lambda (scheduled daily): seals every settled day after the newest sealed one (see
 * lambdas/ledger/seal.ts), signing with the ledger's KMS key. Invoked with `{"from": "YYYY-MM-DD",
 * "to": "YYYY-MM-DD"}` it seals those days instead (a backfill of days before the first seal).
 * Existing seals are never replaced.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { documentClient } from '../store/dynamo-clients.js';
import { FindingsStore } from '../store/findings-store.js';
import { dayCount, daysBetween, isDay } from '../ledger/days.js';
import { HEAD_LOG_MESSAGE, headLogFields } from '../ledger/chain-head.js';
import { KmsSigner } from '../ledger/kms-signer.js';
import { daysToSeal, lastSettledDay, sealDays, type SealDeps, type SealOutcome } from '../ledger/seal.js';
import { LEDGER_ENV, SealStore } from '../ledger/seal-store.js';
import { logger, requireEnv } from './runtime.js';

/** A manual backfill seals at most this many days per invocation. */
export const MAX_BACKFILL_DAYS = 366;

export interface SealRequest {
  readonly from?: string;
  readonly to?: string;
}

export interface SealResult {
  readonly sealed: ReadonlyArray<Pick<SealOutcome, 'day' | 'count' | 'merkleRoot' | 'digest'>>;
  readonly alreadySealed: readonly string[];
  /** Records sealed whose content did not match their contentHash: edited before sealing. */
  readonly mismatched: ReadonlyArray<{ day: string; ids: readonly string[] }>;
}

export async function runSeal(event: SealRequest | undefined, deps: SealDeps & { now?: Date }): Promise<SealResult> {
  const now = deps.now ?? deps.clock?.() ?? new Date();
  let days: string[];
  if (event?.from || event?.to) {
    const from = event.from ?? event.to ?? '';
    const to = event.to ?? event.from ?? '';
    if (!isDay(from) || !isDay(to) || from > to) throw new Error(`seal request: expected {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} with from <= to, got ${JSON.stringify(event)}`);
    // Never a day still settling: its late findings would show up as inserted after sealing.
    const last = lastSettledDay(now);
    if (to > last) throw new Error(`seal request: ${to} has not settled yet (the newest day that has is ${last})`);
    if (dayCount(from, to) > MAX_BACKFILL_DAYS) throw new Error(`seal request: at most ${MAX_BACKFILL_DAYS} days per invocation`);
    days = [...daysBetween(from, to)];
  } else {
    const newest = await deps.seals.edge('last');
    days = daysToSeal(newest?.day, now);
  }
  const outcomes = await sealDays(days, deps, (outcome) => {
    if (outcome.status === 'sealed') logger.info('day sealed', { day: outcome.day, count: outcome.count, merkleRoot: outcome.merkleRoot, digest: outcome.digest });
    if (outcome.mismatched.length > 0) logger.error('records did not match their content hash when sealed', { day: outcome.day, ids: outcome.mismatched });
  });
  // The chain head, published outside the ledger's tables (CloudWatch Logs, retained on their own):
  // with the signed payload, so `verify --expect-head` can trust it and truncation shows.
  const newest = await deps.seals.edge('last');
  if (newest) logger.info(HEAD_LOG_MESSAGE, headLogFields(newest));
  return {
    sealed: outcomes.filter((o) => o.status === 'sealed').map(({ day, count, merkleRoot, digest }) => ({ day, count, merkleRoot, digest })),
    alreadySealed: outcomes.filter((o) => o.status === 'already-sealed').map((o) => o.day),
    mismatched: outcomes.filter((o) => o.mismatched.length > 0).map((o) => ({ day: o.day, ids: o.mismatched })),
  };
}

let deps: SealDeps | undefined;

export const handler = async (event: SealRequest | Record<string, unknown> | undefined): Promise<SealResult> => {
  if (!deps) {
    const doc = documentClient(new DynamoDBClient({}));
    deps = {
      findings: new FindingsStore(doc, requireEnv(LEDGER_ENV.findingsTable)),
      seals: new SealStore(doc, requireEnv(LEDGER_ENV.sealsTable)),
      signer: new KmsSigner(new KMSClient({}), requireEnv(LEDGER_ENV.sealKeyArn)),
    };
  }
  // A scheduled EventBridge event carries neither field; only a manual invocation asks for days.
  const request = event && typeof event === 'object' && ('from' in event || 'to' in event) ? (event as SealRequest) : undefined;
  return runSeal(request, deps);
};
