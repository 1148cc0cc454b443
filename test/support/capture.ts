/** In-memory stdout/stderr for running CLI commands in-process, and a JSON Lines reader. */
import { PassThrough } from 'node:stream';

export function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  return { io: { stdout, stderr }, out: () => out.join(''), err: () => err.join('') };
}

export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
