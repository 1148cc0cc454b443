import { describe, expect, it } from 'vitest';
import { StateStore } from '../../lambdas/store/state-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { failOnce, InjectedTimeout, withLostResponses } from '../support/lost-responses.js';

const dynamo = useLocalDynamo();

const sighting = (value: string, at: string, eventId = `evt-${value}-${at}`) => ({
  useCase: 'source.new-pusher',
  scope: 'payments-service',
  value,
  at,
  eventId,
  forgetAfterDays: 90,
});

describe('StateStore first-seen', () => {
  it('says new once, then known', async () => {
    const { state } = await dynamo.freshStores();
    expect(await state.recordSighting(sighting('alice', '2026-10-01T09:00:00Z'))).toEqual({ status: 'new' });
    expect(await state.recordSighting(sighting('alice', '2026-10-01T10:00:00Z'))).toEqual({ status: 'known' });
    expect(await state.recordSighting(sighting('bob', '2026-10-01T10:00:00Z'))).toEqual({ status: 'new' });
  });

  it('lets exactly one of many concurrent first sightings win (one conditional write, no get-then-put)', async () => {
    const { tables } = await dynamo.freshStores();
    const { StateStore } = await import('../../lambdas/store/state-store.js');
    const { documentClient, localDynamoClient } = await import('../../lambdas/store/dynamo-clients.js');
    // Ten containers (separate stores, cold caches) race for the same key with different events.
    const containers = Array.from({ length: 10 }, () => new StateStore(documentClient(localDynamoClient(dynamo.endpoint())), tables.state));
    const results = await Promise.all(containers.map((store, i) => store.recordSighting(sighting('mallory', '2026-10-05T02:00:00Z', `evt-${i}`))));
    expect(results.filter((r) => r.status === 'new')).toHaveLength(1);
  });

  it('treats a redelivery of the first event as new again, so a crash before the finding write loses nothing', async () => {
    const { state } = await dynamo.freshStores();
    const first = sighting('mallory', '2026-10-05T02:00:00Z', 'evt-push-1');
    expect((await state.recordSighting(first)).status).toBe('new');
    expect((await state.recordSighting(first)).status).toBe('new');
    expect((await state.recordSighting({ ...first, eventId: 'evt-push-2' })).status).toBe('known');
  });

  it('forgets a value after forget-after days, checked on read even before TTL deletes the item', async () => {
    const { state } = await dynamo.freshStores();
    await state.recordSighting({ ...sighting('carol', '2026-01-01T09:00:00Z'), forgetAfterDays: 30 });
    expect((await state.recordSighting({ ...sighting('carol', '2026-01-20T09:00:00Z'), forgetAfterDays: 30 })).status).toBe('known');
    // Last seen 2026-01-20, so remembered until 2026-02-19.
    expect((await state.recordSighting({ ...sighting('carol', '2026-02-15T09:00:00Z'), forgetAfterDays: 30 })).status).toBe('known');
    expect((await state.recordSighting({ ...sighting('carol', '2026-04-01T09:00:00Z'), forgetAfterDays: 30 })).status).toBe('new');
  });

  it('refreshes lastSeen at most once a day and answers repeats from the container cache', async () => {
    const { state } = await dynamo.freshStores();
    await state.recordSighting(sighting('dave', '2026-10-01T08:00:00Z'));
    const before = state.calls;
    for (let hour = 9; hour < 18; hour += 1) await state.recordSighting(sighting('dave', `2026-10-01T${String(hour).padStart(2, '0')}:00:00Z`));
    expect(state.calls - before).toBe(0);
    await state.recordSighting(sighting('dave', '2026-10-02T09:00:00Z'));
    expect(state.calls - before).toBe(1);
  });

  it('a cold container refreshes a known key with one write and no read', async () => {
    const warm = await dynamo.freshStores();
    await warm.state.recordSighting(sighting('erin', '2026-10-01T08:00:00Z'));
    // Same table, new StateStore (empty cache), as a new Lambda container would be.
    const { StateStore } = await import('../../lambdas/store/state-store.js');
    const { documentClient, localDynamoClient } = await import('../../lambdas/store/dynamo-clients.js');
    const cold = new StateStore(documentClient(localDynamoClient(dynamo.endpoint())), warm.tables.state);
    expect((await cold.recordSighting(sighting('erin', '2026-10-03T08:00:00Z'))).status).toBe('known');
    expect(cold.calls).toBe(1);
  });
});

