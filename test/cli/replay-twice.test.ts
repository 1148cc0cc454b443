/** Issue #13 defect 10: replaying the same history twice into one kept store adds nothing. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import { capture, copyOfSample, ROOT } from './ledger-helpers.js';

describe('replay --keep of the same history twice', () => {
  it('adds no finding, alert or attestation the second time', { timeout: 120_000 }, async () => {
    const keep = await copyOfSample();
    const again = capture();
    const { exitCode, stats } = await runReplay([join(ROOT, 'samples', 'history')], { keep, config: join(ROOT, 'buildwatch.config.json'), json: true }, again.io);
    expect(exitCode).toBe(0);
    expect(again.out()).toBe('');
    expect({ alerts: stats.alerts, attestations: stats.attestations }).toEqual({ alerts: 0, attestations: 0 });
    expect(stats.duplicates).toBeGreaterThan(0);
  });
});
