/** What the Lambdas share: the configuration inlined at build time, env vars read once, one logger. */
import { Logger } from '@aws-lambda-powertools/logger';
import { parseConfig, type BuildwatchConfig } from '../config/config.js';
import type { UseCaseNotes } from '../notify/format.js';

export const logger = new Logger({ serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'buildwatch' });

/** Fails fast, naming the variable: a missing one is a deployment bug. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * The configuration as the stack validated it at synth (lib/constructs/handler-function.ts), inlined
 * into the bundle by esbuild (define): a literal of our own build, not input, so a cold start takes it
 * as it is and never builds the configuration's schemas. Undefined outside a stack's bundle.
 */
declare const BUILDWATCH_VALIDATED_CONFIG: string | undefined;

/**
 * The stack inlines the validated configuration into the bundle, so it is versioned with the code and
 * not limited by Lambda's 4 KB of environment. Unbundled (tests, local runs) the configuration comes
 * from BUILDWATCH_CONFIG_JSON, which is input like any file, so it is validated.
 */
export function bundledConfig(): BuildwatchConfig {
  if (typeof BUILDWATCH_VALIDATED_CONFIG === 'string') return JSON.parse(BUILDWATCH_VALIDATED_CONFIG) as BuildwatchConfig;
  return parseConfig(JSON.parse(process.env.BUILDWATCH_CONFIG_JSON ?? '{}'), 'configuration in BUILDWATCH_CONFIG_JSON');
}

/**
 * What each use case is about ("why it matters" in alerts), inlined by the stack into the notify
 * bundle, so it need not bundle the use cases themselves.
 */
export function bundledUseCaseNotes(): UseCaseNotes {
  return JSON.parse(process.env.BUILDWATCH_USE_CASE_NOTES_JSON ?? '{}') as UseCaseNotes;
}
