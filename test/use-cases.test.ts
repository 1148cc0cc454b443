/**
 * Every use case, every labelled case: one generic runner, so adding a use case adds data, not test
 * code. Each case replays its history (state only), then its events through the local router and the
 * real engine on dynalite, and compares the findings with `expect`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { matchesPattern, validatePattern } from '../lambdas/engine/event-pattern.js';
import { normaliseContent } from '../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../lambdas/engine/pipeline-event.js';
import { route } from '../lambdas/engine/router.js';
import { useCaseMetadataSchema, type UseCase } from '../lambdas/engine/use-case.js';
import type { Finding } from '../lambdas/engine/model.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { createRecordedLookups } from '../lambdas/lookups/recorded-lookups.js';
import { useLocalDynamo } from './support/local-dynamo.js';

const ROOT = join(import.meta.dirname, '..', 'lambdas', 'use-cases');

const expectationSchema = z.strictObject({
  severity: z.string().optional(),
  mode: z.enum(['alert', 'attest']).optional(),
  resource: z.string().optional(),
  principal: z.string().optional(),
  summary: z.string().optional(),
  /** The finding's title, exactly. */
  title: z.string().optional(),
  /** A string that must appear nowhere in the stored finding (secrets). */
  absent: z.string().optional(),
});

const caseSchema = z.strictObject({
  description: z.string().min(10),
  config: z.record(z.string(), z.unknown()).optional(),
  /** Relative to the case file: a recorded look-ups directory. */
  recorded: z.string().optional(),
  history: z.array(z.unknown()).default([]),
  events: z.array(z.unknown()).min(1),
  expect: z.array(expectationSchema),
  /**
   * False: the events are judged as they arrive and the world does not end after them (a check
   * still inside its deadline stays pending). Default: as replay ends, pending correlations get
   * their final judgement.
   */
  settle: z.boolean().default(true),
});

function useCaseFolders(): string[] {
  const folders: string[] = [];
  for (const stage of readdirSync(ROOT)) {
    const stageDir = join(ROOT, stage);
    if (!statSync(stageDir).isDirectory()) continue;
    for (const name of readdirSync(stageDir)) {
      if (statSync(join(stageDir, name), { throwIfNoEntry: false })?.isDirectory() && statSync(join(stageDir, name, 'use-case.ts'), { throwIfNoEntry: false })) folders.push(`${stage}/${name}`);
    }
  }
  return folders.sort();
}

function casesOf(useCase: UseCase): { name: string; file: string }[] {
  const [stage, ...rest] = useCase.metadata.id.split('.');
  const dir = join(ROOT, stage ?? '', rest.join('.'), 'cases');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.replace(/\.json$/, ''), file: join(dir, file) }));
}

function toEvents(file: string, raw: unknown[]) {
  const normalised = normaliseContent(file, JSON.stringify(raw));
  expect(normalised.problems).toEqual([]);
  return normalised.events;
}

const dynamo = useLocalDynamo();

describe('the use-case registry', () => {
  it('registers every use-case folder, and each id names its folder', () => {
    const registered = useCases.map((u) => u.metadata.id.replace('.', '/')).sort();
    expect(registered).toEqual(useCaseFolders());
  });

  it.each(useCases.map((u) => [u.metadata.id, u] as const))('%s has valid metadata and a valid pattern', (_id, useCase) => {
    expect(useCaseMetadataSchema().safeParse(useCase.metadata).success).toBe(true);
    expect(useCase.metadata.stage).toBe(useCase.metadata.id.split('.')[0]);
    expect(validatePattern(useCase.pattern)).toEqual([]);
  });

  it.each(useCases.map((u) => [u.metadata.id, u] as const))('%s has positive and negative labelled cases', (_id, useCase) => {
    const cases = casesOf(useCase).map(({ file }) => caseSchema.parse(JSON.parse(readFileSync(file, 'utf8'))));
    expect(cases.some((c) => c.expect.length > 0)).toBe(true);
    expect(cases.some((c) => c.expect.length === 0)).toBe(true);
  });
});

for (const useCase of useCases) {
  describe(`${useCase.metadata.id} labelled cases`, () => {
    for (const { name, file } of casesOf(useCase)) {
      it(name, async () => {
        const spec = caseSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
        const lookups = spec.recorded ? createRecordedLookups(join(file, '..', spec.recorded)) : undefined;
        const { engine } = await dynamo.freshEngine(spec.config ?? {}, lookups);
        const run = async (raw: unknown[]): Promise<Finding[]> => {
          const found: Finding[] = [];
          for (const envelope of toEvents(relative(ROOT, file), raw)) {
            // Route through every use case, as replay does, then keep this one's findings.
            for (const target of route(useCases, envelope)) {
              for (const outcome of await engine.evaluate(target, toPipelineEvent(envelope))) {
                if (outcome.status === 'finding' && outcome.created && target === useCase) found.push(outcome.finding);
              }
            }
          }
          return found;
        };
        await run(spec.history);
        const findings = await run(spec.events);
        // As replay ends: the replayed world ends here, and pending correlations get their final judgement.
        for (const outcome of spec.settle ? await engine.settle(useCases) : []) {
          if (outcome.status === 'finding' && outcome.created && outcome.finding.useCase === useCase.metadata.id) findings.push(outcome.finding);
        }

        if (spec.expect.length > 0) {
          // A positive case must at least be routed to its use case.
          expect(toEvents(file, spec.events).some((e) => matchesPattern(useCase.pattern, e))).toBe(true);
        }
        expect(findings.map((f) => `${f.severity}/${f.mode}: ${f.summary}`)).toHaveLength(spec.expect.length);
        spec.expect.forEach((expected, index) => {
          const finding = findings[index] as Finding;
          if (expected.severity) expect(finding.severity).toBe(expected.severity);
          if (expected.mode) expect(finding.mode).toBe(expected.mode);
          if (expected.resource) expect(finding.resource).toBe(expected.resource);
          if (expected.principal) expect(finding.principal).toBe(expected.principal);
          if (expected.summary) expect(finding.summary).toContain(expected.summary);
          if (expected.title) expect(finding.title).toBe(expected.title);
          if (expected.absent) expect(JSON.stringify(finding)).not.toContain(expected.absent);
          expect(finding.useCase).toBe(useCase.metadata.id);
          expect(finding.answers).toBe(useCase.metadata.answers);
        });
      });
    }
  });
}
