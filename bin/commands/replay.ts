/**
 * `buildwatch replay PATH…`: the cloud path, locally. Files are read in the order given (directories
 * in lexical order), each event is routed to the use cases whose rules would receive it, and the
 * same engine, stores and notifiers run against the embedded store (or --endpoint).
 */
import { DEFAULT_CONFIG_FILE, loadConfig, type BuildwatchConfig } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { expandInputPaths, readInputFile, type InputProblem } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { route } from '../../lambdas/engine/router.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import { ConsoleNotifier } from '../../lambdas/notify/console-notifier.js';
import { JsonLinesNotifier } from '../../lambdas/notify/jsonl-notifier.js';
import { foldAlerts } from '../../lambdas/notify/fold.js';
import type { Notifier } from '../../lambdas/notify/notifier.js';
import { checkConfigAgainstCatalogue } from '../../lambdas/use-cases/check-config.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { openWriteBehindStores } from './local-stores.js';
import { progressDisplay } from './progress.js';
import { redactText } from '../../lambdas/engine/redact.js';
import { terminalLine } from '../../lambdas/notify/safe-text.js';

export interface ReplayOptions {
  readonly config?: string;
  readonly recorded?: string;
  readonly endpoint?: string;
  /** Keep the embedded store in this directory (reopened by `export`/`verify`/`seal --keep DIR`). */
  readonly keep?: string;
  readonly json?: boolean;
  /** Which new findings --json prints: alerts, attestations, or all (default). */
  readonly kind?: ReplayKind;
  /**
   * Also show what would have alerted: attestations that staging or attest mode held back (a stderr
   * section, and `wouldAlert: true` on their --json lines). Nothing else changes.
   */
  readonly whatIf?: boolean;
  readonly progress?: boolean;
}

/** `--kind` of `replay --json`: alerts (mode alert), attestations (mode attest), or both. */
export const REPLAY_KINDS = ['alerts', 'attestations', 'all'] as const;
export type ReplayKind = (typeof REPLAY_KINDS)[number];

export interface ReplayIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface ReplayStats {
  files: number;
  events: number;
  alerts: number;
  attestations: number;
  duplicates: number;
  /** Repeats folded into an earlier finding by a dedup window (its count updated; nothing alerted). */
  deduplicated: number;
  /** Attestations that staging or attest mode held back from alerting (`heldBack`). */
  heldBack: number;
  /** DynamoDB requests made by the stores (the benchmark's calls-per-event figure). */
  dynamoCalls: number;
  /** Per use case: events evaluated and the DynamoDB requests they caused (for the benchmark). */
  byUseCase: Record<string, { evaluations: number; dynamoCalls: number }>;
  problems: InputProblem[];
}

export interface ReplayHooks {
  /** Called after each file, e.g. for a benchmark's steady-state window. */
  readonly onFileDone?: (file: string, stats: Readonly<ReplayStats>) => void;
}

