/**
 * Property-based fuzzing (issue 13) of the normaliser, the pattern matcher and the detect handler
 * with prototype-pollution keys, huge strings, control characters and wrong types, at a size that
 * runs in seconds. `npm run fuzz` runs the same properties for as long as asked.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesPattern, validatePattern, type EventPattern } from '../../lambdas/engine/event-pattern.js';
import { eventBridgeEventSchema } from '../../lambdas/engine/events.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { hostileEvent, hostileKey, hostileValue, messageBody, mockSinon, prototypeFingerprint, runBatch, seedEvents } from '../../bench/fuzz/hostile-events.js';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { boundStrings } from '../../lambdas/engine/bounds.js';
import { canonicalJson } from '../../lambdas/engine/canonical.js';
import { escapeKeys, unescapeKeys } from '../../lambdas/store/key-escape.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();
const seeds = seedEvents();
const options = { hugeLength: 300_000 };
// Fixed seed: a failure reproduces; `npm run fuzz -- --seed N` explores others.
const params = (numRuns: number) => ({ numRuns, seed: 1313 });
const pristine = prototypeFingerprint();

describe('fuzz: hostile events', () => {
  it('has real events to start from', () => {
    expect(seeds.length).toBeGreaterThan(100);
  });

  it('the normaliser never throws, accounts for every item, and only returns valid envelopes', () => {
    fc.assert(
      fc.property(fc.array(hostileEvent(seeds, options), { minLength: 1, maxLength: 5 }), fc.constantFrom('array', 'lines', 'records', 'garbage'), (events, shape) => {
        const text =
          shape === 'array' ? JSON.stringify(events)
          : shape === 'lines' ? events.map((e) => JSON.stringify(e)).join('\n')
          : shape === 'records' ? JSON.stringify({ Records: events.map((e) => (e && typeof e === 'object' && !Array.isArray(e) ? (e['detail'] ?? e) : e)) })
          : JSON.stringify(events).slice(0, 50);
        const file = shape === 'lines' ? 'fuzz.jsonl' : 'fuzz.json';
        const result = normaliseContent(file, text);
        for (const event of result.events) expect(eventBridgeEventSchema.safeParse(event).success).toBe(true);
        // Every item is an event or a problem (CloudTrail files drop exact duplicate records by eventID).
        if (shape === 'array' || shape === 'lines') expect(result.events.length + result.problems.length).toBeGreaterThanOrEqual(events.length);
        for (const problem of result.problems) expect(problem.reason).not.toBe('');
        expect(prototypeFingerprint()).toBe(pristine);
      }),
      params(150),
    );
  });

  it('the pattern matcher never throws and answers a boolean, for every use case and any event', () => {
    fc.assert(
      fc.property(hostileEvent(seeds, options), (event) => {
        for (const useCase of useCases) expect(typeof matchesPattern(useCase.pattern as EventPattern, event)).toBe('boolean');
        expect(prototypeFingerprint()).toBe(pristine);
      }),
      params(150),
    );
  });

  it('pattern validation and matching never throw on hostile patterns', () => {
    const pattern = fc.dictionary(hostileKey, hostileValue({ hugeLength: 1000 }), { maxKeys: 4 });
    fc.assert(
      fc.property(pattern, hostileValue({ hugeLength: 1000 }), (raw, event) => {
        const problems = validatePattern(raw);
        expect(Array.isArray(problems)).toBe(true);
        if (problems.length === 0) expect(typeof matchesPattern(raw as EventPattern, event)).toBe('boolean');
        expect(prototypeFingerprint()).toBe(pristine);
      }),
      params(300),
    );
  });

  it('event keys survive DynamoDB as written: escaped on the way in, unescaped on the way out', async () => {
    const { doc, tables } = await dynamo.freshStores();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(hostileKey, hostileValue({ hugeLength: 100 }), { maxKeys: 5 }), async (data) => {
        // What the stores write: strings bounded, numbers made storable.
        const value = boundStrings(data);
        // Compared as canonical JSON: every own key (`__proto__` too), sorted, whatever order DynamoDB keeps.
        expect(canonicalJson(unescapeKeys(escapeKeys(value)))).toBe(canonicalJson(value));
        n += 1;
        const key = { pk: `fuzz#${n}`, sk: '#item' };
        await doc.send(new PutCommand({ TableName: tables.state, Item: { ...key, value } }));
        const { Item } = await doc.send(new GetCommand({ TableName: tables.state, Key: key, ConsistentRead: true }));
        expect(canonicalJson(Item?.['value'])).toBe(canonicalJson(value));
        expect(prototypeFingerprint()).toBe(pristine);
      }),
      params(60),
    );
  });

  it('the detect handler processes every record or dead-letters it with a reason: no crash, hang or lost record', async () => {
    const { engine } = await dynamo.freshEngine({});
    let batchNo = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(hostileEvent(seeds, options), fc.nat()), { minLength: 1, maxLength: 10 }), async (items) => {
        batchNo += 1;
        const account = await runBatch(engine, items.map(([event, pick]) => messageBody(event, pick)), { timeoutMs: 20_000, idPrefix: `b${batchNo}` });
        expect(account.crashes).toEqual([]);
        expect(account.hangs).toBe(0);
        expect(account.unaccounted).toEqual([]);
        expect(account.withoutReason).toBe(0);
        expect(account.processed + account.deadLettered).toBe(items.length);
        expect(prototypeFingerprint()).toBe(pristine);
      }),
      params(25),
    );
  });

  it('keeps nothing of a batch once it has run (a long `npm run fuzz` stays within memory)', async () => {
    const { engine } = await dynamo.freshEngine({});
    // sinon's default sandbox holds every stub made on it, with its calls, until the process ends
    // (getFakes: sinon's own hook for tests).
    const defaultSandbox = mockSinon as unknown as { getFakes(): unknown[] };
    const before = defaultSandbox.getFakes().length;
    const bodies = fc.sample(hostileEvent(seeds, options), { numRuns: 3, seed: 7 }).map((event) => messageBody(event, 0)).concat(['not json']);
    const account = await runBatch(engine, bodies, { timeoutMs: 20_000, idPrefix: 'kept' });
    expect(account.deadLettered).toBeGreaterThanOrEqual(1);
    expect(defaultSandbox.getFakes()).toHaveLength(before);
  });

  it('`npm run fuzz` prints its report, not the handlers\' logs: a line per evaluation buried it (100,000 events: hundreds of thousands of lines)', async () => {
    const root = join(import.meta.dirname, '..', '..');
    // As a user runs it: without the test run's POWERTOOLS_* settings (vitest.config.ts).
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('POWERTOOLS_') && !name.startsWith('AWS_SDK_JS_')));
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'bench', 'fuzz.ts'), '--events', '30', '--seed', '5'], { cwd: root, env }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve({ stdout: out, stderr: err }),
      );
    });
    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines[0]).toMatch(/^fuzz: 30 events in \d+ s \(seed 5\)$/);
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(lines.length).toBeLessThan(60);
    expect(stderr).not.toContain('NodeVersionSupportWarning');
  }, 60_000);
});
