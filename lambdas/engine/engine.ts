/**
 * The engine: takes one (use case, event) pair, runs the use case's logic through its kind
 * (match, firstSeen, drift, correlate), applies the policy layer (exclusions, suppressions, mode,
 * staging, dedup windows) and writes findings to the ledger.
 * The same code runs in the detect Lambda and in `buildwatch replay`; `settle` gives pending
 * correlations their final judgement (the correlation sweep, or the end of a replay).
 */
import { createHash } from 'node:crypto';
import { ACCOUNT_ID, type BuildwatchConfig } from '../config/config.js';
import type { Lookups } from '../lookups/lookups.js';
import type { FindingsSink } from '../store/findings-store.js';
import { compareChangePositions, type ChangePosition, type DedupWindow, type Snapshot } from '../store/state-store.js';
import type { StateStorage } from '../store/store-contract.js';
import { noLookups } from '../lookups/lookups.js';
import { applyLateChange, knownStateOf, type KnownState } from './state-history.js';
import { boundStrings, fitsItem, storableState } from './bounds.js';
import { contentHashOf } from './canonical.js';
import { Correlator } from './correlate.js';
import { eventLocation, isOrganization, locatedKey, unlocatedKey, type EventLocation } from './event-location.js';
import { organizationAccount, pipelineFor } from '../config/organization.js';
import { diffState, mergeState } from './diff.js';
import { storableFields } from './finding-fields.js';
import { MAX_COUNTED_REPEATS, type Finding, type FindingMode, type HeldBack } from './model.js';
import type { PipelineEvent } from './pipeline-event.js';
import { activeSuppression, exclusionReason, findingMode, isAutomationPrincipal, ownerCopyReason, policyFor, stagingEnds, teamFor, type EffectivePolicy } from './policy.js';
import { redact } from './redact.js';
import type { CorrelateLogic, DriftLogic, FirstSeenLogic, JsonObject, Observation, RepeatReason, Sighting, StateReport, UseCase, UseCaseContext } from './use-case.js';

export interface EngineDeps {
  readonly config: BuildwatchConfig;
  readonly lookups: Lookups;
  readonly state: StateStorage;
  /** The ledger (or, for what-if runs and backfills, a collector). */
  readonly findings: FindingsSink;
  /** Wall clock, only for `recordedAt`; detection uses event time. */
  readonly clock?: () => Date;
}

export type Outcome =
  | { readonly status: 'finding'; readonly finding: Finding; readonly created: boolean }
  /**
   * A repeat within the dedup window of an earlier finding (`into`): that finding's count was updated
   * (`counted`; false for a redelivery of a repeat already counted) and nothing new was written, so
   * nothing is alerted. `finding` is what the repeat would have been on its own.
   */
  | { readonly status: 'deduplicated'; readonly finding: Finding; readonly into: string; readonly counted: boolean }
  | { readonly status: 'skipped'; readonly useCase: string; readonly reason: string };

/**
 * How long (wall clock) a container trusts its copy of a drift key's newest change for `mayBeStale`
 * reads: bounds how long a change recorded by another container can go unseen there.
 */
export const NEWEST_KNOWN_TTL_MS = 5 * 60_000;
const NEWEST_KNOWN_LIMIT = 1_000;
const END_OF_TIME = '9999-12-31T23:59:59Z';
/** The location single-account keys ignore (locatedKey). */
const SINGLE_ACCOUNT: EventLocation = Object.freeze({});

/** Findings larger than this keep a preview of their evidence: DynamoDB items stop at 400 KB. */
const MAX_EVIDENCE_BYTES = 64 * 1024;

export class UnsupportedKindError extends Error {
  override readonly name = 'UnsupportedKindError';
}

export class Engine {
  /** One context per use case: its validated options differ. */
  private readonly contexts = new Map<string, UseCaseContext>();
  private readonly correlator: Correlator;
  /** Organisation mode: the configuration as an account's events see it (its own pipeline). */
  private readonly accountConfigs = new Map<string, BuildwatchConfig>();
  /** Organisation mode: correlate logic whose join keys are kept per account and region. */
  private readonly locatedLogics = new Map<string, CorrelateLogic>();
  /**
   * Where a claim's event was, as first judged: a deferred judgement rebuilds the event from a slim
   * copy without request parameters (a CodeArtifact domainOwner), which must not move its finding.
   */
  private readonly claimLocations = new WeakMap<PipelineEvent, EventLocation>();