export async function runReplay(
  paths: readonly string[],
  options: ReplayOptions,
  io: ReplayIo,
  useCases: readonly UseCase[] = registry,
  hooks: ReplayHooks = {},
): Promise<{ exitCode: number; stats: ReplayStats }> {
  const stats: ReplayStats = { files: 0, events: 0, alerts: 0, attestations: 0, duplicates: 0, deduplicated: 0, heldBack: 0, dynamoCalls: 0, byUseCase: {}, problems: [] };
  let config: BuildwatchConfig;
  try {
    config = loadConfig(options.config);
    checkConfigAgainstCatalogue(config, useCases, options.config ?? DEFAULT_CONFIG_FILE);
  } catch (error) {
    io.stderr.write(`buildwatch: ${terminalLine(redactText((error as Error).message))}\n`);
    return { exitCode: 2, stats };
  }

  const kind: ReplayKind = options.kind ?? 'all';
  if (!REPLAY_KINDS.includes(kind)) {
    io.stderr.write(`buildwatch: --kind: one of ${REPLAY_KINDS.join(', ')}\n`);
    return { exitCode: 2, stats };
  }

  const { files, problems, skipped, notEvents } = await expandInputPaths([...paths]);
  // On a terminal: alerts and problems print above the progress bar, never on its line.
  const display = progressDisplay(io.stderr, { enabled: Boolean(options.progress), format: 'replay [{bar}] {value}/{total} files | {events} events | {alerts} alerts' });
  const report = (problem: InputProblem): void => {
    stats.problems.push(problem);
    // Problem reasons quote the input (JSON.parse snippets, file names): no escape sequences through.
    display.text.write(`buildwatch: ${terminalLine(redactText(problem.reason))}\n`);
  };
  problems.forEach(report);
  if (skipped.length > 0) {
    const examples = skipped.slice(0, 3).join(', ') + (skipped.length > 3 ? ', …' : '');
    io.stderr.write(`buildwatch: skipped ${plural(skipped.length, 'file')} not named .json, .jsonl, .ndjson or .gz: ${terminalLine(examples)}\n`);
  }
  if (notEvents.length > 0) {
    const examples = notEvents.slice(0, 3).join(', ') + (notEvents.length > 3 ? ', …' : '');
    io.stderr.write(`buildwatch: skipped ${plural(notEvents.length, 'folder')} of a trail bucket with no events (CloudTrail-Digest, CloudTrail-Insight, other services' logs): ${terminalLine(examples)}\n`);
  }

  const lookups: Lookups = options.recorded ? createRecordedLookups(options.recorded) : noLookups;
  let stores;
  try {
    stores = await openWriteBehindStores(options.endpoint, options.keep);
  } catch (error) {
    io.stderr.write(`buildwatch: ${terminalLine(redactText((error as Error).message))}\n`);
    return { exitCode: 2, stats };
  }
  const engine = new Engine({ config, lookups, state: stores.state, findings: stores.findings });
  // --json: every new finding on stdout; people read alerts on stderr either way.
  const jsonl: Notifier | undefined = options.json ? new JsonLinesNotifier(io.stdout) : undefined;
  const wanted = (finding: Finding): boolean => kind === 'all' || (kind === 'alerts' ? finding.mode === 'alert' : finding.mode !== 'alert');
  const human: Notifier = new ConsoleNotifier(display.text);
  const out: Delivery = { stats, jsonl, wanted, human, whatIf: Boolean(options.whatIf), held: [], alerts: [] };
  display.start(files.length, { events: 0, alerts: 0 });
  /** Each use case's entry of stats.byUseCase, found without a look-up by id for every evaluation. */
  const usageOf = new Map<UseCase, { evaluations: number; dynamoCalls: number }>();
  /** Records read that are not API calls (NormalisedFile.ignored): said once at the end, not problems. */
  const ignored: InputProblem[] = [];

  try {
    for (const file of files) {
      const input = await readInputFile(file);
      stats.files += 1;
      input.problems.forEach(report);
      if (input.ignored) ignored.push(...input.ignored);
      for (const envelope of input.events) {
        stats.events += 1;
        const event = toPipelineEvent(envelope);
        for (const useCase of route(useCases, envelope)) {
          let usage = usageOf.get(useCase);
          if (!usage) usageOf.set(useCase, (usage = stats.byUseCase[useCase.metadata.id] ??= { evaluations: 0, dynamoCalls: 0 }));
          const callsBefore = stores.state.calls + stores.findings.calls;
          usage.evaluations += 1;
          try {
            const outcomes = await engine.evaluate(useCase, event);
            usage.dynamoCalls += stores.state.calls + stores.findings.calls - callsBefore;
            // Most outcomes are skips: only new findings are written out (an await each).
            for (const outcome of outcomes) {
              const written = counted(outcome, out);
              if (written) await written;
            }
          } catch (error) {
            report({ file, reason: `${file}: event ${envelope.id}: use case ${useCase.metadata.id} failed: ${(error as Error).message}` });
          }
        }
        if (out.alerts.length > 0) await announce(out);
      }
      stats.dynamoCalls = stores.state.calls + stores.findings.calls;
      hooks.onFileDone?.(file, stats);
      display.increment({ events: stats.events, alerts: stats.alerts });
    }
    // The replayed world ends here: pending correlations (artifact.hash-mismatch) get their final judgement.
    try {
      for (const outcome of await engine.settle(useCases)) await counted(outcome, out);
      await announce(out);
    } catch (error) {
      report({ file: '(end of replay)', reason: `settling pending correlations failed: ${(error as Error).message}` });
    }
    // Written behind: a kept store or an endpoint holds the run once this returns.
    await stores.flush();
    stats.dynamoCalls = stores.state.calls + stores.findings.calls;
  } finally {
    display.stop();
    await stores.close();
  }
  if (out.whatIf) {
    io.stderr.write(
      out.held.length === 0
        ? 'buildwatch: what-if: nothing was held back by staging or attest mode\n'
        : `buildwatch: what-if: ${out.held.length} finding(s) would have alerted without staging or attest mode:\n\n`,
    );
    for (const finding of out.held) await human.notify(finding);
  }
  if (ignored.length > 0) {
    const files = [...new Set(ignored.map((record) => record.file))];
    const examples = files.slice(0, 3).join(', ') + (files.length > 3 ? ', …' : '');
    io.stderr.write(`buildwatch: ignored ${plural(ignored.length, 'CloudTrail Insights event')} (API call or error rates, not API calls) in ${terminalLine(examples)}\n`);
  }
  const extras = [
    stats.deduplicated > 0 ? `${plural(stats.deduplicated, 'repeat')} counted into earlier findings` : '',
    out.whatIf ? `${stats.heldBack} held back (would have alerted)` : '',
    stats.problems.length ? `${plural(stats.problems.length, 'input problem')}` : '',
  ].filter(Boolean);
  io.stderr.write(
    `buildwatch: replayed ${plural(stats.events, 'event')} from ${plural(stats.files, 'file')}: ${plural(stats.alerts, 'alert')}, ${plural(stats.attestations, 'attestation')}, ${plural(stats.duplicates, 'repeat')} ignored${extras.map((e) => `, ${e}`).join('')}\n`,
  );
  return { exitCode: stats.problems.length > 0 ? 1 : 0, stats };
}

