/**
 * A progress bar on a terminal that other text can be written above: each complete line written to
 * `text` while the bar shows is printed above it, and the bar is redrawn underneath (cli-progress's
 * MultiBar log buffer), so alerts and the bar never share a line. Line wrap is never turned off;
 * the hidden cursor is shown again on stop, on SIGINT/SIGTERM and on exit. Off a terminal (or when
 * disabled) there is no bar at all and `text` is the stream itself.
 */
import { Writable } from 'node:stream';
import { MultiBar, type SingleBar } from 'cli-progress';

export type ProgressPayload = Record<string, string | number>;

export interface ProgressDisplay {
  /** Write people-facing text here while the bar may show (alerts, problems); it goes above the bar. */
  readonly text: NodeJS.WritableStream;
  /** Shows the bar (a new one after stop(), e.g. for the next phase). */
  start(total: number, payload: ProgressPayload, startValue?: number): void;
  increment(payload: ProgressPayload): void;
  update(value: number, payload: ProgressPayload): void;
  setTotal(total: number): void;
  /** Clears the bar, restores the cursor and flushes any unfinished line of text. Idempotent. */
  stop(): void;
}

const SHOW_CURSOR = '\u001b[?25h';

export interface ProgressOptions {
  readonly enabled: boolean;
  /** cli-progress format: {bar}, {value}, {total}, {percentage}, {eta_formatted} and payload fields. */
  readonly format: string;
  /** Updates the ETA is averaged over (cli-progress default 10). */
  readonly etaBuffer?: number;
}

export function progressDisplay(stream: NodeJS.WritableStream, options: ProgressOptions): ProgressDisplay {
  const tty = stream as NodeJS.WritableStream & { isTTY?: boolean };
  if (!options.enabled || tty.isTTY !== true) {
    return { text: stream, start: () => {}, increment: () => {}, update: () => {}, setTotal: () => {}, stop: () => {} };
  }
  const newMulti = (): MultiBar =>
    new MultiBar({ stream, format: options.format, hideCursor: true, linewrap: true, clearOnComplete: true, ...(options.etaBuffer ? { etaBuffer: options.etaBuffer } : {}) });
  let multi = newMulti();
  let bar: SingleBar | undefined;
  let partial = '';

  const emit = (lines: string): void => {
    if (bar) {
      multi.log(lines);
      multi.update(); // now: clear the bar line, print the text, redraw the bar below it
    } else {
      stream.write(lines);
    }
  };
  const text = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const all = partial + chunk.toString();
      const cut = all.lastIndexOf('\n') + 1;
      partial = all.slice(cut);
      if (cut > 0) emit(all.slice(0, cut));
      done();
    },
  });
  // The notifier colours its labels on a terminal: this stream stands for one.
  Object.assign(text, { isTTY: true });

  const onSignal = (signal: NodeJS.Signals): void => {
    stop();
    process.kill(process.pid, signal); // our listener is gone: the default action (exit) follows
  };
  const onExit = (): void => {
    if (bar) stream.write(SHOW_CURSOR);
  };
  function stop(): void {
    if (!bar) return;
    multi.stop();
    bar = undefined;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
    if (partial) {
      stream.write(`${partial}\n`);
      partial = '';
    }
  }
  return {
    text,
    start(total, payload, startValue = 0) {
      if (bar) return;
      multi = newMulti(); // a stopped MultiBar would still draw its old bar
      bar = multi.create(total, startValue, payload);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      process.once('exit', onExit);
    },
    increment: (payload) => bar?.increment(1, payload),
    update: (value, payload) => bar?.update(value, payload),
    setTotal: (total) => bar?.setTotal(total),
    stop,
  };
}
