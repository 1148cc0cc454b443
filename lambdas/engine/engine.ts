/**
 * The engine: takes one (use case, event) pair, runs the use case's logic through its kind
 * (match, firstSeen, drift, correlate), applies the policy layer (exclusions, suppressions, mode,
 * staging, dedup windows) and writes findings to the ledger.
 * The same code runs in the detect Lambda and in `buildwatch replay`; `settle` gives pending
 * correlations their final judgement (the correlation sweep, or the end of a replay).
 */
import { createHash } from 'node:crypto';
import type { BuildwatchConfig } from '../config/config.js';
import type { Lookups } from '../lookups/lookups.js';
import type { FindingsSink } from '../store/findings-store.js';
import type { StateStore } from '../store/state-store.js';
import { boundStrings, storableState } from './bounds.js';
import { contentHashOf } from './canonical.js';
import { Correlator } from './correlate.js';
import { diffState, mergeState } from './diff.js';
import { storableFields } from './finding-fields.js';
import type { Finding, FindingMode, HeldBack } from './model.js';
import type { PipelineEvent } from './pipeline-event.js';
import { activeSuppression, exclusionReason, findingMode, isAutomationPrincipal, policyFor, stagingEnds, teamFor, type EffectivePolicy } from './policy.js';
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
  /**
   * A repeat within the dedup window of an earlier finding (`into`): that finding's count was updated
   * (`counted`; false for a redelivery of a repeat already counted) and nothing new was written, so
   * nothing is alerted. `finding` is what the repeat would have been on its own.
   */
  | { readonly status: 'deduplicated'; readonly finding: Finding; readonly into: string; readonly counted: boolean }
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
    // Staging counts from the first event a use case evaluates while it is staged (cached: about one
    // call per use case and container, and none at all without staging).
    if (policy.stagingDays > 0 && policy.mode === 'alert') await this.deps.state.enabledSince(metadata.id, event.time);
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
      // Masked and bounded as the store keeps it (no secret in the state table), so the state compares
      // equal to its stored self next time.
      const after = storableState(report.partial ? mergeState(before, report.state) : report.state);
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
    const { mode, heldBack } = await this.modeOf(metadata.id, policy, observation, event);
    const cloudTrailEventId = typeof record?.eventID === 'string' && record.eventID !== '' ? record.eventID : undefined;
    // Redacted and bounded field by field (summary, user agent, …): stored, exported and sent as is.
    const content: Omit<Finding, 'contentHash'> = storableFields({
      id: observation.incidentKey ? findingId(metadata.id, 'incident', observation.incidentKey) : findingId(metadata.id, event.id, dedupKey),
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
      ...(event.envelope.account || record?.recipientAccountId ? { account: event.envelope.account || record?.recipientAccountId } : {}),
      ...(event.envelope.region || record?.awsRegion ? { region: event.envelope.region || record?.awsRegion } : {}),
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
      if (window?.findingId === finding.id) return undefined;
      if (window && Math.abs(at - Date.parse(window.start)) < window.windowMinutes * 60_000) {
        if (!(await state.markRepeat(finding.useCase, key, finding.id, window))) {
          return { status: 'deduplicated', finding, into: window.findingId, counted: false };
        }
        const amended = await findings.amend(window.findingId, (stored) => ({
          occurrences: (stored.occurrences ?? 1) + 1,
          lastSeen: laterOf(stored.lastSeen ?? stored.eventTime, finding.eventTime),
        }));
        if (amended === 'amended') return { status: 'deduplicated', finding, into: window.findingId, counted: true };
        // The first finding is gone, its day may be sealed, or it was only collected (a backfill):
        // this repeat opens a new window and is written (and alerted) on its own.
      }
      const opened = await state.putDedupWindow(finding.useCase, key, { findingId: finding.id, firstEventId: finding.eventId, start: finding.eventTime, windowMinutes }, window?.version);
      if (opened) return undefined;
      // Another worker opened or replaced the window meanwhile: look again.
    }
    return undefined;
  }
}

function laterOf(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
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
