/** What the Lambdas share: the configuration inlined at build time, env vars read once, one logger. */
import { Logger } from '@aws-lambda-powertools/logger';
import { parseConfig, type BuildwatchConfig } from '../config/config.js';

export const logger = new Logger({ serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'buildwatch' });

/** Fails fast, naming the variable: a missing one is a deployment bug. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * The stack inlines the validated configuration into the bundle (esbuild define), so it is
 * versioned with the code and not limited by Lambda's 4 KB of environment.
 */
export function bundledConfig(): BuildwatchConfig {
  return parseConfig(JSON.parse(process.env.BUILDWATCH_CONFIG_JSON ?? '{}'), 'bundled configuration');
}
