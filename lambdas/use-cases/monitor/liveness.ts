/**
 * Liveness markers in the state table, for the heartbeat: when the detector last processed a
 * CloudTrail event and a canary, when a canary's alert last came back through the alerts topic, and
 * when the heartbeat started watching. One item per marker under one partition key, so the heartbeat
 * reads them with one query and its role can be limited to that key (dynamodb:LeadingKeys).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ACCOUNT_ID, REGION, type BuildwatchConfig } from '../../config/config.js';
import type { PipelineEvent } from '../../engine/pipeline-event.js';
import { STATE_TABLE } from '../../store/schema.js';
import { CANARY_SOURCE, HEARTBEAT_USE_CASE } from './constants.js';
import { heartbeatOptionsSchema, MIN_MAX_SILENCE_MINUTES, type Marker } from './health.js';

const DEFAULT_MAX_SILENCE_MINUTES = heartbeatOptionsSchema.parse({}).maxSilenceMinutes;

/** The partition key of every marker item. */
export const LIVENESS_PARTITION = `${HEARTBEAT_USE_CASE}#liveness`;

const PLACE_PREFIX = 'place#';
const MARKER_KINDS: ReadonlySet<string> = new Set(['cloudtrail', 'canary-detected', 'canary-delivered', 'watching']);

export type MarkerKind = 'cloudtrail' | 'canary-detected' | 'canary-delivered' | 'watching';

/** Organisation deployments: the last sign of life of one member account and region. */
export type PlaceMarkerKind = `place#${string}/${string}`;

export function placeMarkerKind(account: string, region: string): PlaceMarkerKind {
  return `place#${account}/${region}`;
}

export type Markers = Partial<Record<MarkerKind, Marker>> & {
  /** `<account>/<region>` → its last sign of life (organisation deployments). */
  readonly places?: ReadonlyMap<string, Marker>;
};

export class LivenessStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Moves a marker forward (never back: concurrent containers race, the latest wins). */
  async mark(kind: MarkerKind | PlaceMarkerKind, marker: Marker): Promise<void> {
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
    const markers: Partial<Record<MarkerKind, Marker>> = {};
    const places = new Map<string, Marker>();
    for (const item of Items ?? []) {
      const kind = String(item[STATE_TABLE.sortKey]);
      if (typeof item['at'] !== 'string') continue;
      const marker: Marker = {
        at: item['at'],
        ...(typeof item['eventTime'] === 'string' ? { eventTime: item['eventTime'] } : {}),
        ...(typeof item['eventId'] === 'string' ? { eventId: item['eventId'] } : {}),
      };
      if (kind.startsWith(PLACE_PREFIX)) places.set(kind.slice(PLACE_PREFIX.length), marker);
      else if (MARKER_KINDS.has(kind)) markers[kind as MarkerKind] = marker;
    }
    return places.size > 0 ? { ...markers, places } : markers;
  }

  private async update(kind: MarkerKind | PlaceMarkerKind, expression: string, condition: string, names: Record<string, string>, values: Record<string, unknown>): Promise<void> {
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

/**
 * A marker written at most once per container per interval lags the last event it stands for by up
 * to that interval, so the heartbeat may see a silence that much longer than it is: the interval is a
 * tenth of the silence limit it serves (a false alarm needs a real silence of 90% of the limit, a
 * minute less after a failed write), and at most the heartbeat's own 15-minute period less a margin,
 * so a quiet account's probe (one per heartbeat run) still moves the marker every time.
 */
export const MARK_INTERVAL_FRACTION = 10;
export const MAX_MARK_INTERVAL_MS = 10 * 60_000;

/** The marker write interval for a silence limit (monitor.heartbeat's maxSilenceMinutes). */
export function markIntervalMs(maxSilenceMinutes: number): number {
  return Math.min(MAX_MARK_INTERVAL_MS, Math.floor((maxSilenceMinutes * 60_000) / MARK_INTERVAL_FRACTION));
}

/** The silence limit the detector's markers serve: configured, or the smallest allowed when the options are unreadable. */
export function configuredMaxSilenceMinutes(config: Pick<BuildwatchConfig, 'useCases'>): number {
  const parsed = heartbeatOptionsSchema.safeParse(config.useCases[HEARTBEAT_USE_CASE]?.options ?? {});
  return parsed.success ? parsed.data.maxSilenceMinutes : MIN_MAX_SILENCE_MINUTES;
}

/**
 * Where an event was put on a bus: the account and region whose forwarding brought it (EventBridge
 * keeps both across buses), so a live member is one whose events arrive, whatever they are about.
 */
function placeOf(event: PipelineEvent): { account: string; region: string } | undefined {
  const account = event.envelope.account || event.cloudTrail?.recipientAccountId;
  const region = event.envelope.region || event.cloudTrail?.awsRegion;
  return account && region && ACCOUNT_ID.test(account) && REGION.test(region) ? { account, region } : undefined;
}

export interface LivenessOptions {
  /** Organisation deployments: also mark each account and region any event came from. */
  readonly perPlace?: boolean;
  /** The heartbeat's silence limit (maxSilenceMinutes) the CloudTrail and place markers serve (default: its default). */
  readonly maxSilenceMinutes?: number;
}

/** After a failed marker write the next is tried this much later: not with every event (the table may be throttling), nor a whole interval later. */
export const RETRY_FAILED_MARK_MS = 60_000;

/** What the detect handler calls after each event it processed. */
export class LivenessRecorder {
  /** Marker kind → the earliest wall-clock time of its next write by this container. */
  private readonly nextMark = new Map<MarkerKind | PlaceMarkerKind, number>();
  /** Minimum time between two writes of one CloudTrail or place marker by this container. */
  readonly intervalMs: number;

  constructor(
    private readonly store: Pick<LivenessStore, 'mark'>,
    private readonly clock: () => Date = () => new Date(),
    private readonly options: LivenessOptions = {},
  ) {
    this.intervalMs = markIntervalMs(options.maxSilenceMinutes ?? DEFAULT_MAX_SILENCE_MINUTES);
  }

  async processed(event: PipelineEvent): Promise<void> {
    const now = this.clock();
    const marker = { at: now.toISOString(), eventTime: event.time, eventId: event.id };
    if (this.options.perPlace) {
      // Any event (the member's scheduled heartbeat included) is a sign of life of its account and region.
      const place = placeOf(event);
      if (place) await this.markEveryInterval(placeMarkerKind(place.account, place.region), marker, now.getTime());
    }
    if (event.source === CANARY_SOURCE) {
      // Every one: canaries come hourly, and the heartbeat compares this marker with the delivered one.
      await this.store.mark('canary-detected', marker);
      return;
    }
    if (event.cloudTrail) await this.markEveryInterval('cloudtrail', marker, now.getTime());
  }

  private async markEveryInterval(kind: MarkerKind | PlaceMarkerKind, marker: Marker, now: number): Promise<void> {
    if (now < (this.nextMark.get(kind) ?? Number.NEGATIVE_INFINITY)) return;
    this.nextMark.set(kind, now + Math.min(RETRY_FAILED_MARK_MS, this.intervalMs));
    await this.store.mark(kind, marker);
    this.nextMark.set(kind, now + this.intervalMs);
  }
}
