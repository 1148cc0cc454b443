/**
 * Where `export`, `verify` and `seal` read the ledger: a kept embedded store (`--keep DIR`, from
 * `replay --keep DIR`), any local endpoint (`--endpoint URL`), or, with neither, the deployed tables
 * in AWS (default credential chain; names from `--findings-table`/`--seals-table`, else
 * `<prefix>findings`/`<prefix>seals` with the configured resource prefix).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, type GlobalSecondaryIndexDescription } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lambdas/config/config.js';
import { LOCAL_KEY_FILE } from '../../lambdas/ledger/local-signer.js';
import { ensureSealsTable, LOCAL_SEALS_TABLE, SealStore } from '../../lambdas/ledger/seal-store.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { FINDINGS_TABLE } from '../../lambdas/store/schema.js';
import { LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';
import { keptStorePath, openLocalStores } from './local-stores.js';

export interface LedgerTargetOptions {
  readonly endpoint?: string;
  readonly keep?: string;
  readonly config?: string;
  readonly region?: string;
  readonly tablePrefix?: string;
  readonly findingsTable?: string;
  readonly sealsTable?: string;
}

export interface LedgerTarget {
  readonly mode: 'kept' | 'endpoint' | 'aws';
  /** For messages: where the ledger is. */
  readonly description: string;
  readonly findings: FindingsStore;
  readonly seals: SealStore;
  /** The offline seal key of a kept store (DIR/seal-key.local.json). */
  readonly localKeyFile?: string;
  /** Local stores only: the days that have records (a scan: fine for a replay, never run on the cloud table). */
  recordDays?(): Promise<string[]>;
  /**
   * Local stores: id, day and eventTime of every record (a projected scan), so verify finds records
   * outside the by-day index. Not on the cloud table: the auditor role may not scan it.
   */
  everyRecord?(): AsyncIterable<Record<string, unknown>>;
  /** The cloud table: items in the table and in the by-day index read (DescribeTable, refreshed about every 6 h). */
  indexCounts?(): Promise<{ tableItems: number; indexItems: number }>;
  close(): Promise<void>;
}

/** Bad usage (exit 2), as opposed to a problem found in the ledger. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function openLedgerTarget(options: LedgerTargetOptions): Promise<LedgerTarget> {
  if (options.endpoint && options.keep) throw new UsageError('--keep and --endpoint are exclusive');
  const local = Boolean(options.endpoint || options.keep);
  if (local && (options.findingsTable || options.sealsTable || options.tablePrefix || options.region)) {
    throw new UsageError('--findings-table, --seals-table, --table-prefix and --region name deployed tables in AWS; not with --keep or --endpoint');
  }
  if (options.keep && !existsSync(keptStorePath(options.keep))) {
    throw new UsageError(`${options.keep}: no kept store here (create one with \`buildwatch replay PATH… --keep ${options.keep}\`)`);
  }
  if (local) {
    const stores = await openLocalStores(options.endpoint, options.keep);
    const admin = localDynamoClient(stores.endpoint);
    try {
      await ensureSealsTable(admin, LOCAL_SEALS_TABLE);
    } catch (error) {
      await stores.close();
      throw error;
    } finally {
      admin.destroy();
    }
    return {
      mode: options.keep ? 'kept' : 'endpoint',
      description: options.keep ? `the store kept in ${options.keep}` : `the DynamoDB endpoint ${options.endpoint}`,
      findings: stores.findings,
      seals: new SealStore(stores.doc, LOCAL_SEALS_TABLE),
      ...(options.keep ? { localKeyFile: join(options.keep, LOCAL_KEY_FILE) } : {}),
      recordDays: () => scanDays(stores.doc, LOCAL_TABLE_NAMES.findings),
      everyRecord: () => scanRecordDays(stores.doc, LOCAL_TABLE_NAMES.findings),
      close: () => stores.close(),
    };
  }
  const prefix = options.tablePrefix ?? loadConfig(options.config).monitor.resourcePrefix;
  const findingsTable = options.findingsTable ?? `${prefix}findings`;
  const sealsTable = options.sealsTable ?? `${prefix}seals`;
  const client = new DynamoDBClient(options.region ? { region: options.region } : {});
  try {
    await client.config.region();
  } catch {
    client.destroy();
    // Most often no flag at all on a machine without AWS configuration: say which ledgers there are.
    throw new UsageError(
      `which ledger? Give --keep DIR (a store kept by \`buildwatch replay … --keep DIR\`), --endpoint URL (a local DynamoDB), ` +
        `or, for the deployed tables (${findingsTable} and ${sealsTable}; --findings-table NAME or --table-prefix P to name others), --region R (or AWS_REGION): no AWS region is configured`,
    );
  }
  const doc = documentClient(client);
  return {
    mode: 'aws',
    description: `the DynamoDB tables ${findingsTable} and ${sealsTable}${options.region ? ` in ${options.region}` : ''}`,
    findings: new FindingsStore(doc, findingsTable),
    seals: new SealStore(doc, sealsTable),
    indexCounts: async () => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: findingsTable }));
      const index = readDayIndex(Table?.GlobalSecondaryIndexes ?? []);
      return { tableItems: Table?.ItemCount ?? 0, indexItems: index?.ItemCount ?? 0 };
    },
    close: async () => client.destroy(),
  };
}

/**
 * The by-day index the readers read (day-index.ts): byDayKeys once it is ACTIVE and backfilled,
 * else the legacy byDay (a table mid-upgrade), so its count is compared with the table's.
 */
export function readDayIndex(indexes: readonly GlobalSecondaryIndexDescription[]): GlobalSecondaryIndexDescription | undefined {
  const named = (name: string) => indexes.find((gsi) => gsi.IndexName === name);
  const keys = named(FINDINGS_TABLE.byDayIndex);
  const legacy = named(FINDINGS_TABLE.legacyByDayIndex);
  if (keys && keys.IndexStatus === 'ACTIVE' && keys.Backfilling !== true) return keys;
  return legacy ?? keys;
}

async function scanDays(doc: DynamoDBDocumentClient, tableName: string): Promise<string[]> {
  const days = new Set<string>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#day',
        ExpressionAttributeNames: { '#day': FINDINGS_TABLE.byDayPartitionKey },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) if (typeof item[FINDINGS_TABLE.byDayPartitionKey] === 'string') days.add(item[FINDINGS_TABLE.byDayPartitionKey] as string);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return [...days].sort();
}

async function* scanRecordDays(doc: DynamoDBDocumentClient, tableName: string): AsyncGenerator<Record<string, unknown>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#id, #day, #time',
        ExpressionAttributeNames: { '#id': 'id', '#day': FINDINGS_TABLE.byDayPartitionKey, '#time': 'eventTime' },
        ExclusiveStartKey: startKey,
      }),
    );
    yield* page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