  private locationOf(event: PipelineEvent): EventLocation {
    return this.claimLocations.get(event) ?? eventLocation(event);
  }
  /** Each use case's policy under this engine's configuration (evaluated for every event). */
  private readonly policies = new WeakMap<UseCase['metadata'], EffectivePolicy>();

  private policyOf(useCase: UseCase): EffectivePolicy {
    let policy = this.policies.get(useCase.metadata);
    if (!policy) {
      policy = policyFor(useCase.metadata, this.deps.config);
      this.policies.set(useCase.metadata, policy);
    }
    return policy;
  }
  /** Newest change of drift keys read with `mayBeStale` (see newestKnown). */
  private readonly newest = new Map<string, { readonly state: KnownState; readonly readAt: number }>();

  constructor(private readonly deps: EngineDeps) {
    this.correlator = new Correlator({
      state: deps.state,
      record: (useCase, event, observation) => this.record(useCase, event, this.policyOf(useCase), observation),
    });
  }

  /**
   * The context a use case sees for one event. Single-account: the use case's context. Organisation:
   * the pipeline of the event's account, look-ups made in the event's account and region, and the
   * last known state of things in that account and region.
   */
  private contextFor(useCase: UseCase, event?: PipelineEvent): UseCaseContext {
    const ctx = this.baseContextFor(useCase);
    if (!event || !isOrganization(this.deps.config)) return ctx;
    const location = this.locationOf(event);
    const located = (key: string): string => locatedKey(this.deps.config, location, key);
    const { knownState, snapshots } = ctx;
    const inAccount = location.account && location.region ? this.deps.lookups.inAccount?.(location.account, location.region) : undefined;
    return {
      ...ctx,
      config: this.configFor(location),
      lookups: inAccount ?? this.deps.lookups,
      ...(knownState ? { knownState: (owner: string, key: string, at: string) => knownState(owner, located(key), at) } : {}),
      ...(snapshots ? { snapshots: { get: (owner: string, key: string) => snapshots.get(owner, located(key)) } } : {}),
    };
  }

  private configFor(location: EventLocation): BuildwatchConfig {
    const account = location.account ?? '';
    let config = this.accountConfigs.get(account);
    if (!config) {
      config = { ...this.deps.config, pipeline: pipelineFor(this.deps.config, location.account) };
      this.accountConfigs.set(account, config);
    }
    return config;
  }

  /**
   * Organisation mode: records and claims joined per account and region (a build project of one
   * account is not another's namesake); a claim whose other side lives elsewhere says where
   * (`joinLocation`). The use case still sees its own join keys, and the event's context.
   */
  private correlateLogicFor(useCase: UseCase, logic: CorrelateLogic): CorrelateLogic {
    const { config } = this.deps;
    if (!isOrganization(config)) return logic;
    let located = this.locatedLogics.get(useCase.metadata.id);
    if (!located) {
      located = {
        kind: 'correlate',
        deadlineMinutes: (ctx) => logic.deadlineMinutes(ctx),
        inputs: async (event, ctx) => {
          const inputs = await logic.inputs(event, ctx);
          if (!inputs) return inputs;
          const here = eventLocation(event);
          return {
            ...(inputs.records ? { records: inputs.records.map((record) => ({ ...record, join: locatedKey(config, here, record.join) })) } : {}),
            ...(inputs.claims
              ? {
                  claims: inputs.claims.map(({ joinLocation, ...claim }) => ({
                    ...claim,
                    join: locatedKey(config, { ...here, ...joinLocation }, claim.join),
                    subject: locatedKey(config, here, claim.subject),
                  })),
                }
              : {}),
          };
        },
        judge: (facts, event, _ctx) => {
          // The subject was located at the claim's event: that stays the finding's account and region.
          const [account, region] = facts.claim.subject.split('/');
          if (account && region && ACCOUNT_ID.test(account)) this.claimLocations.set(event, { account, region });
          return logic.judge(
            { ...facts, claim: { ...facts.claim, join: unlocatedKey(config, facts.claim.join), subject: unlocatedKey(config, facts.claim.subject) } },
            event,
            this.contextFor(useCase, event),
          );
        },
      };
      this.locatedLogics.set(useCase.metadata.id, located);
    }
    return located;
  }

