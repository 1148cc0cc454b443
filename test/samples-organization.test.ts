import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../bin/commands/backfill.js';
import { loadConfig } from '../lambdas/config/config.js';
import { organizationAccount } from '../lambdas/config/organization.js';
import { ARTIFACTS, generateOrganizationHistory, organizationFileText, SECURITY, STORY, TOOLING } from '../samples/generate-organization-history.js';
import { capture, jsonLines } from './support/capture.js';

const ROOT = join(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'samples', 'organization-history');
const CONFIG = join(ROOT, 'samples', 'organization.config.json');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

interface Finding {
  useCase: string;
  mode: string;
  severity: string;
  account: string;
  region: string;
  principal: string;
  resource: string;
  eventTime: string;
}

/**
 * What the story must raise, and nothing else: one alert per step and question, each in the account
 * and region of its event. This holds with or without the organisation engine (per-account keys and
 * pipelines): the story's resources have distinct names across accounts, the configuration carries
 * the same resources at the top level too, and the only first-time accessor is the domain owner's
 * own account (not a cross-account verdict, so medium either way).
 */
const EXPECTED = [
  { useCase: 'source.new-pusher', severity: 'high', ...STORY.push, resource: 'payments-service' },
  // The same push by an IAM user over SSH: MFA is impossible (the developers' own pushes are suppressed, as in the single-account sample).
  { useCase: 'source.push-without-mfa', severity: 'medium', ...STORY.push, resource: 'payments-service' },
  { useCase: 'artifact.new-accessor', severity: 'medium', ...STORY.token, resource: 'acme' },
  { useCase: 'artifact.hash-mismatch', severity: 'high', ...STORY.publish, resource: 'acme/internal-releases/acme/payments-service' },
  { useCase: 'build.signing-key-change', severity: 'critical', ...STORY.keyPolicy, resource: 'arn:aws:kms:us-east-1:777788889999:key/3e9d7a41-58c2-4f0b-a6d3-1b2c4e5f7a90' },
].map(({ useCase, severity, account, region, day, principal, resource }) => ({ useCase, severity, account, region, day: `2026-10-${String(day).padStart(2, '0')}`, principal, resource, mode: 'alert' }));

describe('the organisation sample (samples/organization-history)', () => {
  it('is what the generator writes: an organisation trail of three accounts in two regions', () => {
    const generated = generateOrganizationHistory();
    const onDisk = filesUnder(join(SAMPLE, 'AWSLogs')).map((path) => relative(SAMPLE, path).split('\\').join('/')).sort();
    expect(onDisk).toEqual(generated.map((file) => file.path).sort());
    for (const file of generated) expect(readFileSync(join(SAMPLE, file.path), 'utf8'), file.path).toBe(organizationFileText(file));
    const prefixes = new Set(generated.map((file) => `${file.account}/${file.region}`));
    expect([...prefixes].sort()).toEqual([`${TOOLING}/eu-west-1`, `${TOOLING}/us-east-1`, `${ARTIFACTS}/eu-west-1`, `${SECURITY}/eu-west-1`, `${SECURITY}/us-east-1`]);
    // Every record lives in the file of the account that received it.
    for (const file of generated) for (const record of file.records) expect([record['recipientAccountId'], record['awsRegion']]).toEqual([file.account, file.region]);
  });

  it('names its accounts in the configuration', () => {
    const config = loadConfig(CONFIG);
    expect(config.organization?.id).toBe('o-a1b2c3d4e5');
    expect([TOOLING, ARTIFACTS, SECURITY].map((id) => organizationAccount(config, id)?.name)).toEqual(['tooling', 'artifacts', 'security']);
  });

  it('replays end to end: the story\'s findings, each in the account and region where it happened, and nothing else', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'buildwatch.mjs'), 'replay', SAMPLE, '--config', CONFIG, '--json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const generated = generateOrganizationHistory();
    const records = generated.reduce((sum, file) => sum + file.records.length, 0);
    expect(stderr).toContain(`replayed ${records} events from ${generated.length} files: ${EXPECTED.length} alerts, 0 attestations`);
    const findings = jsonLines(stdout) as unknown as Finding[];
    const seen = findings.map(({ useCase, severity, account, region, eventTime, principal, resource, mode }) => ({ useCase, severity, account, region, day: eventTime.slice(0, 10), principal, resource, mode }));
    expect(seen).toEqual(EXPECTED);
  });

  it('backfills as an organisation archive: the same would-be findings, and --account keeps to one account', async () => {
    const all = capture();
    const whole = await runBackfillCommand([SAMPLE], { config: CONFIG, whatIf: true, json: true }, all.io);
    expect(whole.exitCode).toBe(0);
    const report = JSON.parse(all.out()) as { useCases: Array<{ id: string; alerts: number }> };
    const alerting = report.useCases.filter((useCase) => useCase.alerts > 0).map((useCase) => [useCase.id, useCase.alerts]);
    expect(alerting.sort()).toEqual(EXPECTED.map((finding) => [finding.useCase, 1]).sort());

    const security = capture();
    const one = await runBackfillCommand([SAMPLE], { config: CONFIG, whatIf: true, json: true, account: [SECURITY] }, security.io);
    const only = (JSON.parse(security.out()) as typeof report).useCases.filter((useCase) => useCase.alerts > 0).map((useCase) => useCase.id);
    expect(only).toEqual(['build.signing-key-change']);
    expect(one.result?.counters.files).toBe(generateOrganizationHistory().filter((file) => file.account === SECURITY).length);
  });
});
