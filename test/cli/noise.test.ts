/**
 * Noise control end to end through `buildwatch replay`: a dedup window folds repeats (counted in the
 * summary, not printed), replaying a history twice in one run sends no second alert, amended findings
 * still verify after sealing, and --what-if shows what staging held back; and a benign month of a
 * 30-person organisation, replayed the way users replay, stays under the noise goal after learning.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import { runSealCommand } from '../../bin/commands/seal.js';
import { runVerify } from '../../bin/commands/verify.js';
import { noiseFigures, writeOrganisationMonth, type ReplayedFinding } from '../../samples/write-organisation-month.js';
import type { OrganisationMonthOptions } from '../../samples/generate-organisation-month.js';
import { capture, jsonLines, ROOT, tempDir } from './ledger-helpers.js';

const stopLogging = (JSON.parse(readFileSync(join(ROOT, 'lambdas/use-cases/monitor/cloudtrail-tamper/cases/stop-logging.json'), 'utf8')) as { events: Array<Record<string, any>> }).events[0]!;

/** StopLogging on one trail at these times (distinct events, same dedup key). */
function stops(times: readonly string[], offset = 0): Array<Record<string, unknown>> {
  return times.map((time, index) => {
    const n = String(index + 1 + offset).padStart(12, '0');
    return { ...stopLogging, id: `eb-d1000000-0000-4000-8000-${n}`, time, detail: { ...stopLogging.detail, eventTime: time, eventID: `d1000000-0000-4000-8000-${n}` } };
  });
}

