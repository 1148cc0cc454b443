/**
 * The correlate kind (ARCHITECTURE.md): records kept under a join key, claims judged against them.
 *
 * An event may bring records (a build's outputs) and claims (a package version's asset hashes).
 * A claim is judged when it arrives; if its use case wants to wait, it becomes a pending check that
 * is judged again whenever a record it wants (`wants`: one of the record's keys or names) arrives
 * with an event time within the deadline around it, and a last time once the deadline has passed (`settle`: the cloud sweep with the wall
 * clock, or the end of a replay, where the replayed world ends). Only records re-judge pending
 * checks, never unrelated later events: replayed files are not in event-time order (a day's
 * CloudTrail file before its native events), so "a later event arrived" does not mean "time passed".
 */
import type { Outcome } from './engine.js';
import { cloudTrailRecordOf, eventBridgeEventSchema, type EventBridgeEvent } from './events.js';
import { toPipelineEvent, type PipelineEvent } from './pipeline-event.js';
import { redact } from './redact.js';
import type { PendingCheck } from '../store/state-store.js';
import type { StateStorage } from '../store/store-contract.js';
import type {
  CorrelateFacts,
  CorrelateLogic,
  CorrelateVerdict,
  CorrelationClaim,
  CorrelationRecord,
  CorrelationRecords,
  Observation,
  StoredCorrelationRecord,
  UseCase,
  UseCaseContext,
} from './use-case.js';

export interface CorrelatorDeps {
  readonly state: StateStorage;
  /** The engine's policy layer: turns an observation about `event` into a finding. */
  readonly record: (useCase: UseCase, event: PipelineEvent, observation: Observation) => Promise<Outcome>;
}

/** CloudTrail fields a deferred finding needs (who, where, when); request parameters stay out of state. */
const SLIM_RECORD_FIELDS = [
  'eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress',
  'userAgent', 'eventID', 'eventType', 'readOnly', 'managementEvent', 'recipientAccountId', 'eventCategory',
] as const;

const MINUTE_MS = 60_000;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The claim's event as kept with its pending check: enough to report it, nothing secret. */
export function slimEnvelope(envelope: EventBridgeEvent): Record<string, unknown> {
  const record = cloudTrailRecordOf(envelope);
  const detail = record
    ? Object.fromEntries(SLIM_RECORD_FIELDS.filter((field) => record[field] !== undefined).map((field) => [field, record[field]]))
    : // Native events can carry secrets (CodeBuild's PLAINTEXT variables): mask before storing.
      redact(envelope.detail);
  return {
    version: envelope.version ?? '0',
    id: envelope.id,
    'detail-type': envelope['detail-type'],
    source: envelope.source,
    account: envelope.account,
    time: envelope.time,
    region: envelope.region,
    resources: envelope.resources,
    detail,
  };
}

/** The claim's event rebuilt from the slim copy stored with its check (parsed again: it was read from a table), if readable. */
function storedClaimEvent(check: PendingCheck): PipelineEvent | undefined {
  const parsed = eventBridgeEventSchema.safeParse(check.event);
  return parsed.success ? toPipelineEvent(parsed.data) : undefined;
}

/** Whether a record offering `offered` (keys and names) can change the check's verdict before its deadline. */
function wants(check: PendingCheck, offered: ReadonlySet<string>): boolean {
  const wanted = check.claim.wants;
  return wanted === undefined || wanted.some((key) => offered.has(key));
}

/** The keys and names the records offer, by join (in the records' order). */
function offeredByJoin(records: readonly CorrelationRecord[]): Map<string, Set<string>> {
  const byJoin = new Map<string, Set<string>>();
  for (const record of records) {
    let offered = byJoin.get(record.join);
    if (!offered) byJoin.set(record.join, (offered = new Set()));
    for (const key of record.keys) offered.add(key);
    for (const name of record.names ?? []) offered.add(name);
  }
  return byJoin;
}

/** The records of one join key as a judgement at `at` sees them (a class: no closures made per judgement). */
class JoinRecords implements CorrelationRecords {
  constructor(
    private readonly state: StateStorage,
    private readonly useCase: string,
    private readonly join: string,
    private readonly at: string,
  ) {}

  withKey(key: string): Promise<StoredCorrelationRecord[]> {
    return this.state.correlationRecordsWithKey(this.useCase, this.join, key, this.at);
  }

  between(from: string, to: string): Promise<StoredCorrelationRecord[]> {
    return this.state.correlationRecordsBetween(this.useCase, this.join, from, to, this.at);
  }
}

export class Correlator {
  constructor(private readonly deps: CorrelatorDeps) {}

