/**
 * `npm run new-use-case -- <stage> <name>` end to end, in a copy of the tree the use-case runner
 * needs: the scaffold registers the use case, its positive case fails until the logic is written,
 * and after the README's "Write your first use case" steps (the edits below) its cases pass and it
 * type-checks. The scaffold refuses an existing name or an unknown stage.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** The walkthrough's step 3: the logic (README, "Write your first use case"). */
const WALKTHROUGH_LOGIC = `function observe(event: PipelineEvent): Observation | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const domain = stringAt(record.requestParameters, 'domain');
  const repository = stringAt(record.requestParameters, 'repository');
  if (!domain || !repository) return undefined;
  const who = event.principal?.arn ?? event.principal?.key ?? 'an unknown principal';
  return {
    resource: repository,
    summary: \`\${who} deleted CodeArtifact repository \${repository} in domain \${domain}\`,
    evidence: { domain, repository },
  };
}
`;
/** Step 4: the expectation of the positive case. */
const WALKTHROUGH_EXPECT = [{ mode: 'alert', severity: 'high', resource: 'internal-releases', summary: 'deleted CodeArtifact repository internal-releases in domain acme' }];

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'buildwatch-scaffold-'));
  for (const path of ['lambdas', 'types', 'test/use-cases.test.ts', 'test/support', 'bin/new-use-case.ts', 'tsconfig.json', 'vitest.config.ts', 'package.json']) {
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
  const { code } = await run(process.execPath, [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/use-cases.test.ts', '-t', 'artifact\\.repository-deleted', '--reporter=json', `--outputFile=${report}`]);
  const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }> };
  const results = Object.fromEntries(json.testResults.flatMap((file) => file.assertionResults.filter((a) => a.status !== 'skipped' && a.status !== 'pending').map((a) => [a.title, a.status])));
  return { code, results };
}

describe('npm run new-use-case', () => {
  it('scaffolds, fails its positive case until written, and passes after the walkthrough', { timeout: 120_000 }, async () => {
    const created = await scaffold('artifact', 'repository-deleted');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('artifact.repository-deleted: created');
    const folder = join(dir, 'lambdas', 'use-cases', 'artifact', 'repository-deleted');
    const index = readFileSync(join(dir, 'lambdas', 'use-cases', 'index.ts'), 'utf8');
    expect(index).toContain("import artifactRepositoryDeleted from './artifact/repository-deleted/use-case.js';");
    expect(index).toMatch(/export const useCases: readonly UseCase\[] = \[[^\]]*, artifactRepositoryDeleted\];/);

    // Refusals: the same name again, an unknown stage, a bad name.
    expect(await scaffold('artifact', 'repository-deleted')).toMatchObject({ code: 2, stderr: expect.stringContaining('exists already') });
    expect(await scaffold('pipeline', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown stage "pipeline"') });
    expect(await scaffold('build', 'Not_Valid')).toMatchObject({ code: 2, stderr: expect.stringContaining('invalid name') });

    const before = await cases();
    expect(before.code).not.toBe(0);
    expect(before.results).toMatchObject({ 'reports-delete-repository': 'failed', 'ignores-refused-delete-repository': 'passed', 'artifact.repository-deleted has valid metadata and a valid pattern': 'passed' });

    // The walkthrough: the logic, its import, the severity, the positive case's expectation.
    const file = join(folder, 'use-case.ts');
    let source = readFileSync(file, 'utf8');
    source = source.replace(/function observe\([\s\S]*?\n}\n/, WALKTHROUGH_LOGIC);
    source = source.replace("import type { PipelineEvent } from '../../../engine/pipeline-event.js';", "import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';");
    source = source.replace("severity: 'medium',", "severity: 'high',");
    writeFileSync(file, source);
    const positive = join(folder, 'cases', 'reports-delete-repository.json');
    writeFileSync(positive, JSON.stringify({ ...JSON.parse(readFileSync(positive, 'utf8')), expect: WALKTHROUGH_EXPECT }, null, 2));

    const after = await cases();
    expect(after.results).toMatchObject({ 'reports-delete-repository': 'passed', 'ignores-refused-delete-repository': 'passed' });
    expect(after.code).toBe(0);

    writeFileSync(join(dir, 'tsconfig.scaffold.json'), JSON.stringify({ extends: './tsconfig.json', include: ['types', 'lambdas/use-cases/index.ts'] }));
    const typecheck = await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.scaffold.json']);
    expect(typecheck.code, typecheck.stdout).toBe(0);
  });
});
