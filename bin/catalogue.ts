/**
 * `npm run catalogue`: the README's use-case table, generated from the use cases' metadata.
 * `npm run catalogue -- --write` puts it into README.md between the catalogue markers (what
 * test/readme.test.ts checks); without --write it prints the table (`npm run --silent catalogue`
 * prints nothing but the table, ready to paste).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../lambdas/config/config.js';
import { catalogue, catalogueMarkdown, withCatalogue } from '../lambdas/use-cases/catalogue.js';
import { useCases } from '../lambdas/use-cases/index.js';

const README = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

function main(argv: readonly string[]): number {
  const unknown = argv.filter((arg) => arg !== '--write');
  if (unknown.length > 0) {
    process.stderr.write(`usage: npm run catalogue [-- --write]   (unknown: ${unknown.join(' ')})\n`);
    return 2;
  }
  // The README's table is the catalogue's defaults: no configuration applies.
  const table = catalogueMarkdown(catalogue(useCases, parseConfig({})));
  if (!argv.includes('--write')) {
    process.stdout.write(`${table}\n`);
    return 0;
  }
  const before = readFileSync(README, 'utf8');
  const after = withCatalogue(before, table);
  if (after === undefined) {
    process.stderr.write(`catalogue: ${README} has no <!-- catalogue:start --> … <!-- catalogue:end --> markers\n`);
    return 2;
  }
  if (after !== before) writeFileSync(README, after);
  process.stderr.write(`catalogue: README.md ${after === before ? 'is current' : 'updated'} (${useCases.length} use cases)\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
