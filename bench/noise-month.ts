/**
 * Noise figure (`npx tsx bench/noise-month.ts [--recorded]`): replays the full benign month of a
 * 30-person organisation (samples/generate-organisation-month.ts) through `buildwatch replay`, and
 * prints the alerts after the learning period by severity, and medium-or-higher alerts per 10k
 * events, with and without the documented new colleague's first sighting. `--recorded` answers
 * look-ups (BatchGetProjects) as a replay today would: every project as it is at the end of the month.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReplay } from '../bin/commands/replay.js';
import { capture, jsonLines } from '../test/support/capture.js';
import { DEFAULT_MONTH, noiseFigures, writeOrganisationMonth, type ReplayedFinding } from '../samples/write-organisation-month.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const withLookups = process.argv.includes('--recorded');
const dir = mkdtempSync(join(tmpdir(), 'buildwatch-noise-month-'));
try {
  const { inputDir, configPath, recordedDir, month } = writeOrganisationMonth(dir, DEFAULT_MONTH);
  const out = capture();
  const { exitCode, stats } = await runReplay([inputDir], { json: true, config: configPath, ...(withLookups ? { recorded: recordedDir } : {}) }, out.io);
  if (exitCode !== 0) throw new Error(`replay failed (${exitCode}): ${out.err()}`);
  const figures = noiseFigures(jsonLines(out.out()) as unknown as ReplayedFinding[], stats.events, month, DEFAULT_MONTH);
  const bySeverity = ['critical', 'high', 'medium', 'low'].map((s) => `${s} ${figures.alertsBySeverity[s] ?? 0}`).join(', ');
  process.stdout.write(
    [
      `benign month (${DEFAULT_MONTH.days} days from ${DEFAULT_MONTH.startDate}, seed ${DEFAULT_MONTH.seed})${withLookups ? ', look-ups answered at the end of the month' : ', no look-ups'}`,
      `events                          : ${stats.events}`,
      `alerts after learning (14 days) : ${bySeverity}`,
      `medium-or-higher per 10k events : ${figures.mediumOrHigherPer10k} (${figures.falseMediumOrHigherPer10k} without the new colleague's first sighting)`,
      ...[...new Map(figures.falseAlerts.map((f) => [`${f.useCase} ${f.severity}`, 0])).keys()].map((k) => `false alerts from                : ${k} (${figures.falseAlerts.filter((f) => `${f.useCase} ${f.severity}` === k).length})`),
    ].join('\n') + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
