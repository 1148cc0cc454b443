/**
 * The configuration a Lambda runs with: validated by the stack at synth, inlined into the bundle, and
 * taken as it is at a cold start (no schema built). Unbundled, the configuration is input and validated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type BuildwatchConfig } from '../../lambdas/config/config.js';
import { bundledConfig } from '../../lambdas/handlers/runtime.js';
import { bundlingOptions, CONFIG_DEFINE } from '../../lib/constructs/handler-function.js';
import { importStackBundle } from '../support/stack-bundle.js';
import { countZodSchemas, type SchemaCounter } from '../support/zod-schemas.js';

let counter: SchemaCounter | undefined;
afterEach(() => {
  counter?.stop();
  delete process.env['BUILDWATCH_CONFIG_JSON'];
});

interface RuntimeBundle {
  readonly bundledConfig: () => BuildwatchConfig;
  readonly parseConfig: (input: unknown) => BuildwatchConfig;
}

/** runtime.ts bundled as the stack bundles it (and parseConfig, to show the counter sees schemas being built). */
function importRuntimeBundle(config: BuildwatchConfig): Promise<RuntimeBundle> {
  return importStackBundle<RuntimeBundle>("export { bundledConfig } from './lambdas/handlers/runtime.js'; export { parseConfig } from './lambdas/config/config.js';", config);
}

describe('the bundled configuration', () => {
  it('is refused by the stack when malformed, before it is inlined', () => {
    const valid = parseConfig({});
    const malformed = { ...valid, defaults: { ...valid.defaults, learningDays: -1 } };
    expect(() => bundlingOptions(malformed)).toThrow(ConfigError);
    expect(() => bundlingOptions(malformed)).toThrow(/stack configuration: invalid configuration: defaults\.learningDays/);
    expect(() => bundlingOptions({ ...valid, colour: 'blue' } as BuildwatchConfig)).toThrow(/unknown field "colour"/);
  });

  it('is inlined as the stack validated it (defaults applied)', () => {
    const define = bundlingOptions(parseConfig({ automationPrincipals: ['arn:aws:iam::111122223333:role/ci'] })).define ?? {};
    const inlined = JSON.parse(JSON.parse(define[CONFIG_DEFINE] ?? '""') as string) as BuildwatchConfig;
    expect(inlined.automationPrincipals).toEqual(['arn:aws:iam::111122223333:role/ci']);
    expect(inlined.defaults).toEqual({ learningDays: 14, forgetAfterDays: 90, dedupWindowMinutes: 0, stagingDays: 0 });
  });

  it('is read in a bundle without building any schema, neither at import nor when read', { timeout: 60_000 }, async () => {
    const config = parseConfig({ monitor: { resourcePrefix: 'x-' }, automationPrincipals: ["arn:aws:iam::1:role/a'b$c\"d"] });
    counter = countZodSchemas();
    const runtime = await importRuntimeBundle(config);
    // Importing builds only the few shared enums (mode, severity, stage), not the configuration's hundreds.
    expect(counter.count).toBeLessThan(20);
    const imported = counter.count;
    expect(runtime.bundledConfig()).toEqual(config);
    expect(counter.count).toBe(imported);
    // The counter does see the configuration's schemas when something builds them.
    runtime.parseConfig({});
    expect(counter.count - imported).toBeGreaterThan(100);
  });

  it('is validated outside a stack bundle, where BUILDWATCH_CONFIG_JSON is input', () => {
    process.env['BUILDWATCH_CONFIG_JSON'] = JSON.stringify({ defaults: { learningDays: 'fourteen' } });
    expect(() => bundledConfig()).toThrow(ConfigError);
    expect(() => bundledConfig()).toThrow(/configuration in BUILDWATCH_CONFIG_JSON: invalid configuration: defaults\.learningDays/);
    process.env['BUILDWATCH_CONFIG_JSON'] = JSON.stringify({ automationPrincipals: ['arn:aws:iam::111122223333:role/ci'] });
    expect(bundledConfig().automationPrincipals).toEqual(['arn:aws:iam::111122223333:role/ci']);
    delete process.env['BUILDWATCH_CONFIG_JSON'];
    expect(bundledConfig()).toEqual(parseConfig({}));
  });
});
