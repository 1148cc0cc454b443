/**
 * build.build-override reads its project's state from the container's copy of the newest change
 * (`knownState` with `mayBeStale`): a build that agrees with the copy costs no call; a difference is
 * read again and judged on the state recorded now, so a copy made stale by another container never
 * makes a finding. Two containers (engines) on one dynalite table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { Engine, NEWEST_KNOWN_TTL_MS, type Outcome } from '../../lambdas/engine/engine.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { route } from '../../lambdas/engine/router.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();
const CASES = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases', 'build', 'build-override', 'cases');
const bump = JSON.parse(readFileSync(join(CASES, 'cloudformation-image-bump-then-build.json'), 'utf8')) as { history: EventBridgeEvent[]; events: EventBridgeEvent[] };
const foreign = (JSON.parse(readFileSync(join(CASES, 'override-after-image-bump.json'), 'utf8')) as { events: EventBridgeEvent[] }).events[0]!;
const [createProject, updateProject] = bump.history as [EventBridgeEvent, EventBridgeEvent];
const buildOn7 = bump.events[0]!;

/** The case's build, as another build (its own id) that ran the project's first image. */
function buildOn6(id: string): EventBridgeEvent {
  const event = structuredClone(buildOn7);
  event.id = id;
  const info = (event.detail as { 'additional-information': { environment: { image: string } } })['additional-information'];
  info.environment.image = 'aws/codebuild/standard:6.0';
  return event;
}

const overrides = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.status === 'finding' && o.created && o.finding.useCase === 'build.build-override' ? [o.finding] : []));

describe('build.build-override and the container\'s copy of the project state', () => {
  it('agreeing with the copy costs no call; a copy made stale by another container is read again, never reported', async () => {
    const stores = await dynamo.freshStores();
    let now = new Date('2026-10-24T03:01:00Z');
    const container = () => {
      const state = new StateStore(stores.doc, stores.tables.state);
      const engine = new Engine({ config: parseConfig({ pipeline: { buildProjects: [{ name: 'payments-service-build' }] }, useCases: { 'build.build-override': { options: { nativeBuildGraceMinutes: 0 } } } }), lookups: noLookups, state, findings: new FindingsStore(stores.doc, stores.tables.findings, { amendableDay: () => true }), clock: () => now });
      const deliver = async (envelope: EventBridgeEvent): Promise<Outcome[]> => {
        const outcomes: Outcome[] = [];
        for (const useCase of route(useCases, envelope)) outcomes.push(...(await engine.evaluate(useCase, toPipelineEvent(envelope))));
        return outcomes;
      };
      return { state, deliver };
    };
    const a = container();
    const b = container();

    await a.deliver(createProject);
    expect(overrides(await a.deliver(buildOn6('build-1')))).toEqual([]);
    const before = a.state.calls;
    expect(overrides(await a.deliver(buildOn6('build-2')))).toEqual([]);
    expect(a.state.calls - before).toBe(0);

    // Another container records the image bump: a's copy (6.0) is stale.
    await b.deliver(updateProject);
    // A build on 7.0 differs from the copy: read again, it agrees with the project as recorded now.
    expect(overrides(await a.deliver(buildOn7))).toEqual([]);
    // A foreign image differs from both: reported, compared with the state recorded now.
    expect(overrides(await a.deliver(foreign)).map((f) => f.summary)).toEqual([expect.stringContaining('(project: aws/codebuild/standard:7.0)')]);

    // The copy is kept a few minutes on the wall clock, then read again.
    now = new Date(now.getTime() + NEWEST_KNOWN_TTL_MS + 1000);
    const later = a.state.calls;
    await a.deliver(buildOn6('build-3'));
    expect(a.state.calls - later).toBeGreaterThan(0);
  });

  it('drops the copy when the container itself records a change of the project', async () => {
    const stores = await dynamo.freshStores();
    const state = new StateStore(stores.doc, stores.tables.state);
    const engine = new Engine({ config: parseConfig({ pipeline: { buildProjects: [{ name: 'payments-service-build' }] }, useCases: { 'build.build-override': { options: { nativeBuildGraceMinutes: 0 } } } }), lookups: noLookups, state, findings: new FindingsStore(stores.doc, stores.tables.findings, { amendableDay: () => true }), clock: () => new Date('2026-10-24T03:01:00Z') });
    const deliver = async (envelope: EventBridgeEvent): Promise<Outcome[]> => {
      const outcomes: Outcome[] = [];
      for (const useCase of route(useCases, envelope)) outcomes.push(...(await engine.evaluate(useCase, toPipelineEvent(envelope))));
      return outcomes;
    };
    await deliver(createProject);
    await deliver(buildOn6('build-1'));
    await deliver(updateProject);
    // The copy said 6.0; this container recorded 7.0 since, so a build on 6.0 is compared with 7.0.
    expect(overrides(await deliver(buildOn6('build-2'))).map((f) => f.summary)).toEqual([expect.stringContaining('(project: aws/codebuild/standard:7.0)')]);
  });
});
