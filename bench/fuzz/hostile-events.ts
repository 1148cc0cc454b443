/**
 * Hostile inputs for property-based fuzzing (fast-check): real events from the labelled use-case
 * cases, mutated with prototype-pollution keys, huge strings, control and bidi characters, and wrong
 * types at any place; and the detect-handler harness that accounts for every record (processed, or
 * in the dead-letter queue with a reason) across SQS-like retries. Used by test/hostile/fuzz.test.ts
 * (small, inside `npm test`) and bench/fuzz.ts (`npm run fuzz`, long runs).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { Engine } from '../../lambdas/engine/engine.js';
import { eventBridgeEventSchema, type EventBridgeEvent } from '../../lambdas/engine/events.js';
import { route } from '../../lambdas/engine/router.js';
import { handleBatch, MAX_ATTEMPTS } from '../../lambdas/handlers/detect.js';
import { useCases } from '../../lambdas/use-cases/index.js';

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', ''] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every event in the labelled cases (history and events), as JSON text. */
export function seedEvents(root = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases')): EventBridgeEvent[] {
  const events: EventBridgeEvent[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (name.endsWith('.json') && dir.endsWith('cases')) {
        const parsed = JSON.parse(readFileSync(path, 'utf8')) as { history?: unknown[]; events?: unknown[] };
        for (const item of [...(parsed.history ?? []), ...(parsed.events ?? [])]) {
          const event = eventBridgeEventSchema.safeParse(item);
          if (event.success) events.push(event.data);
        }
      }
    }
  };
  visit(root);
  return events;
}

export interface HostileOptions {
  /** Length of the huge strings mixed in (the test keeps it small; `npm run fuzz` can go to megabytes). */
  readonly hugeLength: number;
}

const HOSTILE_TEXT = [
  '\u001b[2J\u001b[31m', '\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007', '\u009b31m', '\u202egnp.exe', '\u2066\u2069', '\u200b\u00ad\u061c\u180e\u3164\u034f',
  '\u{e0041}\u{e007f}', '<!channel> @here', '[x](https://evil.example)', '=cmd|"/c calc"!A1', ' \n=1+1', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'https://ci:abc/def@github.com/o/r', 'password=hunter2', '\ud800', '\udfff', '../../../etc/passwd', '%s%n', '${jndi:ldap://x}', 'NaN', '2026-13-45T99:99:99Z', '',
];

function hostileString(options: HostileOptions): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
    { weight: 3, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '🦀', 'é', '\u001b', 'a=b&'), fc.integer({ min: 1, max: options.hugeLength })).map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length))) },
  );
}

/** Keys as attackers pick them: prototype names first, then anything. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }) });

/** A JSON value of any type, with hostile keys and strings. */
export function hostileValue(options: HostileOptions): fc.Arbitrary<Json> {
  const { value } = fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -1, 1e300, Number.MAX_SAFE_INTEGER + 2)),
      hostileString(options),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(objectWithKeys),
    ),
  }));
  return value;
}

/** An object whose keys are data even when they are `__proto__` (as JSON.parse makes them). */
function objectWithKeys(entries: ReadonlyArray<readonly [string, Json]>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

type Mutation = { readonly kind: 'set' | 'add' | 'delete'; readonly at: number; readonly key: string; readonly value: Json };

function mutation(options: HostileOptions): fc.Arbitrary<Mutation> {
  return fc.record({ kind: fc.constantFrom('set', 'set', 'add', 'delete'), at: fc.nat(), key: hostileKey, value: hostileValue(options) });
}

/** The containers (objects and arrays) of a JSON value with their place, root first. */
function containers(value: Json): Array<{ [key: string]: Json } | Json[]> {
  const found: Array<{ [key: string]: Json } | Json[]> = [];
  const visit = (node: Json): void => {
    if (node === null || typeof node !== 'object') return;
    found.push(node);
    for (const child of Array.isArray(node) ? node : Object.values(node)) visit(child);
  };
  visit(value);
  return found;
}

function apply(event: Json, m: Mutation): Json {
  const places = containers(event);
  const place = places[m.at % Math.max(1, places.length)];
  if (!place) return m.value;
  if (Array.isArray(place)) {
    if (m.kind === 'delete') place.splice(m.at % Math.max(1, place.length), 1);
    else place[m.at % Math.max(1, place.length + 1)] = m.value;
    return event;
  }
  const keys = Object.keys(place);
  const key = m.kind === 'add' || keys.length === 0 ? m.key : (keys[m.at % keys.length] as string);
  if (m.kind === 'delete') delete place[key];
  else Object.defineProperty(place, key, { value: m.value, enumerable: true, writable: true, configurable: true });
  return event;
}

/** A real event with up to `maxMutations` hostile changes anywhere in it (the root included). */
export function hostileEvent(seeds: readonly EventBridgeEvent[], options: HostileOptions, maxMutations = 4): fc.Arbitrary<Json> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutation(options), { minLength: 0, maxLength: maxMutations })).map(([index, mutations]) => {
    // Through JSON, as the handler gets it: `__proto__` keys stay own data properties.
    let event = JSON.parse(JSON.stringify(seeds[index])) as Json;
    for (const m of mutations) event = apply(event, m);
    return event;
  });
}