describe('StateStore first-seen with lost responses', () => {
  const isSightingWrite = (c: { name: string; input: Record<string, unknown> }) => c.name === 'UpdateCommand' && String((c.input['Key'] as Record<string, unknown>)['sk']).startsWith('v#');

  it('never caches an unanswered first sighting as known: the retried first event is still new', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const client = withLostResponses(doc, failOnce(isSightingWrite, 'after'));
    const store = new StateStore(client.doc, tables.state);
    const first = sighting('mallory', '2026-10-25T02:13:00Z', 'negotiation');
    await expect(store.recordSighting(first)).rejects.toBeInstanceOf(InjectedTimeout);
    // Another record of the same push finds the item written by the first one.
    expect((await store.recordSighting({ ...first, eventId: 'write' })).status).toBe('known');
    expect((await store.recordSighting(first)).status).toBe('new');
  });

  it('a forgotten value revived by a write whose answer was lost is new again on retry', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const client = withLostResponses(doc);
    const store = new StateStore(client.doc, tables.state);
    await store.recordSighting({ ...sighting('carol', '2026-01-01T09:00:00Z'), forgetAfterDays: 30 });
    const back = { ...sighting('carol', '2026-04-01T09:00:00Z', 'back'), forgetAfterDays: 30 };
    // The write that makes this event the first sighting again fails, before or after landing:
    // nothing may have refreshed the item without also naming this event as its first sighting.
    for (const when of ['before', 'after'] as const) {
      client.plan = failOnce((c) => isSightingWrite(c) && String(c.input['UpdateExpression']).includes('firstEventId = :eventId'), when);
      await expect(store.recordSighting(back)).rejects.toBeInstanceOf(InjectedTimeout);
    }
    client.plan = () => 'none';
    const cold = new StateStore(doc, tables.state);
    expect((await cold.recordSighting(back)).status).toBe('new');
    expect((await store.recordSighting(back)).status).toBe('new');
    expect((await store.recordSighting({ ...back, eventId: 'later' })).status).toBe('known');
  });
});

describe('StateStore scopes and counts', () => {
  it('keeps the earliest watchedSince of a scope', async () => {
    const { state } = await dynamo.freshStores();
    expect(await state.scopeWatchedSince('u', 'repo', '2026-10-05T00:00:00Z')).toBe('2026-10-05T00:00:00Z');
    expect(await state.scopeWatchedSince('u', 'repo', '2026-10-09T00:00:00Z')).toBe('2026-10-05T00:00:00Z');
    // An older event (backfill, out-of-order delivery) moves the start back.
    expect(await state.scopeWatchedSince('u', 'repo', '2026-10-01T00:00:00Z')).toBe('2026-10-01T00:00:00Z');
  });

  it('counts the values a scope remembers, excluding forgotten ones', async () => {
    const { state } = await dynamo.freshStores();
    await state.recordSighting({ ...sighting('a', '2026-01-01T00:00:00Z'), forgetAfterDays: 10 });
    await state.recordSighting(sighting('b', '2026-03-01T00:00:00Z'));
    await state.recordSighting(sighting('c', '2026-03-02T00:00:00Z'));
    expect(await state.countValues('source.new-pusher', 'payments-service', '2026-03-03T00:00:00Z')).toBe(2);
  });
});

describe('StateStore snapshots', () => {
  it('writes optimistically: a stale version loses', async () => {
    const { state } = await dynamo.freshStores();
    const snap = { state: { image: 'a' }, version: 1, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' };
    expect(await state.putSnapshot('build.project-drift', 'project/p', snap, undefined)).toBe(true);
    expect(await state.putSnapshot('build.project-drift', 'project/p', snap, undefined)).toBe(false);
    expect(await state.putSnapshot('build.project-drift', 'project/p', { ...snap, version: 2, state: { image: 'b' } }, 1)).toBe(true);
    expect(await state.putSnapshot('build.project-drift', 'project/p', { ...snap, version: 2, state: { image: 'c' } }, 1)).toBe(false);
    expect((await state.getSnapshot('build.project-drift', 'project/p'))?.state).toEqual({ image: 'b' });
  });
});
