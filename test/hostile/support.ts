/** Shared helpers for the hostile-input tests: sample cases as events, detect-handler records. */
import { readFileSync } from 'node:fs';

export type Json = Record<string, unknown>;

/** A labelled use-case case file (history, events, expect). */
export function loadCase(path: string): { history: Json[]; events: Json[] } {
  return JSON.parse(readFileSync(new URL(`../../lambdas/use-cases/${path}`, import.meta.url), 'utf8')) as { history: Json[]; events: Json[] };
}

export { sqsRecord, stopLogging } from '../support/detect-fixtures.js';
