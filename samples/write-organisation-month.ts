/**
 * Writes the benign organisation month (generate-organisation-month.ts) as a user would have it:
 * one folder per day with the CloudTrail log file and the native EventBridge events, and the
 * configuration and the recorded look-ups (projects as they are at the end of the month) next to them:
 * `buildwatch replay <dir>/days --config <dir>/buildwatch.config.json [--recorded <dir>/recorded]`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleFiles } from './generate-history.js';
import { generateOrganisationMonth, type MonthCertificates, type OrganisationMonth, type OrganisationMonthOptions } from './generate-organisation-month.js';

export const DEFAULT_MONTH: OrganisationMonthOptions = { startDate: '2026-10-01', days: 30, seed: 2026 };

export function monthCertificates(): MonthCertificates {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'organisation-month-certificates.json'), 'utf8')) as MonthCertificates;
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
