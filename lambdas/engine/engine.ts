/**
 * The engine: takes one (use case, event) pair, runs the use case's logic through its kind
 * (match, firstSeen, drift, correlate), applies the policy layer and writes findings to the ledger.
 * The same code runs in the detect Lambda and in `buildwatch replay`; `settle` gives pending
 * correlations their final judgement (the correlation sweep, or the end of a replay).
 */
import { createHash } from 'node:crypto';
import type { BuildwatchConfig } from '../config/config.js';
import type { Lookups } from '../lookups/lookups.js';
import type { FindingsSink } from '../store/findings-store.js';
import type { StateStore } from '../store/state-store.js';
import { contentHashOf } from './canonical.js';
import { Correlator } from './correlate.js';
import { diffState, mergeState } from './diff.js';
import type { Finding } from './model.js';
import type { PipelineEvent } from './pipeline-event.js';
import { activeSuppression, exclusionReason, findingMode, isAutomationPrincipal, policyFor, teamFor, type EffectivePolicy } from './policy.js';
import { redact } from './redact.js';
import type { DriftLogic, FirstSeenLogic, JsonObject, Observation, UseCase, UseCaseContext } from './use-case.js';

export interface EngineDeps {
  readonly config: BuildwatchConfig;
  readonly lookups: Lookups;
  readonly state: StateStore;
  /** The ledger (or, for what-if runs and backfills, a collector). */
  readonly findings: FindingsSink;
  /** Wall clock, only for `recordedAt`; detection uses event time. */
  readonly clock?: () => Date;
}

export type Outcome =
  | { readonly status: 'finding'; readonly finding: Finding; readonly created: boolean }
  | { readonly status: 'skipped'; readonly useCase: string; readonly reason: string };

/** Findings larger than this keep a preview of their evidence: DynamoDB items stop at 400 KB. */
const MAX_EVIDENCE_BYTES = 64 * 1024;

export class UnsupportedKindError extends Error {
  override readonly name = 'UnsupportedKindError';
}

export class Engine {
  /** One context per use case: its validated options differ. */
  private readonly contexts = new Map<string, UseCaseContext>();
  private readonly correlator: Correlator;

  constructor(private readonly deps: EngineDeps) {
    this.correlator = new Correlator({
      state: deps.state,
      record: (useCase, event, observation) => this.record(useCase, event, policyFor(useCase.metadata, deps.config), observation),
    });
  }

  private contextFor(useCase: UseCase): UseCaseContext {
    let ctx = this.contexts.get(useCase.metadata.id);
    if (!ctx) {
      const raw = this.deps.config.useCases[useCase.metadata.id]?.options ?? {};
      ctx = { config: this.deps.config, lookups: this.deps.lookups, options: useCase.optionsSchema ? useCase.optionsSchema.parse(raw) : raw };
      this.contexts.set(useCase.metadata.id, ctx);
    }
    return ctx;
  }

  async evaluate(useCase: UseCase, event: PipelineEvent): Promise<Outcome[]> {
    const { metadata } = useCase;
    const policy = policyFor(metadata, this.deps.config);
    const excluded = exclusionReason(metadata, policy, event);
    if (excluded) return [{ status: 'skipped', useCase: metadata.id, reason: excluded }];
    // A correlation can report on earlier events (pending checks it settles), so it records its own findings.
    if (useCase.logic.kind === 'correlate') return this.correlator.evaluate(useCase, useCase.logic, event, this.contextFor(useCase), policy.forgetAfterDays);

    const observed = await this.observe(useCase, event, policy);
    if (!Array.isArray(observed)) return [observed as Outcome];
    const outcomes: Outcome[] = [];
    for (const observation of observed) outcomes.push(await this.record(useCase, event, policy, observation));
    return outcomes.length > 0 ? outcomes : [{ status: 'skipped', useCase: metadata.id, reason: 'nothing observed' }];
  }

  private async observe(useCase: UseCase, event: PipelineEvent, policy: EffectivePolicy): Promise<readonly Observation[] | Outcome> {
    const { logic } = useCase;
    const ctx = this.contextFor(useCase);
    switch (logic.kind) {
      case 'match': {
        const result = await logic.evaluate(event, ctx);
        return result === undefined ? [] : Array.isArray(result) ? result : [result as Observation];
      }
      case 'firstSeen':
        return this.firstSeen(useCase, logic, event, policy, ctx);
      case 'drift':
        return this.drift(useCase, logic, event, ctx);
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
      if (useCase.logic.kind !== 'correlate' || policyFor(useCase.metadata, this.deps.config).mode === 'off') continue;
      outcomes.push(...(await this.correlator.settle(useCase, useCase.logic, this.contextFor(useCase), at)));
    }
    return outcomes;
  }

