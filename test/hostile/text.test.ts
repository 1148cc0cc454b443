/**
 * Defect 6 (issue 13): hostile text. Attacker-controlled strings must neither drive a terminal (ESC,
 * C1), reorder or hide text (bidi, invisible characters), ping or restyle a chat channel, nor run as
 * a spreadsheet formula, wherever they are shown: SNS text and attributes, chat cards, the console,
 * `replay --json`, problem lines and CSV exports. One function (safe-text.ts) decides, for all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import { csvCell, formatterFor } from '../../lambdas/ledger/formats.js';
import { ConsoleNotifier } from '../../lambdas/notify/console-notifier.js';
import { formatAlert, formatChatNotification, neutralise } from '../../lambdas/notify/format.js';
import { JsonLinesNotifier } from '../../lambdas/notify/jsonl-notifier.js';
import { safeJson, stripUnsafe, terminalLine } from '../../lambdas/notify/safe-text.js';
import { capture, jsonLines } from '../support/capture.js';
import { finding } from '../notify/fixtures.js';
import { stopLogging } from './support.js';
import { tempDir } from '../support/temp-dirs.js';

const INVISIBLE = ['\u061c', '\u00ad', '\u180e', '\u3164', '\u034f', '\u200b', '\u200d', '\u2060', '\ufeff', '\u{e0001}', '\u{e0041}', '\u{e007f}', '\u115f', '\uffa0'];
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f'];
const CONTROL = ['\u001b', '\u0007', '\u0000', '\u007f', '\u0080', '\u0085', '\u009b', '\u009d', '\u2028', '\u2029'];
const ALL = [...INVISIBLE, ...BIDI, ...CONTROL];
const HOSTILE = `pay${ALL.join('')}ments \u001b[2J\u001b]8;;https://evil.example\u0007x\u009b31m`;
/** Any character that must not be shown raw. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\u034f\u115f\u1160\u3164\uffa0]/u;

function noUnsafe(text: string): void {
  // Newlines (and the CSV's CRLF) are ours, and so are the zero-width spaces that defuse mentions and
  // links (neutralise inserts them; the input's own are removed, tested above); the rest must be gone.
  const hit = UNSAFE.exec(text.replace(/\r?\n/g, '').replace(/(?<=[@\]])\u200b/g, ''));
  expect(hit?.[0].codePointAt(0)?.toString(16)).toBeUndefined();
}

describe('hostile text', () => {
  it.each(ALL.map((ch) => [ch.codePointAt(0)!.toString(16), ch]))('U+%s is removed or replaced by the one neutralising function', (_code, ch) => {
    const out = stripUnsafe(`a${ch}b`);
    expect(out === 'ab' || out === 'a b').toBe(true);
    expect(neutralise(`a${ch}b`, 100)).not.toContain(ch);
    expect(terminalLine(`a${ch}b`)).not.toContain(ch);
  });

  it('keeps ordinary text, accents, CJK and emoji', () => {
    expect(stripUnsafe('Zoë 東京 🦀 payments-service')).toBe('Zoë 東京 🦀 payments-service');
  });

  it('SNS text, subject and attributes, chat cards and the console carry no control, bidi or invisible character', async () => {
    const hostile = finding({ title: HOSTILE, summary: HOSTILE, principal: HOSTILE, resource: `arn:aws:codecommit:eu-west-1:111122223333:${HOSTILE}`, userAgent: HOSTILE, sourceIp: HOSTILE, team: 'payments', evidence: { note: HOSTILE } });
    const alert = formatAlert(hostile);
    noUnsafe(alert.text);
    noUnsafe(alert.subject);
    for (const value of Object.values(alert.attributes)) noUnsafe(value);
    noUnsafe(JSON.stringify(formatChatNotification(hostile)).replace(/\\u[0-9a-f]{4}/g, ''));
    const card = formatChatNotification(hostile);
    for (const text of [card.content.title, card.content.description, card.metadata.summary, ...card.metadata.relatedResources]) noUnsafe(text);
    const console = capture();
    await new ConsoleNotifier(console.io.stderr, { color: false }).notify(hostile);
    noUnsafe(console.err());
  });

  it('chat-card related resources and summary keep no markdown or mention; the SNS resource attribute no <!channel>', () => {
    const resource = 'arn:aws:codecommit:eu-west-1:111122223333:*bold*_it_~s~|x|#h<!channel>[l](https://e.example)';
    const hostile = finding({ resource, title: '*pwned* <!here> `code` _x_' });
    const card = formatChatNotification(hostile);
    for (const text of [...card.metadata.relatedResources, card.metadata.summary]) {
      expect(text).not.toMatch(/[*_~|#<>`]/);
      expect(text).not.toContain('](');
    }
    expect(card.metadata.relatedResources).toHaveLength(1);
    const { attributes } = formatAlert(hostile);
    expect(attributes['resource']).toBeDefined();
    expect(attributes['resource']).not.toMatch(/[<>]/);
    expect(attributes['resource']).not.toContain('<!channel>');
  });

  it('replay problem lines (JSON.parse snippets) carry no raw ESC', async () => {
    const dir = tempDir('buildwatch-hostile-');
    writeFileSync(join(dir, 'bad.json'), `{"a": "\u001b[31mred\u001b]0;title\u0007", oops \u009b2J \u202e}`);
    writeFileSync(join(dir, `name\u001b[2J.jsonl`), 'not json at all \u001b[5m\n');
    const run = capture();
    const { exitCode } = await runReplay([dir], { json: true }, run.io);
    expect(exitCode).toBe(1);
    expect(run.err()).toMatch(/not valid JSON/);
    noUnsafe(run.err());
  });

  it('replay --json escapes C1 and bidi controls and reads back as the same values', async () => {
    const dir = tempDir('buildwatch-hostile-');
    const event = stopLogging('hostile-json', { userAgent: `aws-cli ${HOSTILE}`, requestParameters: { name: `trail${HOSTILE}` } });
    writeFileSync(join(dir, 'events.json'), JSON.stringify([event]));
    const run = capture();
    expect((await runReplay([dir], { json: true }, run.io)).exitCode).toBe(0);
    noUnsafe(run.out());
    const [parsed] = jsonLines(run.out()) as Array<{ userAgent: string; severity: string }>;
    expect(parsed?.severity).toBe('critical');
    expect(parsed?.userAgent).toContain('\u202e');
    noUnsafe(run.err());
  });

  it('JSON output and exports escape what they would print raw, losslessly', async () => {
    const hostile = finding({ summary: HOSTILE, evidence: { [`k${HOSTILE}`]: HOSTILE } });
    const line = safeJson(hostile);
    noUnsafe(line);
    expect(JSON.parse(line)).toEqual(hostile);
    const out = capture();
    await new JsonLinesNotifier(out.io.stdout).notify(hostile);
    noUnsafe(out.out());
    for (const format of ['jsonl', 'ocsf', 'intoto'] as const) noUnsafe(formatterFor(format).format(hostile));
    expect(JSON.parse(formatterFor('jsonl').format(hostile))).toEqual(hostile);
    noUnsafe(formatterFor('csv').format(hostile));
  });

  it.each([' =1+1', '\n=cmd|"/c calc"!A1', '\r\n+1', '\t@SUM(A1)', '  -2+3', '=HYPERLINK("x")', '＝1+1', '@x', '+1'])('CSV cell %j is defused', (cell) => {
    const out = csvCell(cell).replace(/^"/, '');
    expect(out.startsWith("'")).toBe(true);
  });

  it.each(['plain', 'a=b', 'name@example.com', ' spaced text'])('CSV cell %j stays as it is', (cell) => {
    expect(csvCell(cell)).toBe(cell);
  });
});