/** `1 alert`, `2 alerts`. */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

interface Delivery {
  readonly stats: ReplayStats;
  readonly jsonl: Notifier | undefined;
  /** --kind: whether --json prints this finding. */
  readonly wanted: (finding: Finding) => boolean;
  readonly human: Notifier;
  readonly whatIf: boolean;
  /** --what-if: the held-back attestations, shown after the run. */
  readonly held: Finding[];
  /** New alerts of the current event, announced together once its use cases have run. */
  readonly alerts: Finding[];
}

/** People get one alert per question, resource and event, as from the notify Lambda (the ledger and --json keep every finding). */
async function announce(out: Delivery): Promise<void> {
  const alerts = out.alerts.splice(0);
  for (const alert of foldAlerts(alerts)) await out.human.notify(alert);
}

/**
 * New findings: alerts to people (stderr), every finding to --json. A repeated delivery adds
 * nothing; a repeat folded into an earlier finding (dedup window) is counted, not printed.
 * Returns the --json write to wait for, if there is one.
 */
function counted(outcome: Outcome, out: Delivery): Promise<void> | undefined {
  const { stats } = out;
  if (outcome.status === 'skipped') return undefined;
  if (outcome.status === 'deduplicated') {
    if (outcome.counted) stats.deduplicated += 1;
    else stats.duplicates += 1;
    return undefined;
  }
  if (!outcome.created) {
    stats.duplicates += 1;
    return undefined;
  }
  const { finding } = outcome;
  if (finding.mode === 'alert') {
    stats.alerts += 1;
    out.alerts.push(finding);
  } else {
    stats.attestations += 1;
    if (finding.heldBack) {
      stats.heldBack += 1;
      if (out.whatIf) out.held.push(finding);
    }
  }
  if (!out.jsonl || !out.wanted(finding)) return undefined;
  return out.jsonl.notify(out.whatIf && finding.heldBack ? ({ ...finding, wouldAlert: true } as Finding) : finding);
}
