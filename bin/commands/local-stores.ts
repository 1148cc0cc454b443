/** The stores of local mode: on `--endpoint`, or on an embedded dynalite started here (in memory, or kept in a directory). */
import { join } from 'node:path';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_SEALS_TABLE, SealStore } from '../../lambdas/ledger/seal-store.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
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
