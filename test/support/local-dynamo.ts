/** A real DynamoDB API (dynalite on loopback) for tests, with fresh tables per test. */
import { afterAll, beforeAll } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Engine } from '../../lambdas/engine/engine.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { ensureTables } from '../../lambdas/store/tables.js';

export interface TestStores {
  readonly state: StateStore;
  readonly findings: FindingsStore;
  readonly tables: { state: string; findings: string };
  /** The document client behind the stores, for stores a test builds itself. */
  readonly doc: DynamoDBDocumentClient;
}

export interface LocalDynamo {
  readonly endpoint: () => string;
  /** New, empty tables (unique names), so tests never see each other's state. */
  freshStores(): Promise<TestStores>;
  freshEngine(config?: BuildwatchConfigInput, lookups?: Lookups): Promise<{ engine: Engine } & TestStores>;
}

let tableCounter = 0;

/** Starts dynalite for the test file (beforeAll) and stops it afterwards. */
export function useLocalDynamo(): LocalDynamo {
  let server: EmbeddedDynamo | undefined;
  beforeAll(async () => {
    server = await startEmbeddedDynamo();
  });
  afterAll(async () => {
    await server?.close();
  });
  const freshStores = async (): Promise<TestStores> => {
    if (!server) throw new Error('dynalite not started');
    tableCounter += 1;
    const tables = { state: `state-${tableCounter}`, findings: `findings-${tableCounter}` };
    const client = localDynamoClient(server.endpoint);
    await ensureTables(client, tables);
    const doc = documentClient(client);
    // Test events are from the past: findings stay amendable (the cloud's rule is tested on its own).
    return { state: new StateStore(doc, tables.state), findings: new FindingsStore(doc, tables.findings, { amendableDay: () => true }), tables, doc };
  };
  return {
    endpoint: () => server?.endpoint ?? '',
    freshStores,
    freshEngine: async (config = {}, lookups = noLookups) => {
      const stores = await freshStores();
      const engine = new Engine({ config: parseConfig(config), lookups, ...stores, clock: () => new Date('2026-11-01T00:00:00Z') });
      return { engine, ...stores };
    },
  };
}
