/**
 * `buildwatch export --from D --to D [--format jsonl|csv|ocsf|intoto] [--kind findings|attestations|all]`:
 * the ledger's records of a range of days on stdout, paged through the by-day index and written as
 * they come (bounded memory), with a progress bar on stderr when it is a terminal.
 */
import { SingleBar } from 'cli-progress';
import { parseDay } from '../../lambdas/ledger/days.js';
import { exportLedger } from '../../lambdas/ledger/exporter.js';
import { EXPORT_FORMATS, EXPORT_KINDS, formatterFor, type ExportFormat, type ExportKind } from '../../lambdas/ledger/formats.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { productVersion } from './version.js';
import { openLedgerTarget, UsageError, type LedgerTarget, type LedgerTargetOptions } from './ledger-target.js';

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface ExportCommandOptions extends LedgerTargetOptions {
  readonly from?: string;
  readonly to?: string;
  readonly format?: string;
  readonly kind?: string;
  readonly progress?: boolean;
}


/** The registry's view of a use case, for the OCSF mapping (ATT&CK techniques, analytic kind). */
function useCaseInfo(id: string): { mitre: readonly string[]; kind: string } | undefined {
  const useCase = useCases.find((candidate) => candidate.metadata.id === id);
  return useCase ? { mitre: useCase.metadata.mitre, kind: useCase.logic.kind } : undefined;
}

interface Parsed {
  from: string;
  to: string;
  format: ExportFormat;
  kind: ExportKind;
}

function parseOptions(options: ExportCommandOptions): Parsed {
  if (!options.from || !options.to) throw new UsageError('export needs --from YYYY-MM-DD and --to YYYY-MM-DD (UTC days, both included)');
  let from: string;
  let to: string;
  try {
    from = parseDay(options.from, '--from');
    to = parseDay(options.to, '--to');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  const format = (options.format ?? 'jsonl') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format: one of ${EXPORT_FORMATS.join(', ')}`);
  const kind = (options.kind ?? (format === 'intoto' ? 'attestations' : 'all')) as ExportKind;
  if (!EXPORT_KINDS.includes(kind)) throw new UsageError(`--kind: one of ${EXPORT_KINDS.join(', ')}`);
  if (format === 'intoto' && kind !== 'attestations') throw new UsageError('--format intoto writes in-toto statements of attestations: use it with --kind attestations (its default)');
  return { from, to, format, kind };
}

export async function runExport(options: ExportCommandOptions, io: CommandIo): Promise<{ exitCode: number; records: number }> {
  let parsed: Parsed;
  let target: LedgerTarget;
  try {
    parsed = parseOptions(options);
    target = await openLedgerTarget(options);
  } catch (error) {
    io.stderr.write(`buildwatch: ${(error as Error).message}\n`);
    return { exitCode: 2, records: 0 };
  }
  const bar = options.progress
    ? new SingleBar({ stream: io.stderr, format: 'export [{bar}] {value}/{total} days | {day} | {records} records', hideCursor: true })
    : undefined;
  // The reader may go away (`| head`): an output error stops the export instead of crashing it.
  const broken = new AbortController();
  const onOutputError = (error: Error): void => broken.abort(error);
  io.stdout.on('error', onOutputError);
  try {
    bar?.start(0, 0, { day: parsed.from, records: 0 });
    const stats = await exportLedger({
      ...parsed,
      signal: broken.signal,
      formatter: formatterFor(parsed.format, { productVersion: productVersion(), useCaseInfo }),
      findings: target.findings,
      out: io.stdout,
      onDay: (day, done, total, records) => {
        bar?.setTotal(total);
        bar?.update(done, { day, records });
      },
    });
    bar?.stop();
    io.stderr.write(`buildwatch: exported ${stats.records} ${parsed.kind === 'all' ? 'records' : parsed.kind} (${parsed.format}) of ${stats.days} days from ${target.description}\n`);
    if (stats.hashMismatches.length > 0) {
      io.stderr.write(
        `buildwatch: warning: ${stats.hashMismatches.length} exported record(s) do not match their contentHash (run \`buildwatch verify\`): ${stats.hashMismatches.slice(0, 10).join(', ')}${stats.hashMismatches.length > 10 ? ', …' : ''}\n`,
      );
    }
    return { exitCode: 0, records: stats.records };
  } catch (error) {
    bar?.stop();
    // The reader stopped reading (`| head`): as for any Unix filter, that is not a failure to report.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return { exitCode: 0, records: 0 };
    io.stderr.write(`buildwatch: export failed: ${(error as Error).message}\n`);
    return { exitCode: 2, records: 0 };
  } finally {
    io.stdout.off('error', onOutputError);
    await target.close();
  }
}
