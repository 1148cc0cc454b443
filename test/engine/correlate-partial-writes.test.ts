/**
 * artifact.hash-mismatch under at-least-once delivery and store faults: a build's record is several
 * items (one per access path), so its writes can stop part-way, and the build's event is retried or
 * dead-lettered. A version that matches its build must never be judged a mismatch from what is
 * missing: only two known, different hashes make the CRITICAL.
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
const isRecordPut = (prefix: string) => (c: SentCommand) => c.name === 'PutCommand' && String((c.input['Item'] as Record<string, unknown>)['sk']).startsWith(prefix);

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
    // Every attempt loses the write of the build's hash and build-id items, before they land.
    client.plan = (c) => (isRecordPut('k|')(c) ? 'before' : 'none');
    for (let attempt = 0; attempt < 5; attempt += 1) await expect(engine.evaluate(hashMismatch, build)).rejects.toBeInstanceOf(InjectedTimeout);
    expect(created(await engine.evaluate(hashMismatch, publish))).toEqual([]);
    const settled = created(await engine.settle([hashMismatch]));
    expect(settled.map((f) => f.severity)).not.toContain('critical');
    expect(settled.map((f) => f.title)).not.toContain('Artifact in the repository is not what the pipeline built');
  });

  it('a build write that fails once and is retried attests the version', async () => {
    const { engine, client } = await engineOn(true);
    let failed = 0;
    client.plan = (c) => (isRecordPut('k|build:')(c) && failed++ === 0 ? 'before' : 'none');
    await expect(engine.evaluate(hashMismatch, build)).rejects.toBeInstanceOf(InjectedTimeout);
    // The publish arrives while the build's event waits for its retry.
    const meanwhile = created(await engine.evaluate(hashMismatch, publish));
    await engine.evaluate(hashMismatch, build);
    const all = [...meanwhile, ...created(await engine.settle([hashMismatch]))];
    expect(all.map((f) => `${f.severity}/${f.mode}`)).toEqual(['info/attest']);
  });

  it('a build record found only under its build id, with the same hash, is a match, not a mismatch', async () => {
    const { engine, stores } = await engineOn(false);
    const record = buildRecord(build, new Set(['payments-service-build']));
    if (!record) throw new Error('the case build is a build record');
    // Only the build-id item landed: the hash is in the item's data, not in its key.
    await stores.state.putCorrelationRecord(hashMismatch.metadata.id, { ...record, keys: record.keys.filter((k) => k.startsWith('build:')), at: build.time }, 90);
    const [finding] = created(await engine.evaluate(hashMismatch, publish));
    expect(finding).toMatchObject({ severity: 'info', mode: 'attest' });
  });

  it('a build record found only by time, with the same hash, is a match at the final judgement', async () => {
    const { engine, stores } = await engineOn(false);
    const record = buildRecord(build, new Set(['payments-service-build']));
    if (!record) throw new Error('the case build is a build record');
    await stores.state.putCorrelationRecord(hashMismatch.metadata.id, { ...record, keys: [], at: build.time }, 90);
    const outcomes = [...(await engine.evaluate(hashMismatch, publish)), ...(await engine.settle([hashMismatch]))];
    expect(created(outcomes).map((f) => `${f.severity}/${f.mode}`)).toEqual(['info/attest']);
  });
});
