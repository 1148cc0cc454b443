/**
 * The store contract's cases, run against every kit (kits.ts): the same writes must give the same
 * answers from the DynamoDB stores, the in-process store, and the table the in-process store flushed.
 */
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lambdas/engine/model.js';
import type { JsonObject } from '../../../lambdas/engine/use-case.js';
import type { PendingCheck, StateChange } from '../../../lambdas/store/state-store.js';
import { finding, type OpenKit } from './kits.js';

const FIRST_SEEN = 'source.new-pusher';
const DRIFT = 'build.project-drift';
const CORRELATE = 'artifact.hash-mismatch';
const JOIN = 'payments-service-build';

const sighting = (value: string, at: string, eventId = `evt-${value}-${at}`, forgetAfterDays = 90) => ({ useCase: FIRST_SEEN, scope: 'payments-service', value, at, eventId, forgetAfterDays });

const change = (at: string, eventId: string, after: Record<string, unknown>, kind: 'event' | 'baseline' = 'event'): StateChange => ({
  at,
  eventId,
  kind,
  ...(kind === 'event' ? { report: after as JsonObject } : {}),
  partial: false,
  after: after as JsonObject,
});

const build = (id: string, at: string, sha: string, join = JOIN) => ({
  join,
  id: `arn:aws:codebuild:eu-west-1:111122223333:build/${join}:${id}`,
  at,
  keys: [sha, `build:${id}`],
  data: { project: join, sha256: sha },
});

const check = (subject: string, claimedAt: string, deadline: string, eventId = `evt-${subject}`, join = JOIN): PendingCheck => ({
  claim: { join, subject, data: { assets: [{ name: 'app.zip', sha256: 'abc' }] } },
  claimedAt,
  deadline,
  eventId,
  event: { id: eventId, source: 'aws.codeartifact' },
});

