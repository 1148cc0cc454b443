/**
 * A dedup window's repeat count is counted once whatever DynamoDB does to the calls that count it:
 * the count's write failing before it lands (the record is retried by SQS: the repeat is delivered
 * again after its mark was written), its answer lost after it landed (delivered again, or the SDK
 * re-sending the same conditional write), or a repeat delivered again while a later window is
 * current. Against dynalite, with calls failed at the document client as DynamoDB fails them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { route } from '../../lambdas/engine/router.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { failOnce, withLostResponses, type Fault, type FaultPlan, type SentCommand } from '../support/lost-responses.js';

const ROOT = join(import.meta.dirname, '..', '..');
const stopLogging = (JSON.parse(readFileSync(join(ROOT, 'lambdas/use-cases/monitor/cloudtrail-tamper/cases/stop-logging.json'), 'utf8')) as { events: EventBridgeEvent[] }).events[0]!;

/** StopLogging on one trail at this time (a distinct event each, the same dedup key). */
function stop(time: string, n: number): EventBridgeEvent {
  const id = String(n).padStart(12, '0');
  return { ...stopLogging, id: `eb-d2000000-0000-4000-8000-${id}`, time, detail: { ...stopLogging.detail, eventTime: time, eventID: `d2000000-0000-4000-8000-${id}` } };
}

const dynamo = useLocalDynamo();
const CONFIG = parseConfig({ useCases: { 'monitor.cloudtrail-tamper': { dedupWindowMinutes: 60 } } });

/** The findings table's writes of a repeat's count (the amend of the window's first finding). */
const isCount = (command: SentCommand): boolean => command.name === 'PutCommand' && typeof command.input['ConditionExpression'] === 'string' && String(command.input['ConditionExpression']).includes('contentHash');

async function setUp(wrap: (doc: DynamoDBDocumentClient) => DynamoDBDocumentClient) {
  const stores = await dynamo.freshStores();
  const doc = wrap(stores.doc);
  const findings = new FindingsStore(doc, stores.tables.findings, { amendableDay: () => true });
  const engine = new Engine({ config: CONFIG, lookups: noLookups, state: new StateStore(doc, stores.tables.state), findings, clock: () => new Date('2026-11-01T00:00:00Z') });
  /** Delivers an event as the detect handler does; a throw is SQS's redelivery to come. */
  const deliver = async (envelope: EventBridgeEvent): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    for (const useCase of route(useCases, envelope)) outcomes.push(...(await engine.evaluate(useCase, toPipelineEvent(envelope))));
    return outcomes;
  };
  const first = async (): Promise<Finding> => {
    const found = await stores.findings.byDay('2026-10-26')[Symbol.asyncIterator]().next();
    return found.value as Finding;
  };
  return { deliver, first };
}

describe('dedup window counts under faults', () => {
  /**
   * The first StopLogging, then a repeat whose count fails once (`when`), as the handler sees it (a
   * throw: SQS delivers the record again), then that redelivery: the first finding's count after it.
   */
  async function repeatCountFailingOnce(when: Exclude<Fault, 'none'>) {
    let plan: FaultPlan = () => 'none';
    const run = await setUp((doc) => withLostResponses(doc, (command) => plan(command)).doc);
    await run.deliver(stop('2026-10-26T03:10:00Z', 1));
    plan = failOnce(isCount, when);
    await expect(run.deliver(stop('2026-10-26T03:20:00Z', 2))).rejects.toThrow(/injected timeout/);
    plan = () => 'none';
    await run.deliver(stop('2026-10-26T03:20:00Z', 2));
    return run;
  }

  it('a count that failed before landing is made when the repeat is delivered again (its mark already written)', async () => {
    const { deliver, first } = await repeatCountFailingOnce('before');
    expect((await first()).occurrences).toBe(2);
    // And only once, however often it comes again.
    await deliver(stop('2026-10-26T03:20:00Z', 2));
    expect((await first()).occurrences).toBe(2);
  });

  it('a count whose answer was lost after it landed is not made again: delivered again, or re-sent by the SDK', async () => {
    const { first } = await repeatCountFailingOnce('after');
    expect((await first()).occurrences).toBe(2);

    // The SDK re-sends a write whose answer it lost: the second copy fails its condition.
    let resent = false;
    const { deliver: deliverResent, first: firstResent } = await setUp((doc) => {
      const send = async (command: { input: Record<string, unknown>; constructor: { name: string } }): Promise<unknown> => {
        const inner = doc.send as (c: unknown) => Promise<unknown>;
        if (!resent && isCount({ name: command.constructor.name, input: command.input })) {
          resent = true;
          await inner.call(doc, command);
          return inner.call(doc, command);
        }
        return inner.call(doc, command);
      };
      return new Proxy(doc, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
    });
    await deliverResent(stop('2026-10-26T03:10:00Z', 1));
    await deliverResent(stop('2026-10-26T03:20:00Z', 2));
    expect(resent).toBe(true);
    expect((await firstResent()).occurrences).toBe(2);
  });

  it('a repeat delivered again while a later window is current counts where it counted first', async () => {
    const { deliver, first } = await setUp((doc) => doc);
    for (const [time, n] of [['2026-10-26T03:10:00Z', 1], ['2026-10-26T03:50:00Z', 2], ['2026-10-26T04:30:00Z', 3]] as const) await deliver(stop(time, n));
    // 03:50 is also within the 04:30 window: delivered again, it is still 03:10's repeat, counted once.
    const again = await deliver(stop('2026-10-26T03:50:00Z', 2));
    expect(again).toContainEqual(expect.objectContaining({ status: 'deduplicated', counted: false }));
    expect((await first()).occurrences).toBe(2);
  });
});
