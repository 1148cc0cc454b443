/** The stores of local mode: on `--endpoint`, or on an embedded dynalite started here. */
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { ensureTables, LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';

export interface LocalStores {
  readonly endpoint: string;
  readonly embedded: boolean;
  readonly state: StateStore;
  readonly findings: FindingsStore;
  close(): Promise<void>;
}

export async function openLocalStores(endpoint?: string): Promise<LocalStores> {
  const embedded = endpoint ? undefined : await startEmbeddedDynamo();
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
    state: new StateStore(doc, LOCAL_TABLE_NAMES.state),
    findings: new FindingsStore(doc, LOCAL_TABLE_NAMES.findings),
    close: async () => {
      client.destroy();
      await embedded?.close();
    },
  };
}
