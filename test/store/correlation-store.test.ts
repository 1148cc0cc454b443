/** The state store's correlate items: records by key and by time, pending checks, settling exactly once. */
import { describe, expect, it } from 'vitest';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { StateStore, type PendingCheck } from '../../lambdas/store/state-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();
const UC = 'artifact.hash-mismatch';

const build = (id: string, at: string, sha: string) => ({
  join: 'payments-service-build',
  id: `arn:aws:codebuild:eu-west-1:111122223333:build/payments-service-build:${id}`,
  at,
  keys: [sha, `build:${id}`],
  data: { project: 'payments-service-build', sha256: sha },
});

const check = (subject: string, claimedAt: string, deadline: string, eventId = `evt-${subject}`): PendingCheck => ({
  claim: { join: 'payments-service-build', subject, data: { assets: [{ name: 'app.zip', sha256: 'abc' }] } },
  claimedAt,
  deadline,
  eventId,
  event: { id: eventId, source: 'aws.codeartifact' },
});

describe('StateStore correlation records', () => {
  it('finds a record by each of its keys and by time, and never another join key', async () => {
    const { state } = await dynamo.freshStores();
    await state.putCorrelationRecord(UC, build('u1', '2026-11-03T10:00:00Z', 'aaa'), 90);
    await state.putCorrelationRecord(UC, build('u2', '2026-11-03T12:00:00Z', 'bbb'), 90);
    await state.putCorrelationRecord(UC, { ...build('u3', '2026-11-03T12:00:00Z', 'aaa'), join: 'other-build' }, 90);

    const byHash = await state.correlationRecordsWithKey(UC, 'payments-service-build', 'aaa', '2026-11-04T00:00:00Z');
    expect(byHash.map((r) => r.id)).toEqual([build('u1', '', '').id]);
    expect(byHash[0]).toMatchObject({ at: '2026-11-03T10:00:00Z', keys: ['aaa', 'build:u1'], data: { sha256: 'aaa' } });
    expect((await state.correlationRecordsWithKey(UC, 'payments-service-build', 'build:u2', '2026-11-04T00:00:00Z')).map((r) => r.data['sha256'])).toEqual(['bbb']);
    // A key that is a prefix of another must not match it.
    expect(await state.correlationRecordsWithKey(UC, 'payments-service-build', 'aa', '2026-11-04T00:00:00Z')).toEqual([]);

    const between = await state.correlationRecordsBetween(UC, 'payments-service-build', '2026-11-03T10:00:00Z', '2026-11-03T11:59:59Z', '2026-11-04T00:00:00Z');
    expect(between.map((r) => r.data['sha256'])).toEqual(['aaa']);
    const inclusive = await state.correlationRecordsBetween(UC, 'payments-service-build', '2026-11-03T10:00:00Z', '2026-11-03T12:00:00Z', '2026-11-04T00:00:00Z');
    expect(inclusive).toHaveLength(2);
  });

  it('forgets records after forget-after days, checked on read', async () => {
    const { state } = await dynamo.freshStores();
    await state.putCorrelationRecord(UC, build('u1', '2026-08-01T10:00:00Z', 'aaa'), 30);
    expect(await state.correlationRecordsWithKey(UC, 'payments-service-build', 'aaa', '2026-08-20T00:00:00Z')).toHaveLength(1);
    expect(await state.correlationRecordsWithKey(UC, 'payments-service-build', 'aaa', '2026-09-01T00:00:00Z')).toEqual([]);
  });
});

describe('StateStore pending checks', () => {
  it('lists open checks, all or one join key within a claimed-at range', async () => {
    const { state } = await dynamo.freshStores();
    await state.putPendingCheck(UC, check('pkg@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z'));
    await state.putPendingCheck(UC, check('pkg@2', '2026-11-03T14:00:00Z', '2026-11-03T15:00:00Z'));
    await state.putPendingCheck(UC, { ...check('other@1', '2026-11-03T10:30:00Z', '2026-11-03T11:30:00Z'), claim: { join: 'other-build', subject: 'other@1', data: {} } });

    expect((await state.openPendingChecks(UC)).map((c) => c.claim.subject).sort()).toEqual(['other@1', 'pkg@1', 'pkg@2']);
    const ranged = await state.openPendingChecks(UC, { join: 'payments-service-build', from: '2026-11-03T09:00:00Z', to: '2026-11-03T11:00:00Z' });
    expect(ranged).toEqual([check('pkg@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z')]);
  });

  it('settles a check exactly once, even with concurrent workers, and a redelivered claim does not reopen it', async () => {
    const { state, tables } = await dynamo.freshStores();
    const pending = check('pkg@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z');
    await state.putPendingCheck(UC, pending);
    const workers = Array.from({ length: 5 }, () => new StateStore(documentClient(localDynamoClient(dynamo.endpoint())), tables.state));
    const results = await Promise.all(workers.map((worker) => worker.settlePendingCheck(UC, pending, '2026-11-03T11:05:00Z')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await state.openPendingChecks(UC)).toEqual([]);

    await state.putPendingCheck(UC, pending);
    expect(await state.openPendingChecks(UC)).toEqual([]);
  });

  it('does not settle a check that was never recorded', async () => {
    const { state } = await dynamo.freshStores();
    expect(await state.settlePendingCheck(UC, check('ghost@1', '2026-11-03T10:00:00Z', '2026-11-03T11:00:00Z'), '2026-11-03T12:00:00Z')).toBe(false);
  });
});
