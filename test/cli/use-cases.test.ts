/**
 * `buildwatch use-cases [--json]`: each use case's question, stage, mode, severity, risk reduction,
 * effort and priority, whether a managed service covers it, staging and dedup windows, and the
 * suppressions that apply, expired ones flagged (they no longer apply to newer events).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { catalogue, catalogueText } from '../../lambdas/use-cases/catalogue.js';
import { useCases } from '../../lambdas/use-cases/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const config = parseConfig({
  defaults: { stagingDays: 7 },
  useCases: {
    'monitor.cloudtrail-tamper': { coveredBy: 'GuardDuty Stealth:IAMUser/CloudTrailLoggingDisabled' },
    'source.push-without-mfa': { dedupWindowMinutes: 120 },
    'build.pipeline-change': { mode: 'attest' },
  },
  suppressions: [
    { useCase: 'source.push-without-mfa', principal: 'arn:aws:iam::111122223333:user/alice', expires: '2026-12-31', reason: 'IAM user until the SSO migration' },
    { useCase: 'source.protection-change', resource: 'payments-service', expires: '2026-10-02', reason: 'Change window SEC-150' },
    { useCase: '*', principal: 'arn:aws:iam::111122223333:role/break-glass', expires: '2026-11-01', reason: 'Incident drill' },
  ],
});
const TODAY = '2026-11-25';

describe('the catalogue with a configuration', () => {
  const entries = catalogue(useCases, config, TODAY);
  const byId = new Map(entries.map((e) => [e.id, e]));

  it('has the prioritisation columns for every use case', () => {
    for (const e of entries) {
      expect(e).toMatchObject({ question: expect.any(String), stage: expect.any(String), mode: expect.any(String), severity: expect.any(String), riskReduction: expect.any(Number), effort: expect.any(Number), priority: expect.any(Number) });
    }
    expect(entries.map((e) => e.priority)).toEqual([...entries.map((e) => e.priority)].sort((a, b) => b - a));
  });

  it('halves the priority of a use case a managed service already covers, and names the service', () => {
    const covered = byId.get('monitor.cloudtrail-tamper')!;
    expect(covered.coveredBy).toEqual(['GuardDuty Stealth:IAMUser/CloudTrailLoggingDisabled']);
    expect(covered.priority).toBe(2.5);
    expect(byId.get('monitor.rule-tamper')!).toMatchObject({ coveredBy: [], priority: 5, deprioritised: [] });
  });

  it('halves the priority of a use case configured in attest mode (audit evidence only), and says why', () => {
    // build.pipeline-change: risk reduction 3, effort 1; attest mode in this configuration.
    const attested = byId.get('build.pipeline-change')!;
    expect(attested).toMatchObject({ mode: 'attest', riskReduction: 3, effort: 1, priority: 1.5, deprioritised: ['attest mode: evidence for audits, no alerts'] });
    expect(catalogue(useCases, parseConfig({}), TODAY).find((e) => e.id === 'build.pipeline-change')).toMatchObject({ mode: 'alert', priority: 3, deprioritised: [] });
    // Both reasons: halved twice.
    const both = catalogue(useCases, parseConfig({ useCases: { 'build.pipeline-change': { mode: 'attest', coveredBy: 'AWS Config rule' } } }), TODAY);
    expect(both.find((e) => e.id === 'build.pipeline-change')).toMatchObject({ priority: 0.75, deprioritised: ['covered by AWS Config rule', 'attest mode: evidence for audits, no alerts'] });
    expect(catalogueText(entries)).toContain('attest: build.pipeline-change runs in attest mode, evidence for audits without alerts (priority halved)');
  });

  it('shows staging (alert-mode use cases only), dedup windows and configured modes', () => {
    expect(byId.get('source.new-pusher')).toMatchObject({ stagingDays: 7, dedupWindowMinutes: 0, mode: 'alert' });
    expect(byId.get('source.push-without-mfa')).toMatchObject({ dedupWindowMinutes: 120 });
    expect(byId.get('build.pipeline-change')).toMatchObject({ mode: 'attest', stagingDays: 0 });
    expect(byId.get('monitor.canary')).toMatchObject({ stagingDays: 0 });
  });

  it('lists the suppressions that apply to each use case, expired ones flagged', () => {
    expect(byId.get('source.protection-change')!.suppressions).toEqual([
      { useCase: 'source.protection-change', resource: 'payments-service', expires: '2026-10-02', reason: 'Change window SEC-150', expired: true },
      { useCase: '*', principal: 'arn:aws:iam::111122223333:role/break-glass', expires: '2026-11-01', reason: 'Incident drill', expired: true },
    ]);
    expect(byId.get('source.push-without-mfa')!.suppressions.map((s) => s.expired)).toEqual([false, true]);
  });

  it('reports them in the text too: expired ones first, each suppression once', () => {
    const text = catalogueText(entries);
    expect(text).toContain('suppressions: 1 active, 2 expired');
    expect(text).toMatch(/EXPIRED 2026-10-02 {2}source\.protection-change {2}resource payments-service: Change window SEC-150/);
    expect(text.match(/Incident drill/g)).toHaveLength(1);
    expect(text).toContain('covered: monitor.cloudtrail-tamper by GuardDuty Stealth:IAMUser/CloudTrailLoggingDisabled (priority halved)');
    expect(text).toContain('dedup window: source.push-without-mfa 120 min');
    expect(text).toMatch(/\* staging: 7 days in attest mode/);
  });

  it('without a configuration: no coverage, staging, windows or suppressions (the README table is unchanged)', () => {
    const plain = catalogue(useCases, parseConfig({}), TODAY);
    for (const e of plain) expect(e).toMatchObject({ coveredBy: [], stagingDays: 0, dedupWindowMinutes: 0, suppressions: [] });
    expect(catalogueText(plain)).not.toContain('suppressions:');
  });
});

describe('buildwatch use-cases (command)', () => {
  it('prints the JSON catalogue with the configuration\'s coverage and staging', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin', 'buildwatch.mjs'), 'use-cases', '--json', '--config', join(ROOT, 'test', 'fixtures', 'routing.config.json')], { cwd: ROOT });
    const entries = JSON.parse(stdout) as Array<{ id: string; coveredBy: string[]; stagingDays: number; priority: number }>;
    expect(entries.length).toBe(useCases.length);
    expect(entries.find((e) => e.id === 'monitor.cloudtrail-tamper')).toMatchObject({ coveredBy: ['GuardDuty Stealth:IAMUser/CloudTrailLoggingDisabled'], stagingDays: 7 });
  });
});