  private baseContextFor(useCase: UseCase): UseCaseContext {
    let ctx = this.contexts.get(useCase.metadata.id);
    if (!ctx) {
      const raw = this.deps.config.useCases[useCase.metadata.id]?.options ?? {};
      const state = this.deps.state;
      ctx = {
        config: this.deps.config,
        lookups: this.deps.lookups,
        options: useCase.optionsSchema ? useCase.optionsSchema.parse(raw) : raw,
        knownState: async (owner, key, at, options) => {
          if (options?.mayBeStale) {
            const newest = await this.newestKnown(owner, key, at);
            if (newest) return newest;
          }
          const change = await this.deps.state.stateChangeAtOrBefore(owner, key, at);
          if (change) return knownStateOf(change);
          // Changes are kept forget-after days; the head holds from its own time on.
          const head = await this.deps.state.getSnapshot(owner, key);
          return head && Date.parse(head.updatedAt) <= Date.parse(at) ? { state: head.state, at: head.updatedAt, eventId: head.lastEventId, fromLookUp: false } : undefined;
        },
        snapshots: { get: (owner, key) => state.getSnapshot(owner, key) },
      };
      this.contexts.set(useCase.metadata.id, ctx);
    }
    return ctx;
  }

  /**
   * The newest recorded change of a drift key, if it is not newer than `at` (then it is the state at
   * `at`): from the container's copy while it is younger than NEWEST_KNOWN_TTL_MS on the wall clock,
   * else read (one query) and kept. This engine's own drift writes drop the copy; another container's
   * go unseen until it expires, hence `mayBeStale`.
   */
  private async newestKnown(owner: string, key: string, at: string): Promise<KnownState | undefined> {
    const id = `${owner}\u0000${key}`;
    const now = (this.deps.clock?.() ?? new Date()).getTime();
    const kept = this.newest.get(id);
    if (kept && now - kept.readAt < NEWEST_KNOWN_TTL_MS) return Date.parse(kept.state.at) <= Date.parse(at) ? kept.state : undefined;
    const change = await this.deps.state.stateChangeAtOrBefore(owner, key, END_OF_TIME);
    if (!change) return undefined;
    const state = knownStateOf(change);
    this.newest.delete(id);
    this.newest.set(id, { state, readAt: now });
    if (this.newest.size > NEWEST_KNOWN_LIMIT) this.newest.delete(this.newest.keys().next().value ?? id);
    return Date.parse(state.at) <= Date.parse(at) ? state : undefined;
  }

  async evaluate(useCase: UseCase, event: PipelineEvent): Promise<Outcome[]> {
    const { metadata } = useCase;
    const policy = this.policyOf(useCase);
    const excluded = exclusionReason(metadata, policy, event) ?? ownerCopyReason(this.deps.config, event);
    if (excluded) return [{ status: 'skipped', useCase: metadata.id, reason: excluded }];
    // Staging counts from the first event a use case evaluates while it is staged (cached: about one
    // call per use case and container, and none at all without staging).
    if (policy.stagingDays > 0 && policy.mode === 'alert') await this.deps.state.enabledSince(metadata.id, event.time);
    // A correlation can report on earlier events (pending checks it settles), so it records its own findings.
    if (useCase.logic.kind === 'correlate') return this.correlator.evaluate(useCase, this.correlateLogicFor(useCase, useCase.logic), event, this.contextFor(useCase, event), policy.forgetAfterDays);

    const observing = this.observe(useCase, event, policy);
    const observed = isThenable(observing) ? await observing : observing;
    if (!Array.isArray(observed)) return [observed as Outcome];
    const outcomes: Outcome[] = [];
    for (const observation of observed) outcomes.push(await this.record(useCase, event, policy, observation));
    return outcomes.length > 0 ? outcomes : [{ status: 'skipped', useCase: metadata.id, reason: 'nothing observed' }];
  }

