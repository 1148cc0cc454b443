/**
 * The text fields of a finding as stored and sent: most come from the event (a summary quoting a
 * source URL, a user agent, a resource name), so each is redacted, not only the evidence, and cut to
 * a bound that keeps the whole finding far below DynamoDB's item limit.
 */
import { boundText } from './bounds.js';
import type { Finding } from './model.js';
import { redactText } from './redact.js';

/** Characters kept per field; anything not listed gets DEFAULT_LIMIT. */
const LIMITS: Partial<Record<keyof Finding, number>> = {
  title: 1000,
  summary: 8000,
  principal: 2048,
  resource: 2048,
  dedupKey: 2048,
  userAgent: 2048,
  sourceIp: 256,
  runbook: 8000,
};
const DEFAULT_LIMIT = 1024;

/** Every top-level string field redacted and bounded; other fields as they are. */
export function storableFields<T extends Omit<Finding, 'contentHash'>>(finding: T): T {
  const out: Record<string, unknown> = { ...finding };
  for (const [key, value] of Object.entries(finding)) {
    if (typeof value === 'string') out[key] = boundText(redactText(value), LIMITS[key as keyof Finding] ?? DEFAULT_LIMIT);
  }
  return out as T;
}