  private async firstSeen(useCase: UseCase, logic: FirstSeenLogic, event: PipelineEvent, policy: EffectivePolicy, ctx: UseCaseContext): Promise<Observation[]> {
    const observations: Observation[] = [];
    const id = useCase.metadata.id;
    for (const sighting of await logic.sightings(event, ctx)) {
      const result = await this.deps.state.recordSighting({
        useCase: id,
        scope: sighting.scope,
        value: sighting.value,
        at: event.time,
        eventId: event.id,
        forgetAfterDays: policy.forgetAfterDays,
      });
      // Even expected values must be recorded first: the baseline is the point.
      if (result.status === 'known') continue;
      // Every new value starts the scope's clock, automation included: a repository only CI touched
      // is still being watched, and its first outsider must not fall into a fresh learning period.
      const watchedSince = await this.deps.state.scopeWatchedSince(id, sighting.scope, event.time);
      if (sighting.expected || isAutomationPrincipal(this.deps.config, event.principal)) continue;
      const learningEnds = Date.parse(watchedSince) + policy.learningDays * 86_400_000;
      if (Date.parse(event.time) < learningEnds) continue;
      const knownValues = Math.max(0, (await this.deps.state.countValues(id, sighting.scope, event.time)) - 1);
      const observation = logic.describe({ sighting, scopeWatchedSince: watchedSince, knownValues }, event, ctx);
      observations.push({ dedupKey: `${sighting.scope}|${sighting.value}`, ...observation });
    }
    return observations;
  }

  private async drift(useCase: UseCase, logic: DriftLogic, event: PipelineEvent, ctx: UseCaseContext): Promise<Observation[]> {
    const id = useCase.metadata.id;
    const report = await logic.report(event, ctx);
    if (!report) return [];
    // Two attempts: a concurrent writer may win the optimistic write once.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const snapshot = await this.deps.state.getSnapshot(id, report.key);
      let before: JsonObject;
      let since: string;
      if (snapshot && snapshot.lastEventId === event.id) {
        // A redelivery: rebuild the diff this event produced the first time.
        before = snapshot.previous ?? snapshot.state;
        since = snapshot.updatedAt;
      } else if (snapshot) {
        before = snapshot.state;
        since = snapshot.updatedAt;
      } else {
        const initial = await logic.initialState?.(report, ctx);
        before = initial ?? {};
        since = initial ? 'look-up' : event.time;
      }
      const after = report.partial ? mergeState(before, report.state) : report.state;
      const stale = snapshot !== undefined && snapshot.lastEventId !== event.id && event.time < snapshot.updatedAt;
      if (snapshot?.lastEventId !== event.id && !stale) {
        const written = await this.deps.state.putSnapshot(
          id,
          report.key,
          { state: after, previous: before, version: (snapshot?.version ?? 0) + 1, updatedAt: event.time, lastEventId: event.id },
          snapshot?.version,
        );
        if (!written) continue;
      }
      // The first sighting of a thing is its baseline, unless a look-up told us its earlier state.
      if (!snapshot && since !== 'look-up') return [];
      const diff = diffState(before, after);
      if (diff.length === 0) return [];
      const observation = logic.assess({ report, before, after, diff, since }, event, ctx);
      return observation ? [observation] : [];
    }
    throw new Error(`use case ${id}: snapshot ${report.key} kept changing under concurrent writers`);
  }

  private async record(useCase: UseCase, event: PipelineEvent, policy: EffectivePolicy, observation: Observation): Promise<Outcome> {
    const { metadata } = useCase;
    const suppression = activeSuppression(this.deps.config, metadata.id, event.principal, observation.resource, event.time);
    if (suppression) return { status: 'skipped', useCase: metadata.id, reason: `suppressed until ${suppression.expires}: ${suppression.reason}` };
    const dedupKey = observation.dedupKey ?? observation.resource ?? event.id;
    const team = teamFor(this.deps.config, observation.resource);
    const record = event.cloudTrail;
    const content: Omit<Finding, 'contentHash'> = {
      id: observation.incidentKey ? findingId(metadata.id, 'incident', observation.incidentKey) : findingId(metadata.id, event.id, dedupKey),
      useCase: metadata.id,
      answers: metadata.answers,
      stage: metadata.stage,
      severity: policy.severityOverride ?? observation.severity ?? metadata.severity,
      mode: findingMode(policy.mode, observation.attestation),
      title: observation.title ?? metadata.title,
      summary: observation.summary,
      eventId: event.id,
      eventTime: event.time,
      day: event.time.slice(0, 10),
      principal: event.principal?.arn ?? event.principal?.key ?? 'unknown',
      ...(event.envelope.account || record?.recipientAccountId ? { account: event.envelope.account || record?.recipientAccountId } : {}),
      ...(event.envelope.region || record?.awsRegion ? { region: event.envelope.region || record?.awsRegion } : {}),
      ...(observation.resource ? { resource: observation.resource } : {}),
      ...(event.sourceIp ? { sourceIp: event.sourceIp } : {}),
      ...(event.userAgent ? { userAgent: event.userAgent } : {}),
      dedupKey,
      evidence: boundedEvidence(redact(observation.evidence ?? {})),
      runbook: metadata.runbook,
      ...(team ? { team } : {}),
      recordedAt: (this.deps.clock?.() ?? new Date()).toISOString(),
    };
    const finding: Finding = { ...content, contentHash: contentHashOf(content) };
    const created = (await this.deps.findings.put(finding)) === 'created';
    return { status: 'finding', finding, created };
  }
}

/** Deterministic, so a repeated delivery of the same event maps to the same ledger item. */
export function findingId(useCase: string, eventId: string, dedupKey: string): string {
  return createHash('sha256').update(`${useCase}\n${eventId}\n${dedupKey}`).digest('hex').slice(0, 32);
}

function boundedEvidence(evidence: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(evidence);
  if (Buffer.byteLength(text) <= MAX_EVIDENCE_BYTES) return evidence;
  return { truncated: true, originalBytes: Buffer.byteLength(text), preview: text.slice(0, 4096) };
}
