/**
 * Writes the benign organisation month (generate-organisation-month.ts) as a user would have it:
 * one folder per day with the CloudTrail log file and the native EventBridge events, and the
 * configuration and the recorded look-ups (projects as they are at the end of the month) next to them:
 * `buildwatch replay <dir>/days --config <dir>/buildwatch.config.json [--recorded <dir>/recorded]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleFiles } from './generate-history.js';
import { ORGANISATION_MONTH_CERTIFICATES } from './organisation-month-certificates.js';
import { generateOrganisationMonth, type MonthCertificates, type OrganisationMonth, type OrganisationMonthOptions } from './generate-organisation-month.js';

export const DEFAULT_MONTH: OrganisationMonthOptions = { startDate: '2026-10-01', days: 30, seed: 2026 };

export function monthCertificates(): MonthCertificates {
  return ORGANISATION_MONTH_CERTIFICATES;
}

export function writeOrganisationMonth(dir: string, options: OrganisationMonthOptions = DEFAULT_MONTH): { inputDir: string; configPath: string; recordedDir: string; month: OrganisationMonth } {
  const month = generateOrganisationMonth(options, monthCertificates());
  const inputDir = join(dir, 'days');
  for (const day of month.days) {
    const folder = join(inputDir, day.date);
    mkdirSync(folder, { recursive: true });
    for (const file of sampleFiles(day)) writeFileSync(join(folder, file.name), file.text);
  }
  // Look-ups as a replay today would get them: every project as it is at the end of the month.
  const recordedDir = join(dir, 'recorded');
  mkdirSync(join(recordedDir, 'codebuild', 'BatchGetProjects'), { recursive: true });
  for (const project of month.projectsAtEnd) writeFileSync(join(recordedDir, 'codebuild', 'BatchGetProjects', `${String(project['name'])}.json`), `${JSON.stringify({ projects: [project], projectsNotFound: [] }, null, 2)}\n`);
  const configPath = join(dir, 'buildwatch.config.json');
  writeFileSync(configPath, `${JSON.stringify(month.config, null, 2)}\n`);
  return { inputDir, configPath, recordedDir, month };
}

/** A finding as `replay --json` prints it (the fields the noise figures need). */
export interface ReplayedFinding {
  readonly useCase: string;
  readonly severity: string;
  readonly mode: string;
  readonly eventTime: string;
  readonly principal: string;
  readonly summary: string;
}

export interface NoiseFigures {
  readonly events: number;
  /** Alerts (not attestations) from the end of the learning period on, by severity. */
  readonly alertsBySeverity: Readonly<Record<string, number>>;
  /** Medium-or-higher alerts after learning, per 10k events of the month. */
  readonly mediumOrHigherPer10k: number;
  /** The same, without the documented new colleague's first sighting (a true positive). */
  readonly falseMediumOrHigherPer10k: number;
  /** The medium-or-higher alerts that are not expected: the noise itself. */
  readonly falseAlerts: readonly ReplayedFinding[];
}

const MEDIUM_OR_HIGHER = new Set(['medium', 'high', 'critical']);

export function noiseFigures(findings: readonly ReplayedFinding[], events: number, month: OrganisationMonth, options: OrganisationMonthOptions, learningDays = 14): NoiseFigures {
  const learningEnds = new Date(Date.parse(`${options.startDate}T00:00:00Z`) + learningDays * 86_400_000).toISOString();
  const alerts = findings.filter((f) => f.mode === 'alert' && f.eventTime >= learningEnds);
  const alertsBySeverity: Record<string, number> = {};
  for (const alert of alerts) alertsBySeverity[alert.severity] = (alertsBySeverity[alert.severity] ?? 0) + 1;
  const serious = alerts.filter((f) => MEDIUM_OR_HIGHER.has(f.severity));
  const expected = new Set(month.expectedFirstSightings);
  const falseAlerts = serious.filter((f) => !(f.useCase === 'artifact.new-accessor' && expected.has(f.principal)));
  const per10k = (n: number): number => Math.round((n / Math.max(events, 1)) * 10_000 * 100) / 100;
  return { events, alertsBySeverity, mediumOrHigherPer10k: per10k(serious.length), falseMediumOrHigherPer10k: per10k(falseAlerts.length), falseAlerts };
}

/** `npx tsx samples/write-organisation-month.ts DIR` */
if (process.argv[1] && /write-organisation-month\.ts$/.test(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: tsx samples/write-organisation-month.ts DIR\n');
    process.exit(2);
  }
  const { inputDir, configPath } = writeOrganisationMonth(dir);
  process.stdout.write(`wrote ${inputDir} and ${configPath}\n`);
}
