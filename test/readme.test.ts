import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambdas/config/config.js';
import { QUESTIONS } from '../lambdas/engine/model.js';
import { catalogue, catalogueMarkdown } from '../lambdas/use-cases/catalogue.js';
import { useCases } from '../lambdas/use-cases/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('carries the current use-case catalogue (run `npm run catalogue` and paste it when this fails)', () => {
    const copy = /<!-- catalogue:start -->\n([\s\S]*?)\n<!-- catalogue:end -->/.exec(readme)?.[1];
    expect(copy).toBe(catalogueMarkdown(catalogue(useCases, parseConfig({}))));
  });

  it('lists every question id', () => {
    for (const id of Object.keys(QUESTIONS)) expect(readme).toContain(`\`${id}\``);
  });

  it('shows the two commands of the quick start and the configuration fields', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    for (const field of ['pipeline.repositories', 'automationPrincipals', 'defaults.learningDays', 'suppressions', 'routing.teams']) expect(readme).toContain(field);
  });
});