export function conformanceCases(open: OpenKit): void {
  describe('first-seen values', () => {
    it('says new once, known after; a redelivery of the first event is new again', async () => {
      const kit = await open();
      expect(await kit.state.recordSighting(sighting('alice', '2026-10-01T09:00:00Z', 'e1'))).toEqual({ status: 'new' });
      expect(await kit.state.recordSighting(sighting('alice', '2026-10-01T10:00:00Z', 'e2'))).toEqual({ status: 'known' });
      expect(await kit.state.recordSighting(sighting('alice', '2026-10-01T09:00:00Z', 'e1'))).toEqual({ status: 'new' });
      expect(await kit.state.recordSighting(sighting('alice', '2026-10-03T09:00:00Z', 'e3'))).toEqual({ status: 'known' });
      const reader = (await kit.reader()).state;
      expect(await reader.recordSighting(sighting('alice', '2026-10-04T09:00:00Z', 'e4'))).toEqual({ status: 'known' });
      expect(await reader.recordSighting(sighting('alice', '2026-10-01T09:00:00Z', 'e1'))).toEqual({ status: 'new' });
    });

    it('forgets a value after forget-after days from its last sighting (checked on read), and revives it as new', async () => {
      const kit = await open();
      await kit.state.recordSighting(sighting('carol', '2026-01-01T09:00:00Z', 'c1', 30));
      expect(await kit.state.recordSighting(sighting('carol', '2026-01-20T09:00:00Z', 'c2', 30))).toEqual({ status: 'known' });
      expect(await kit.state.recordSighting(sighting('carol', '2026-02-15T09:00:00Z', 'c3', 30))).toEqual({ status: 'known' });
      expect(await kit.state.recordSighting(sighting('carol', '2026-04-01T09:00:00Z', 'c4', 30))).toEqual({ status: 'new' });
      const reader = (await kit.reader()).state;
      expect(await reader.recordSighting(sighting('carol', '2026-04-01T09:00:00Z', 'c4', 30))).toEqual({ status: 'new' });
      expect(await reader.recordSighting(sighting('carol', '2026-04-02T09:00:00Z', 'c5', 30))).toEqual({ status: 'known' });
    });

    it('keeps the earliest watchedSince of a scope and counts only the values not forgotten', async () => {
      const kit = await open();
      expect(await kit.state.scopeWatchedSince(FIRST_SEEN, 'repo', '2026-10-05T00:00:00Z')).toBe('2026-10-05T00:00:00Z');
      expect(await kit.state.scopeWatchedSince(FIRST_SEEN, 'repo', '2026-10-09T00:00:00Z')).toBe('2026-10-05T00:00:00Z');
      expect(await kit.state.scopeWatchedSince(FIRST_SEEN, 'repo', '2026-10-01T00:00:00Z')).toBe('2026-10-01T00:00:00Z');
      await kit.state.recordSighting(sighting('a', '2026-01-01T00:00:00Z', 'a1', 10));
      await kit.state.recordSighting(sighting('z', '2026-01-02T00:00:00Z'));
      expect(await (await kit.reader()).state.countValues(FIRST_SEEN, 'payments-service', '2026-01-05T00:00:00Z')).toBe(2);
      await kit.state.recordSighting(sighting('b', '2026-03-01T00:00:00Z'));
      await kit.state.recordSighting(sighting('c', '2026-03-02T00:00:00Z'));
      const reader = (await kit.reader()).state;
      expect(await reader.scopeWatchedSince(FIRST_SEEN, 'repo', '2026-10-02T00:00:00Z')).toBe('2026-10-01T00:00:00Z');
      expect(await reader.countValues(FIRST_SEEN, 'payments-service', '2026-03-03T00:00:00Z')).toBe(3);
      expect(await reader.countValues(FIRST_SEEN, 'another-scope', '2026-03-03T00:00:00Z')).toBe(0);
    });

    it('keeps the earliest enabledSince of a use case', async () => {
      const kit = await open();
      expect(await kit.state.enabledSince(FIRST_SEEN, '2026-10-05T00:00:00Z')).toBe('2026-10-05T00:00:00Z');
      expect(await kit.state.enabledSince(FIRST_SEEN, '2026-10-07T00:00:00Z')).toBe('2026-10-05T00:00:00Z');
      expect(await kit.state.enabledSince(FIRST_SEEN, '2026-10-02T00:00:00Z')).toBe('2026-10-02T00:00:00Z');
      expect(await (await kit.reader()).state.enabledSince(FIRST_SEEN, '2026-10-03T00:00:00Z')).toBe('2026-10-02T00:00:00Z');
    });
  });

  describe('drift snapshots and change logs', () => {
    it('writes the head optimistically: a second create and a stale version lose', async () => {
      const kit = await open();
      const snap = { state: { image: 'a' }, version: 1, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' };
      expect(await kit.state.getSnapshot(DRIFT, 'project/p')).toBeUndefined();
      expect(await kit.state.putSnapshot(DRIFT, 'project/p', snap, undefined)).toBe(true);
      expect(await kit.state.putSnapshot(DRIFT, 'project/p', snap, undefined)).toBe(false);
      expect(await kit.state.putSnapshot(DRIFT, 'project/p', { ...snap, version: 2, state: { image: 'b' } }, 1)).toBe(true);
      expect(await kit.state.putSnapshot(DRIFT, 'project/p', { ...snap, version: 2, state: { image: 'c' } }, 1)).toBe(false);
      expect(await (await kit.reader()).state.getSnapshot(DRIFT, 'project/p')).toEqual({ state: { image: 'b' }, version: 2, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' });
    });

    it('advances the head only from the position it sits at, counting versions', async () => {
      const kit = await open();
      await kit.state.putSnapshot(DRIFT, 'project/p', { state: { image: 'a' }, version: 1, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' }, undefined);
      const at1 = { at: '2026-10-01T00:00:00Z', eventId: 'e1', kind: 'event' as const };
      expect(await kit.state.advanceSnapshot(DRIFT, 'project/p', at1, { state: { image: 'b' }, at: '2026-10-02T00:00:00Z', eventId: 'e2' })).toBe(true);
      // Still at e1? No: a writer computing from e1 again loses.
      expect(await kit.state.advanceSnapshot(DRIFT, 'project/p', at1, { state: { image: 'x' }, at: '2026-10-03T00:00:00Z', eventId: 'e3' })).toBe(false);
      expect(await kit.state.advanceSnapshot(DRIFT, 'project/none', at1, { state: { image: 'x' }, at: '2026-10-03T00:00:00Z', eventId: 'e3' })).toBe(false);
      expect(await (await kit.reader()).state.getSnapshot(DRIFT, 'project/p')).toEqual({ state: { image: 'b' }, version: 2, updatedAt: '2026-10-02T00:00:00Z', lastEventId: 'e2' });
      expect(await (await kit.reader()).state.getSnapshot(DRIFT, 'project/none')).toBeUndefined();
    });

    it('orders the change log by event time, a baseline before its event, then event id, whatever the write order', async () => {
      const kit = await open();
      await kit.state.putStateChange(DRIFT, 'project/p', change('2026-10-03T00:00:00Z', 'e3', { image: 'c' }), 90);
      await kit.state.putStateChange(DRIFT, 'project/p', change('2026-10-01T00:00:00Z', 'e1', { image: 'a' }), 90);
      await kit.state.putStateChange(DRIFT, 'project/p', change('2026-10-02T00:00:00Z', 'e2', { image: 'b' }), 90);
      await kit.state.putStateChange(DRIFT, 'project/p', change('2026-10-02T00:00:00Z', 'e2', { image: 'base' }, 'baseline'), 90);
      // Idempotent: the same position again rewrites the same item.
      await kit.state.putStateChange(DRIFT, 'project/p', change('2026-10-01T00:00:00Z', 'e1', { image: 'a' }), 90);
      const reader = (await kit.reader()).state;
      const e2 = { at: '2026-10-02T00:00:00Z', eventId: 'e2', kind: 'event' as const };
      const around = await reader.stateChangesAround(DRIFT, 'project/p', e2);
      expect(around.own?.after).toEqual({ image: 'b' });
      expect(around.prior).toMatchObject({ kind: 'baseline', after: { image: 'base' } });
      const late = await reader.stateChangesAround(DRIFT, 'project/p', { at: '2026-10-01T12:00:00Z', eventId: 'late', kind: 'event' });
      expect(late.own).toBeUndefined();
      expect(late.prior).toEqual(change('2026-10-01T00:00:00Z', 'e1', { image: 'a' }));
      expect(await reader.stateChangesAround(DRIFT, 'project/p', { at: '2026-09-01T00:00:00Z', eventId: 'early', kind: 'event' })).toEqual({});
      expect((await reader.stateChangeAtOrBefore(DRIFT, 'project/p', '2026-10-02T23:59:59Z'))?.eventId).toBe('e2');
      expect((await reader.stateChangeAtOrBefore(DRIFT, 'project/p', '2026-10-05T00:00:00Z'))?.after).toEqual({ image: 'c' });
      expect(await reader.stateChangeAtOrBefore(DRIFT, 'project/p', '2026-09-30T00:00:00Z')).toBeUndefined();
      const between = await reader.stateChangesBetween(DRIFT, 'project/p', { at: '2026-10-01T00:00:00Z', eventId: 'e1', kind: 'event' }, { at: '2026-10-03T00:00:00Z', eventId: 'e3', kind: 'event' });
      expect(between.map((c) => `${c.kind}:${c.eventId}`)).toEqual(['baseline:e2', 'event:e2', 'event:e3']);
    });

    it('stores event keys as data (__proto__, constructor, empty) and drops undefined values, as a DynamoDB round trip does', async () => {
      const kit = await open();
      const state: Record<string, unknown> = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c", "": "empty", "tags": {"__proto__": "p"}}');
      state['gone'] = undefined;
      await kit.state.putStateChange(DRIFT, 'project/keys', change('2026-10-01T00:00:00Z', 'e1', state), 90);
      await kit.state.putSnapshot(DRIFT, 'project/keys', { state: state as never, version: 1, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' }, undefined);
      const reader = (await kit.reader()).state;
      const expected = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c", "": "empty", "tags": {"__proto__": "p"}}');
      const stored = (await reader.stateChangeAtOrBefore(DRIFT, 'project/keys', '2026-10-02T00:00:00Z'))?.after;
      expect(stored).toEqual(expected);
      expect(Object.keys(stored ?? {})).toEqual(Object.keys(expected));
      expect((await reader.getSnapshot(DRIFT, 'project/keys'))?.state).toEqual(expected);
      expect(Object.getPrototypeOf((await reader.getSnapshot(DRIFT, 'project/keys'))?.state)).toBe(Object.prototype);
    });

    it('keeps what was written whatever the caller does with its objects afterwards', async () => {
      const kit = await open();
      const state = { image: 'a', list: ['x'] };
      await kit.state.putSnapshot(DRIFT, 'project/m', { state, version: 1, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' }, undefined);
      state.image = 'changed';
      state.list.push('y');
      const read = await (await kit.reader()).state.getSnapshot(DRIFT, 'project/m');
      try {
        (read?.state as Record<string, unknown>)['image'] = 'mutated by a reader';
      } catch {
        // A frozen stored copy refuses; a DynamoDB read is the reader's own copy. Either way the store keeps its item.
      }
      expect((await (await kit.reader()).state.getSnapshot(DRIFT, 'project/m'))?.state).toEqual({ image: 'a', list: ['x'] });
    });

    it('fits an oversized state under the item limit, the same way', async () => {
      const kit = await open();
      const huge = { policy: 'p'.repeat(500_000), other: Array.from({ length: 50 }, (_, i) => `${i}-${'q'.repeat(20_000)}`) };
      await kit.state.putStateChange(DRIFT, 'project/big', change('2026-10-01T00:00:00Z', 'e1', huge), 90);
      expect(await kit.state.putSnapshot(DRIFT, 'project/big', { state: huge, version: 1, updatedAt: '2026-10-01T00:00:00Z', lastEventId: 'e1' }, undefined)).toBe(true);
      const reader = (await kit.reader()).state;
      const after = (await reader.stateChangeAtOrBefore(DRIFT, 'project/big', '2026-10-01T00:00:00Z'))?.after as Record<string, unknown>;
      expect(JSON.stringify(after).length).toBeLessThan(400_000);
      expect(String(after['policy'])).toMatch(/^p+…\[cut from \d+ chars, sha256:[0-9a-f]{12}\]$/);
      expect(JSON.stringify((await reader.getSnapshot(DRIFT, 'project/big'))?.state).length).toBeLessThan(400_000);
    });
  });

  describe('dedup windows', () => {
    const window = { findingId: 'f1', firstEventId: 'e1', start: '2026-10-01T10:00:00Z', windowMinutes: 60 };

    it('opens a window once, replaces it only at the version read, and marks each repeat once', async () => {
      const kit = await open();
      expect(await kit.state.getDedupWindow(FIRST_SEEN, 'k')).toBeUndefined();
      expect(await kit.state.putDedupWindow(FIRST_SEEN, 'k', window, undefined)).toBe(true);
      expect(await kit.state.putDedupWindow(FIRST_SEEN, 'k', { ...window, findingId: 'other' }, undefined)).toBe(false);
      expect(await kit.state.putDedupWindow(FIRST_SEEN, 'k', { ...window, findingId: 'f2', start: '2026-10-01T12:00:00Z' }, 1)).toBe(true);
      expect(await kit.state.putDedupWindow(FIRST_SEEN, 'k', { ...window, findingId: 'stale' }, 1)).toBe(false);
      expect(await kit.state.markRepeat(FIRST_SEEN, 'k', 'r1', window)).toEqual({ fresh: true, into: window.findingId });
      // Marked again while another window is current: the first mark's finding is named.
      expect(await kit.state.markRepeat(FIRST_SEEN, 'k', 'r1', { ...window, findingId: 'f2' })).toEqual({ fresh: false, into: window.findingId });
      const reader = (await kit.reader()).state;
      expect(await reader.getDedupWindow(FIRST_SEEN, 'k')).toEqual({ findingId: 'f2', firstEventId: 'e1', start: '2026-10-01T12:00:00Z', windowMinutes: 60, version: 2 });
      expect(await reader.markRepeat(FIRST_SEEN, 'k', 'r1', window)).toEqual({ fresh: false, into: window.findingId });
      expect(await reader.markRepeat(FIRST_SEEN, 'k', 'r2', window)).toEqual({ fresh: true, into: window.findingId });
      expect(await reader.getDedupWindow(FIRST_SEEN, 'other key')).toBeUndefined();
    });

    it('finds the windows opened within windowMinutes of a time, oldest first', async () => {
      const kit = await open();
      for (const [id, start] of [['w3', '2026-10-01T13:00:00Z'], ['w1', '2026-10-01T10:00:00Z'], ['w2', '2026-10-01T11:30:00Z'], ['far', '2026-10-02T10:00:00Z']] as const) {
        await kit.state.recordDedupWindow(FIRST_SEEN, 'k', { ...window, findingId: id, start });
      }
      await kit.state.recordDedupWindow(FIRST_SEEN, 'k', { ...window, findingId: 'w1', start: '2026-10-01T10:00:00Z' });
      const reader = (await kit.reader()).state;
      expect((await reader.dedupWindowsAround(FIRST_SEEN, 'k', '2026-10-01T11:00:00Z', 60)).map((w) => w.findingId)).toEqual(['w1', 'w2']);
      expect((await reader.dedupWindowsAround(FIRST_SEEN, 'k', '2026-10-01T12:15:00Z', 90)).map((w) => w.findingId)).toEqual(['w2', 'w3']);
      expect(await reader.dedupWindowsAround(FIRST_SEEN, 'k', '2026-10-05T00:00:00Z', 60)).toEqual([]);
      expect(await reader.dedupWindowsAround(FIRST_SEEN, 'k', '2026-10-01T10:10:00Z', 15)).toEqual([{ ...window, findingId: 'w1' }]);
    });
  });

  describe('correlation records and pending checks', () => {
    it('finds a record by each of its keys and by time (inclusive), never another join key, forgotten after forget-after', async () => {
      const kit = await open();
      await kit.state.putCorrelationRecord(CORRELATE, build('u1', '2026-11-03T10:00:00Z', 'aaa'), 90);
      await kit.state.putCorrelationRecord(CORRELATE, build('u2', '2026-11-03T12:00:00Z', 'bbb'), 90);
      await kit.state.putCorrelationRecord(CORRELATE, build('u3', '2026-11-03T12:00:00Z', 'aaa', 'other-build'), 90);
      await kit.state.putCorrelationRecord(CORRELATE, build('old', '2026-08-01T10:00:00Z', 'ccc'), 30);
      const reader = (await kit.reader()).state;
      const byHash = await reader.correlationRecordsWithKey(CORRELATE, JOIN, 'aaa', '2026-11-04T00:00:00Z');
      expect(byHash).toEqual([build('u1', '2026-11-03T10:00:00Z', 'aaa')]);
      expect(await reader.correlationRecordsWithKey(CORRELATE, JOIN, 'aa', '2026-11-04T00:00:00Z')).toEqual([]);
      expect((await reader.correlationRecordsBetween(CORRELATE, JOIN, '2026-11-03T10:00:00Z', '2026-11-03T11:59:59Z', '2026-11-04T00:00:00Z')).map((r) => r.data['sha256'])).toEqual(['aaa']);
      expect((await reader.correlationRecordsBetween(CORRELATE, JOIN, '2026-11-03T10:00:00Z', '2026-11-03T12:00:00Z', '2026-11-04T00:00:00Z')).map((r) => r.data['sha256'])).toEqual(['aaa', 'bbb']);
      expect(await reader.correlationRecordsWithKey(CORRELATE, JOIN, 'ccc', '2026-08-20T00:00:00Z')).toHaveLength(1);
      expect(await reader.correlationRecordsWithKey(CORRELATE, JOIN, 'ccc', '2026-09-01T00:00:00Z')).toEqual([]);
      expect(await reader.correlationRecordsBetween(CORRELATE, JOIN, '2026-08-01T00:00:00Z', '2026-08-02T00:00:00Z', '2026-09-01T00:00:00Z')).toEqual([]);
    });

    it('lists open checks (all, or one join key claimed within a range), settles each once, and a redelivered claim never reopens one', async () => {
      const kit = await open();
      const first = check('pkg@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z');
      await kit.state.putPendingCheck(CORRELATE, first);
      await kit.state.putPendingCheck(CORRELATE, check('pkg@2', '2026-11-03T14:00:00Z', '2026-11-03T15:00:00Z'));
      await kit.state.putPendingCheck(CORRELATE, check('other@1', '2026-11-03T10:30:00Z', '2026-11-03T11:30:00Z', 'evt-other', 'other-build'));
      // A redelivery with other data leaves the first write as it was.
      await kit.state.putPendingCheck(CORRELATE, { ...first, claim: { ...first.claim, data: { changed: true } } });
      let reader = (await kit.reader()).state;
      expect((await reader.openPendingChecks(CORRELATE)).map((c) => c.claim.subject).sort()).toEqual(['other@1', 'pkg@1', 'pkg@2']);
      expect(await reader.openPendingChecks(CORRELATE, { join: JOIN, from: '2026-11-03T09:00:00Z', to: '2026-11-03T11:00:00Z' })).toEqual([first]);
      expect(await reader.openPendingChecks(CORRELATE, { join: JOIN, from: '2026-11-03T10:00:00Z', to: '2026-11-03T10:00:00Z' })).toEqual([first]);

      expect(await kit.state.settlePendingCheck(CORRELATE, first, '2026-11-03T11:05:00Z')).toBe(true);
      expect(await kit.state.settlePendingCheck(CORRELATE, first, '2026-11-03T11:06:00Z')).toBe(false);
      expect(await kit.state.settlePendingCheck(CORRELATE, check('ghost@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z'), '2026-11-03T12:00:00Z')).toBe(false);
      await kit.state.putPendingCheck(CORRELATE, first);
      reader = (await kit.reader()).state;
      expect((await reader.openPendingChecks(CORRELATE)).map((c) => c.claim.subject).sort()).toEqual(['other@1', 'pkg@2']);
      expect(await reader.settlePendingCheck(CORRELATE, first, '2026-11-03T11:07:00Z')).toBe(false);
    });

    it('lists, for the keys of a record, only the open checks that want one of them or did not say what they want', async () => {
      const kit = await open();
      const wantsHash = { ...check('pkg@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z'), claim: { ...check('pkg@1', '', '').claim, wants: ['aaa', 'build:7'] } };
      const wantsOther = { ...check('pkg@2', '2026-11-03T10:10:00Z', '2026-11-03T11:10:00Z'), claim: { ...check('pkg@2', '', '').claim, wants: ['zzz'] } };
      const wantsNothing = { ...check('pkg@3', '2026-11-03T10:20:00Z', '2026-11-03T11:20:00Z'), claim: { ...check('pkg@3', '', '').claim, wants: [] } };
      const unsaid = check('pkg@4', '2026-11-03T10:30:00Z', '2026-11-03T11:30:00Z');
      for (const c of [wantsHash, wantsOther, wantsNothing, unsaid]) await kit.state.putPendingCheck(CORRELATE, c);
      await kit.state.putCorrelationRecord(CORRELATE, { ...build('7', '2026-11-03T10:05:00Z', 'aaa'), names: ['session:7'] }, 30);
      const reader = (await kit.reader()).state;
      const range = { join: JOIN, from: '2026-11-03T09:00:00Z', to: '2026-11-03T12:00:00Z' };
      expect((await reader.openPendingChecks(CORRELATE, { ...range, keys: ['aaa'] })).map((c) => c.claim.subject)).toEqual(['pkg@1', 'pkg@4']);
      expect((await reader.openPendingChecks(CORRELATE, { ...range, keys: ['build:7', 'nothing'] })).map((c) => c.claim.subject)).toEqual(['pkg@1', 'pkg@4']);
      expect((await reader.openPendingChecks(CORRELATE, { ...range, keys: [] })).map((c) => c.claim.subject)).toEqual(['pkg@4']);
      expect((await reader.openPendingChecks(CORRELATE, range)).map((c) => [c.claim.subject, c.claim.wants])).toEqual([
        ['pkg@1', ['aaa', 'build:7']],
        ['pkg@2', ['zzz']],
        ['pkg@3', []],
        ['pkg@4', undefined],
      ]);
      // Too many keys to filter on within DynamoDB's expression limit: every open check, callers filter.
      const many = Array.from({ length: 60 }, (_, i) => `hash-${i}`);
      expect((await reader.openPendingChecks(CORRELATE, { ...range, keys: many })).map((c) => c.claim.subject)).toEqual(['pkg@1', 'pkg@2', 'pkg@3', 'pkg@4']);
      // A record's names are kept with it but give it no way to be found.
      expect((await reader.correlationRecordsWithKey(CORRELATE, JOIN, 'aaa', '2026-11-04T00:00:00Z')).map((r) => r.id)).toHaveLength(1);
      expect(await reader.correlationRecordsWithKey(CORRELATE, JOIN, 'session:7', '2026-11-04T00:00:00Z')).toEqual([]);
    });

    it('orders sort keys by UTF-8 bytes as DynamoDB does (a character beyond U+FFFF after U+FFFF)', async () => {
      const kit = await open();
      const emoji = check('\u{1F600}pkg', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z', 'evt-emoji');
      const private_ = check('\ue000pkg', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z', 'evt-private');
      await kit.state.putPendingCheck(CORRELATE, emoji);
      await kit.state.putPendingCheck(CORRELATE, private_);
      const reader = (await kit.reader()).state;
      // The range ends at `<join>|<to>|\uffff`: U+E000 sorts before it, U+1F600 after it.
      expect((await reader.openPendingChecks(CORRELATE, { join: JOIN, from: '2026-11-03T10:00:00Z', to: '2026-11-03T10:00:00Z' })).map((c) => c.eventId)).toEqual(['evt-private']);
      expect((await reader.openPendingChecks(CORRELATE)).map((c) => c.eventId)).toEqual(['evt-private', 'evt-emoji']);
    });
  });

  describe('findings ledger', () => {
    it('writes a finding once: a second put of the same id is a duplicate and changes nothing', async () => {
      const kit = await open();
      expect(await kit.findings.put(finding('f1', '2026-10-26T03:10:00Z'))).toBe('created');
      expect(await kit.findings.put(finding('f1', '2026-10-26T03:10:00Z', { summary: 'changed' }))).toBe('duplicate');
      const reader = (await kit.reader()).findings;
      expect(await reader.get('f1')).toEqual(finding('f1', '2026-10-26T03:10:00Z'));
      expect(await reader.put(finding('f1', '2026-10-26T03:10:00Z', { summary: 'again' }))).toBe('duplicate');
      expect(await reader.get('missing')).toBeUndefined();
    });

    it('amends a stored finding (content hash recomputed), says missing for none, and leaves a sealed day alone', async () => {
      const kit = await open({ amendableDay: (day) => day !== '2026-10-01' });
      await kit.findings.put(finding('f1', '2026-10-26T03:10:00Z'));
      await kit.findings.put(finding('sealed', '2026-10-01T03:10:00Z'));
      expect(await kit.findings.amend('f1', (stored) => ({ occurrences: (stored.occurrences ?? 1) + 1, lastSeen: '2026-10-26T03:20:00Z' }))).toBe('amended');
      expect(await kit.findings.amend('nope', () => ({ occurrences: 2, lastSeen: '2026-10-26T03:20:00Z' }))).toBe('missing');
      expect(await kit.findings.amend('sealed', () => ({ occurrences: 2, lastSeen: '2026-10-01T03:20:00Z' }))).toBe('sealed');
      const reader = (await kit.reader()).findings;
      const amended = await reader.get('f1');
      expect(amended).toMatchObject({ occurrences: 2, lastSeen: '2026-10-26T03:20:00Z' });
      expect(amended?.contentHash).not.toBe('0'.repeat(64));
      expect(await reader.amend('f1', (stored) => ({ occurrences: (stored.occurrences ?? 1) + 1, lastSeen: '2026-10-26T03:30:00Z' }))).toBe('amended');
      expect((await reader.get('f1'))?.occurrences).toBe(3);
      expect((await reader.get('sealed'))?.occurrences).toBeUndefined();
    });

    it('reads one day in event-time order', async () => {
      const kit = await open();
      await kit.findings.put(finding('late', '2026-10-26T23:00:00Z'));
      await kit.findings.put(finding('early', '2026-10-26T01:00:00Z'));
      await kit.findings.put(finding('other-day', '2026-10-27T01:00:00Z'));
      const reader = (await kit.reader()).findings;
      const day: string[] = [];
      for await (const item of reader.byDay('2026-10-26')) day.push(item.id);
      expect(day).toEqual(['early', 'late']);
      const none: string[] = [];
      for await (const item of reader.byDay('2026-10-28')) none.push(item.id);
      expect(none).toEqual([]);
    });

    it('reads a day of more than 100 findings (BatchGetItem takes 100 keys) whole, in event-time order, ties by id', async () => {
      const kit = await open();
      // 250 findings written out of order; pairs share an event time, so the tie order shows too.
      const written = Array.from({ length: 250 }, (_, i) => {
        const minute = Math.floor(((i * 37) % 250) / 2);
        const time = `2026-10-26T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00Z`;
        return finding(`f-${String((i * 101) % 250).padStart(3, '0')}`, time, { summary: `number ${i}` });
      });
      for (const f of written) await kit.findings.put(f);
      await kit.findings.put(finding('next-day', '2026-10-27T00:00:00Z'));
      const reader = (await kit.reader()).findings;
      const read: { id: string; eventTime: string; summary: string }[] = [];
      for await (const item of reader.byDay('2026-10-26')) read.push({ id: item.id, eventTime: item.eventTime, summary: item.summary });
      const expected = written
        .map((f) => ({ id: f.id, eventTime: f.eventTime, summary: f.summary }))
        .sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      expect(read).toHaveLength(250);
      expect(read).toEqual(expected);
    });

    it('reads a day with each finding at its latest version (an amended one as amended)', async () => {
      const kit = await open();
      await kit.findings.put(finding('f1', '2026-10-26T03:10:00Z'));
      await kit.findings.put(finding('f2', '2026-10-26T04:10:00Z'));
      expect(await kit.findings.amend('f1', () => ({ occurrences: 2, lastSeen: '2026-10-26T03:20:00Z' }))).toBe('amended');
      const reader = (await kit.reader()).findings;
      expect(await reader.amend('f1', () => ({ occurrences: 3, lastSeen: '2026-10-26T03:30:00Z' }))).toBe('amended');
      const latest = await reader.get('f1');
      const day: Finding[] = [];
      for await (const item of reader.byDay('2026-10-26')) day.push(item);
      expect(day.map((f) => f.id)).toEqual(['f1', 'f2']);
      expect(day[0]).toMatchObject({ occurrences: 3, lastSeen: '2026-10-26T03:30:00Z' });
      expect(day[0]?.contentHash).toBe(latest?.contentHash);
      expect(day[0]?.contentHash).not.toBe('0'.repeat(64));
    });
  });
}