  /** What the use case observes; synchronous for match logic that answers synchronously (most do: no await per evaluation). */
  private observe(useCase: UseCase, event: PipelineEvent, policy: EffectivePolicy): readonly Observation[] | Outcome | Promise<readonly Observation[] | Outcome> {
    const { logic } = useCase;
    const ctx = this.contextFor(useCase, event);
    switch (logic.kind) {
      case 'match': {
        const answer = logic.evaluate(event, ctx);
        return isThenable(answer) ? Promise.resolve(answer).then(observationsOf) : observationsOf(answer);
      }
      case 'firstSeen':
        return this.firstSeen(useCase, logic, event, policy, ctx);
      case 'drift':
        return this.drift(useCase, logic, event, ctx, policy.forgetAfterDays);
      case 'correlate':
        throw new UnsupportedKindError(`use case ${useCase.metadata.id}: correlate is evaluated by the correlator, not observed`);
    }
  }

  /**
   * Final judgement of pending correlations whose deadline is at or before `at` (the sweep passes the
   * wall clock); without `at`, all of them (the end of a replay: the replayed world ends there).
   */
  async settle(useCases: readonly UseCase[], at?: string): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const useCase of useCases) {
      if (useCase.logic.kind !== 'correlate' || this.policyOf(useCase).mode === 'off') continue;
      outcomes.push(...(await this.correlator.settle(useCase, this.correlateLogicFor(useCase, useCase.logic), this.contextFor(useCase), at)));
    }
    return outcomes;
  }

  private async firstSeen(useCase: UseCase, logic: FirstSeenLogic, event: PipelineEvent, policy: EffectivePolicy, ctx: UseCaseContext): Promise<Observation[]> {
    const observations: Observation[] = [];
    const id = useCase.metadata.id;
    const newEarlierInEvent: Sighting[] = [];
    // Single-account keys are the use case's own: no location to work out for every event.
    const location = isOrganization(this.deps.config) ? eventLocation(event) : SINGLE_ACCOUNT;
    const found = logic.sightings(event, ctx);
    for (const sighting of isThenable(found) ? await found : found) {
      // Organisation mode: baselines per account and region; the use case sees its own scope.
      const scope = locatedKey(this.deps.config, location, sighting.scope);
      const result = await this.deps.state.recordSighting({
        useCase: id,
        scope,
        value: sighting.value,
        at: event.time,
        eventId: event.id,
        forgetAfterDays: policy.forgetAfterDays,
      });
      // Even expected values must be recorded first: the baseline is the point.
      if (result.status === 'known') {
        describeRepeat(logic, sighting, 'known', event, ctx, observations);
        continue;
      }
      const earlier = [...newEarlierInEvent];
      newEarlierInEvent.push(sighting);
      // Every new value starts the scope's clock, automation included: a repository only CI touched
      // is still being watched, and its first outsider must not fall into a fresh learning period.
      const watchedSince = await this.deps.state.scopeWatchedSince(id, scope, event.time);
      if (sighting.expected || isAutomationPrincipal(this.deps.config, event.principal)) {
        describeRepeat(logic, sighting, 'expected', event, ctx, observations);
        continue;
      }
      const learningEnds = Date.parse(watchedSince) + policy.learningDays * 86_400_000;
      if (Date.parse(event.time) < learningEnds) {
        describeRepeat(logic, sighting, 'learning', event, ctx, observations);
        continue;
      }
      const knownValues = Math.max(0, (await this.deps.state.countValues(id, scope, event.time)) - 1);
      const observation = await logic.describe({ sighting, scopeWatchedSince: watchedSince, knownValues, newEarlierInEvent: earlier }, event, ctx);
      observations.push({ dedupKey: `${sighting.scope}|${sighting.value}`, incidentKey: firstSightingIncident(sighting, event.time, policy.forgetAfterDays), ...observation });
    }
    return observations;
  }

  /**
   * Drift in event time: the event is judged against the state at its own time (the newest change
   * before it in the key's change log), so a redelivery rebuilds the same diff and a late event is
   * never diffed against newer state. The head moves forward only with newer events; a late event
   * fills in just the paths no newer change touched. A look-up fills in only what nothing recorded
   * tells, and only for an event at the front of the history: an older event gets no look-up (what
   * it shows now is not the state at that event's time).
   */
  private async drift(useCase: UseCase, logic: DriftLogic, event: PipelineEvent, ctx: UseCaseContext, keepDays: number): Promise<Observation[]> {
    const id = useCase.metadata.id;
    const report = await logic.report(event, ctx);
    if (!report) return [];
    // Organisation mode: snapshots per account and region; the use case sees its own key.
    const key = locatedKey(this.deps.config, isOrganization(this.deps.config) ? eventLocation(event) : SINGLE_ACCOUNT, report.key);
    // Whatever this event records makes the container's copy of the key's newest change stale.
    this.newest.delete(`${id}\u0000${key}`);
    try {
      return await this.driftReported(useCase, logic, report, key, event, ctx, keepDays);
    } finally {
      this.newest.delete(`${id}\u0000${key}`);
    }
  }

  private async driftReported(useCase: UseCase, logic: DriftLogic, report: StateReport, key: string, event: PipelineEvent, ctx: UseCaseContext, keepDays: number): Promise<Observation[]> {
    const id = useCase.metadata.id;
    const { state } = this.deps;
    const position: ChangePosition = { at: event.time, eventId: event.id, kind: 'event' };
    const fast = await this.driftAfterLatest(id, key, logic, report, event, ctx, position, keepDays);
    if (fast) return fast;
    // Three attempts: a concurrent writer may move the head under us.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const head = await state.getSnapshot(id, key);
      const headPosition: ChangePosition | undefined = head ? { at: head.updatedAt, eventId: head.lastEventId, kind: 'event' } : undefined;
      const late = headPosition !== undefined && compareChangePositions(position, headPosition) < 0;
      const { own, prior } = await state.stateChangesAround(id, key, position);
      let before: JsonObject = prior?.after ?? {};
      let since = prior ? (prior.kind === 'baseline' ? 'look-up' : prior.at) : event.time;
      // Neither an earlier change nor, on a redelivery, a baseline: the earlier state is unknown.
      let firstSight = !prior;
      if (!prior && !own && head && !late) {
        // A head without a change log (written before change logs existed): it is the state before.
        before = head.state;
        since = head.updatedAt;
        firstSight = false;
      } else if (!prior && !own) {
        // Look-ups show the present: only for an event newer than anything recorded.
        const looked = await logic.initialState?.(report, late ? { ...ctx, lookups: noLookups } : ctx);
        if (looked) {
          const initial = storableState(looked);
          await state.putStateChange(id, key, { at: event.time, eventId: event.id, kind: 'baseline', partial: false, after: initial }, keepDays);
          before = initial;
          since = 'look-up';
          firstSight = false;
        }
      }
      // Masked and bounded as the store keeps it (no secret in the state table), so the state compares
      // equal to its stored self next time.
      const after = storableState(nextState(logic, before, report, event, ctx));
      // Rewritten on every attempt: a concurrent writer may have changed what came before.
      await state.putStateChange(id, key, { ...position, report: report.state, partial: report.partial, after }, keepDays);
      if (!(await this.moveHead(id, key, head, headPosition, position, before, after))) continue;
      if (firstSight) return [];
      const diff = diffState(before, after);
      if (diff.length === 0) return [];
      const observation = logic.assess({ report, before, after, diff, since, ...(late && head ? { newerStateSince: head.updatedAt, newerState: head.state } : {}) }, event, ctx);
      return observation ? [observation] : [];
    }
    throw new Error(`use case ${id}: snapshot ${key} kept changing under concurrent writers`);
  }

  /**
   * The usual case in three calls (query, change, head): a first delivery of an event newer than
   * everything recorded, whose head still sits at the newest earlier change. Undefined when that is
   * not so (first sight, redelivery, late event, a concurrent writer): the full path decides.
   */
  private async driftAfterLatest(id: string, key: string, logic: DriftLogic, report: StateReport, event: PipelineEvent, ctx: UseCaseContext, position: ChangePosition, keepDays: number): Promise<Observation[] | undefined> {
    const { state } = this.deps;
    const { own, prior } = await state.stateChangesAround(id, key, position);
    if (own || !prior || prior.kind !== 'event') return undefined;
    const before = prior.after;
    const after = storableState(nextState(logic, before, report, event, ctx));
    await state.putStateChange(id, key, { ...position, report: report.state, partial: report.partial, after }, keepDays);
    if (!(await state.advanceSnapshot(id, key, prior, { state: after, at: position.at, eventId: position.eventId }))) return undefined;
    const diff = diffState(before, after);
    if (diff.length === 0) return [];
    const observation = logic.assess({ report, before, after, diff, since: prior.at }, event, ctx);
    return observation ? [observation] : [];
  }

  /** Moves the head to a newer event's state, or applies a late event's untouched paths; false when another writer won. */
  private async moveHead(
    id: string,
    key: string,
    head: Snapshot | undefined,
    headPosition: ChangePosition | undefined,
    position: ChangePosition,
    before: JsonObject,
    after: JsonObject,
  ): Promise<boolean> {
    const { state } = this.deps;
    const order = headPosition ? compareChangePositions(position, headPosition) : 1;
    if (order === 0) return true;
    if (order > 0 || !head || !headPosition) {
      return state.putSnapshot(id, key, { state: after, version: (head?.version ?? 0) + 1, updatedAt: position.at, lastEventId: position.eventId }, head?.version);
    }
    const newer = await state.stateChangesBetween(id, key, position, headPosition);
    const merged = applyLateChange(head.state, before, after, newer);
    if (JSON.stringify(merged) === JSON.stringify(head.state)) return true;
    return state.putSnapshot(id, key, { ...head, state: merged, version: head.version + 1 }, head.version);
  }

  private async record(useCase: UseCase, event: PipelineEvent, policy: EffectivePolicy, observation: Observation): Promise<Outcome> {
    const { metadata } = useCase;
    const record = event.cloudTrail;
    const suppression = activeSuppression(this.deps.config, metadata.id, event.principal, observation.resource, event.time);
    if (suppression) return { status: 'skipped', useCase: metadata.id, reason: `suppressed until ${suppression.expires}: ${suppression.reason}` };
    const { config } = this.deps;
    const location = this.locationOf(event);
    const organization = isOrganization(config);
    // Organisation mode: the same incident in two accounts or regions is two findings.
    const dedupKey = locatedKey(config, location, observation.dedupKey ?? observation.resource ?? event.id);
    const incidentKey = observation.incidentKey ? locatedKey(config, location, observation.incidentKey) : undefined;
    const account = organization ? location.account : event.envelope.account || record?.recipientAccountId;
    const region = organization ? location.region : event.envelope.region || record?.awsRegion;
    const accountName = organization ? organizationAccount(config, account)?.name : undefined;
    const team = teamFor(config, observation.resource, organization ? location.account : undefined);
    const { mode, heldBack } = await this.modeOf(metadata.id, policy, observation, event);
    const cloudTrailEventId = typeof record?.eventID === 'string' && record.eventID !== '' ? record.eventID : undefined;
    // Redacted and bounded field by field (summary, user agent, …): stored, exported and sent as is.
    const content: Omit<Finding, 'contentHash'> = storableFields({
      id: incidentKey ? findingId(metadata.id, 'incident', incidentKey) : findingId(metadata.id, event.id, dedupKey),
      useCase: metadata.id,
      answers: metadata.answers,
      stage: metadata.stage,
      severity: policy.severityOverride ?? observation.severity ?? metadata.severity,
      mode,
      title: observation.title ?? metadata.title,
      summary: observation.summary,
      eventId: event.id,
      eventTime: event.time,
      day: event.time.slice(0, 10),
      principal: event.principal?.arn ?? event.principal?.key ?? 'unknown',
      ...(account ? { account } : {}),
      ...(accountName ? { accountName } : {}),
      ...(region ? { region } : {}),
      ...(observation.resource ? { resource: observation.resource } : {}),
      ...(event.sourceIp ? { sourceIp: event.sourceIp } : {}),
      ...(event.userAgent ? { userAgent: event.userAgent } : {}),
      dedupKey,
      evidence: boundedEvidence(boundStrings(redact(observation.evidence ?? {}))),
      runbook: metadata.runbook,
      ...(team ? { team } : {}),
      ...(cloudTrailEventId ? { cloudTrailEventId } : {}),
      ...(heldBack ? { heldBack } : {}),
      recordedAt: (this.deps.clock?.() ?? new Date()).toISOString(),
    });
    const finding: Finding = { ...content, contentHash: contentHashOf(content) };
    if (policy.dedupWindowMinutes > 0) {
      const repeat = await this.deduplicate(finding, policy.dedupWindowMinutes);
      if (repeat) return repeat;
    }
    const created = (await this.deps.findings.put(finding)) === 'created';
    return { status: 'finding', finding, created };
  }

  /**
   * The finding's mode: attestations stay attestations; an alert becomes an attestation when the
   * configuration says attest, or while the use case is in its staging days (counted from the first
   * event it evaluated, in event time), and then says why (`heldBack`).
   */
  private async modeOf(useCase: string, policy: EffectivePolicy, observation: Observation, event: PipelineEvent): Promise<{ mode: FindingMode; heldBack?: HeldBack }> {
    const mode = findingMode(policy.mode, observation.attestation);
    if (observation.attestation) return { mode };
    if (mode === 'attest') return { mode, heldBack: 'mode' };
    if (policy.stagingDays > 0) {
      const since = await this.deps.state.enabledSince(useCase, event.time);
      if (Date.parse(event.time) < Date.parse(stagingEnds(since, policy.stagingDays))) return { mode: 'attest', heldBack: 'staging' };
    }
    return { mode };
  }

  /**
   * Dedup windows (Panther's DedupPeriodMinutes, StreamAlert's merge window): the first finding of a
   * (use case, dedup key, mode, severity) opens a window of `windowMinutes` around its event time; a
   * repeat inside it updates the first finding's count (a MODIFY, which the notifier's stream filter
   * ignores) instead of writing a finding. Calls are made only for findings about to be written: a
   * read of the window, then either a write opening it, or a repeat marker and the count update.
   * Returns undefined when the finding is to be written as usual.
   */
  private async deduplicate(finding: Finding, windowMinutes: number): Promise<Outcome | undefined> {
    const { state, findings } = this.deps;
    if (!findings.amend) return undefined;
    const key = `${finding.mode}|${finding.severity}|${finding.dedupKey}`;
    const at = Date.parse(finding.eventTime);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const window = await state.getDedupWindow(finding.useCase, key);
      // The window's own first finding, delivered again: the ledger's conditional put says so.
      if (window?.findingId === finding.id) {
        // Its record of the window may have been lost with the first attempt.
        await state.recordDedupWindow(finding.useCase, key, { findingId: window.findingId, firstEventId: window.firstEventId, start: window.start, windowMinutes: window.windowMinutes });
        return undefined;
      }
      if (window && Math.abs(at - Date.parse(window.start)) < window.windowMinutes * 60_000) {
        const counted = await this.countRepeat(finding, key, window);
        if (counted) return counted;
        // The first finding is gone, its day may be sealed, or it was only collected (a backfill):
        // this repeat opens a new window and is written (and alerted) on its own.
      }
      // An older finding (a late or redelivered event) never replaces a newer window (that would
      // reopen the old one and let the newer one's repeats alert again): it is judged against the
      // window of its own time.
      if (window && at < Date.parse(window.start)) return this.deduplicateLate(finding, key, windowMinutes);
      const opening = { findingId: finding.id, firstEventId: finding.eventId, start: finding.eventTime, windowMinutes };
      if (await state.putDedupWindow(finding.useCase, key, opening, window?.version)) {
        await state.recordDedupWindow(finding.useCase, key, opening);
        return undefined;
      }
      // Another worker opened or replaced the window meanwhile: look again.
    }
    return undefined;
  }

  /**
   * A finding older than the current window: a repeat of the window that covered its own time
   * (counted once, whatever the deliveries), the first finding of one (a redelivery), or its own.
   */
  private async deduplicateLate(finding: Finding, key: string, windowMinutes: number): Promise<Outcome | undefined> {
    const { state, findings } = this.deps;
    const at = Date.parse(finding.eventTime);
    const windows = await state.dedupWindowsAround(finding.useCase, key, finding.eventTime, windowMinutes);
    const covering = windows.filter((w) => Math.abs(at - Date.parse(w.start)) < w.windowMinutes * 60_000);
    // The latest window opened at or before the event, else the earliest after it (an out-of-order repeat).
    const own = [...covering].reverse().find((w) => Date.parse(w.start) <= at) ?? covering[0];
    if (!own || own.findingId === finding.id || !findings.amend) return undefined;
    return this.countRepeat(finding, key, own);
  }

  /**
   * Counts a repeat into its window's first finding, once whatever the deliveries and retries. The
   * repeat's mark names the finding it belongs to (the first mark decides: a redelivery judged when a
   * later window is current still counts where it counted first), and that finding lists the repeats
   * it counted, so a count whose answer was lost, or a repeat delivered again after its count failed,
   * is judged on the finding itself. A mark older than that naming, or one whose repeat has left the
   * finding's bounded list, is taken as counted. Undefined when the finding cannot take it (gone,
   * sealed, or only collected): the repeat is then written on its own.
   */
  private async countRepeat(finding: Finding, key: string, window: Omit<DedupWindow, 'version'>): Promise<Outcome | undefined> {
    const { state, findings } = this.deps;
    if (!findings.amend) return undefined;
    const mark = await state.markRepeat(finding.useCase, key, finding.id, window);
    if (!mark.into) return { status: 'deduplicated', finding, into: window.findingId, counted: false };
    let countedNow = false;
    const amended = await findings.amend(mark.into, (stored) => {
      const counted = stored.repeatIds ?? [];
      countedNow = !counted.includes(finding.id) && (mark.fresh || counted.length < MAX_COUNTED_REPEATS);
      if (!countedNow) return {};
      return {
        occurrences: (stored.occurrences ?? 1) + 1,
        lastSeen: laterOf(stored.lastSeen ?? stored.eventTime, finding.eventTime),
        repeatIds: [...counted, finding.id].slice(-MAX_COUNTED_REPEATS),
      };
    });
    return amended === 'amended' ? { status: 'deduplicated', finding, into: mark.into, counted: countedNow } : undefined;
  }
}

