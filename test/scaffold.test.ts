/**
 * The README's "Write your first use case", followed literally, in a copy of the tree: the steps'
 * commands, import line, logic and expectation are read from README.md and applied to a scaffold
 * under a unique name (so a use case a reader already added, artifact.repository-deleted, cannot
 * collide). The positive case fails until the logic is written; afterwards the cases pass, the use
 * case type-checks, and `npm run catalogue -- --write` puts it into the README's table. The scaffold
 * refuses an existing name or an unknown stage.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const WALKTHROUGH = README.slice(README.indexOf('## Write your first use case'), README.indexOf('\n## ', README.indexOf('## Write your first use case') + 1));

/** A README step's fenced block, without the list indentation. */
function block(step: string, language: string): string {
  const text = new RegExp(`${step}\\. \\*\\*[\\s\\S]*?\`\`\`${language}\\n([\\s\\S]*?)\\n\\s*\`\`\``).exec(WALKTHROUGH)?.[1];
  if (!text) throw new Error(`README walkthrough: no ${language} block in step ${step}`);
  return text.split('\n').map((line) => line.replace(/^ {3}/, '')).join('\n');
}

/** Step 1's command, and the walkthrough's name, replaced by one no tree can hold already. */
const STAGE = 'artifact';
const README_NAME = 'repository-deleted';
const NAME = `repository-deleted-t${process.pid}x${Date.now().toString(36)}`;
const ID = `${STAGE}.${NAME}`;
const STEP1 = block('1', 'sh').trim();
/** Step 3: the import line to replace, its replacement, and the logic. */
const IMPORT = /replace the import line\s+`([^`]+)`\s+with\s+`([^`]+)`/.exec(WALKTHROUGH);
const LOGIC = `${block('3', 'ts')}\n`;
/** Step 4: the severity and the positive case's expectation. */
const SEVERITY = /`severity: '(\w+)'`/.exec(WALKTHROUGH)?.[1];
const EXPECT = (JSON.parse(`{${block('4', 'json')}}`) as { expect: unknown[] }).expect;
/** Step 5's commands. */
const STEP5 = block('5', 'sh');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'buildwatch-scaffold-'));
  for (const path of ['lambdas', 'types', 'test/use-cases.test.ts', 'test/support', 'bin/new-use-case.ts', 'bin/catalogue.ts', 'README.md', 'tsconfig.json', 'vitest.config.ts', 'package.json']) {
    cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child process without the outer vitest's environment. */
function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS' && key !== 'TINYPOOL_WORKER_ID'));
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd: dir, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const scaffold = (...args: string[]) => run('npm', ['run', '--silent', 'new-use-case', '--', ...args]);

/** The new use case's labelled cases through the real runner: name → passed. */
async function cases(): Promise<{ code: number; results: Record<string, string> }> {
  const report = join(dir, 'report.json');
  const { code } = await run(process.execPath, [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/use-cases.test.ts', '-t', ID.replace(/[.]/g, '\\.'), '--reporter=json', `--outputFile=${report}`]);
  const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }> };
  const results = Object.fromEntries(json.testResults.flatMap((file) => file.assertionResults.filter((a) => a.status !== 'skipped' && a.status !== 'pending').map((a) => [a.title, a.status])));
  return { code, results };
}

describe('the README walkthrough, followed literally', () => {
  it('reads as steps this test can follow', () => {
    expect(STEP1).toBe(`npm run new-use-case -- ${STAGE} ${README_NAME}`);
    expect(IMPORT?.[1]).toBe("import type { PipelineEvent } from '../../../engine/pipeline-event.js';");
    expect(IMPORT?.[2]).toContain('stringAt');
    expect(SEVERITY).toBe('high');
    expect(WALKTHROUGH).toContain('`answers`');
    expect(STEP5).toContain('npm run catalogue -- --write');
  });

  it('scaffolds, fails its positive case until written, then passes, type-checks and enters the catalogue', { timeout: 180_000 }, async () => {
    // Step 1, under the unique name.
    const [npm, runWord, ...step1Args] = STEP1.replace(README_NAME, NAME).split(/\s+/);
    const created = await run(npm!, [runWord!, '--silent', ...step1Args]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`${ID}: created`);
    const folder = join(dir, 'lambdas', 'use-cases', STAGE, NAME);
    const index = readFileSync(join(dir, 'lambdas', 'use-cases', 'index.ts'), 'utf8');
    expect(index).toContain(`from './${STAGE}/${NAME}/use-case.js';`);

    // Refusals: the same name again, an unknown stage, a bad name.
    expect(await scaffold(STAGE, NAME)).toMatchObject({ code: 2, stderr: expect.stringContaining('exists already') });
    expect(await scaffold('pipeline', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown stage "pipeline"') });
    expect(await scaffold('build', 'Not_Valid')).toMatchObject({ code: 2, stderr: expect.stringContaining('invalid name') });

    // Step 2: the positive case fails, the negative one passes.
    const before = await cases();
    expect(before.code).not.toBe(0);
    expect(before.results).toMatchObject({ 'reports-delete-repository': 'failed', 'ignores-refused-delete-repository': 'passed', [`${ID} has valid metadata and a valid pattern`]: 'passed' });

    // Steps 3 and 4, as the README words them.
    const file = join(folder, 'use-case.ts');
    let source = readFileSync(file, 'utf8');
    expect(source).toContain(IMPORT![1]);
    source = source.replace(IMPORT![1]!, IMPORT![2]!);
    source = source.replace(/function observe\([\s\S]*?\n}\n/, LOGIC);
    source = source.replace("severity: 'medium',", `severity: '${SEVERITY}',`);
    expect(source).toContain("answers: 'artifact.hash-mismatch'");
    writeFileSync(file, source);
    const positive = join(folder, 'cases', 'reports-delete-repository.json');
    writeFileSync(positive, JSON.stringify({ ...JSON.parse(readFileSync(positive, 'utf8')), expect: EXPECT }, null, 2));

    // Step 5: the cases pass, it type-checks (TS2300 if the import were duplicated), the README's table gets it.
    const after = await cases();
    expect(after.results).toMatchObject({ 'reports-delete-repository': 'passed', 'ignores-refused-delete-repository': 'passed' });
    expect(after.code).toBe(0);
    writeFileSync(join(dir, 'tsconfig.scaffold.json'), JSON.stringify({ extends: './tsconfig.json', include: ['types', 'lambdas/use-cases/index.ts'] }));
    const typecheck = await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.scaffold.json']);
    expect(typecheck.code, typecheck.stdout).toBe(0);
    const catalogue = await run('npm', ['run', '--silent', 'catalogue', '--', '--write']);
    expect(catalogue.code, catalogue.stderr).toBe(0);
    expect(catalogue.stderr).toContain('catalogue: README.md updated');
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(new RegExp(`<!-- catalogue:start -->[\\s\\S]*\\| \`${ID.replace('.', '\\.')}\`: TODO[\\s\\S]*<!-- catalogue:end -->`));
    expect(readme.replace(/<!-- catalogue:start -->[\s\S]*<!-- catalogue:end -->/, '')).toBe(README.replace(/<!-- catalogue:start -->[\s\S]*<!-- catalogue:end -->/, ''));
  });
});
