/**
 * Writes the sample organisation trail to samples/organization-history/ (AWSLogs/… only; other files
 * there are left alone). Run: npx tsx samples/write-organization-history.ts. The test in
 * test/samples-organization.test.ts fails when the committed files drift from a fresh generation.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOrganizationHistory, organizationFileText } from './generate-organization-history.js';

const SAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'organization-history');

function main(): void {
  const files = generateOrganizationHistory();
  rmSync(join(SAMPLE_DIR, 'AWSLogs'), { recursive: true, force: true });
  let records = 0;
  for (const file of files) {
    const path = join(SAMPLE_DIR, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, organizationFileText(file));
    records += file.records.length;
  }
  process.stderr.write(`wrote ${files.length} files to ${SAMPLE_DIR}: ${records} CloudTrail records\n`);
}

main();
