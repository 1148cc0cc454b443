/** Late changes fill in only what newer changes did not touch; keys from events are data. */
import { describe, expect, it } from 'vitest';
import { applyLateChange } from '../../lambdas/engine/state-history.js';
import type { JsonObject } from '../../lambdas/engine/use-case.js';
import type { StateChange } from '../../lambdas/store/state-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const change = (at: string, report: JsonObject, partial = true): StateChange => ({ at, eventId: `e-${at}`, kind: 'event', report, partial, after: {} });

describe('applyLateChange', () => {
  it('applies the late paths no newer change touched, keeps every newer value', () => {
    const before: JsonObject = { description: 'a', environment: { image: '6.0', privilegedMode: false } };
    const after: JsonObject = { description: 'b', environment: { image: '6.1', privilegedMode: false } };
    const head: JsonObject = { description: 'a', environment: { image: '7.0', privilegedMode: false } };
    const newer = [change('2026-10-20T00:00:00Z', { environment: { image: '7.0' } })];
    expect(applyLateChange(head, before, after, newer)).toEqual({ description: 'b', environment: { image: '7.0', privilegedMode: false } });
  });

  it('applies nothing under a newer whole state (a CreateProject replaces everything)', () => {
    const head: JsonObject = { description: 'c' };
    expect(applyLateChange(head, { description: 'a' }, { description: 'b', tags: { x: '1' } }, [change('2026-10-20T00:00:00Z', { description: 'c' }, false)])).toEqual(head);
  });

  it('treats __proto__ and constructor as ordinary keys', () => {
    const after = JSON.parse('{"tags":{"__proto__":"x","constructor":"y"}}') as JsonObject;
    const merged = applyLateChange({}, {}, after, []);
    expect(Object.keys(merged['tags'] as JsonObject).sort()).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    expect(Object.getPrototypeOf(merged['tags'])).toBe(Object.prototype);
  });
});

const dynamo = useLocalDynamo();

describe('StateStore change log', () => {
  it('orders changes by event time whatever the ISO spelling, a baseline just before its event', async () => {
    const { state } = await dynamo.freshStores();
    const put = (at: string, eventId: string, kind: 'event' | 'baseline' = 'event') => state.putStateChange('u', 'k', { at, eventId, kind, partial: false, after: { at, kind } }, 90);
    await put('2026-10-01T10:00:21Z', 'later');
    await put('2026-10-01T10:00:21.5Z', 'latest');
    await put('2026-10-01T10:00:20.900Z', 'earlier');
    await put('2026-10-01T10:00:21Z', 'later', 'baseline');
    expect((await state.stateChangeAtOrBefore('u', 'k', '2026-10-01T10:00:21.2Z'))?.eventId).toBe('later');
    expect((await state.stateChangeAtOrBefore('u', 'k', '2026-10-01T10:00:20Z'))).toBeUndefined();
    const around = await state.stateChangesAround('u', 'k', { at: '2026-10-01T10:00:21Z', eventId: 'later', kind: 'event' });
    expect([around.own?.eventId, around.prior?.kind]).toEqual(['later', 'baseline']);
    const between = await state.stateChangesBetween('u', 'k', { at: '2026-10-01T10:00:20.900Z', eventId: 'earlier', kind: 'event' }, { at: '2026-10-01T10:00:21.5Z', eventId: 'latest', kind: 'event' });
    expect(between.map((c) => `${c.kind}:${c.eventId}`)).toEqual(['baseline:later', 'event:later', 'event:latest']);
  });
});
