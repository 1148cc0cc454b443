/**
 * Noise control end to end through `buildwatch replay`: a dedup window folds repeats (counted in the
 * summary, not printed), replaying a history twice in one run sends no second alert, amended findings
 * still verify after sealing, and --what-if shows what staging held back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import { runSealCommand } from '../../bin/commands/seal.js';
import { runVerify } from '../../bin/commands/verify.js';
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