  /** One event: keep its records, re-judge the pending checks they may settle, judge its claims. */
  async evaluate(useCase: UseCase, logic: CorrelateLogic, event: PipelineEvent, ctx: UseCaseContext, forgetAfterDays: number): Promise<Outcome[]> {
    const id = useCase.metadata.id;
    const inputs = await logic.inputs(event, ctx);
    const records = inputs?.records ?? [];
    const claims = inputs?.claims ?? [];
    if (records.length === 0 && claims.length === 0) return [{ status: 'skipped', useCase: id, reason: 'nothing to correlate' }];

    const now = Date.parse(event.time);
    const wait = Math.max(0, logic.deadlineMinutes(ctx)) * MINUTE_MS;
    const outcomes: Outcome[] = [];
    for (const record of records) await this.deps.state.putCorrelationRecord(id, { ...record, at: event.time }, forgetAfterDays);

    // A claim made now waits until then; a record settles the checks claimed up to that long before or after it.
    const deadline = iso(now + wait);

    // A build that ends at T can settle claims made while it ran or up to the deadline after it, and
    // only those that want it (one of its keys or names): the others' verdicts cannot change, so the
    // cost of a record stays the same however many builds run at once.
    if (records.length > 0) {
      const from = iso(now - wait);
      for (const [join, offered] of offeredByJoin(records)) {
        const open = await this.deps.state.openPendingChecks(id, { join, from, to: deadline, keys: [...offered] });
        for (const check of open) {
          if (!wants(check, offered)) continue;
          outcomes.push(...(await this.judge(useCase, logic, ctx, check, event.time >= check.deadline, event.time)));
        }
      }
    }

    const final = wait === 0;
    for (const claim of claims) {
      const verdict = await logic.judge(this.facts(id, claim, event.time, deadline, final, event.time), event, ctx);
      if (verdict.status === 'wait' && !final) {
        // Only a claim that waits keeps its event: the slim copy is made for it alone.
        await this.deps.state.putPendingCheck(id, { claim, claimedAt: event.time, deadline, eventId: event.id, event: slimEnvelope(event.envelope) }, event);
        continue;
      }
      outcomes.push(...(await this.report(useCase, event, verdict)));
    }
    return outcomes.length > 0 ? outcomes : [{ status: 'skipped', useCase: id, reason: claims.length > 0 ? 'correlation pending' : 'recorded' }];
  }

  /**
   * Final judgement of the open checks whose deadline is at or before `at` (ISO; the cloud sweep
   * passes the wall clock). Without `at`, every open check: the end of a replay, where no more
   * events will come.
   */
  async settle(useCase: UseCase, logic: CorrelateLogic, ctx: UseCaseContext, at?: string): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const check of await this.deps.state.openPendingChecks(useCase.metadata.id)) {
      if (at !== undefined && check.deadline > at) continue;
      outcomes.push(...(await this.judge(useCase, logic, ctx, check, true, at ?? check.deadline)));
    }
    return outcomes;
  }

  private facts(useCase: string, claim: CorrelationClaim, claimedAt: string, deadline: string, final: boolean, at: string): CorrelateFacts {
    return { claim, claimedAt, deadline, final, records: new JoinRecords(this.deps.state, useCase, claim.join, at) };
  }

  /**
   * Judges a pending check again; settles it (records findings first, then marks it) unless it waits.
   * On the claim's own event when the store kept it (in process, as at the claim's first judgement),
   * else on the event rebuilt from the stored slim copy.
   */
  private async judge(useCase: UseCase, logic: CorrelateLogic, ctx: UseCaseContext, check: PendingCheck, final: boolean, at: string): Promise<Outcome[]> {
    const id = useCase.metadata.id;
    const event = this.deps.state.claimEventOf?.(id, check) ?? storedClaimEvent(check);
    let outcomes: Outcome[];
    if (!event) {
      outcomes = [{ status: 'skipped', useCase: id, reason: `pending check ${check.claim.subject}: stored event is unreadable` }];
    } else {
      const verdict = await logic.judge(this.facts(id, check.claim, check.claimedAt, check.deadline, final, at), event, ctx);
      if (verdict.status === 'wait' && !final) return [];
      outcomes = await this.report(useCase, event, verdict);
    }
    // After the findings: a crash in between judges again, and the ledger drops the repeat.
    await this.deps.state.settlePendingCheck(id, check, at);
    return outcomes;
  }

  private async report(useCase: UseCase, event: PipelineEvent, verdict: CorrelateVerdict): Promise<Outcome[]> {
    const id = useCase.metadata.id;
    if (verdict.status === 'wait') return [{ status: 'skipped', useCase: id, reason: 'no verdict by the deadline' }];
    const observations = verdict.observations ?? [];
    if (observations.length === 0) return [{ status: 'skipped', useCase: id, reason: verdict.reason ?? 'correlated: nothing to report' }];
    const outcomes: Outcome[] = [];
    for (const observation of observations) outcomes.push(await this.deps.record(useCase, event, observation));
    return outcomes;
  }
}