function files(config: Record<string, unknown>, events: unknown[]): { dir: string; config: string; events: string } {
  const dir = tempDir('buildwatch-noise-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'events.json'), JSON.stringify(events));
  return { dir, config: join(dir, 'config.json'), events: join(dir, 'events.json') };
}

describe('replay with noise control', () => {
  const window = { useCases: { 'monitor.cloudtrail-tamper': { dedupWindowMinutes: 60 } } };

  it('folds repeats within the window into the first finding; replaying the history twice in one run alerts nothing more', async () => {
    const input = files(window, stops(['2026-10-26T03:10:00Z', '2026-10-26T03:20:00Z', '2026-10-26T03:50:00Z', '2026-10-26T04:30:00Z']));
    const once = capture();
    const single = await runReplay([input.events], { json: true, config: input.config }, once.io);
    expect(single.exitCode).toBe(0);
    // 03:10 opens a window (03:20 and 03:50 fold into it); 04:30 is 80 minutes later: a new alert.
    expect(jsonLines(once.out()).map((f) => f['eventTime'])).toEqual(['2026-10-26T03:10:00Z', '2026-10-26T04:30:00Z']);
    expect(single.stats).toMatchObject({ alerts: 2, deduplicated: 2, duplicates: 0 });
    expect(once.err()).toMatch(/2 alerts, 0 attestations, 0 repeats ignored, 2 repeats counted into earlier findings/);

    const twice = capture();
    const double = await runReplay([input.events, input.events], { json: true, config: input.config }, twice.io);
    expect(jsonLines(twice.out())).toHaveLength(2);
    expect(double.stats).toMatchObject({ alerts: 2, deduplicated: 2, duplicates: 4 });
    expect(twice.err().match(/^CRITICAL /gm)).toHaveLength(2);
  });

  it('amended findings verify after sealing; a repeat after its day is sealed becomes its own finding, never an edit', { timeout: 60_000 }, async () => {
    const input = files(window, stops(['2026-10-26T03:10:00Z', '2026-10-26T03:20:00Z']));
    const keep = join(input.dir, 'kept');
    expect((await runReplay([input.events], { config: input.config, keep }, capture().io)).exitCode).toBe(0);
    expect((await runSealCommand({ keep }, capture().io)).exitCode).toBe(0);
    const clean = capture();
    expect((await runVerify({ keep, now: new Date('2026-11-25T12:00:00Z') }, clean.io)).exitCode, clean.out()).toBe(0);

    writeFileSync(input.events, JSON.stringify(stops(['2026-10-26T03:30:00Z'], 10)));
    const late = capture();
    const again = await runReplay([input.events], { json: true, config: input.config, keep }, late.io);
    expect(again.stats).toMatchObject({ alerts: 1, deduplicated: 0 });
    const after = capture();
    expect((await runVerify({ keep, now: new Date('2026-11-25T12:00:00Z') }, after.io)).exitCode).toBe(1);
    expect(after.out()).toMatch(/^2026-10-26 \S+ inserted/m);
    expect(after.out()).not.toContain('modified');
  });

  it('--what-if shows what staging held back: a stderr section and wouldAlert on the --json line; nothing else changes', async () => {
    const input = files({ defaults: { stagingDays: 7 } }, stops(['2026-10-26T03:10:00Z']));
    const plain = capture();
    const without = await runReplay([input.events], { json: true, config: input.config }, plain.io);
    const whatIf = capture();
    const withWhatIf = await runReplay([input.events], { json: true, config: input.config, whatIf: true }, whatIf.io);
    expect(without.stats).toMatchObject({ alerts: 0, attestations: 1, heldBack: 1 });
    expect(withWhatIf.stats).toMatchObject({ alerts: 0, attestations: 1, heldBack: 1 });
    const [line] = jsonLines(whatIf.out());
    expect(line).toMatchObject({ mode: 'attest', heldBack: 'staging', wouldAlert: true, useCase: 'monitor.cloudtrail-tamper' });
    expect(jsonLines(plain.out())[0]).not.toHaveProperty('wouldAlert');
    expect(whatIf.err()).toContain('buildwatch: what-if: 1 finding(s) would have alerted without staging or attest mode:');
    expect(whatIf.err()).toContain('CRITICAL (would alert; held back by staging) CloudTrail logging stopped');
    expect(whatIf.err()).toMatch(/0 alerts, 1 attestation, 0 repeats ignored, 1 held back \(would have alerted\)/);
    expect(plain.err()).not.toContain('what-if');
  });
});

describe('a benign month of a 30-person organisation (samples/generate-organisation-month.ts)', () => {
  // One build per project and weekday keeps the test quick; `npx tsx bench/noise-month.ts` measures the full month.
  const options: OrganisationMonthOptions = { startDate: '2026-10-01', days: 30, seed: 2026, buildsPerWeekday: 1, readsPerBuild: 1, readsPerDeveloperDay: 1 };

  it('after learning: no false medium-or-higher alert (goal: at most 1 per 10k events); renewals, rotations and known colleagues stay low', { timeout: 120_000 }, async () => {
    const dir = tempDir('buildwatch-month-');
    const { inputDir, configPath, month } = writeOrganisationMonth(dir, options);
    const out = capture();
    const result = await runReplay([inputDir], { json: true, config: configPath }, out.io);
    expect(result.exitCode, out.err()).toBe(0);
    expect(result.stats.problems).toEqual([]);
    const findings = jsonLines(out.out()) as unknown as ReplayedFinding[];
    const figures = noiseFigures(findings, result.stats.events, month, options);

    expect(result.stats.events).toBeGreaterThan(2_500);
    expect(figures.falseAlerts.map((f) => `${f.eventTime} ${f.useCase} ${f.severity}: ${f.summary}`)).toEqual([]);
    expect(figures.falseMediumOrHigherPer10k).toBeLessThanOrEqual(1);
    // The colleague who joined after learning is the one medium: a true first sighting, kept.
    expect(findings.filter((f) => f.mode === 'alert' && f.severity === 'medium').map((f) => f.principal)).toEqual([...month.expectedFirstSightings]);

    const of = (useCase: string) => findings.filter((f) => f.useCase === useCase).map((f) => `${f.severity}/${f.mode}`).sort();
    // Certificate renewals by re-import: by automation an attestation, by a person low (never critical).
    expect(of('build.signing-certificate-change')).toEqual(['info/attest', 'low/alert']);
    // The signing alias moved to the next listed key: low.
    expect(of('build.signing-key-change')).toEqual(['low/alert']);
    // Known developers reaching internal-releases for the first time after learning: low attestations.
    const colleagues = of('artifact.new-accessor').filter((s) => s === 'low/attest');
    expect(colleagues.length).toBeGreaterThan(0);
  });
});
