/**
 * `npm run fuzz [-- --events N --seed S --huge BYTES --batch B --timeout MS]`: long fuzz runs of the
 * detect handler (and the normaliser and pattern matcher on the same events) with hostile events,
 * against an embedded DynamoDB (dynalite). Prints crashes, hangs and unaccounted records (goal: 0),
 * and the dead-letter reasons by kind, so a reason that should not be one stands out.
 * Exit code 1 when any crash, hang, unaccounted record or reasonless dead letter was seen.
 */
// First: silences the handlers' per-evaluation logs before they load.
import './quiet-handlers.js';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { parseConfig } from '../lambdas/config/config.js';
import { Engine } from '../lambdas/engine/engine.js';
import { matchesPattern, type EventPattern } from '../lambdas/engine/event-pattern.js';
import { normaliseContent } from '../lambdas/engine/normalise-input.js';
import { noLookups } from '../lambdas/lookups/lookups.js';
import { documentClient, localDynamoClient } from '../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo } from '../lambdas/store/embedded-dynamo.js';
import { FindingsStore } from '../lambdas/store/findings-store.js';
import { StateStore } from '../lambdas/store/state-store.js';
import { ensureTables } from '../lambdas/store/tables.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { hostileEvent, messageBody, prototypeFingerprint, runBatch, seedEvents } from './fuzz/hostile-events.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    huge: { type: 'string', default: String(1024 * 1024) },
    batch: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '30000' },
  },
});
const total = Number(values.events);
const seed = Number(values.seed);
const batchSize = Math.max(1, Math.min(10, Number(values.batch)));
const options = { hugeLength: Number(values.huge) };
if (!Number.isInteger(total) || total <= 0 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- [--events N] [--seed S] [--huge BYTES] [--batch 1-10] [--timeout MS]\n');
  process.exit(2);
}

const server = await startEmbeddedDynamo();
const client = localDynamoClient(server.endpoint);
const tables = { state: 'fuzz-state', findings: 'fuzz-findings' };
await ensureTables(client, tables);
const doc = documentClient(client);
const engine = new Engine({
  config: parseConfig({}),
  lookups: noLookups,
  state: new StateStore(doc, tables.state),
  findings: new FindingsStore(doc, tables.findings, { amendableDay: () => true }),
});

const seeds = seedEvents();
const pristine = prototypeFingerprint();
const generator = fc.array(fc.tuple(hostileEvent(seeds, options), fc.nat()), { minLength: batchSize, maxLength: batchSize });
const totals = { events: 0, processed: 0, deadLettered: 0, withoutReason: 0, unaccounted: 0, crashes: 0, hangs: 0, normaliserCrashes: 0, matcherCrashes: 0, pollution: 0 };
const reasons = new Map<string, number>();
const examples: string[] = [];
const started = Date.now();
process.stderr.write(`fuzz: ${total} events from ${seeds.length} seeds, seed ${seed}, huge strings up to ${options.hugeLength} chars\n`);

let run = 0;
while (totals.events < total) {
  const [items] = fc.sample(generator, { numRuns: 1, seed: seed + run });
  run += 1;
  if (!items) break;
  const bodies = items.map(([event, pick]) => messageBody(event, pick));
  for (const [event] of items) {
    try {
      normaliseContent('fuzz.json', JSON.stringify(event));
    } catch (error) {
      totals.normaliserCrashes += 1;
      examples.push(`normaliser: ${(error as Error).message}`);
    }
    for (const useCase of useCases) {
      try {
        matchesPattern(useCase.pattern as EventPattern, event);
      } catch (error) {
        totals.matcherCrashes += 1;
        examples.push(`matcher ${useCase.metadata.id}: ${(error as Error).message}`);
      }
    }
  }
  const account = await runBatch(engine, bodies, { timeoutMs: Number(values.timeout), idPrefix: `r${run}` });
  totals.events += bodies.length;
  totals.processed += account.processed;
  totals.deadLettered += account.deadLettered;
  totals.withoutReason += account.withoutReason;
  totals.unaccounted += account.unaccounted.length;
  totals.crashes += account.crashes.length;
  totals.hangs += account.hangs;
  for (const crash of account.crashes) examples.push(`crash (seed ${seed + run - 1}): ${crash.slice(0, 300)}`);
  if (account.unaccounted.length > 0) examples.push(`unaccounted (seed ${seed + run - 1}): ${account.unaccounted.join(', ')}`);
  for (const reason of account.reasons) {
    // Group by kind: ids, numbers and quoted input vary, the kind of failure does not.
    const kind = reason.replace(/"[^"]*"/g, '"…"').replace(/event \S+/g, 'event …').replace(/\d+/g, 'N').slice(0, 160);
    reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
  }
  if (prototypeFingerprint() !== pristine) {
    totals.pollution += 1;
    examples.push(`prototype changed after seed ${seed + run - 1}`);
    break;
  }
  if (run % 100 === 0) process.stderr.write(`fuzz: ${totals.events}/${total} events, ${Math.round((Date.now() - started) / 1000)} s\n`);
}

client.destroy();
await server.close();

function rank(kind: string): number {
  return kind.startsWith('message is not') ? 1 : 0;
}

const seconds = Math.round((Date.now() - started) / 1000);
process.stdout.write(
  [
    `fuzz: ${totals.events} events in ${seconds} s (seed ${seed})`,
    `  processed        ${totals.processed}`,
    `  dead-lettered    ${totals.deadLettered} (without a reason: ${totals.withoutReason})`,
    `  crashes          ${totals.crashes} (normaliser ${totals.normaliserCrashes}, matcher ${totals.matcherCrashes})`,
    `  hangs            ${totals.hangs}`,
    `  unaccounted      ${totals.unaccounted}`,
    `  prototype pollution ${totals.pollution}`,
    // Evaluation failures first: malformed envelopes are expected to be dead-lettered, a use case that fails is a finding of the fuzz.
    ...(reasons.size > 0 ? ['dead-letter reasons by kind (evaluation failures first):', ...[...reasons.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1]).slice(0, 30).map(([kind, n]) => `  ${String(n).padStart(7)}  ${kind}`)] : []),
    ...(examples.length > 0 ? ['examples:', ...examples.slice(0, 20).map((e) => `  ${e}`)] : []),
    '',
  ].join('\n'),
);
const bad = totals.crashes + totals.hangs + totals.unaccounted + totals.withoutReason + totals.normaliserCrashes + totals.matcherCrashes + totals.pollution;
process.exit(bad > 0 ? 1 : 0);
