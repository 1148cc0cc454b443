/**
 * Backfill: seed first-seen baselines and drift snapshots from history, without alerting.
 *
 * History runs through the same routing and engine as `replay` and the detect Lambda, against the
 * real state store, so baselines, learning-period starts and drift snapshots are written as if the
 * monitor had been running all along; findings go to a collecting sink instead of the ledger, so
 * nothing is alerted, and the collected would-be findings are the what-if (backtest) report.
 *
 * Sources, in this order (oldest history first, because state is built from event time):
 *   1. trail archives: CloudTrail log files in a directory or under an S3 prefix, every account and
 *      region of an organisation trail merged in eventTime order (archive.ts, archive-merge.ts);
 *   2. LookupEvents: the last N days per region (from the archive's newest event on, when both);
 *   3. current state through the look-ups (drift snapshots of the watched build projects, the
 *      compute fleets they use and the digests of the build-image tags they follow).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { BuildwatchConfig } from '../config/config.js';
import { Engine } from '../engine/engine.js';
import { policyFor } from '../engine/policy.js';
import type { EventBridgeEvent } from '../engine/events.js';
import type { InputProblem } from '../engine/normalise-input.js';
import { toPipelineEvent } from '../engine/pipeline-event.js';
import { route } from '../engine/router.js';
import type { UseCase } from '../engine/use-case.js';
import type { Lookups } from '../lookups/lookups.js';
import type { StateStorage } from '../store/store-contract.js';
import { IMAGE_CHANGE_ID } from '../use-cases/build/ecr.js';
import { discoverArchive, type ArchiveFilters } from './archive.js';
import { mergeArchive, type StreamCursor } from './archive-merge.js';
import { CheckpointError, type CheckpointStore } from './checkpoint.js';
import { CollectingSink, emptyTallies, type Tallies } from './collecting-sink.js';
import { currentStateEvents } from './current-state.js';
import { seedImageDigests } from './image-digests.js';
import { seedLaunchTemplates } from './launch-templates.js';
import { HOST_DRIFT_ID } from '../use-cases/build/host-drift/use-case.js';
import { eventSourcesOf } from './event-sources.js';
import { lookupPlan, readLookupEvents, windowCount, type CloudTrailLike } from './lookup-events.js';
import { RateLimiter, type Clock } from './rate-limit.js';

/** LookupEvents: 2 requests per second per account and region (EVENTS.md 8). */
export const LOOKUP_EVENTS_RATE = 2;

export interface BackfillSources {
  /** Directories, files or `s3://bucket/prefix` of CloudTrail log files (an account's or an organisation's trail). */
  readonly archive?: readonly string[];
  /** Only these accounts and regions of the archive. */
  readonly archiveFilters?: ArchiveFilters;
  readonly lookupEvents?: {
    readonly regions: readonly string[];
    /** Event sources to ask for; default: those the (enabled) use cases watch. */
    readonly eventSources?: readonly string[];
    readonly days: number;
    readonly windowHours: number;
  };
  /** Read the current state of configured resources through the look-ups, after the history. */
  readonly currentState?: boolean;
}

export interface BackfillCounters {
  /** Events read from all sources. */
  events: number;
  /** Events at least one use case's rule receives. */
  routed: number;
  files: number;
  requests: number;
  throttled: number;
  windows: number;
  currentState: number;
  problems: number;
  firstEventTime?: string;
  lastEventTime?: string;
}

export interface BackfillProgress {
  /** A phase starts: `total` units (files, windows), `done` of them already done (resume). */
  phase(name: string, total: number, done: number): void;
  /** One unit done. */
  tick(counters: Readonly<BackfillCounters>): void;
}

export interface BackfillDeps {
  readonly config: BuildwatchConfig;
  readonly useCases: readonly UseCase[];
  readonly state: StateStorage;
  readonly lookups: Lookups;
  readonly checkpoint: CheckpointStore;
  readonly clock: Clock;
  readonly random?: () => number;
  /** A CloudTrail client per region (created with `maxAttempts: 1`). */
  readonly cloudTrailFor?: (region: string) => CloudTrailLike;
  readonly s3?: () => S3Client;
  readonly progress?: BackfillProgress;
  readonly onProblem?: (problem: InputProblem) => void;
  readonly onNote?: (note: string) => void;
  /** The region the current state's EC2 look-ups ask in (launch templates): the backfill's first region. */
  readonly region?: string;
}

export interface BackfillResult {
  readonly counters: BackfillCounters;
  readonly tallies: Tallies;
  readonly sink: CollectingSink;
  /** The LookupEvents event sources asked for, when that source ran. */
  readonly eventSources?: readonly string[];
}

interface SavedProgress {
  counters?: BackfillCounters;
  tallies?: Tallies;
}

