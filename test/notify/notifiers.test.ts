import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../lambdas/engine/model.js';
import { ConsoleNotifier } from '../../lambdas/notify/console-notifier.js';
import { JsonLinesNotifier } from '../../lambdas/notify/jsonl-notifier.js';
import { MultiNotifier, NotifyError, type Notifier } from '../../lambdas/notify/notifier.js';
import { finding } from './fixtures.js';

/** A stream that remembers what was written to it. */
function capture(): { stream: PassThrough; output: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, output: () => Buffer.concat(chunks).toString('utf8') };
}

describe('ConsoleNotifier', () => {
  it('prints a compact block: severity, title, summary, principal, time, resource', async () => {
    const { stream, output } = capture();
    await new ConsoleNotifier(stream, { color: false }).notify(finding());
    expect(output()).toBe(
      [
        'HIGH New principal pushed to payments-service [source.new-pusher]',
        '    alice pushed refs/heads/main to payments-service for the first time',
        '    who   arn:aws:iam::111122223333:user/alice',
        '    when  2026-03-02T09:14:27Z',
        '    where arn:aws:codecommit:eu-west-1:111122223333:payments-service',
        '    from  198.51.100.23',
        '    id    5f0c3a9e2b7d4c1e8a6f0b3d9c2e7a41',
        '',
        '',
      ].join('\n'),
    );
  });

  it('colours the severity label only when asked, and labels attestations', async () => {
    const plain = capture();
    await new ConsoleNotifier(plain.stream).notify(finding());
    expect(plain.output()).not.toContain('\u001b[');

    const coloured = capture();
    await new ConsoleNotifier(coloured.stream, { color: true }).notify(finding({ severity: 'critical', mode: 'attest' }));
    expect(coloured.output()).toMatch(/^\u001b\[[0-9;]+mCRITICAL \(attest\)\u001b\[0m /);
  });

  it('strips terminal escape sequences and masks secrets from event text, even in colour', async () => {
    const { stream, output } = capture();
    await new ConsoleNotifier(stream, { color: true }).notify(
      finding({ summary: 'ok\u001b]0;pwned\u0007\u001b[2J\rfake line ghp_0123456789abcdefghijABCDEFGHIJ012345', principal: 'a\nb' }),
    );
    const text = output();
    expect(text).not.toContain('\u001b]');
    expect(text).not.toContain('\u001b[2J');
    expect(text).not.toContain('\r');
    expect(text).not.toContain('0123456789abcdef');
    expect(text).toContain('who   \u001b[0ma b');
  });

  it('skips rows the finding does not have', async () => {
    const { stream, output } = capture();
    await new ConsoleNotifier(stream).notify(finding({ resource: undefined, sourceIp: undefined }));
    expect(output()).not.toMatch(/where|from/);
  });
});

describe('JsonLinesNotifier', () => {
  it('writes each finding as-is, one JSON object per line', async () => {
    const { stream, output } = capture();
    const notifier = new JsonLinesNotifier(stream);
    const first = finding({ summary: 'line one\nline two' });
    const second = finding({ id: 'other', severity: 'low' });
    await notifier.notify(first);
    await notifier.notify(second);
    const lines = output().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0] ?? '')).toEqual(first);
    expect(JSON.parse(lines[1] ?? '')).toEqual(second);
  });

  it('rejects when the stream cannot take the line', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('EPIPE'));
      },
    });
    broken.on('error', () => undefined);
    await expect(new JsonLinesNotifier(broken).notify(finding())).rejects.toThrow('EPIPE');
  });
});

describe('MultiNotifier', () => {
  const recording = (): Notifier & { seen: Finding[] } => {
    const seen: Finding[] = [];
    return { seen, notify: async (f) => void seen.push(f) };
  };

  it('fans each finding out to every notifier', async () => {
    const a = recording();
    const b = recording();
    await new MultiNotifier([a, b]).notify(finding());
    expect(a.seen).toHaveLength(1);
    expect(b.seen).toHaveLength(1);
  });

  it('still delivers to the others when one fails, then rethrows that failure', async () => {
    const ok = recording();
    const failure = new NotifyError('sns down');
    const failing: Notifier = { notify: vi.fn().mockRejectedValue(failure) };
    await expect(new MultiNotifier([failing, ok]).notify(finding())).rejects.toBe(failure);
    expect(ok.seen).toHaveLength(1);
  });

  it('reports several failures together', async () => {
    const failing = (message: string): Notifier => ({ notify: () => Promise.reject(new Error(message)) });
    const error = await new MultiNotifier([failing('a'), failing('b'), recording()]).notify(finding()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['a', 'b']);
    expect((error as AggregateError).message).toContain('2 of 3 notifiers failed');
  });

  it('does nothing with no notifiers', async () => {
    await expect(new MultiNotifier([]).notify(finding())).resolves.toBeUndefined();
  });
});
