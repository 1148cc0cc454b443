/**
 * The use-case contract. One use case = one folder: metadata, an EventBridge pattern, logic of one
 * of four kinds, and labelled cases. The engine, not the use case, applies mode, severity overrides,
 * exclusions, suppressions and storage, so tuning is configuration and the logic stays small.
 */
import * as z from 'zod';
import type { BuildwatchConfig } from '../config/config.js';
import type { Lookups } from '../lookups/lookups.js';
import type { EventPattern } from './event-pattern.js';
import { modeSchema, questionIdSchema, severitySchema, stageSchema, type Severity } from './model.js';
import type { PipelineEvent } from './pipeline-event.js';
import type { KnownState } from './state-history.js';

/** Built on first use: a bundle the stack built from a catalogue it validated at synth never needs it (defineUseCase). */
function buildMetadataSchema() {
  return z.strictObject({
    /** Dotted, named by behaviour: `source.new-pusher`. Equals the folder path `<stage>/<name>`. */
    id: z.string().regex(/^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$/, 'dotted lower-case id like source.new-pusher'),
    answers: questionIdSchema,
    title: z.string().min(5).max(100),
    stage: stageSchema,
    description: z.string().min(10),
    severity: severitySchema,
    defaultMode: modeSchema,
    /** 1-5: how much risk the use case removes, and how much it costs to run and tune. */
    riskReduction: z.number().int().min(1).max(5),
    effort: z.number().int().min(1).max(5),
    mitre: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'ATT&CK technique id like T1562.008')).min(1),
    falsePositives: z.array(z.string().min(3)).min(1),
    runbook: z.string().min(10),
    references: z.array(z.url()).default([]),
    /** Evaluate failed API calls (errorCode set) too; by default the engine drops them. */
    includeFailedCalls: z.boolean().default(false),
    /** Evaluate calls made by AWS services themselves (userIdentity.type AWSService); dropped by default. */
    includeAwsServiceCalls: z.boolean().default(false),
    /**
     * The rule needs read-only CloudTrail management events, which EventBridge delivers only to rules in
     * the state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (EVENTS.md 2). The local router honours it too.
     */
    readOnlyEvents: z.boolean().default(false),
    /**
     * Default dedup window (minutes, at most 1440) when the configuration sets none for this use case:
     * repeats with the same dedup key, mode and severity within it update the first finding's count.
     * Leave it out unless repeats are certainly one incident.
     */
    dedupWindowMinutes: z.number().int().min(0).max(1440).optional(),
  });
}

type MetadataSchema = ReturnType<typeof buildMetadataSchema>;
let metadataSchema: MetadataSchema | undefined;

/** The schema of a use case's metadata (built once, on first use). */
export function useCaseMetadataSchema(): MetadataSchema {
  return (metadataSchema ??= buildMetadataSchema());
}

export type UseCaseMetadata = z.input<MetadataSchema>;
export type ResolvedMetadata = z.output<MetadataSchema>;

/** What a use case reports; the engine turns it into a finding. */
export interface Observation {
  readonly summary: string;
  /** Defaults to the use case's title. */
  readonly title?: string;
  /** Defaults to the use case's severity; a configured override replaces both. */
  readonly severity?: Severity;
  /** The resource acted on (name or ARN): routing to teams matches on it. */
  readonly resource?: string;
  /** Same key for the same incident; the finding id is hash(use case, event id, key). Defaults to the resource. */
  readonly dedupKey?: string;
  /**
   * One finding per incident across events: when set, the finding id is hash(use case, incidentKey)
   * whatever the event, so whichever evidence arrives first makes the finding and the rest are
   * repeats (a push seen as CloudTrail and native events; a build override seen at StartBuild and in
   * the build's own event; one package version). First-seen observations get one from the engine
   * (scope, value and the forget-after period of the sighting) unless they set their own.
   */
  readonly incidentKey?: string;
  /** Evidence for the finding; secrets are masked by the engine before storage. */
  readonly evidence?: Record<string, unknown>;
  /** Evidence only: an attestation, whatever the use case's mode. */
  readonly attestation?: boolean;
}

