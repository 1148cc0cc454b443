/**
 * Where seals live: their own table (`<prefix>seals`), not the findings table, so exports and the
 * by-day index see findings only, the notifier's stream never sees a seal, and IAM can give the seal
 * Lambda write access to seals and nothing else (the detector cannot touch them).
 *
 * Layout (pk, sk strings):
 * - seal header: pk `seal`, sk the day. Holds the signed payload (the exact bytes signed), the
 *   signature, its digest and readable copies of the main fields. One partition, so a range of days
 *   is one ordered Query (a seal a day is far below any partition limit).
 * - sealed leaves: pk `leaves#<day>#<seal digest>`, sk a chunk number; each chunk ≤ 256 KB of
 *   `[[id, contentHash], …]` (an item may not exceed 400 KB; a busy day spans several chunks).
 *   Keyed by the seal's digest, so a losing concurrent sealer can never overwrite the winner's leaves.
 */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Leaf } from './merkle.js';
import type { SignerKind } from './signer.js';

export const SEALS_TABLE = { partitionKey: 'pk', sortKey: 'sk', headerPartition: 'seal' } as const;

/** Environment of the seal Lambda (set by lib/constructs/ledger-seal.ts). */
export const LEDGER_ENV = {
  findingsTable: 'FINDINGS_TABLE_NAME',
  sealsTable: 'SEALS_TABLE_NAME',
  sealKeyArn: 'SEAL_KEY_ARN',
} as const;

export const LOCAL_SEALS_TABLE = 'buildwatch-seals';

/** Leaves per chunk are bounded by bytes, not count, so long ids cannot push an item over 400 KB. */
export const LEAF_CHUNK_BYTES = 256 * 1024;

export interface StoredSeal {
  readonly day: string;
  /** The canonical JSON that was signed (a SealPayload). Verification uses only this and the signature. */
  readonly payload: string;
  /** Base64 DER ECDSA signature over the payload's UTF-8 bytes. */
  readonly signature: string;
  /** sha256 hex of the payload: what the next day's seal links to. */
  readonly digest: string;
  // Readable copies (not trusted by verify; a difference from the payload is itself reported).
  readonly count: number;
  readonly merkleRoot: string;
  readonly keyId: string;
  readonly signerKind: SignerKind;
  readonly sealedAt: string;
  readonly leafChunks: number;
}

export async function ensureSealsTable(client: DynamoDBClient, tableName = LOCAL_SEALS_TABLE): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: SEALS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: SEALS_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: SEALS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: SEALS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

const leavesPartition = (day: string, digest: string): string => `leaves#${day}#${digest}`;
const chunkKey = (index: number): string => String(index).padStart(5, '0');

/** Splits leaves into JSON chunks of at most LEAF_CHUNK_BYTES. */
export function chunkLeaves(leaves: readonly Leaf[], maxBytes = LEAF_CHUNK_BYTES): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const leaf of leaves) {
    const encoded = JSON.stringify([leaf.id, leaf.contentHash]);
    const bytes = Buffer.byteLength(encoded);
    if (current.length > 0 && size + bytes + 1 > maxBytes) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(encoded);
    size += bytes + 1;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(`[${current.join(',')}]`);
  return chunks;
}

export class SealStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly chunkBytes = LEAF_CHUNK_BYTES,
  ) {}

  /**
   * Writes the leaves, then the header with a condition, so a seal is never overwritten and a crash
   * between the two leaves no header (the day is sealed again on the next run). 'exists': the day was
   * already sealed (by a concurrent run); nothing was changed.
   */
  async put(seal: StoredSeal, sortedLeaves: readonly Leaf[]): Promise<'created' | 'exists'> {
    const chunks = chunkLeaves(sortedLeaves, this.chunkBytes);
    for (const [index, leaves] of chunks.entries()) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [SEALS_TABLE.partitionKey]: leavesPartition(seal.day, seal.digest), [SEALS_TABLE.sortKey]: chunkKey(index), leaves },
        }),
      );
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [SEALS_TABLE.partitionKey]: SEALS_TABLE.headerPartition, [SEALS_TABLE.sortKey]: seal.day, ...seal, leafChunks: chunks.length },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': SEALS_TABLE.partitionKey },
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'exists';
      throw error;
    }
  }

  async get(day: string): Promise<StoredSeal | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [SEALS_TABLE.partitionKey]: SEALS_TABLE.headerPartition, [SEALS_TABLE.sortKey]: day }, ConsistentRead: true }),
    );
    return Item ? toSeal(Item) : undefined;
  }

  /** Seal headers of the days from..to (inclusive), in day order, page by page. */
  async *range(from: string, to: string): AsyncGenerator<StoredSeal> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': SEALS_TABLE.partitionKey, '#sk': SEALS_TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': SEALS_TABLE.headerPartition, ':from': from, ':to': to },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) yield toSeal(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** The first (oldest) or last (newest) sealed day. */
  async edge(which: 'first' | 'last'): Promise<StoredSeal | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': SEALS_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': SEALS_TABLE.headerPartition },
        ScanIndexForward: which === 'first',
        Limit: 1,
      }),
    );
    const item = Items?.[0];
    return item ? toSeal(item) : undefined;
  }

  /** The sealed leaves of a seal, in sealed order. */
  async leaves(seal: Pick<StoredSeal, 'day' | 'digest'>): Promise<Leaf[]> {
    const leaves: Leaf[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': SEALS_TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': leavesPartition(seal.day, seal.digest) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const parsed = JSON.parse(String(item['leaves'] ?? '[]')) as unknown;
        if (!Array.isArray(parsed)) throw new Error(`sealed leaves of ${seal.day}: chunk ${String(item[SEALS_TABLE.sortKey])} is not a list`);
        for (const pair of parsed) {
          if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
            throw new Error(`sealed leaves of ${seal.day}: chunk ${String(item[SEALS_TABLE.sortKey])} holds a malformed leaf`);
          }
          leaves.push({ id: pair[0], contentHash: pair[1] });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return leaves;
  }
}

function toSeal(item: Record<string, unknown>): StoredSeal {
  const { [SEALS_TABLE.partitionKey]: _pk, [SEALS_TABLE.sortKey]: sk, ...rest } = item;
  // The key says which day a header seals; the payload says which day was signed (verify compares them).
  return { ...(rest as unknown as StoredSeal), day: String(sk) };
}