function emptyCounters(): BackfillCounters {
  return { events: 0, routed: 0, files: 0, requests: 0, throttled: 0, windows: 0, currentState: 0, problems: 0 };
}

export async function runBackfill(sources: BackfillSources, deps: BackfillDeps): Promise<BackfillResult> {
  const data = deps.checkpoint.data;
  const saved = data.progress as SavedProgress;
  const counters: BackfillCounters = { ...emptyCounters(), ...saved.counters };
  const sink = new CollectingSink(saved.tallies ?? emptyTallies());
  const engine = new Engine({ config: deps.config, lookups: deps.lookups, state: deps.state, findings: sink, clock: () => new Date(deps.clock.now()) });
  const remember = (): void => {
    data.progress = { counters: { ...counters }, tallies: sink.tallies } satisfies SavedProgress;
  };
  const problem = (found: InputProblem): void => {
    counters.problems += 1;
    deps.onProblem?.(found);
  };

  /** History goes to every use case whose rule receives it; current state only to drift use cases. */
  const process = async (envelope: EventBridgeEvent, label: string, kind: 'history' | 'current state' = 'history'): Promise<void> => {
    let receivers = route(deps.useCases, envelope);
    // Its event time, read once here for the counters and the engine.
    const event = toPipelineEvent(envelope);
    if (kind === 'history') {
      counters.events += 1;
      const { time } = event;
      if (!counters.firstEventTime || time < counters.firstEventTime) counters.firstEventTime = time;
      if (!counters.lastEventTime || time > counters.lastEventTime) counters.lastEventTime = time;
    } else {
      counters.currentState += 1;
      receivers = receivers.filter((useCase) => useCase.logic.kind === 'drift');
    }
    if (receivers.length === 0) return;
    if (kind === 'history') counters.routed += 1;
    for (const useCase of receivers) {
      try {
        await engine.evaluate(useCase, event);
      } catch (error) {
        problem({ file: label, reason: `${label}: event ${envelope.id}: use case ${useCase.metadata.id} failed: ${(error as Error).message}` });
      }
    }
  };

  // 1. Trail archives: every account's regions merged in time order, checkpointed per prefix.
  if (sources.archive && sources.archive.length > 0 && !data.archive?.complete) {
    const filters = sources.archiveFilters ?? {};
    const discovery = await discoverArchive(sources.archive, {
      s3: () => {
        if (!deps.s3) throw new Error('no S3 client');
        return deps.s3();
      },
      filters,
    });
    const resuming = data.archive !== undefined;
    const state = (data.archive ??= { prefixes: {}, complete: false });
    const cursors = new Map<string, StreamCursor>(Object.entries(state.prefixes));
    if (resuming) {
      const found = new Set(discovery.streams.map((stream) => stream.key));
      const gone = [...cursors.keys()].filter((key) => !found.has(key));
      if (gone.length > 0) throw new CheckpointError(`the archive changed since the checkpoint: ${gone.slice(0, 3).join(', ')}${gone.length > 3 ? ` and ${gone.length - 3} more` : ''} no longer found; delete the checkpoint to start over`);
      const added = discovery.streams.filter((stream) => !cursors.has(stream.key)).length;
      if (added > 0) deps.onNote?.(`${added} prefix${added === 1 ? '' : 'es'} appeared since the checkpoint: read from the first file`);
    } else {
      discovery.problems.forEach(problem);
    }
    const saveCursors = async (): Promise<void> => {
      state.prefixes = Object.fromEntries(cursors);
      remember();
      await deps.checkpoint.save();
    };
    // Progress in days of history: the merge moves through time, not through one list of files.
    const day = 86_400_000;
    let progressDay: number | undefined;
    await mergeArchive(discovery.streams, cursors, filters, {
      event: async (envelope, file, time) => {
        if (Number.isFinite(time)) {
          const today = Math.floor(time / day);
          if (progressDay === undefined) {
            const since = counters.firstEventTime !== undefined ? Math.floor(Date.parse(counters.firstEventTime) / day) : today;
            const until = Math.max(today, Math.floor(deps.clock.now() / day));
            deps.progress?.phase(`archive days (${discovery.streams.length} prefix${discovery.streams.length === 1 ? '' : 'es'})`, until - since + 1, Math.max(0, today - since));
          } else {
            for (let passed = progressDay; passed < today; passed += 1) deps.progress?.tick(counters);
          }
          progressDay = Math.max(progressDay ?? today, today);
        }
        await process(envelope, file);
      },
      fileDone: async () => {
        counters.files += 1;
        await saveCursors();
      },
      problem,
    });
    state.complete = true;
    await saveCursors();
  }

  // 2. LookupEvents, window by window, oldest first.
  let eventSources: readonly string[] | undefined;
  if (sources.lookupEvents) {
    const options = sources.lookupEvents;
    if (!deps.cloudTrailFor) throw new Error('no CloudTrail client');
    const plan =
      data.lookupEvents?.plan ??
      lookupPlan({
        regions: options.regions,
        sources: options.eventSources && options.eventSources.length > 0 ? options.eventSources : eventSourcesOf(deps.useCases, deps.config),
        days: options.days,
        windowHours: options.windowHours,
        end: new Date(deps.clock.now()),
        // The archive already covered history up to its newest event.
        ...(sources.archive && sources.archive.length > 0 && counters.lastEventTime ? { notBefore: counters.lastEventTime } : {}),
      });
    eventSources = plan.sources;
    if (plan.sources.length === 0) {
      deps.onNote?.('LookupEvents: no enabled use case watches a CloudTrail event source; nothing to ask for');
    } else {
      deps.progress?.phase(`LookupEvents windows (${plan.regions.length} region${plan.regions.length === 1 ? '' : 's'} × ${plan.sources.length} source${plan.sources.length === 1 ? '' : 's'})`, windowCount(plan), data.lookupEvents?.windowIndex ?? 0);
      await readLookupEvents(
        plan,
        {
          clientFor: deps.cloudTrailFor,
          limiter: new RateLimiter({ ratePerSecond: LOOKUP_EVENTS_RATE, capacity: 1 }, deps.clock),
          clock: deps.clock,
          ...(deps.random ? { random: deps.random } : {}),
          checkpoint: deps.checkpoint,
          onRequest: () => {
            counters.requests += 1;
          },
          onThrottled: () => {
            counters.throttled += 1;
          },
          keep: (envelope) => route(deps.useCases, envelope).length > 0,
          onDropped: (count) => {
            // Read but received by no rule: counted now, since they never reach the window.
            counters.events += count;
            remember();
          },
          onProblem: problem,
        },
        async (window, events, problems) => {
          problems.forEach(problem);
          const label = `LookupEvents ${window.start}..${window.end}`;
          for (const envelope of events) await process(envelope, label);
          counters.windows += 1;
          remember();
          deps.progress?.tick(counters);
        },
      );
      remember();
      await deps.checkpoint.save();
    }
  }

  // Correlations still pending whose deadline passed within the history are judged now, into the
  // collector: otherwise the cloud sweep would judge them later and alert on history. (Through a
  // structural check, as `settle` arrives with the correlate kind.)
  const settler = engine as unknown as { settle?: (useCases: readonly UseCase[], at?: string) => Promise<unknown> };
  if (typeof settler.settle === 'function' && counters.lastEventTime && (sources.archive?.length || sources.lookupEvents)) {
    try {
      await settler.settle(deps.useCases, counters.lastEventTime);
    } catch (error) {
      problem({ file: 'settle', reason: `settling pending correlations at ${counters.lastEventTime}: ${(error as Error).message}` });
    }
    remember();
  }

  // 3. Current state, stamped after everything the history holds.
  if (sources.currentState) {
    const now = deps.clock.now();
    const afterHistory = counters.lastEventTime ? Date.parse(counters.lastEventTime) + 1000 : 0;
    const at = new Date(Math.max(now, afterHistory)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const current = await currentStateEvents(deps.config, deps.lookups, at);
    current.notes.forEach((note) => deps.onNote?.(note));
    current.problems.forEach(problem);
    for (const envelope of current.events) await process(envelope, 'current state', 'current state');
    // After the project records: the image tags come from the project snapshots they just wrote.
    const imageChange = deps.useCases.find((useCase) => useCase.metadata.id === IMAGE_CHANGE_ID);
    if (imageChange) {
      try {
        const images = await seedImageDigests({ config: deps.config, lookups: deps.lookups, state: deps.state, at, keepDays: policyFor(imageChange.metadata, deps.config).forgetAfterDays });
        counters.currentState += images.seeded;
        images.notes.forEach((note) => deps.onNote?.(note));
        images.problems.forEach(problem);
      } catch (error) {
        problem({ file: 'current state', reason: `current state: build image digests: ${(error as Error).message}` });
      }
    }
    const hostDrift = deps.useCases.find((useCase) => useCase.metadata.id === HOST_DRIFT_ID);
    if (hostDrift) {
      try {
        const templates = await seedLaunchTemplates({ config: deps.config, lookups: deps.lookups, state: deps.state, at, region: deps.region, keepDays: policyFor(hostDrift.metadata, deps.config).forgetAfterDays });
        counters.currentState += templates.seeded;
        templates.notes.forEach((note) => deps.onNote?.(note));
        templates.problems.forEach(problem);
      } catch (error) {
        problem({ file: 'current state', reason: `current state: launch templates: ${(error as Error).message}` });
      }
    }
    remember();
  }

  return { counters, tallies: sink.tallies, sink, ...(eventSources ? { eventSources } : {}) };
}
