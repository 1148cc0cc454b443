/**
 * Streams ledger records of a range of days to an output, day by day and page by page through the
 * by-day index, waiting for the output to drain: memory holds one query page, whatever the range.
 */
import type { Finding } from '../engine/model.js';
import { contentHashOf } from '../engine/canonical.js';
import { dayCount, daysBetween } from './days.js';
import { matchesKind, type ExportKind, type Formatter } from './formats.js';
import type { LedgerDayReader } from './seal.js';

export interface ExportOptions {
  readonly from: string;
  readonly to: string;
  readonly kind: ExportKind;
  readonly formatter: Formatter;
  readonly findings: LedgerDayReader;
  readonly out: NodeJS.WritableStream;
  /** After each day: for a progress bar. */
  readonly onDay?: (day: string, done: number, total: number, records: number) => void;
  /** Stops the export (e.g. the output broke); checked before every write. */
  readonly signal?: AbortSignal;
}

export interface ExportStats {
  days: number;
  records: number;
  /** Records exported whose content does not match their contentHash (run verify). */
  readonly hashMismatches: string[];
}

export async function exportLedger(options: ExportOptions): Promise<ExportStats> {
  const stats: ExportStats = { days: 0, records: 0, hashMismatches: [] };
  const total = dayCount(options.from, options.to);
  if (options.formatter.header) await write(options.out, options.formatter.header);
  for (const day of daysBetween(options.from, options.to)) {
    for await (const item of options.findings.byDay(day)) {
      const record = item as Finding;
      if (!matchesKind(record, options.kind)) continue;
      if (contentHashOf(record as unknown as Record<string, unknown>) !== record.contentHash) stats.hashMismatches.push(record.id);
      options.signal?.throwIfAborted();
      await write(options.out, options.formatter.format(record));
      stats.records += 1;
    }
    stats.days += 1;
    options.onDay?.(day, stats.days, total, stats.records);
  }
  return stats;
}

/** Writes, and when the stream's buffer is full waits for 'drain' (or fails on 'error'/'close'). */
export function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (out.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the output was closed before the export finished'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
