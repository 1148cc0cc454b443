/**
 * `buildwatch backfill [PATH | s3://bucket/prefix …] [--lookup-events] [--current-state] [--what-if]`:
 * seeds first-seen baselines and drift snapshots from history without alerting, so first-seen use
 * cases are live from the first day; with --what-if, reports what each use case would have raised
 * over that history (a backtest). See lambdas/backfill/backfill.ts for the flow.
 *
 * Where state goes: `--endpoint URL` (a local DynamoDB; the tables replay uses, created if absent),
 * `--state-table NAME` or `--table-prefix PREFIX` (the deployed stack's state table, through the SDK's
 * default credential chain; with --endpoint, that table at the endpoint). With none of them, only
 * --what-if makes sense: it runs against a throw-away embedded store.
 *
 * An organisation trail's archive (`AWSLogs/o-…/<account>/CloudTrail/<region>/…`) is read with every
 * account and region merged in time order; `--account` and `--region` (repeatable) keep to some of
 * them, and the checkpoint keeps each account's region where it stopped.
 */
import { resolve } from 'node:path';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CodeartifactClient } from '@aws-sdk/client-codeartifact';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ECRClient } from '@aws-sdk/client-ecr';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { runBackfill, type BackfillCounters, type BackfillProgress, type BackfillResult, type BackfillSources } from '../../lambdas/backfill/backfill.js';
import { FileCheckpoint, MemoryCheckpoint, newCheckpointData, type CheckpointStore } from '../../lambdas/backfill/checkpoint.js';
import type { CloudTrailLike } from '../../lambdas/backfill/lookup-events.js';
import { MAX_LOOKUP_DAYS } from '../../lambdas/backfill/lookup-events.js';
import { systemClock, type Clock } from '../../lambdas/backfill/rate-limit.js';
import { whatIfReport, whatIfText } from '../../lambdas/backfill/what-if-report.js';
import { ACCOUNT_ID, DEFAULT_CONFIG_FILE, loadConfig, REGION, type BuildwatchConfig } from '../../lambdas/config/config.js';
import type { InputProblem } from '../../lambdas/engine/normalise-input.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { createAwsEcrLookups } from '../../lambdas/lookups/aws-ecr-lookups.js';
import { createAwsEc2Lookups } from '../../lambdas/lookups/aws-ec2-lookups.js';
import { createAwsLookups } from '../../lambdas/lookups/aws-lookups.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { StateStore } from '../../lambdas/store/state-store.js';
import type { StateStorage } from '../../lambdas/store/store-contract.js';
import { checkConfigAgainstCatalogue } from '../../lambdas/use-cases/check-config.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { openWriteBehindStores } from './local-stores.js';
import { progressDisplay, type ProgressDisplay } from './progress.js';
import { redactText } from '../../lambdas/engine/redact.js';
import { safeJson, terminalLine } from '../../lambdas/notify/safe-text.js';

export const DEFAULT_CHECKPOINT = 'buildwatch-backfill.checkpoint.json';

export interface BackfillOptions {
  readonly config?: string;
  readonly recorded?: string;
  readonly endpoint?: string;
  readonly stateTable?: string;
  readonly tablePrefix?: string;
  readonly lookupEvents?: boolean;
  /** 1-90, default 90. */
  readonly days?: number | string;
  /** LookupEvents regions; with archive paths, also only these regions of the archive. */
  readonly region?: readonly string[];
  /** Only these accounts of the archive (an organisation trail holds every account's). */
  readonly account?: readonly string[];
  readonly eventSource?: readonly string[];
  /** LookupEvents window (hours, 1-24, default 24): memory holds one window of events. */
  readonly windowHours?: number | string;
  readonly currentState?: boolean;
  readonly whatIf?: boolean;
  readonly json?: boolean;
  readonly top?: number | string;
  readonly checkpoint?: string;
  readonly resume?: boolean;
  readonly progress?: boolean;
}

