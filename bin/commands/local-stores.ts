/** The stores of local mode: on `--endpoint`, or on an embedded dynalite started here (in memory, or kept in a directory). */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_SEALS_TABLE, SealStore } from '../../lambdas/ledger/seal-store.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { MemoryFindingsStore } from '../../lambdas/store/memory/memory-findings-store.js';
import { MemoryStateStore } from '../../lambdas/store/memory/memory-state-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { ensureTables, LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';

export interface LocalStores {
  readonly endpoint: string;
  readonly embedded: boolean;
  /** The document client, for stores beyond these two (the ledger's seals). */
  readonly doc: DynamoDBDocumentClient;
  readonly state: StateStore;
  readonly findings: FindingsStore;
  close(): Promise<void>;
}

/** The embedded store's directory under `--keep DIR` (leveldb; reopened by later commands). */
export function keptStorePath(keepDir: string): string {
  return join(keepDir, 'dynamo');
}

/** keepDir: persist the embedded store in that directory (`--keep DIR`) instead of memory. */
export async function openLocalStores(endpoint?: string, keepDir?: string): Promise<LocalStores> {
  if (endpoint && keepDir) throw new Error('--keep and --endpoint are exclusive: --keep keeps the embedded store, --endpoint names another one');
  if (keepDir) await refuseStoreInUse(keptStorePath(keepDir), keepDir);
  const embedded = endpoint ? undefined : await startEmbeddedDynamo(keepDir ? { path: keptStorePath(keepDir) } : {});
  const url = endpoint ?? embedded?.endpoint ?? '';
  const client = localDynamoClient(url);
  try {
    await ensureTables(client, LOCAL_TABLE_NAMES);
  } catch (error) {
    client.destroy();
    await embedded?.close();
    throw new Error(`cannot use the DynamoDB endpoint ${url}: ${(error as Error).message}`, { cause: error });
  }
  const doc = documentClient(client);
  return {
    endpoint: url,
    embedded: Boolean(embedded),
    doc,
    state: new StateStore(doc, LOCAL_TABLE_NAMES.state),
    // Locally, history is replayed long after it happened: a finding may change (its repeat count)
    // as long as `buildwatch seal` has not sealed its day in this store.
    findings: new FindingsStore(doc, LOCAL_TABLE_NAMES.findings, { amendableDay: unsealedDays(doc) }),
    close: async () => {
      client.destroy();
      await embedded?.close();
    },
  };
}

/** True for days without a local seal (no seals table at all: nothing is sealed). Answers are kept per run. */
function unsealedDays(doc: DynamoDBDocumentClient): (day: string) => Promise<boolean> {
  const seals = new SealStore(doc, LOCAL_SEALS_TABLE);
  const known = new Map<string, boolean>();
  return async (day) => {
    let unsealed = known.get(day);
    if (unsealed === undefined) {
      try {
        unsealed = (await seals.get(day)) === undefined;
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        unsealed = true;
      }
      known.set(day, unsealed);
    }
    return unsealed;
  };
}

/** The LevelDB binding dynalite itself opens kept stores with (its own dependency, resolved from dynalite). */
interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}
type LevelConstructor = new (path: string, options: { createIfMissing: boolean }) => LevelDatabase;

/**
 * LevelDB lets one process open a directory. Another process serving it (`npx dynalite --path DIR`,
 * another buildwatch) makes dynalite fail on its first request with "Database is closed", thrown
 * where nothing can catch it: open it briefly first, and say the store is in use.
 */
async function refuseStoreInUse(path: string, keepDir: string): Promise<void> {
  if (!existsSync(path)) return;
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = fromDynalite('level') as { Level: LevelConstructor };
  const db = new Level(path, { createIfMissing: false });
  try {
    await db.open();
  } catch (error) {
    // Held by this very process: the embedded store's own lock says so next.
    const chain = causeChain(error);
    if (chain.some((e) => e.message.includes('already held by process'))) return;
    if (chain.some((e) => (e as NodeJS.ErrnoException).code === 'LEVEL_LOCKED')) {
      throw new Error(
        `the store kept in ${keepDir} is in use by another process (a \`dynalite --path ${path}\`, or another buildwatch command): stop it first, or reach that server with --endpoint URL`,
        { cause: error },
      );
    }
    throw new Error(`cannot open the store kept in ${keepDir}: ${(error as Error).message}`, { cause: error });
  }
  await db.close();
}

/** The error and its causes (bounded). */
function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  return chain;
}

/** Replay's and backfill's stores: in process memory, written behind to a table when one is kept. */
export interface WriteBehindStores {
  readonly state: MemoryStateStore;
  readonly findings: MemoryFindingsStore;
  /** Where the changes go, for messages. */
  readonly label: string;
  /** True when the changes outlive the run (a kept store or an endpoint). */
  readonly persistent: boolean;
  /** Writes every change made so far to the tables (a checkpoint, the end of a run). */
  flush(): Promise<void>;
  /** Flushes, then closes. */
  close(): Promise<void>;
}

/**
 * Without --endpoint or --keep: memory only (nothing would read the tables afterwards, so no
 * embedded DynamoDB is started). With --keep DIR: an embedded store kept in DIR, written behind
 * (read through too when DIR already held one). With --endpoint: that endpoint's tables, written
 * behind and read through.
 */
export async function openWriteBehindStores(endpoint?: string, keepDir?: string): Promise<WriteBehindStores> {
  if (!endpoint && !keepDir) {
    const state = new MemoryStateStore();
    // A fresh store: no day of it is sealed.
    const findings = new MemoryFindingsStore(undefined, { amendableDay: () => true });
    return { state, findings, label: 'a throw-away in-process store', persistent: false, flush: async () => {}, close: async () => {} };
  }
  const fresh = Boolean(keepDir) && !existsSync(keptStorePath(keepDir ?? ''));
  const tables = await openLocalStores(endpoint, keepDir);
  const state = new MemoryStateStore({ doc: tables.doc, tableName: LOCAL_TABLE_NAMES.state, empty: fresh });
  const findings = new MemoryFindingsStore({ doc: tables.doc, tableName: LOCAL_TABLE_NAMES.findings, empty: fresh }, { amendableDay: unsealedDays(tables.doc) });
  const flush = async (): Promise<void> => {
    await state.flush();
    await findings.flush();
  };
  return {
    state,
    findings,
    label: keepDir ? `the store kept in ${keepDir}` : `the local tables at ${tables.endpoint}`,
    persistent: true,
    flush,
    close: async () => {
      try {
        await flush();
      } finally {
        await tables.close();
      }
    },
  };
}