/**
 * One first sighting is one incident, whichever of its events reaches the store first (delivery is
 * out of order): the finding id depends on the value and its generation, never on the event. The
 * generation is the forget-after period the sighting falls in: a value is revived only after it was
 * unseen for a whole period, so each revival lands in a later period, and DynamoDB's TTL deleting a
 * forgotten item cannot reuse an old generation's id. (Records of one sighting that straddle a period
 * boundary, seconds apart once every forget-after days, can still make two ids.)
 */
function firstSightingIncident(sighting: Sighting, at: string, forgetAfterDays: number): string {
  const generation = Math.floor(Date.parse(at) / (forgetAfterDays * 86_400_000));
  return `first-seen|${sighting.scope}|${sighting.value}|${forgetAfterDays}d#${generation}`;
}

/** Acts reported every time (describeRepeat) still say why they are not a first. */
function describeRepeat(logic: FirstSeenLogic, sighting: Sighting, why: RepeatReason, event: PipelineEvent, ctx: UseCaseContext, observations: Observation[]): void {
  const observation = logic.describeRepeat?.(sighting, why, event, ctx);
  if (observation) observations.push({ dedupKey: `${sighting.scope}|${sighting.value}`, ...observation });
}

/** A match use case's answer as a list. */
function observationsOf(result: Observation | readonly Observation[] | undefined): readonly Observation[] {
  return result === undefined ? [] : Array.isArray(result) ? result : [result as Observation];
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function laterOf(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** Deterministic, so a repeated delivery of the same event maps to the same ledger item. */
export function findingId(useCase: string, eventId: string, dedupKey: string): string {
  return createHash('sha256').update(`${useCase}\n${eventId}\n${dedupKey}`).digest('hex').slice(0, 32);
}

function boundedEvidence(evidence: Record<string, unknown>): Record<string, unknown> {
  if (fitsItem(evidence, MAX_EVIDENCE_BYTES)) return evidence;
  const text = JSON.stringify(evidence);
  if (Buffer.byteLength(text) <= MAX_EVIDENCE_BYTES) return evidence;
  return { truncated: true, originalBytes: Buffer.byteLength(text), preview: text.slice(0, 4096) };
}

/** The state after an event: the use case's own rule (`next`) when it has one, else the report merged in. */
function nextState(logic: DriftLogic, before: JsonObject, report: StateReport, event: PipelineEvent, ctx: UseCaseContext): JsonObject {
  if (logic.next) return logic.next(before, report, event, ctx);
  return report.partial ? mergeState(before, report.state) : report.state;
}
