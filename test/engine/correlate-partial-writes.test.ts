/**
 * artifact.hash-mismatch under at-least-once delivery and store faults: a build's record is two items
 * (by hash, by time) written by one BatchWriteItem, which may land only in part, and the build's event
 * is retried or dead-lettered. A version that matches its build must never be judged a mismatch from
 * what is missing: only two known, different hashes make the CRITICAL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent, type PipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { buildRecord } from '../../lambdas/use-cases/artifact/builds.js';
import hashMismatch from '../../lambdas/use-cases/artifact/hash-mismatch/use-case.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { InjectedTimeout, withLostResponses, type SentCommand } from '../support/lost-responses.js';

const dynamo = useLocalDynamo();
const CASE = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases', 'artifact', 'hash-mismatch', 'cases', 'build-then-publish-matching-hash.json');
const spec = JSON.parse(readFileSync(CASE, 'utf8')) as { config: Record<string, unknown>; history: unknown[]; events: unknown[] };
const config = parseConfig(spec.config);
const [build, publish] = normaliseContent('case.json', JSON.stringify([...spec.history, ...spec.events])).events.map(toPipelineEvent) as [PipelineEvent, PipelineEvent];
const created = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.status === 'finding' && o.created ? [o.finding] : []));
const isRecordWrite = (c: SentCommand) => c.name === 'BatchWriteCommand';
const PROJECTS = new Set(['payments-service-build']);

/** The case's build again: another build of the same file, a minute earlier, with another hash. */
function otherBuildOfTheSameFile(): PipelineEvent {
  const envelope = structuredClone(build.envelope);
  const uuid = '0b5e1c11-2222-4333-8444-555566667777';
  const buildId = `arn:aws:codebuild:eu-west-1:111122223333:build/payments-service-build:${uuid}`;
  const detail = envelope.detail as Record<string, Record<string, Record<string, unknown>> & Record<string, unknown>>;
  Object.assign(envelope, { id: 'other-build', time: '2026-11-03T10:07:37Z', resources: [buildId] });
  detail['build-id'] = buildId as never;
  detail['additional-information']!['artifact']!['sha256sum'] = 'f'.repeat(64);
  return toPipelineEvent(envelope);
}

/** The items one BatchWriteItem of the case build's record would write (captured, not written). */
async function recordItems(stores: Awaited<ReturnType<typeof engineOn>>['stores']): Promise<Array<Record<string, unknown>>> {
  const capture = withLostResponses(stores.doc, (c) => (isRecordWrite(c) ? 'before' : 'none'));
  const record = buildRecord(build, PROJECTS);
  if (!record) throw new Error('the case build is a build record');
  await expect(new StateStore(capture.doc, stores.tables.state).putCorrelationRecord(hashMismatch.metadata.id, { ...record, at: build.time }, 90)).rejects.toBeInstanceOf(InjectedTimeout);
  const requests = (capture.log[0]?.input['RequestItems'] as Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>>)[stores.tables.state] ?? [];
  return requests.map((request) => request.PutRequest.Item);
}

async function engineOn(faulty: boolean) {
  const stores = await dynamo.freshStores();
  const client = withLostResponses(stores.doc);
  const doc = faulty ? client.doc : stores.doc;
  const engine = new Engine({
    config,
    lookups: noLookups,
    state: new StateStore(doc, stores.tables.state),
    findings: new FindingsStore(doc, stores.tables.findings, { amendableDay: () => true }),
    clock: () => new Date('2026-11-04T00:00:00Z'),
  });
  return { engine, client, stores };
}

describe('artifact.hash-mismatch: partial build records', () => {
  it('a build whose record writes keep failing (dead-lettered) never makes its matching version critical', async () => {
    const { engine, client } = await engineOn(true);
    // Every attempt loses the write of the build's items, before they land.
    client.plan = (c) => (isRecordWrite(c) ? 'before' : 'none');
    for (let attempt = 0; attempt < 5; attempt += 1) await expect(engine.evaluate(hashMismatch, build)).rejects.toBeInstanceOf(InjectedTimeout);
    expect(created(await engine.evaluate(hashMismatch, publish))).toEqual([]);
    const settled = created(await engine.settle([hashMismatch]));
    expect(settled.map((f) => f.severity)).not.toContain('critical');
    expect(settled.map((f) => f.title)).not.toContain('Artifact in the repository is not what the pipeline built');
  });

  it('a build write that fails once and is retried attests the version', async () => {
    const { engine, client } = await engineOn(true);
    let failed = 0;
    client.plan = (c) => (isRecordWrite(c) && failed++ === 0 ? 'before' : 'none');
    await expect(engine.evaluate(hashMismatch, build)).rejects.toBeInstanceOf(InjectedTimeout);
    // The publish arrives while the build's event waits for its retry.
    const meanwhile = created(await engine.evaluate(hashMismatch, publish));
    expect(meanwhile).toEqual([]);
    // The retry writes the record, and the waiting publish wants it: judged then, not at the deadline.
    const retried = created(await engine.evaluate(hashMismatch, build));
    const all = [...retried, ...created(await engine.settle([hashMismatch]))];
    expect(all.map((f) => `${f.severity}/${f.mode}`)).toEqual(['info/attest']);
  });

  it('writes a build record with one call, and whichever of its items landed, never judges its version a mismatch', async () => {
    for (const landed of ['k|', 't|']) {
      const { engine, stores } = await engineOn(false);
      const items = await recordItems(stores);
      expect(items.map((item) => String(item['sk']).slice(0, 2)).sort()).toEqual(['k|', 't|']);
      // Another build of the same file nearby, fully written: what a false mismatch would be judged against.
      await engine.evaluate(hashMismatch, otherBuildOfTheSameFile());
      for (const item of items.filter((i) => String(i['sk']).startsWith(landed))) await stores.doc.send(new PutCommand({ TableName: stores.tables.state, Item: item }));
      const outcomes = [...(await engine.evaluate(hashMismatch, publish)), ...(await engine.settle([hashMismatch]))];
      expect(created(outcomes).map((f) => `${f.severity}/${f.mode}`), `only the ${landed} item landed`).toEqual(['info/attest']);
    }
  });

  it('a publish from inside a build whose hash differs is critical as soon as that build is recorded, not at the deadline', async () => {
    const { engine } = await engineOn(false);
    const tampered = structuredClone(publish.envelope);
    const detail = tampered.detail as { requestParameters: Record<string, unknown>; responseElements: { asset: { hashes: Record<string, unknown> } } };
    detail.requestParameters['assetSHA256'] = 'e'.repeat(64);
    detail.responseElements.asset.hashes['SHA-256'] = 'e'.repeat(64);
    expect(created(await engine.evaluate(hashMismatch, toPipelineEvent(tampered)))).toEqual([]);
    // The build it was published from ends: it is what the claim wants (`build:<uuid>`), so it judges it at once.
    expect(created(await engine.evaluate(hashMismatch, build)).map((f) => f.severity)).toEqual(['critical']);
  });

  it('a build record found only by time, with the same hash, is a match at the final judgement', async () => {
    const { engine, stores } = await engineOn(false);
    const record = buildRecord(build, PROJECTS);
    if (!record) throw new Error('the case build is a build record');
    await stores.state.putCorrelationRecord(hashMismatch.metadata.id, { ...record, keys: [], at: build.time }, 90);
    const outcomes = [...(await engine.evaluate(hashMismatch, publish)), ...(await engine.settle([hashMismatch]))];
    expect(created(outcomes).map((f) => `${f.severity}/${f.mode}`)).toEqual(['info/attest']);
  });
});
