/**
 * A look-up's answer written as a drift key's baseline: a `baseline` change in the key's change log
 * (stamped with the look-up time) and the head, moved only if nobody moved it meanwhile. Callers
 * decide beforehand whether the head is older than the look-up (a look-up fills gaps, never
 * overrides newer event state).
 */
import type { JsonObject } from '../engine/use-case.js';
import type { Snapshot } from '../store/state-store.js';
import type { StateStorage } from '../store/store-contract.js';
import { CURRENT_STATE_EVENT_PREFIX } from './collecting-sink.js';

export interface LookupBaseline {
  readonly useCase: string;
  readonly key: string;
  /** The look-up's service and the key, for the baseline's event id (e.g. `ecr`). */
  readonly source: string;
  /** Masked and bounded as the engine stores state. */
  readonly state: JsonObject;
  /** When the look-up answered. */
  readonly at: string;
  readonly keepDays: number;
  /** The head as read before deciding to seed. */
  readonly head: Snapshot | undefined;
}

/** True when the head now holds the baseline; false when a live event moved the head meanwhile (the baseline stays in the change log). */
export async function writeLookupBaseline(state: StateStorage, baseline: LookupBaseline): Promise<boolean> {
  const { useCase, key, at, head } = baseline;
  const eventId = `${CURRENT_STATE_EVENT_PREFIX}${baseline.source}:${key}:${at}`;
  await state.putStateChange(useCase, key, { at, eventId, kind: 'baseline', partial: false, after: baseline.state }, baseline.keepDays);
  return state.putSnapshot(useCase, key, { state: baseline.state, version: (head?.version ?? 0) + 1, updatedAt: at, lastEventId: eventId }, head?.version);
}
