/**
 * One event as the use cases see it: the EventBridge envelope plus what every use case needs,
 * computed once (the CloudTrail record, the principal, the time, success).
 */
import { cloudTrailRecordOf, eventTimeOf, type CloudTrailRecord, type EventBridgeEvent } from './events.js';
import type { Principal } from './model.js';
import { principalFromArn, principalFromIdentity } from './principal.js';

export interface PipelineEvent {
  readonly envelope: EventBridgeEvent;
  /** The EventBridge id (for bare CloudTrail records, their eventID). */
  readonly id: string;
  /** ISO time of the action: CloudTrail eventTime, else the envelope time. */
  readonly time: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /** Present when the event relays a CloudTrail record. */
  readonly cloudTrail?: CloudTrailRecord;
  /** Who acted, when the event says so (native CodeArtifact and CodeBuild events do not). */
  readonly principal?: Principal;
  /** False for CloudTrail records with an errorCode. */
  readonly succeeded: boolean;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

export function toPipelineEvent(envelope: EventBridgeEvent): PipelineEvent {
  const record = cloudTrailRecordOf(envelope);
  const callerArn = typeof envelope.detail['callerUserArn'] === 'string' ? envelope.detail['callerUserArn'] : undefined;
  const principal = record ? principalFromIdentity(record.userIdentity) : callerArn ? principalFromArn(callerArn) : undefined;
  return {
    envelope,
    id: envelope.id,
    time: eventTimeOf(envelope),
    source: envelope.source,
    detailType: envelope['detail-type'],
    detail: envelope.detail,
    ...(record ? { cloudTrail: record } : {}),
    ...(principal ? { principal } : {}),
    succeeded: !record?.errorCode,
    ...(record?.sourceIPAddress ? { sourceIp: record.sourceIPAddress } : {}),
    ...(record?.userAgent ? { userAgent: record.userAgent } : {}),
  };
}

/** A string field of an object, or undefined. Use cases read untyped API parameters through this. */
export function stringAt(value: unknown, ...path: string[]): string | undefined {
  const found = valueAt(value, ...path);
  return typeof found === 'string' ? found : undefined;
}

/** A nested value of JSON-like data, or undefined when any step is missing. */
export function valueAt(value: unknown, ...path: string[]): unknown {
  let current: unknown = value;
  for (const step of path) {
    // Own properties only: event keys like `constructor` must not find Object.prototype's members.
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
