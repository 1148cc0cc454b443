/**
 * The findings ledger: one item per finding, written with a conditional put on its deterministic id,
 * so a second delivery of the same event is a no-op. Read by day through the byDay index (export).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Finding } from '../engine/model.js';
import { FINDINGS_TABLE } from './schema.js';

export type PutOutcome = 'created' | 'duplicate';

/** Where the engine writes findings: the ledger, or a collector for what-if runs and backfills. */
export interface FindingsSink {
  put(finding: Finding): Promise<PutOutcome>;
}

export class FindingsStore implements FindingsSink {
  /** DynamoDB requests made, for the benchmark's calls-per-event figure. */
  calls = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(finding: Finding): Promise<PutOutcome> {
    try {
      this.calls += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...finding },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': FINDINGS_TABLE.partitionKey },
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }

  async get(id: string): Promise<Finding | undefined> {
    this.calls += 1;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [FINDINGS_TABLE.partitionKey]: id } }));
    return Item as Finding | undefined;
  }

  /** The findings of one day (yyyy-mm-dd) in event-time order, page by page. */
  async *byDay(day: string): AsyncGenerator<Finding> {
    let startKey: Record<string, unknown> | undefined;
    do {
      this.calls += 1;
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: FINDINGS_TABLE.byDayIndex,
          KeyConditionExpression: '#day = :day',
          ExpressionAttributeNames: { '#day': FINDINGS_TABLE.byDayPartitionKey },
          ExpressionAttributeValues: { ':day': day },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) yield item as Finding;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
