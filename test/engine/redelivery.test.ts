/**
 * At-least-once and out-of-order delivery through the real engine on dynalite, with a client that
 * loses responses after the write landed (issue #13: defects 1 and 3).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { route } from '../../lambdas/engine/router.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';
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
