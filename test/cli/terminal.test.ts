/**
 * `buildwatch replay` in a real pseudo-terminal (util-linux `script`): alerts print above the progress
 * bar, never on its line; the bar is cleared at the end, so the screen reads exactly like the plain
 * output (alerts, then the summary last); line wrap is never turned off and the cursor is shown
 * again. Off a terminal (a pipe) there is no bar and no escape sequence at all.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { playTerminal } from '../support/terminal-screen.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'buildwatch.mjs');
// Two days of the sample: several files, alerts of every severity, CRITICAL ones among them.
const INPUT = ['samples/history/2026-10-24', 'samples/history/2026-10-25'];
const SGR = /\u001b\[[0-9;]*m/g;

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** No CI variable (it turns the bar off), no NO_COLOR: as on a developer's terminal. */
function env(): NodeJS.ProcessEnv {
  const copy = { ...process.env };
  for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR']) delete copy[name];
  return copy;
}

function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd: ROOT, env: env(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('replay on a terminal', () => {
  it.skipIf(!hasScript)('prints alerts above the bar, clears it, restores the terminal; a pipe gets no bar', { timeout: 90_000 }, async () => {
    const command = [process.execPath, CLI, 'replay', ...INPUT].map((arg) => `'${arg}'`).join(' ');
    const [tty, piped] = await Promise.all([run('script', ['-qec', command, '/dev/null']), run(process.execPath, [CLI, 'replay', ...INPUT])]);
    expect(tty.code, tty.stdout).toBe(0);
    expect(piped.code, piped.stderr).toBe(0);

    // A pipe: the plain text, no bar, no escape sequence.
    expect(piped.stderr).not.toContain('\u001b');
    expect(piped.stderr).not.toContain('replay [');
    const plain = piped.stderr.trimEnd().split('\n');
    expect(plain.filter((l) => /^CRITICAL /.test(l)).length).toBeGreaterThan(0);
    expect(plain.at(-1)).toMatch(/^buildwatch: replayed \d+ events from 3 files: \d+ alerts/);

    // The terminal: the bar was drawn while alerts came in…
    const raw = tty.stdout;
    expect(raw).toContain('replay [');
    expect(raw).toMatch(/\u001b\[1;97;41mCRITICAL/); // coloured on a terminal
    // …line wrap never turned off, the hidden cursor shown again at the end…
    const screen = playTerminal(raw);
    expect(screen.modes).not.toContain('?7l');
    expect(screen.modes.at(-1)).toBe('?25h');
    // …and what is left on screen is exactly the plain output: no alert glued to the bar, none
    // overwritten, the summary last.
    expect(screen.lines.map((l) => l.replace(SGR, ''))).toEqual(plain);
  });
});