export interface BackfillIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Seams for tests: clients, clock and randomness. Defaults are the SDK and the system. */
export interface BackfillCommandDeps {
  readonly useCases?: readonly UseCase[];
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly cloudTrailFor?: (region: string) => CloudTrailLike;
  readonly s3?: () => S3Client;
  /** Replaces the look-ups chosen from the options. */
  readonly lookups?: Lookups;
  /** The DynamoDB client of `--state-table`/`--table-prefix` without --endpoint. */
  readonly dynamo?: () => DynamoDBClient;
  readonly env?: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

function integerOption(name: string, value: number | string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${String(value)}`);
  return parsed;
}

interface Target {
  readonly label: string;
  readonly persistent: boolean;
  readonly state: StateStorage;
  /** Writes what the state holds in memory to the table (before each checkpoint, and at the end). */
  readonly flush: () => Promise<void>;
  /** Flushes, then closes. */
  readonly close: () => Promise<void>;
}

async function openTarget(options: BackfillOptions, config: BuildwatchConfig, region: string | undefined, deps: BackfillCommandDeps): Promise<Target> {
  const tableName = options.stateTable ?? (options.tablePrefix !== undefined ? `${options.tablePrefix}state` : undefined);
  if (tableName === undefined) {
    const stores = await openWriteBehindStores(options.endpoint);
    return {
      label: stores.persistent ? stores.label : 'a throw-away embedded store',
      persistent: stores.persistent,
      state: stores.state,
      flush: () => stores.flush(),
      close: () => stores.close(),
    };
  }
  const client = options.endpoint ? localDynamoClient(options.endpoint) : deps.dynamo?.() ?? new DynamoDBClient(region ? { region } : {});
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus !== 'ACTIVE' && Table?.TableStatus !== 'UPDATING') throw new Error(`table status is ${Table?.TableStatus ?? 'unknown'}`);
  } catch (error) {
    client.destroy();
    const hint = options.stateTable ? '' : ` (from --table-prefix; the stack names it ${config.monitor.resourcePrefix}state)`;
    throw new Error(`cannot use state table ${tableName}${hint}: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
  }
  // The deployed table has another writer, the live detector: conditional writes, item by item, so
  // neither overwrites the other's newer state (write-behind replaces items whole).
  return {
    label: `state table ${tableName}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    persistent: true,
    state: new StateStore(documentClient(client), tableName),
    flush: async () => {},
    close: async () => client.destroy(),
  };
}

/** A checkpoint that says "done up to here" only once the state up to there is in the table. */
function flushingCheckpoint(checkpoint: CheckpointStore, flush: () => Promise<void>): CheckpointStore {
  return {
    get data() {
      return checkpoint.data;
    },
    save: async () => {
      await flush();
      await checkpoint.save();
    },
    appendPending: (lines) => checkpoint.appendPending(lines),
    readPending: () => checkpoint.readPending(),
    clearPending: () => checkpoint.clearPending(),
    remove: () => checkpoint.remove(),
  };
}

/** One bar per phase; notes and problems print above it (see progress.ts). */
function progressBar(display: ProgressDisplay): BackfillProgress & { stop(): void } {
  return {
    phase(name, total, done) {
      display.stop();
      display.start(total, { phase: name, events: 0 }, done);
    },
    tick(counters: Readonly<BackfillCounters>) {
      display.increment({ events: counters.events });
    },
    stop: () => display.stop(),
  };
}

export async function runBackfillCommand(
  paths: readonly string[],
  options: BackfillOptions,
  io: BackfillIo,
  deps: BackfillCommandDeps = {},
): Promise<{ exitCode: number; result?: BackfillResult }> {
  const fail = (message: string, exitCode = 2): { exitCode: number } => {
    io.stderr.write(`buildwatch: ${message.split('\n')[0]}\n`);
    return { exitCode };
  };
  const useCases = deps.useCases ?? registry;
  const env = deps.env ?? process.env;
  const clock = deps.clock ?? systemClock;

  let config: BuildwatchConfig;
  let sources: BackfillSources;
  let regions: string[];
  let top: number;
  try {
    config = loadConfig(options.config);
    checkConfigAgainstCatalogue(config, useCases, options.config ?? DEFAULT_CONFIG_FILE);
    if (paths.length === 0 && !options.lookupEvents && !options.currentState) {
      throw new UsageError('nothing to backfill from: give trail archive paths (directories, files or s3://bucket/prefix), --lookup-events, and/or --current-state');
    }
    if (!options.lookupEvents && (options.days !== undefined || options.windowHours !== undefined || (options.eventSource?.length ?? 0) > 0)) {
      throw new UsageError('--days, --window-hours and --event-source apply to --lookup-events');
    }
    const days = integerOption('--days', options.days, MAX_LOOKUP_DAYS, 1, MAX_LOOKUP_DAYS);
    const windowHours = integerOption('--window-hours', options.windowHours, 24, 1, 24);
    top = integerOption('--top', options.top, 5, 1, 100);
    const fallbackRegion = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'];
    regions = [...new Set(options.region && options.region.length > 0 ? options.region : fallbackRegion ? [fallbackRegion] : [])];
    if (options.lookupEvents && regions.length === 0) throw new UsageError('--lookup-events needs a region: --region REGION (repeatable), or AWS_REGION');
    const targets = [options.stateTable !== undefined, options.tablePrefix !== undefined].filter(Boolean).length;
    if (targets > 1) throw new UsageError('give --state-table or --table-prefix, not both');
    if (!options.endpoint && targets === 0 && !options.whatIf) {
      throw new UsageError(
        'backfill writes baselines to a state store: give --endpoint URL (local DynamoDB), --state-table NAME or --table-prefix PREFIX (the deployed stack\'s table), or use --what-if to backtest against a throw-away store',
      );
    }
    if (options.resume && !options.endpoint && targets === 0) throw new UsageError('--resume needs the state the interrupted run wrote: give its --endpoint, --state-table or --table-prefix');
    if (options.json && !options.whatIf) throw new UsageError('--json prints the --what-if report; add --what-if');
    const accounts = [...new Set(options.account ?? [])];
    const badAccount = accounts.find((account) => !ACCOUNT_ID.test(account));
    if (badAccount !== undefined) throw new UsageError(`--account takes a 12-digit account id, not ${badAccount}`);
    const badRegion = (options.region ?? []).find((name) => !REGION.test(name));
    if (badRegion !== undefined) throw new UsageError(`--region takes a region such as eu-west-1, not ${badRegion}`);
    if (accounts.length > 0 && paths.length === 0) throw new UsageError('--account selects accounts of a trail archive: give the archive paths (LookupEvents reads the account of the credentials)');
    // Only regions asked for by name filter the archive (AWS_REGION is where the CLI runs, not a choice).
    const archiveRegions = [...new Set(options.region ?? [])];
    sources = {
      ...(paths.length > 0 ? { archive: [...paths] } : {}),
      ...(paths.length > 0 && (accounts.length > 0 || archiveRegions.length > 0)
        ? { archiveFilters: { ...(accounts.length > 0 ? { accounts } : {}), ...(archiveRegions.length > 0 ? { regions: archiveRegions } : {}) } }
        : {}),
      ...(options.lookupEvents ? { lookupEvents: { regions, ...(options.eventSource?.length ? { eventSources: [...options.eventSource] } : {}), days, windowHours } } : {}),
      ...(options.currentState ? { currentState: true } : {}),
    };
  } catch (error) {
    return fail((error as Error).message);
  }

  const region = regions[0];
  // An image URI names its region: one ECR client per region asked about.
  const ecrClients = new Map<string, ECRClient>();
  const ecrFor = (ecrRegion: string): ECRClient => {
    let client = ecrClients.get(ecrRegion);
    if (!client) ecrClients.set(ecrRegion, (client = new ECRClient({ region: ecrRegion })));
    return client;
  };
  const lookups: Lookups =
    deps.lookups ??
    (options.recorded
      ? createRecordedLookups(options.recorded)
      : options.currentState
        ? {
            ...createAwsLookups({
              s3: new S3Client(region ? { region } : {}),
              codeartifact: new CodeartifactClient(region ? { region } : {}),
              codebuild: new CodeBuildClient(region ? { region } : {}),
              cloudtrail: new CloudTrailClient(region ? { region } : {}),
            }),
            ...createAwsEcrLookups(ecrFor),
            ...createAwsEc2Lookups(),
          }
        : noLookups);

  let target: Target;
  try {
    target = await openTarget(options, config, region, deps);
  } catch (error) {
    return fail((error as Error).message);
  }

  const ctClients = new Map<string, CloudTrailClient>();
  let s3Client: S3Client | undefined;
  const display = progressDisplay(io.stderr, {
    enabled: Boolean(options.progress),
    format: '{phase} [{bar}] {percentage}% | {value}/{total} | {events} events | ETA {eta_formatted}',
    etaBuffer: 20,
  });
  const bar = options.progress ? progressBar(display) : undefined;
  let checkpoint: CheckpointStore | undefined;
  try {
    // What the checkpoint was made for: a resume must ask for the same thing.
    const args = JSON.stringify({
      archive: (sources.archive ?? []).map((path) => (path.startsWith('s3://') ? path : resolve(path))),
      archiveFilters: sources.archiveFilters ?? null,
      lookupEvents: sources.lookupEvents ?? null,
      currentState: Boolean(sources.currentState),
      target: target.label,
    });
    const path = options.checkpoint ?? DEFAULT_CHECKPOINT;
    if (!target.persistent) checkpoint = new MemoryCheckpoint(newCheckpointData(args, new Date(clock.now()).toISOString()));
    else if (options.resume) {
      checkpoint = await FileCheckpoint.load(path, args);
      if (!checkpoint) io.stderr.write(`buildwatch: no checkpoint at ${path}; starting from the beginning\n`);
      else io.stderr.write(`buildwatch: resuming from ${path}\n`);
    }
    checkpoint ??= await FileCheckpoint.create(path, newCheckpointData(args, new Date(clock.now()).toISOString()));

    const result = await runBackfill(sources, {
      config,
      useCases,
      state: target.state,
      lookups,
      checkpoint: flushingCheckpoint(checkpoint, target.flush),
      clock,
      ...(region ? { region } : {}),
      ...(deps.random ? { random: deps.random } : {}),
      cloudTrailFor:
        deps.cloudTrailFor ??
        ((ctRegion) => {
          let client = ctClients.get(ctRegion);
          // One attempt per send: the backfill paces and retries LookupEvents itself.
          if (!client) ctClients.set(ctRegion, (client = new CloudTrailClient({ region: ctRegion, maxAttempts: 1 })));
          return client;
        }),
      s3: deps.s3 ?? (() => (s3Client ??= new S3Client({ ...(region ? { region } : { region: 'us-east-1' }), followRegionRedirects: true }))),
      ...(bar ? { progress: bar } : {}),
      onProblem: (problem: InputProblem) => {
        // Problem reasons quote the input (JSON.parse snippets, file names): no escape sequences through.
        display.text.write(`buildwatch: ${terminalLine(redactText(problem.reason))}\n`);
      },
      onNote: (note) => {
        // Notes quote look-up answers (fleet names, image digests): escaped like problems.
        display.text.write(`buildwatch: note: ${terminalLine(redactText(note))}\n`);
      },
    });
    bar?.stop();
    await target.flush();
    await checkpoint.remove();

    if (options.whatIf) {
      const report = whatIfReport(result.tallies, result.counters, useCases, config, top);
      io.stdout.write(options.json ? `${safeJson(report)}\n` : whatIfText(report));
    }
    io.stderr.write(`${summaryLine(result, target.label)}\n`);
    return { exitCode: result.counters.problems > 0 ? 1 : 0, result };
  } catch (error) {
    bar?.stop();
    const resumable = checkpoint instanceof FileCheckpoint ? ` (progress kept in ${checkpoint.path}: run the same command with --resume to continue)` : '';
    return fail(`backfill stopped: ${(error as Error).message}${resumable}`);
  } finally {
    for (const client of ctClients.values()) client.destroy();
    for (const client of ecrClients.values()) client.destroy();
    s3Client?.destroy();
    await target.close();
  }
}

function summaryLine(result: BackfillResult, target: string): string {
  const { counters } = result;
  const parts: string[] = [];
  if (counters.files > 0) parts.push(`${counters.files} archive file${counters.files === 1 ? '' : 's'}`);
  if (counters.requests > 0) parts.push(`${counters.requests} LookupEvents request${counters.requests === 1 ? '' : 's'}${counters.throttled ? ` (${counters.throttled} retried after throttling)` : ''}`);
  if (counters.currentState > 0) parts.push(`${counters.currentState} current state${counters.currentState === 1 ? '' : 's'}`);
  const { alerts, attestations } = result.sink.totals();
  return (
    `buildwatch: backfilled ${counters.events} events${parts.length ? ` (${parts.join(', ')})` : ''} into ${target}: ` +
    `${counters.routed} received by use cases; ${alerts} would-be alert${alerts === 1 ? '' : 's'} and ${attestations} attestation${attestations === 1 ? '' : 's'} not recorded` +
    `${counters.problems ? `, ${counters.problems} input problem${counters.problems === 1 ? '' : 's'}` : ''}`
  );
}
