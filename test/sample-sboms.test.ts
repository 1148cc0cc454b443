/**
 * The sample builds' SBOMs (samples/.recorded): one per successful build, at the location the
 * bundled configuration names, identical to a fresh generation, and read by the SBOM use cases
 * when the sample is replayed with --recorded (real checks, not "could not run").
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../bin/commands/replay.js';
import { DEFAULT_HISTORY_OPTIONS, generateHistory } from '../samples/generate-history.js';
import { RECORDED_DIR, sampleSboms } from '../samples/sample-sboms.js';
import { capture, jsonLines } from './support/capture.js';

const ROOT = join(import.meta.dirname, '..');

describe('samples/.recorded', () => {
  it('holds the SBOM of every successful sample build, as a fresh generation writes it (rerun: npx tsx samples/sample-sboms.ts)', () => {
    const builds = generateHistory(DEFAULT_HISTORY_OPTIONS).flatMap((day) =>
      day.eventBridge.filter((e) => e['detail-type'] === 'CodeBuild Build State Change' && (e['detail'] as Record<string, unknown>)['build-status'] === 'SUCCEEDED'),
    );
    const objects = sampleSboms();
    expect(objects).toHaveLength(builds.length);
    expect(builds.length).toBeGreaterThan(80);
    for (const { path, text } of objects) {
      expect(path).toMatch(/^s3\/acme-artifacts\/sbom\/(payments-service-build|web-frontend-build)\/[0-9a-f-]{36}\/bom\.cdx\.json$/);
      const file = join(RECORDED_DIR, path);
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('turns the demo\'s SBOM checks into real ones: valid SBOMs, and an ordinary dependency bump', { timeout: 60_000 }, async () => {
    // The two weeks around web-frontend's axios patch (2026-10-14).
    const days = ['2026-10-12', '2026-10-13', '2026-10-14', '2026-10-15'].map((day) => join(ROOT, 'samples', 'history', day));
    const run = async (recorded?: string) => {
      const c = capture();
      const { exitCode } = await runReplay(days, { json: true, config: join(ROOT, 'buildwatch.config.json'), ...(recorded ? { recorded } : {}) }, c.io);
      expect(exitCode, c.err()).toBe(0);
      return jsonLines(c.out()).filter((f) => String(f['useCase']).startsWith('dependencies.'));
    };
    const without = await run();
    expect(without.length).toBeGreaterThan(0);
    expect(without.every((f) => f['title'] === 'SBOM check could not run')).toBe(true);

    const withSboms = await run(RECORDED_DIR);
    const sbomChecks = withSboms.filter((f) => f['useCase'] === 'dependencies.sbom');
    expect(sbomChecks).toHaveLength(without.length);
    expect(sbomChecks.every((f) => f['title'] === 'Build SBOM present and valid' && f['severity'] === 'info' && f['mode'] === 'attest')).toBe(true);
    const bump = withSboms.filter((f) => f['useCase'] === 'dependencies.library-change');
    expect(bump).toHaveLength(1);
    expect(bump[0]).toMatchObject({ resource: 'web-frontend-build', severity: 'info', mode: 'attest' });
  });
});
