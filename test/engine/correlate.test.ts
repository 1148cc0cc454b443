/**
 * The correlate kind through the real engine on dynalite: pending checks, re-judgement when records
 * arrive, the final judgement (settle), deferred findings reported on the claim's event, policy.
 */
import { describe, expect, it } from 'vitest';
import type { BuildwatchConfigInput } from '../../lambdas/config/config.js';
import type { Outcome } from '../../lambdas/engine/engine.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import { Engine } from '../../lambdas/engine/engine.js';
import { toPipelineEvent, type PipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { MemoryFindingsStore } from '../../lambdas/store/memory/memory-findings-store.js';
import { MemoryStateStore } from '../../lambdas/store/memory/memory-state-store.js';
import { defineUseCase, type CorrelateVerdict, type UseCase } from '../../lambdas/engine/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();

/** A minimal correlate use case: records and claims carry a `value`; a claim is satisfied by a record with it. */
function probe(options: { deadline?: number; judge?: (found: boolean, final: boolean) => CorrelateVerdict; wants?: boolean; judged?: string[]; seen?: PipelineEvent[] } = {}): UseCase {
  return defineUseCase({
    metadata: {
      id: 'artifact.probe-correlate',
      answers: 'artifact.hash-mismatch',
      title: 'Probe correlate use case',
      stage: 'artifact',
      description: 'Joins records and claims on a value, for engine tests.',
      severity: 'high',
      defaultMode: 'alert',
      riskReduction: 1,
      effort: 1,
      mitre: ['T1195.002'],
      falsePositives: ['none'],
      runbook: 'nothing to do, it is a probe',
    },
    pattern: { source: ['test.correlate'] },
    logic: {
      kind: 'correlate',
      inputs: (event) => {
        const value = String(event.detail['value']);
        return event.detail['kind'] === 'record'
          ? { records: [{ join: 'j', id: event.id, keys: [value], data: { value } }] }
          : { claims: [{ join: 'j', subject: `subject-${value}`, data: { value }, ...(options.wants ? { wants: [value] } : {}) }] };
      },
      deadlineMinutes: () => options.deadline ?? 60,
      judge: async (facts, event) => {
        options.judged?.push(String(facts.claim.data['value']));
        options.seen?.push(event);
        const found = (await facts.records.withKey(String(facts.claim.data['value']))).length > 0;
        if (options.judge) return options.judge(found, facts.final);
        if (found) return { status: 'settled', observations: [{ summary: `matched ${String(facts.claim.data['value'])}`, attestation: true, severity: 'info', incidentKey: `ok-${String(facts.claim.data['value'])}` }] };
        if (!facts.final) return { status: 'wait' };
        return { status: 'settled', observations: [{ summary: `nothing produced ${String(facts.claim.data['value'])}`, incidentKey: String(facts.claim.data['value']) }] };
      },
    },
  });
}

function native(id: string, time: string, kind: 'record' | 'claim', value: string, extra: Record<string, unknown> = {}): EventBridgeEvent {
  return { version: '0', id, 'detail-type': 'Probe', source: 'test.correlate', account: '111122223333', time, region: 'eu-west-1', resources: [], detail: { kind, value, ...extra } };
}

/** A claim relayed by CloudTrail, with a principal and request parameters that must not be kept. */
function cloudTrailClaim(id: string, time: string, value: string): EventBridgeEvent {
  return {
    version: '0',
    id: `eb-${id}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'test.correlate',
    account: '111122223333',
    time,
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.10',
      eventTime: time,
      eventSource: 'codeartifact.amazonaws.com',
      eventName: 'PublishPackageVersion',
      eventID: id,
      awsRegion: 'eu-west-1',
      sourceIPAddress: '192.0.2.203',
      userAgent: 'aws-cli/1.18.69',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/svc-legacy-deploy', accountId: '111122223333', userName: 'svc-legacy-deploy' },
      requestParameters: { apiKey: 'sk_live_51HxxSECRETvalue0000000000', packageVersion: '1.0.0' },
      recipientAccountId: '111122223333',
      kind: 'claim',
      value,
    },
  };
}

const findings = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.status === 'finding' && o.created ? [o.finding] : []));

async function setup(useCase: UseCase, config: BuildwatchConfigInput = {}) {
  const stores = await dynamo.freshEngine(config);
  const run = async (event: EventBridgeEvent) => stores.engine.evaluate(useCase, toPipelineEvent(event));
  return { ...stores, run };
}

describe('correlate: pending checks and the records that settle them', () => {
  it('waits for the other side, then reports on the claim\'s event when a record arrives', async () => {
    const useCase = probe();
    const { run } = await setup(useCase);
    expect(findings(await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc')))).toEqual([]);
    const settled = findings(await run(native('record-1', '2026-11-03T10:00:30Z', 'record', 'abc')));
    expect(settled).toHaveLength(1);
    // The finding is about the claim, not about the record that settled it.
    expect(settled[0]).toMatchObject({ eventId: 'claim-1', eventTime: '2026-11-03T10:00:00Z', mode: 'attest', summary: 'matched abc' });
  });

  it('judges a claim at once when its record is already there', async () => {
    const { run } = await setup(probe());
    await run(native('record-1', '2026-11-03T09:00:00Z', 'record', 'abc'));
    expect(findings(await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc')))).toMatchObject([{ summary: 'matched abc' }]);
  });

  it('settles only checks whose deadline has passed at the given time, each once', async () => {
    const useCase = probe();
    const { run, engine } = await setup(useCase);
    await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc'));
    await run(native('claim-2', '2026-11-03T12:00:00Z', 'claim', 'def'));
    expect(findings(await engine.settle([useCase], '2026-11-03T10:59:59Z'))).toEqual([]);
    expect(findings(await engine.settle([useCase], '2026-11-03T11:00:00Z')).map((f) => f.summary)).toEqual(['nothing produced abc']);
    expect(await engine.settle([useCase], '2026-11-03T11:30:00Z')).toEqual([]);
    // The end of a replay: every open check, whatever its deadline.
    expect(findings(await engine.settle([useCase])).map((f) => f.summary)).toEqual(['nothing produced def']);
  });

  it('leaves a claim older than the deadline to the final judgement, which still sees the late record', async () => {
    const useCase = probe();
    const { run, engine } = await setup(useCase);
    await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc'));
    // Two hours later: outside the window a record re-judges, so no verdict from it.
    expect(findings(await run(native('record-1', '2026-11-03T12:00:00Z', 'record', 'abc')))).toEqual([]);
    expect(findings(await engine.settle([useCase]))).toMatchObject([{ summary: 'matched abc', eventId: 'claim-1' }]);
  });

  it('judges at once when the deadline is zero', async () => {
    const { run } = await setup(probe({ deadline: 0 }));
    expect(findings(await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc')))).toMatchObject([{ summary: 'nothing produced abc', severity: 'high', mode: 'alert' }]);
  });

  it('settles a check that still wants to wait at its final judgement, quietly', async () => {
    const useCase = probe({ judge: () => ({ status: 'wait' }) });
    const { run, engine } = await setup(useCase);
    await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc'));
    expect(await engine.settle([useCase])).toEqual([{ status: 'skipped', useCase: 'artifact.probe-correlate', reason: 'no verdict by the deadline' }]);
    expect(await engine.settle([useCase])).toEqual([]);
  });

  it('does not reopen a settled check when its claim is delivered again, and the ledger drops the repeat', async () => {
    const useCase = probe();
    const { run, engine } = await setup(useCase);
    const claim = native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc');
    await run(claim);
    expect(findings(await engine.settle([useCase]))).toHaveLength(1);
    await run(claim);
    const again = await engine.settle([useCase]);
    expect(again.every((o) => o.status === 'finding' && !o.created)).toBe(true);
  });
});

describe('correlate: what a record judges again', () => {
  it('judges again only the pending checks that want one of the record\'s keys', async () => {
    const judged: string[] = [];
    const { run } = await setup(probe({ wants: true, judged }));
    for (const value of ['a', 'b', 'c']) await run(native(`claim-${value}`, '2026-11-03T10:00:00Z', 'claim', value));
    judged.length = 0;
    for (let i = 0; i < 5; i += 1) expect(findings(await run(native(`other-${i}`, '2026-11-03T10:01:00Z', 'record', `x${i}`)))).toEqual([]);
    expect(judged).toEqual([]);
    expect(findings(await run(native('record-b', '2026-11-03T10:02:00Z', 'record', 'b')))).toMatchObject([{ summary: 'matched b', eventId: 'claim-b' }]);
    expect(judged).toEqual(['b']);
  });

  it('judges a check that does not say what it wants again with any record of its join key', async () => {
    const judged: string[] = [];
    const { run } = await setup(probe({ judged }));
    await run(native('claim-a', '2026-11-03T10:00:00Z', 'claim', 'a'));
    judged.length = 0;
    await run(native('other', '2026-11-03T10:01:00Z', 'record', 'x'));
    expect(judged).toEqual(['a']);
  });

  it('costs a record the same store calls however many checks are open around it', async () => {
    const costOfRecord = async (openChecks: number): Promise<number> => {
      const { run, state } = await setup(probe({ wants: true }));
      for (let i = 0; i < openChecks; i += 1) await run(native(`claim-${i}`, '2026-11-03T10:00:00Z', 'claim', `v${i}`));
      const before = state.calls;
      await run(native('record', '2026-11-03T10:01:00Z', 'record', 'unwanted'));
      return state.calls - before;
    };
    // One batch write of its items and one query for the checks that want it.
    expect(await costOfRecord(1)).toBe(2);
    expect(await costOfRecord(12)).toBe(2);
  });
});

describe('correlate: policy and storage', () => {
  it('applies suppressions to deferred findings, with the claim\'s principal', async () => {
    const useCase = probe();
    const { run, engine } = await setup(useCase, {
      suppressions: [{ useCase: 'artifact.probe-correlate', principal: 'arn:aws:iam::111122223333:user/svc-legacy-deploy', expires: '2027-01-31', reason: 'migration' }],
    });
    await run(cloudTrailClaim('ct-1', '2026-11-03T10:00:00Z', 'abc'));
    const outcomes = await engine.settle([useCase]);
    expect(outcomes).toEqual([{ status: 'skipped', useCase: 'artifact.probe-correlate', reason: 'suppressed until 2027-01-31: migration' }]);
  });

  it('reports a deferred CloudTrail claim with its principal, address and event id', async () => {
    const useCase = probe();
    const { run, engine } = await setup(useCase);
    await run(cloudTrailClaim('ct-1', '2026-11-03T10:00:00Z', 'abc'));
    expect(findings(await engine.settle([useCase]))).toMatchObject([
      { eventId: 'eb-ct-1', principal: 'arn:aws:iam::111122223333:user/svc-legacy-deploy', sourceIp: '192.0.2.203', userAgent: 'aws-cli/1.18.69', account: '111122223333', region: 'eu-west-1' },
    ]);
  });

  it('judges a check again on the claim\'s parsed event in process, on its slim stored copy on DynamoDB, with the same finding', async () => {
    const deferred = async (inProcess: boolean) => {
      const seen: PipelineEvent[] = [];
      const useCase = probe({ seen });
      const stores = inProcess
        ? { state: new MemoryStateStore(), findings: new MemoryFindingsStore(undefined, { amendableDay: () => true }) }
        : await dynamo.freshStores();
      const engine = new Engine({ config: parseConfig({}), lookups: noLookups, state: stores.state, findings: stores.findings, clock: () => new Date('2026-11-01T00:00:00Z') });
      const claim = toPipelineEvent(cloudTrailClaim('ct-1', '2026-11-03T10:00:00Z', 'abc'));
      await engine.evaluate(useCase, claim);
      const outcomes = await engine.evaluate(useCase, toPipelineEvent(native('record-1', '2026-11-03T10:00:30Z', 'record', 'abc')));
      return { claim, rejudgedOn: seen[1], found: findings(outcomes) };
    };
    const inProcess = await deferred(true);
    const onDynamo = await deferred(false);
    // In process the check keeps the claim's own event: nothing is parsed again.
    expect(inProcess.rejudgedOn).toBe(inProcess.claim);
    // On DynamoDB it is rebuilt from the stored copy, which keeps no request parameters.
    expect(onDynamo.rejudgedOn?.cloudTrail?.requestParameters).toBeUndefined();
    expect(onDynamo.rejudgedOn?.principal).toEqual(onDynamo.claim.principal);
    expect(inProcess.found).toHaveLength(1);
    expect(inProcess.found).toEqual(onDynamo.found);
  });

  it('keeps no request parameters of a CloudTrail claim and masks secrets of a native one', async () => {
    const useCase = probe();
    const { run, state } = await setup(useCase);
    await run(cloudTrailClaim('ct-1', '2026-11-03T10:00:00Z', 'abc'));
    await run(native('native-1', '2026-11-03T10:01:00Z', 'claim', 'def', { environmentVariables: [{ name: 'NPM_TOKEN', type: 'PLAINTEXT', value: 'npm_1Ejkul0GmchJmdrwkyU6XvbvbDYeXvq9xOQg' }] }));
    const stored = JSON.stringify(await state.openPendingChecks('artifact.probe-correlate'));
    expect(stored).not.toContain('sk_live_51HxxSECRETvalue0000000000');
    expect(stored).not.toContain('requestParameters');
    expect(stored).not.toContain('npm_1Ejkul0GmchJmdrwkyU6XvbvbDYeXvq9xOQg');
    expect(stored).toContain('svc-legacy-deploy');
  });

  it('neither evaluates nor settles a use case that is off', async () => {
    const useCase = probe();
    const { run, engine } = await setup(useCase, { useCases: { 'artifact.probe-correlate': { mode: 'off' } } });
    expect(await run(native('claim-1', '2026-11-03T10:00:00Z', 'claim', 'abc'))).toEqual([{ status: 'skipped', useCase: 'artifact.probe-correlate', reason: 'use case is off' }]);
    expect(await engine.settle([useCase])).toEqual([]);
  });
});
