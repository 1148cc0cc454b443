/**
 * Liveness markers in the state table, for the heartbeat: when the detector last processed a
 * CloudTrail event and a canary, when a canary's alert last came back through the alerts topic, and
 * when the heartbeat started watching. One item per marker under one partition key, so the heartbeat
 * reads them with one query and its role can be limited to that key (dynamodb:LeadingKeys).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PipelineEvent } from '../../engine/pipeline-event.js';
import { STATE_TABLE } from '../../store/schema.js';
import { CANARY_SOURCE, HEARTBEAT_USE_CASE } from './constants.js';
import type { Marker } from './health.js';

/** The partition key of every marker item. */
export const LIVENESS_PARTITION = `${HEARTBEAT_USE_CASE}#liveness`;

export type MarkerKind = 'cloudtrail' | 'canary-detected' | 'canary-delivered' | 'watching';

export type Markers = Partial<Record<MarkerKind, Marker>>;

export class LivenessStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Moves a marker forward (never back: concurrent containers race, the latest wins). */
  async mark(kind: MarkerKind, marker: Marker): Promise<void> {
    const names: Record<string, string> = { '#at': 'at' };
    const values: Record<string, unknown> = { ':at': marker.at };
    const sets = ['#at = :at'];
    if (marker.eventTime) {
      names['#eventTime'] = 'eventTime';
      values[':eventTime'] = marker.eventTime;
      sets.push('#eventTime = :eventTime');
    }
    if (marker.eventId) {
      names['#eventId'] = 'eventId';
      values[':eventId'] = marker.eventId;
      sets.push('#eventId = :eventId');
    }
    await this.update(kind, `SET ${sets.join(', ')}`, 'attribute_not_exists(#at) OR #at < :at', names, values);
  }

  /** When watching began: written once, then read back. */
  async watchingSince(now: string): Promise<string> {
    await this.update('watching', 'SET #at = :at', 'attribute_not_exists(#at)', { '#at': 'at' }, { ':at': now });
    return (await this.read()).watching?.at ?? now;
  }

  async read(): Promise<Markers> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': LIVENESS_PARTITION },
        ConsistentRead: true,
      }),
    );
    const markers: Markers = {};
    for (const item of Items ?? []) {
      const kind = item[STATE_TABLE.sortKey] as MarkerKind;
      if (typeof item['at'] !== 'string') continue;
      markers[kind] = {
        at: item['at'],
        ...(typeof item['eventTime'] === 'string' ? { eventTime: item['eventTime'] } : {}),
        ...(typeof item['eventId'] === 'string' ? { eventId: item['eventId'] } : {}),
      };
    }
    return markers;
  }

  private async update(kind: MarkerKind, expression: string, condition: string, names: Record<string, string>, values: Record<string, unknown>): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [STATE_TABLE.partitionKey]: LIVENESS_PARTITION, [STATE_TABLE.sortKey]: kind },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // A newer marker is already there: nothing to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** At most one CloudTrail marker write per container per interval: the heartbeat needs minutes, not events. */
export const CLOUDTRAIL_MARK_INTERVAL_MS = 60_000;

/** What the detect handler calls after each event it processed. */
export class LivenessRecorder {
  private lastCloudTrailMark = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Pick<LivenessStore, 'mark'>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async processed(event: PipelineEvent): Promise<void> {
    const now = this.clock();
    const marker = { at: now.toISOString(), eventTime: event.time, eventId: event.id };
    if (event.source === CANARY_SOURCE) {
      await this.store.mark('canary-detected', marker);
      return;
    }
    if (!event.cloudTrail || now.getTime() - this.lastCloudTrailMark < CLOUDTRAIL_MARK_INTERVAL_MS) return;
    this.lastCloudTrailMark = now.getTime();
    await this.store.mark('cloudtrail', marker);
  }
}