export interface UseCaseContext {
  readonly config: BuildwatchConfig;
  readonly lookups: Lookups;
  /**
   * This use case's `useCases.<id>.options` from the configuration, already validated against its
   * `optionsSchema` (defaults applied). Read it with `optionsOf(schema, ctx)`.
   */
  readonly options: unknown;
  /**
   * The last known state of a thing kept by a drift use case (its change log), as it was at event
   * time `at`: e.g. a CodeBuild project as build.project-drift knows it at a build's start. Undefined
   * when nothing at or before `at` is recorded. The one notion of state; look-ups only fill gaps.
   * `mayBeStale`: the container's copy of the newest change will do (no call) when it is recent and
   * not newer than `at`; it may miss a change another container recorded meanwhile, so use it only
   * where agreeing with it settles nothing a fresh read could contradict, and read again before
   * reporting anything on it.
   */
  readonly knownState?: (useCase: string, key: string, at: string, options?: { readonly mayBeStale?: boolean }) => Promise<KnownState | undefined>;
  /**
   * Read-only view of drift snapshots, so a use case can read a resource's last known state from its
   * one owner (a project's image from build.project-drift) instead of keeping a copy. Absent where
   * no state store is wired (plain unit tests).
   */
  readonly snapshots?: SnapshotReader;
}

/** A drift snapshot as another use case may read it: the state and the event time that produced it. */
export interface SnapshotView {
  readonly state: JsonObject;
  readonly updatedAt: string;
}

export interface SnapshotReader {
  get(useCase: string, key: string): Promise<SnapshotView | undefined>;
}

/**
 * A schema built the first time it parses, not at import. zod builds many closures per schema, and a
 * use case's schemas (its options, the records it reads) serve only the events routed to it: built
 * at import, every cold start would pay for all of them.
 */
export function builtOnFirstUse<T extends z.ZodType>(build: () => T): z.ZodLazy<T> {
  return z.lazy(build);
}

/**
 * Typed options of a use case (the engine validated them against the same schema). Parsed once per
 * options object and schema: use cases read them for every event, and both are fixed for a run.
 */
export function optionsOf<S extends z.ZodType>(schema: S, ctx: UseCaseContext): z.output<S> {
  const options = ctx.options;
  if (options === null || typeof options !== 'object') return schema.parse(options ?? {});
  let bySchema = parsedOptions.get(options);
  if (!bySchema) {
    bySchema = new WeakMap();
    parsedOptions.set(options, bySchema);
  }
  if (bySchema.has(schema)) return bySchema.get(schema) as z.output<S>;
  // Frozen: every event of the run shares this object, so a use case that changed it would change it for all.
  const parsed = frozen(schema.parse(options));
  bySchema.set(schema, parsed);
  return parsed;
}

/** Plain objects and arrays frozen deeply; anything else (a RegExp or Map a schema made) left as it is. */
function frozen<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return value;
  for (const child of Object.values(value)) frozen(child);
  return Object.freeze(value);
}
const parsedOptions = new WeakMap<object, WeakMap<z.ZodType, unknown>>();

/** Stateless: a predicate over one event. */
export interface MatchLogic {
  readonly kind: 'match';
  evaluate(event: PipelineEvent, ctx: UseCaseContext): Observation | readonly Observation[] | undefined | Promise<Observation | readonly Observation[] | undefined>;
}

/** A (scope, value) pair an event shows, e.g. repository × principal. */
export interface Sighting {
  readonly scope: string;
  readonly value: string;
  readonly resource?: string;
  /** Recorded but never a finding (automation principals, for instance). */
  readonly expected?: boolean;
}

export interface FirstSeenFacts {
  readonly sighting: Sighting;
  /** When the engine started watching the scope (start of its learning period). */
  readonly scopeWatchedSince: string;
  /** Values known in the scope before this one (forgotten ones excluded). */
  readonly knownValues: number;
  /**
   * The sightings listed before this one for the same event that were new (expected ones included):
   * lets a use case ask "was this principal already known in the wider scope?" by listing that
   * wider sighting first.
   */
  readonly newEarlierInEvent: readonly Sighting[];
}

