/**
 * The direct tamper-alert rules (EventBridge → alerts topic, no code on the path) against the tamper
 * use cases' labelled cases: wherever a direct rule fires, the detect path also reports a high or
 * critical alert (no direct-only noise: deployments, other accounts, other names stay quiet), and the
 * critical findings that blind the monitor are all covered by a direct rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesPattern, validatePattern } from '../../lambdas/engine/event-pattern.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { directAlertRules, escapeWildcard } from '../../lambdas/use-cases/monitor/direct-alerts.js';

const MONITOR = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases', 'monitor');
const TAMPER = ['cloudtrail-tamper', 'rule-tamper', 'function-tamper', 'resource-tamper', 'key-tamper'];
/** The account of the labelled cases' monitor; in the cloud the stack passes its own. */
const ACCOUNT = '111122223333';
/** EventBridge's default limit on a rule's event pattern. */
const MAX_PATTERN_CHARS = 2048;

/**
 * Critical findings no flat pattern can express: which advanced selector still records management
 * events; a key learnt from history (in the cloud the stack names its key, and the pattern has it).
 */
const NOT_DIRECT = new Set(['cloudtrail-tamper/advanced-selectors-without-management', 'key-tamper/key-learnt-from-deployment-alias']);

interface Case {
  config?: { monitor?: { resourcePrefix?: string }; useCases?: Record<string, { options?: { account?: string; keys?: string[] } }> };
  events: unknown[];
  expect: Array<{ severity?: string; mode?: string }>;
}

const cases = TAMPER.flatMap((folder) =>
  readdirSync(join(MONITOR, folder, 'cases'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ name: `${folder}/${file.replace(/\.json$/, '')}`, useCase: `monitor.${folder}`, spec: JSON.parse(readFileSync(join(MONITOR, folder, 'cases', file), 'utf8')) as Case })),
);

function rulesFor(spec: Case, useCase: string) {
  const options = spec.config?.useCases?.[useCase]?.options ?? {};
  return directAlertRules(spec.config?.monitor?.resourcePrefix ?? 'buildwatch-', { account: options.account ?? ACCOUNT, keys: options.keys ?? [] });
}

describe('direct tamper-alert rules', () => {
  it('are valid EventBridge patterns within the default size limit (even with a long prefix), one rule name each', () => {
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/2b7c4e91-5d3a-4f6b-8c0e-1a9d3f5b7e2c';
    const rules = directAlertRules('acme-platform-buildwatch-', { account: ACCOUNT, keys: [key] });
    expect(new Set(rules.map((r) => r.slug)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(validatePattern(rule.pattern), rule.slug).toEqual([]);
      expect(JSON.stringify(rule.pattern).length, rule.slug).toBeLessThanOrEqual(MAX_PATTERN_CHARS);
    }
  });

  it('escapes wildcard characters of the prefix', () => {
    expect(escapeWildcard('bw*\\x-')).toBe('bw\\*\\\\x-');
    expect(directAlertRules('bw*-').every((rule) => validatePattern(rule.pattern).length === 0)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: fires only where the detect path alerts high or critical, and covers its critical alerts', (name, { useCase, spec }) => {
    const events = normaliseContent(name, JSON.stringify(spec.events)).events;
    const rules = rulesFor(spec, useCase);
    const direct = events.filter((event) => rules.some((rule) => matchesPattern(rule.pattern, event)));
    const alerts = spec.expect.filter((e) => (e.mode ?? 'alert') === 'alert');
    if (direct.length > 0) {
      expect(alerts.length, 'a direct alert where the detect path reports no alert').toBeGreaterThan(0);
      expect(alerts.every((e) => e.severity === 'high' || e.severity === 'critical'), 'a direct alert for a finding below high').toBe(true);
    }
    if (alerts.some((e) => e.severity === 'critical') && !NOT_DIRECT.has(name)) expect(direct.length, 'a critical finding without a direct alert').toBeGreaterThan(0);
  });
});
