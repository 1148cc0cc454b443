/**
 * A use case's metadata: validated when its module is imported unbundled (the synth, the CLI, the
 * tests), taken as written with the schema's defaults in the Lambda bundles the stack builds from the
 * catalogue it validated, and the same resolved metadata either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import * as z from 'zod';
import { builtOnFirstUse, defineUseCase, useCaseMetadataSchema, withMetadataDefaults, type UseCase, type UseCaseMetadata } from '../../lambdas/engine/use-case.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { bundlingOptions } from '../../lib/constructs/handler-function.js';
import { importStackBundle } from '../support/stack-bundle.js';
import { countZodSchemas, type SchemaCounter } from '../support/zod-schemas.js';

const minimal: UseCaseMetadata = {
  id: 'source.probe',
  answers: 'source.new-contributor',
  title: 'Probe use case',
  stage: 'source',
  description: 'A use case defined for the metadata tests.',
  severity: 'medium',
  defaultMode: 'alert',
  riskReduction: 2,
  effort: 1,
  mitre: ['T1078'],
  falsePositives: ['a test'],
  runbook: 'Nothing to do: a test fixture.',
};

const define = (metadata: UseCaseMetadata): UseCase => defineUseCase({ metadata, pattern: { source: ['aws.codecommit'] }, logic: { kind: 'match', evaluate: () => undefined } });

let counter: SchemaCounter | undefined;
afterEach(() => counter?.stop());

describe('use-case metadata', () => {
  it('fails at definition when malformed, naming the use case and the field (unbundled, as the synth and the CLI run)', () => {
    expect(() => define({ ...minimal, title: 'x' })).toThrow(/use case source\.probe: invalid metadata: [\s\S]*title/);
    expect(() => define({ ...minimal, mitre: ['T12'] })).toThrow(/ATT&CK technique id/);
    expect(() => define({ ...minimal, colour: 'blue' } as UseCaseMetadata)).toThrow(/colour/);
    expect(() => define({ ...minimal, references: ['not a url'] })).toThrow(/references/);
  });

  it('gets the same defaults without the schema as with it', () => {
    const schema = useCaseMetadataSchema();
    expect(withMetadataDefaults(minimal)).toStrictEqual(schema.parse(minimal));
    const full: UseCaseMetadata = { ...minimal, references: ['https://example.com/runbook'], includeFailedCalls: true, includeAwsServiceCalls: true, readOnlyEvents: true, dedupWindowMinutes: 30 };
    expect(withMetadataDefaults(full)).toStrictEqual(schema.parse(full));
    // Every use case of the catalogue, with the fields that hold the schema's default left out as well.
    const defaults = schema.parse(minimal) as Record<string, unknown>;
    const defaulted = Object.keys(defaults).filter((key) => !(key in minimal));
    expect(defaulted.length).toBeGreaterThan(0);
    for (const { metadata } of useCases) {
      const written = Object.fromEntries(Object.entries(metadata).filter(([key, value]) => !defaulted.includes(key) || JSON.stringify(value) !== JSON.stringify(defaults[key]))) as UseCaseMetadata;
      expect(withMetadataDefaults(written)).toStrictEqual(schema.parse(written));
      expect(withMetadataDefaults(written)).toStrictEqual(metadata);
    }
  });

  it('gives each use case its own references array', () => {
    const a = withMetadataDefaults(minimal);
    const b = withMetadataDefaults(minimal);
    expect(a.references).not.toBe(b.references);
  });

  it('stops the stack before bundling when a use case of the catalogue is malformed', () => {
    const config = parseConfig({});
    const first = useCases[0]!;
    const original = first.metadata;
    try {
      // The metadata a broken use case would carry had it escaped its import-time check.
      (first as { metadata: unknown }).metadata = { ...original, runbook: 'short' };
      expect(() => bundlingOptions(config)).toThrow(new RegExp(`use case ${original.id.replace('.', '\\.')}: invalid metadata: [\\s\\S]*runbook`));
    } finally {
      (first as { metadata: unknown }).metadata = original;
    }
    expect(() => bundlingOptions(config)).not.toThrow();
  });

  it('is taken as written in a stack bundle: the catalogue resolves the same, and no metadata schema is built at import', { timeout: 60_000 }, async () => {
    const bundled = await importStackBundle<{ useCases: readonly UseCase[]; useCaseMetadataSchema: () => unknown }>(
      "export { useCases } from './lambdas/use-cases/index.js'; export { useCaseMetadataSchema } from './lambdas/engine/use-case.js';",
      parseConfig({}),
    );
    expect(bundled.useCases.map((useCase) => useCase.metadata)).toStrictEqual(useCases.map((useCase) => useCase.metadata));
    // Asking for the schema now builds it: it was not built while the catalogue was defined.
    counter = countZodSchemas();
    bundled.useCaseMetadataSchema();
    expect(counter.count).toBeGreaterThan(10);
  });
});

describe('use-case schemas built on first use', () => {
  it('builds the schema when it first parses, once, and parses as the schema itself', () => {
    counter = countZodSchemas();
    const schema = builtOnFirstUse(() => z.strictObject({ limit: z.number().int().min(1).default(5), names: z.array(z.string().min(1)).default([]) }));
    const declared = counter.count;
    expect(declared).toBeLessThanOrEqual(1);
    expect(schema.parse({})).toStrictEqual({ limit: 5, names: [] });
    const built = counter.count;
    expect(built).toBeGreaterThan(declared + 3);
    expect(schema.parse({ limit: 2, names: ['a'] })).toStrictEqual({ limit: 2, names: ['a'] });
    expect(counter.count).toBe(built);
    expect(schema.safeParse({ limit: 0 }).success).toBe(false);
    expect(schema.safeParse({ limt: 3 }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['limt'] });
  });

  it('is how the use cases declare their options', () => {
    const withOptions = useCases.filter((useCase) => useCase.optionsSchema);
    expect(withOptions.length).toBeGreaterThan(10);
    for (const useCase of withOptions) expect(useCase.optionsSchema, useCase.metadata.id).toBeInstanceOf(z.ZodLazy);
  });
});