/** Stateful: alert on a value never seen in its scope, after the scope's learning period. */
export interface FirstSeenLogic {
  readonly kind: 'firstSeen';
  sightings(event: PipelineEvent, ctx: UseCaseContext): readonly Sighting[] | Promise<readonly Sighting[]>;
  /** May ask the look-ups (only for a first sighting that will be reported, so rarely). */
  describe(facts: FirstSeenFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | Promise<Observation>;
  /**
   * Optional, for acts worth reporting every time (interactive access to a build): an observation
   * for a sighting that is not reported as a first, because its value is known, the scope is still
   * learning, or it is expected (automation). Usually at a lower severity than `describe`.
   */
  describeRepeat?(sighting: Sighting, why: RepeatReason, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined;
}

export type RepeatReason = 'known' | 'learning' | 'expected';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface StateReport {
  /** The thing whose state is tracked, e.g. `codebuild:project/payments-service-build`. */
  readonly key: string;
  readonly resource?: string;
  /** Normalised state, or the part of it the event carries (with partial: true). */
  readonly state: JsonObject;
  /** The event carries only the fields the caller sent (UpdateProject): merge them into the known state. */
  readonly partial: boolean;
}

export interface DiffEntry {
  /** Dotted path, e.g. `environment.image`. */
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly before?: JsonValue;
  readonly after?: JsonValue;
}

export interface DriftFacts {
  readonly report: StateReport;
  readonly before: JsonObject;
  readonly after: JsonObject;
  readonly diff: readonly DiffEntry[];
  /** When the previous state was recorded (event time), or 'look-up'. */
  readonly since: string;
  /**
   * Set when the event arrived after a newer change of the same thing (event time of the newest):
   * it was judged against the state at its own time, and did not overwrite newer state.
   */
  readonly newerStateSince?: string;
  /** With newerStateSince: that newer state (the head), e.g. to tell a superseded change from one a newer event only repeated. */
  readonly newerState?: JsonObject;
}

/** Stateful: a change from the last known state of a thing is a finding carrying the diff. */
export interface DriftLogic {
  readonly kind: 'drift';
  report(event: PipelineEvent, ctx: UseCaseContext): StateReport | undefined | Promise<StateReport | undefined>;
  /** The state to start from when none is stored yet (e.g. BatchGetProjects through the look-ups). */
  initialState?(report: StateReport, ctx: UseCaseContext): Promise<JsonObject | undefined>;
  assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined;
  /**
   * The state to store, when it depends on the last known one (a baseline that an alerting report
   * must not replace until accepted). Without it the report's state replaces or merges into it.
   */
  next?(before: JsonObject, report: StateReport, event: PipelineEvent, ctx: UseCaseContext): JsonObject;
}

/**
 * One side of a correlation: facts an event contributes under a join key, kept for later claims
 * (a build's output: its artifact hash, under the build project).
 */
export interface CorrelationRecord {
  /** The key both sides share, e.g. the build project. No `|` (it separates stored key parts). */
  readonly join: string;
  /** Unique within the join key (a build id); a redelivery overwrites the same record. */
  readonly id: string;
  /** Values a claim can find the record by (output hashes): one stored item each. */
  readonly keys: readonly string[];
  /**
   * More values pending checks may want (`build:<uuid>`) that get no item of their own: a claim finds
   * the record by time instead (`between`). Each item is a way to find the record, so fewer items
   * means fewer ways a partly written record can be half-visible.
   */
  readonly names?: readonly string[];
  /** Stored as is: never put secrets here. */
  readonly data: JsonObject;
}

/** A record as stored, with the event time it was recorded at. */
export interface StoredCorrelationRecord extends CorrelationRecord {
  readonly at: string;
}

/**
 * The other side: a claim to check against the records of its join key (a package version's asset
 * hashes, to be found among the build outputs of the package's build project).
 */
export interface CorrelationClaim {
  readonly join: string;
  /** What the claim is about (a package version). Pending checks are kept per subject and event. */
  readonly subject: string;
  /** Stored while the check is pending: never put secrets here. */
  readonly data: JsonObject;
  /**
   * Organisation mode: where the records of the join key live when not in the claim's own account
   * and region (a package in the artifacts account built by a project of the tooling account).
   */
  readonly joinLocation?: { readonly account?: string; readonly region?: string };
  /**
   * The record keys or names that can change the verdict before the deadline: a pending check is
   * judged again only when a record with one of them arrives (and finally at its deadline). Absent:
   * any record of the join key judges it again (for verdicts that depend on more than the records,
   * e.g. a look-up retried); empty: only the deadline.
   */
  readonly wants?: readonly string[];
}

export interface CorrelateInputs {
  readonly records?: readonly CorrelationRecord[];
  readonly claims?: readonly CorrelationClaim[];
}

/** Read access to the records of one join key (event-time bounded, forgotten ones excluded). */
export interface CorrelationRecords {
  withKey(key: string): Promise<readonly StoredCorrelationRecord[]>;
  /** Records whose time lies in [from, to] (ISO). */
  between(from: string, to: string): Promise<readonly StoredCorrelationRecord[]>;
}

export interface CorrelateFacts {
  readonly claim: CorrelationClaim;
  /** Event time of the claim's event. */
  readonly claimedAt: string;
  /** claimedAt + the use case's deadline. */
  readonly deadline: string;
  /**
   * No more waiting: the deadline passed (the cloud sweep), the replayed world ended (replay's
   * settle), or the deadline is zero. A final judgement must settle.
   */
  readonly final: boolean;
  readonly records: CorrelationRecords;
}

export type CorrelateVerdict =
  /** The other side may still arrive: keep the check pending (ignored when final). */
  | { readonly status: 'wait' }
  /** Done: report the observations (none for "nothing to say"); `reason` explains a silent settle. */
  | { readonly status: 'settled'; readonly observations?: readonly Observation[]; readonly reason?: string };

/**
 * Stateful: two events joined on a key. Records are kept (TTL = forget-after); a claim is judged
 * against them when it arrives, again when records of its join key arrive within the deadline, and
 * finally once the deadline has passed. Judgements use event time, never the wall clock, except the
 * cloud sweep, which settles checks whose deadline passed on the wall clock.
 */
export interface CorrelateLogic {
  readonly kind: 'correlate';
  inputs(event: PipelineEvent, ctx: UseCaseContext): CorrelateInputs | undefined | Promise<CorrelateInputs | undefined>;
  /** How long a claim waits for the other side (event-time minutes); 0 judges at once. */
  deadlineMinutes(ctx: UseCaseContext): number;
  /**
   * Judges a claim. `event` is the claim's event; for a deferred judgement it is rebuilt from a slim
   * stored copy (envelope, identity, time, no request parameters), so read the claim's data instead.
   */
  judge(facts: CorrelateFacts, event: PipelineEvent, ctx: UseCaseContext): CorrelateVerdict | Promise<CorrelateVerdict>;
}

export type UseCaseLogic = MatchLogic | FirstSeenLogic | DriftLogic | CorrelateLogic;

export interface UseCase {
  readonly metadata: ResolvedMetadata;
  readonly pattern: EventPattern;
  readonly logic: UseCaseLogic;
  /** Schema of `useCases.<id>.options` in the configuration (tuning knobs, with defaults). */
  readonly optionsSchema?: z.ZodType;
}

/**
 * Defined (true) by esbuild in the bundles the stack builds (lib/constructs/handler-function.ts), after
 * it validated every use case of the catalogue at synth; undefined anywhere else.
 */
declare const BUILDWATCH_VALIDATED_CATALOGUE: boolean | undefined;

/**
 * Validates the metadata once, at definition time, so a malformed use case fails at import: the synth,
 * the CLI and the tests import the use cases unbundled. A Lambda bundle holds only use cases its synth
 * validated, so there the metadata is taken as written, with the schema's defaults, and a cold start
 * builds and runs no schema for it.
 */
export function defineUseCase(definition: { metadata: UseCaseMetadata; pattern: EventPattern; logic: UseCaseLogic; optionsSchema?: z.ZodType }): UseCase {
  const metadata = typeof BUILDWATCH_VALIDATED_CATALOGUE === 'boolean' ? withMetadataDefaults(definition.metadata) : validatedMetadata(definition.metadata);
  return { metadata, pattern: definition.pattern, logic: definition.logic, ...(definition.optionsSchema ? { optionsSchema: definition.optionsSchema } : {}) };
}

/** The metadata with its defaults applied; throws, naming the use case and every problem, when it is malformed. */
export function validatedMetadata(metadata: UseCaseMetadata): ResolvedMetadata {
  const parsed = useCaseMetadataSchema().safeParse(metadata);
  if (!parsed.success) {
    throw new Error(`use case ${metadata.id}: invalid metadata: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * The schema's defaults, applied without the schema, to metadata validated elsewhere (a test keeps
 * both the same). A new array per use case: one use case's metadata shares nothing with another's.
 */
export function withMetadataDefaults(metadata: UseCaseMetadata): ResolvedMetadata {
  return {
    ...metadata,
    references: [...(metadata.references ?? [])],
    includeFailedCalls: metadata.includeFailedCalls ?? false,
    includeAwsServiceCalls: metadata.includeAwsServiceCalls ?? false,
    readOnlyEvents: metadata.readOnlyEvents ?? false,
  };
}
