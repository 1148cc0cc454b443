/**
 * The CLI contract for people: usage errors exit 2 in every command and at the top level, --version
 * prints the package's version, the top-level help names every command, verify without a ledger
 * names the flags that choose one, and a kept store another process serves is "in use" (no crash).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { keptStorePath } from '../../bin/commands/local-stores.js';
import { runReplay } from '../../bin/commands/replay.js';
import { runVerify } from '../../bin/commands/verify.js';
import { localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { capture, keptStoreWith, ROOT } from './ledger-helpers.js';

const CLI = join(ROOT, 'bin', 'buildwatch.mjs');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The CLI in a child process, without AWS configuration from this machine. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_CONFIG_FILE: join(ROOT, 'no-such-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(ROOT, 'no-such-aws-credentials') };
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete env[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('buildwatch usage', () => {
  it('exits 2 on every usage error, at the top level and in each command', { timeout: 60_000 }, async () => {
    const runs = await Promise.all([
      cli('replay', 'samples', '--bogus'),
      cli('replay'),
      cli('replay', 'samples', '--kind', 'findings'),
      cli('no-such-command'),
      // The same rule is set on every command (a loop in bin/buildwatch.ts); one of the ledger's.
      cli('export', '--bogus'),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^error: /);
      expect(run.stdout).toBe('');
    }
    expect(runs[1]!.stderr).toContain("missing required argument 'paths'");
    expect(runs[2]!.stderr).toContain('Allowed choices are alerts, attestations, all');
    expect(runs[3]!.stderr).toContain("unknown command 'no-such-command'");
  });

  it('prints the version and a help that describes every command, exit 0', { timeout: 60_000 }, async () => {
    const [version, help] = await Promise.all([cli('--version'), cli('--help')]);
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(help.code).toBe(0);
    for (const command of ['replay', 'use-cases', 'backfill', 'export', 'verify', 'seal']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(help.stdout).toContain('Exit codes: 0 ran; 1 ran and found bad input');
    expect(help.stdout).not.toContain('replay events locally, list use cases');
  });

  it('verify without flags and without AWS configuration names the flags that choose a ledger', { timeout: 60_000 }, async () => {
    const run = await cli('verify');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^buildwatch: which ledger\? Give --keep DIR .*--endpoint URL .*--findings-table NAME or --table-prefix P.*--region R/);
    expect(run.stderr).not.toContain('Region is missing');
  });
});

describe('a kept store served by another process', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill();
  });

  it('is reported as in use by replay and verify --keep, exit 2, no stack trace', { timeout: 60_000 }, async () => {
    const keep = await keptStoreWith([]);
    // `npx dynalite --path DIR/dynamo` in another terminal, as the README's tamper demo does.
    const script = `const d = require('dynalite')({ path: ${JSON.stringify(keptStorePath(keep))} }); d.listen(0, '127.0.0.1', () => console.log(d.address().port));`;
    server = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      server!.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      server!.once('exit', (code) => reject(new Error(`dynalite exited (${code})`)));
    });
    // One answered request: dynalite has opened (and locked) the directory.
    const client = localDynamoClient(`http://127.0.0.1:${port}`);
    await client.send(new ListTablesCommand({}));
    client.destroy();

    const verify = capture();
    expect((await runVerify({ keep }, verify.io)).exitCode).toBe(2);
    expect(verify.err()).toBe(`buildwatch: the store kept in ${keep} is in use by another process (a \`dynalite --path ${keptStorePath(keep)}\`, or another buildwatch command): stop it first, or reach that server with --endpoint URL\n`);
    const replay = capture();
    expect((await runReplay([join(ROOT, 'samples', 'README.md')], { keep }, replay.io)).exitCode).toBe(2);
    expect(replay.err()).toContain(`the store kept in ${keep} is in use by another process`);
    expect(replay.err()).not.toMatch(/\n\s+at /);
  });
});
