/**
 * Creates the two tables locally (embedded store or any --endpoint) with the cloud layout. Tables
 * that exist are left as they are: a store kept by an earlier version has the legacy byDay index
 * only, which the readers fall back to (day-index.ts).
 */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FINDINGS_TABLE, STATE_TABLE } from './schema.js';

export interface TableNames {
  readonly state: string;
  readonly findings: string;
}

export const LOCAL_TABLE_NAMES: TableNames = { state: 'buildwatch-state', findings: 'buildwatch-findings' };

export async function ensureTables(client: DynamoDBClient, names: TableNames = LOCAL_TABLE_NAMES): Promise<void> {
  await createIfAbsent(client, {
    TableName: names.state,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
    ],
  });
  // Keys only, as in the cloud: readers get the items with BatchGetItem (day-index.ts).
  await createIfAbsent(client, findingsTableInput(names.findings, [{ name: FINDINGS_TABLE.byDayIndex, projection: 'KEYS_ONLY' }]));
}

/** A by-day index of the findings table (day, eventTime) and what it projects. */
export interface DayIndexLayout {
  readonly name: string;
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

/** The findings table's CreateTable input with these by-day indexes (tests make earlier versions' layout with it). */
export function findingsTableInput(tableName: string, indexes: readonly DayIndexLayout[]): ConstructorParameters<typeof CreateTableCommand>[0] {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: FINDINGS_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: FINDINGS_TABLE.byDayPartitionKey, AttributeType: 'S' },
      { AttributeName: FINDINGS_TABLE.byDaySortKey, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: FINDINGS_TABLE.partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: FINDINGS_TABLE.byDayPartitionKey, KeyType: 'HASH' },
        { AttributeName: FINDINGS_TABLE.byDaySortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}

async function createIfAbsent(client: DynamoDBClient, input: ConstructorParameters<typeof CreateTableCommand>[0]): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // dynalite turns a table ACTIVE a moment after answering (later as its store grows); a real endpoint
  // takes seconds. Poll soon, then back off to half a second (about 30 s in all).
  for (let attempt = 0; attempt < 70; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, 5 * 2 ** attempt)));
  }
  throw new Error(`table ${input.TableName} did not become ACTIVE`);
}
