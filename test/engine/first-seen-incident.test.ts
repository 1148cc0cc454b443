/**
 * A first sighting is one incident with one finding id, whichever of its events reaches the store
 * first: SQS delivers out of order, and a retry (a failed store call) reorders further (#13).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import newPusher from '../../lambdas/use-cases/source/new-pusher/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { failOnce, InjectedTimeout, withLostResponses } from '../support/lost-responses.js';

const dynamo = useLocalDynamo();
const CASE = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases', 'source', 'new-pusher', 'cases', 'one-push-many-records.json');
const spec = JSON.parse(readFileSync(CASE, 'utf8')) as { config: BuildwatchConfigInput; history: unknown[]; events: unknown[] };
const events = (raw: unknown[]): EventBridgeEvent[] => normaliseContent('case.json', JSON.stringify(raw)).events;
const history = events(spec.history);
const push = events(spec.events);

async function engineOn(forgetAfterDays?: number) {
  const { doc, tables } = await dynamo.freshStores();
  const client = withLostResponses(doc);
  const config = parseConfig({ ...spec.config, ...(forgetAfterDays ? { defaults: { forgetAfterDays } } : {}) });
  const engine = new Engine({
    config,
    lookups: noLookups,
    state: new StateStore(client.doc, tables.state),
    findings: new FindingsStore(client.doc, tables.findings, { amendableDay: () => true }),
    clock: () => new Date('2026-11-01T00:00:00Z'),
  });
  const deliver = async (event: EventBridgeEvent): Promise<Outcome[]> => engine.evaluate(newPusher, toPipelineEvent(event));
  for (const event of history) await deliver(event);
  return { engine, client, deliver };
}

const createdIds = (outcomes: readonly Outcome[]) => outcomes.flatMap((o) => (o.status === 'finding' && o.created ? [o.finding.id] : []));

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('source.new-pusher: one push, one finding id, in any order', () => {
  it('every order of the push\'s records makes exactly one finding, always with the same id', async () => {
    const ids = new Set<string>();
    for (const order of permutations(push)) {
      const { deliver } = await engineOn();
      const outcomes: Outcome[] = [];
      for (const event of order) outcomes.push(...(await deliver(event)));
      const created = createdIds(outcomes);
      expect(created).toHaveLength(1);
      for (const id of created) ids.add(id);
    }
    expect(ids.size).toBe(1);
  });

  it('a record whose sighting write failed and was retried after the others gives the clean run\'s finding, once', async () => {
    const clean = await engineOn();
    const cleanIds: string[] = [];
    for (const event of push) cleanIds.push(...createdIds(await clean.deliver(event)));

    const { client, deliver } = await engineOn();
    const [first, ...rest] = push as [EventBridgeEvent, ...EventBridgeEvent[]];
    client.plan = failOnce((c) => c.name === 'UpdateCommand' && String((c.input['Key'] as Record<string, unknown>)['sk']).startsWith('v#'), 'before');
    await expect(deliver(first)).rejects.toBeInstanceOf(InjectedTimeout);
    const ids: string[] = [];
    for (const event of [...rest, first, ...push]) ids.push(...createdIds(await deliver(event)));
    expect(ids).toEqual(cleanIds);
  });

  it('a value forgotten and seen again is a new incident with a new id', async () => {
    const { deliver } = await engineOn(30);
    const [write] = push;
    const ids = createdIds(await deliver(write as EventBridgeEvent));
    const later = structuredClone(write) as EventBridgeEvent & { detail: Record<string, unknown> };
    const laterTime = '2027-01-15T09:00:00Z';
    Object.assign(later, { id: 'revival-0000-4000-8000-000000000001', time: laterTime });
    if (typeof later.detail['eventTime'] === 'string') later.detail['eventTime'] = laterTime;
    ids.push(...createdIds(await deliver(later)));
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });
});