/** A detect message for the event: one of the use cases its rules route it to, or any (a wiring mistake). */
export function messageBody(event: Json, pick: number): string {
  const parsed = eventBridgeEventSchema.safeParse(event);
  const routed = parsed.success ? route(useCases, parsed.data) : [];
  const candidates = routed.length > 0 ? routed : useCases;
  const useCase = candidates[pick % candidates.length];
  return JSON.stringify({ useCase: useCase?.metadata.id, event });
}

/** Own property names of the built-in prototypes, to notice pollution. */
export function prototypeFingerprint(): string {
  return [Object.prototype, Array.prototype, String.prototype, Function.prototype].map((proto) => Object.getOwnPropertyNames(proto).sort().join(',')).join('|');
}

export interface BatchAccount {
  readonly processed: number;
  readonly deadLettered: number;
  /** Dead letters whose reason attribute was missing or empty. */
  readonly withoutReason: number;
  /** Records neither processed nor dead-lettered after the last attempt. */
  readonly unaccounted: string[];
  /** handleBatch rejected (a crash of the whole batch). */
  readonly crashes: string[];
  /** A batch that did not finish within the time limit. */
  readonly hangs: number;
  readonly reasons: string[];
}

/**
 * sinon as aws-sdk-client-mock loads it (CommonJS): an `import` gets sinon's ESM build, another
 * instance, whose sandboxes do not understand the mock's argument matchers.
 */
export const mockSinon = createRequire(import.meta.url)('sinon') as typeof import('sinon');

function record(messageId: string, body: string, attempt: number): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: String(attempt), SentTimestamp: '0', SenderId: 'events', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:buildwatch-detect',
    awsRegion: 'eu-west-1',
  };
}

/**
 * Runs one batch through the detect handler as SQS would: failed records come back with a higher
 * receive count until MAX_ATTEMPTS. Every record must end processed or in the dead-letter queue
 * (a mocked SQS: there is no local implementation) with a reason.
 */
export async function runBatch(engine: Engine, bodies: readonly string[], options: { timeoutMs: number; idPrefix: string }): Promise<BatchAccount> {
  // A sandbox of the batch's own: sinon's default sandbox keeps every stub it made, with every call
  // (each dead letter's body), until the process ends, so a long fuzz run would run out of memory.
  const sandbox = mockSinon.createSandbox();
  const sqs = mockClient(SQSClient, { sandbox });
  const dead = new Map<string, string>();
  sqs.on(SendMessageCommand).callsFake((input: { MessageAttributes?: Record<string, { StringValue?: string }> }) => {
    const id = input.MessageAttributes?.['sourceMessageId']?.StringValue ?? '';
    dead.set(id, input.MessageAttributes?.['reason']?.StringValue ?? '');
    return { MessageId: `dlq-${id}` };
  });
  const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq' };
  const crashes: string[] = [];
  let hangs = 0;
  let pending = bodies.map((body, i) => ({ id: `${options.idPrefix}-${i}`, body }));
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && pending.length > 0; attempt += 1) {
      const batch = { Records: pending.map((p) => record(p.id, p.body, attempt)) };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), options.timeoutMs)));
      const result = await Promise.race([handleBatch(batch, undefined, deps), timeout]).catch((error: unknown) => {
        crashes.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        return 'crash' as const;
      });
      clearTimeout(timer);
      if (result === 'hang') {
        hangs += 1;
        break;
      }
      if (result === 'crash') break;
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      pending = pending.filter((p) => failed.has(p.id) && !dead.has(p.id));
    }
  } finally {
    sandbox.restore();
  }
  const reasons = [...dead.values()];
  return {
    processed: bodies.length - dead.size - pending.length,
    deadLettered: dead.size,
    withoutReason: reasons.filter((r) => r.trim() === '').length,
    unaccounted: pending.map((p) => p.id),
    crashes,
    hangs,
    reasons,
  };
}
