/**
 * The heartbeat's judgement, as a pure function of what it observed and an injected clock: is the
 * monitor blind? Three checks: no CloudTrail event processed for too long (a stopped or narrowed
 * trail, a broken rule), no canary through the whole path for too long, and messages on the
 * dead-letter queue. Each problem carries an incident key, so one incident is one finding however
 * often the heartbeat runs.
 */
import * as z from 'zod';
import type { BuildwatchConfig } from '../../config/config.js';
import { contentHashOf } from '../../engine/canonical.js';
import { findingId } from '../../engine/engine.js';
import type { Finding, Severity } from '../../engine/model.js';
import { findingMode, policyFor } from '../../engine/policy.js';
import { builtOnFirstUse, type UseCase } from '../../engine/use-case.js';
import { CANARY_INTERVAL_MINUTES, HEARTBEAT_PRINCIPAL } from './constants.js';

/** The shortest silence limit allowed (the heartbeat runs every 15 minutes). */
export const MIN_MAX_SILENCE_MINUTES = 15;

export const heartbeatOptionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Alert when no CloudTrail event has been processed for this long (the probe makes one every run). */
  maxSilenceMinutes: z.number().int().min(MIN_MAX_SILENCE_MINUTES).max(10_080).default(120),
  /** Alert when no canary has come through for this long (one is sent every hour; one loss is tolerated). */
  canaryMaxAgeMinutes: z.number().int().min(CANARY_INTERVAL_MINUTES + 15).max(10_080).default(150),
  /** Alert when the dead-letter queue holds at least this many messages. */
  deadLetterThreshold: z.number().int().min(1).default(1),
  /** Tag the canary receipts queue on every run, so CloudTrail has something to relay even in a quiet account. */
  probe: z.boolean().default(true),
}));
export type HeartbeatOptions = z.output<typeof heartbeatOptionsSchema>;

/** When something was last seen: the wall-clock time it was processed, and the event it was. */
export interface Marker {
  readonly at: string;
  readonly eventTime?: string;
  readonly eventId?: string;
}

/** How the canary is checked: through the alerts topic (its alert comes back), at the detector only, or not at all. */
export type CanaryCheck = 'delivered' | 'detected' | 'off';

export interface HealthObservations {
  /** When the heartbeat first ran: the grace period starts there. */
  readonly watchingSince: string;
  readonly cloudTrail?: Marker;
  readonly canaryDetected?: Marker;
  readonly canaryDelivered?: Marker;
  readonly deadLetter: { readonly messages: number } | { readonly error: string };
  readonly canaryCheck: CanaryCheck;
  /** Organisation deployments: the member accounts and regions expected alive, and when each last was. */
  readonly places?: {
    readonly expected: readonly ExpectedPlace[];
    /** `<account>/<region>` → its last sign of life. */
    readonly seen: ReadonlyMap<string, Marker>;
  };
}

/** A member account and region that should send events (its heartbeat at least). */
export interface ExpectedPlace {
  readonly account: string;
  readonly region: string;
  /** The account's configured name, for the alert. */
  readonly name?: string;
}

export type HealthCheck = 'cloudtrail-silence' | 'member-silence' | 'canary-missing' | 'dead-letter' | 'check-failed';

export interface HealthProblem {
  readonly check: HealthCheck;
  readonly severity: Severity;
  readonly title: string;
  readonly summary: string;
  readonly resource: string;
  /** Same incident, same key: a finding per incident, not per heartbeat. */
  readonly incidentKey: string;
  readonly evidence: Record<string, unknown>;
  /** The account and region the problem is about, when not the central stack's own (a silent member). */
  readonly account?: string;
  readonly accountName?: string;
  readonly region?: string;
}

const MINUTE = 60_000;

function minutesBetween(earlier: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(earlier)) / MINUTE);
}

function latest(...times: Array<string | undefined>): string | undefined {
  return times.filter((t): t is string => t !== undefined && !Number.isNaN(Date.parse(t))).sort().at(-1);
}

export function assessHealth(observed: HealthObservations, options: HeartbeatOptions, now: Date): HealthProblem[] {
  const problems: HealthProblem[] = [];
  const day = now.toISOString().slice(0, 10);

  // CloudTrail: silence since the last processed event, or since watching began.
  const lastCloudTrail = latest(observed.cloudTrail?.at, observed.watchingSince) ?? observed.watchingSince;
  const silent = minutesBetween(lastCloudTrail, now);
  if (silent > options.maxSilenceMinutes) {
    const since = observed.cloudTrail ? `the last one (${observed.cloudTrail.eventId ?? 'unknown id'}, processed ${observed.cloudTrail.at})` : `the heartbeat started watching at ${observed.watchingSince}`;
    problems.push({
      check: 'cloudtrail-silence',
      severity: 'high',
      title: 'No CloudTrail events reach the monitor',
      summary: `No CloudTrail event has been processed for ${silent} minutes (limit ${options.maxSilenceMinutes}) since ${since}: a trail may have stopped logging or lost its management events, or a rule or the detect path is broken`,
      resource: 'cloudtrail → eventbridge → detect',
      incidentKey: `cloudtrail-silence|${observed.cloudTrail?.eventId ?? observed.cloudTrail?.at ?? `watching ${observed.watchingSince}`}`,
      evidence: { silentMinutes: silent, maxSilenceMinutes: options.maxSilenceMinutes, lastCloudTrailEvent: observed.cloudTrail ?? null, watchingSince: observed.watchingSince },
    });
  }

  for (const place of observed.places?.expected ?? []) {
    const key = `${place.account}/${place.region}`;
    const last = observed.places?.seen.get(key);
    const reference = latest(last?.at, observed.watchingSince) ?? observed.watchingSince;
    const quiet = minutesBetween(reference, now);
    if (quiet <= options.maxSilenceMinutes) continue;
    const label = place.name ? `${place.name} (${place.account})` : place.account;
    const since = last ? `the last one (${last.eventId ?? 'unknown id'}, processed ${last.at})` : `the heartbeat started watching at ${observed.watchingSince}`;
    problems.push({
      check: 'member-silence',
      severity: 'high',
      title: 'No events from a member account and region',
      summary: `No event from account ${label} in ${place.region} has reached the monitor for ${quiet} minutes (limit ${options.maxSilenceMinutes}) since ${since}, not even its heartbeat: its member stack's rules, its forwarding to the central bus, or its trail may have been changed`,
      resource: `account ${label} ${place.region}`,
      // One finding per silence: a member that comes back and goes quiet again is a new incident.
      incidentKey: `member-silence|${key}|${last?.eventId ?? last?.at ?? `watching ${observed.watchingSince}`}`,
      evidence: { account: place.account, region: place.region, silentMinutes: quiet, maxSilenceMinutes: options.maxSilenceMinutes, lastEvent: last ?? null, watchingSince: observed.watchingSince },
      account: place.account,
      ...(place.name ? { accountName: place.name } : {}),
      region: place.region,
    });
  }

  if (observed.canaryCheck !== 'off') {
    const end = observed.canaryCheck === 'delivered' ? observed.canaryDelivered : observed.canaryDetected;
    const reference = latest(end?.at, observed.watchingSince) ?? observed.watchingSince;
    const age = minutesBetween(reference, now);
    if (age > options.canaryMaxAgeMinutes) {
      // Where it stops: a canary the detector saw after the last one delivered points past the detector.
      const detectedLater = observed.canaryCheck === 'delivered' && observed.canaryDetected !== undefined && (end === undefined || observed.canaryDetected.at > end.at);
      const where = detectedLater
        ? `canaries still reach the detector (last at ${observed.canaryDetected?.at}) but their alerts do not come back from the alerts topic: the findings stream, the notify function or the topic is broken`
        : 'no canary reaches the detector: the schedule, its rule, the detect queue or the detect function is broken';
      problems.push({
        check: 'canary-missing',
        severity: 'high',
        title: 'Monitor canary missing',
        summary: `No canary has come through for ${age} minutes (limit ${options.canaryMaxAgeMinutes}, one is sent every ${CANARY_INTERVAL_MINUTES}): ${where}`,
        resource: detectedLater ? 'findings stream → notify → alerts topic' : 'canary schedule → rule → detect queue → detect',
        incidentKey: `canary-missing|${end?.eventId ?? end?.at ?? `watching ${observed.watchingSince}`}`,
        evidence: { minutesSinceLastCanary: age, canaryMaxAgeMinutes: options.canaryMaxAgeMinutes, lastDelivered: observed.canaryDelivered ?? null, lastDetected: observed.canaryDetected ?? null, check: observed.canaryCheck },
      });
    }
  }

  if ('error' in observed.deadLetter) {
    problems.push({
      check: 'check-failed',
      severity: 'medium',
      title: 'Heartbeat could not read the dead-letter queue',
      summary: `The heartbeat could not read the dead-letter queue's depth (${observed.deadLetter.error}): its permissions or the queue may have been changed`,
      resource: 'dead-letter queue',
      // Once a day while it lasts.
      incidentKey: `check-failed|dead-letter|${day}`,
      evidence: { error: observed.deadLetter.error },
    });
  } else if (observed.deadLetter.messages >= options.deadLetterThreshold) {
    const count = observed.deadLetter.messages;
    problems.push({
      check: 'dead-letter',
      severity: 'medium',
      title: 'Events or alerts are on the dead-letter queue',
      summary: `The dead-letter queue holds ${count} message${count === 1 ? '' : 's'}: events that were not evaluated or alerts that were not sent. Read their reason attributes, fix the cause, then redrive`,
      resource: 'dead-letter queue',
      incidentKey: `dead-letter|${day}`,
      evidence: { messages: count, threshold: options.deadLetterThreshold },
    });
  }
  return problems;
}

/**
 * The member accounts and regions expected alive: every configured member account in every member
 * region, and every account seen alive in those regions before (accounts the StackSet reached
 * through an OU: once heard from, their silence matters). Undefined outside an organisation.
 */
export function expectedPlaces(config: BuildwatchConfig, seen: ReadonlyMap<string, Marker> | undefined): ExpectedPlace[] | undefined {
  const org = config.organization;
  if (!org) return undefined;
  const regions = new Set(org.members.regions);
  const keys = new Set<string>();
  for (const account of org.members.accounts) for (const region of org.members.regions) keys.add(`${account}/${region}`);
  for (const key of seen?.keys() ?? []) {
    const [account, region] = key.split('/');
    if (account && region && regions.has(region)) keys.add(key);
  }
  const names = new Map(org.accounts.map((account) => [account.id, account.name]));
  return [...keys].sort().map((key) => {
    const [account = '', region = ''] = key.split('/');
    const name = names.get(account);
    return { account, region, ...(name ? { name } : {}) };
  });
}

export interface HealthContext {
  readonly useCase: UseCase;
  readonly config: BuildwatchConfig;
  readonly account?: string;
  readonly region?: string;
}

/** The ledger record of a problem: deterministic id per incident, the use case's mode and severity override. */
export function healthFinding(problem: HealthProblem, now: Date, context: HealthContext): Finding {
  const { metadata } = context.useCase;
  const policy = policyFor(metadata, context.config);
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const id = findingId(metadata.id, 'incident', problem.incidentKey);
  const content: Omit<Finding, 'contentHash'> = {
    id,
    useCase: metadata.id,
    answers: metadata.answers,
    stage: metadata.stage,
    severity: policy.severityOverride ?? problem.severity,
    mode: findingMode(policy.mode === 'off' ? 'attest' : policy.mode, false),
    title: problem.title,
    summary: problem.summary,
    eventId: `heartbeat:${problem.check}:${time}`,
    eventTime: time,
    day: time.slice(0, 10),
    principal: HEARTBEAT_PRINCIPAL,
    ...(problem.account ?? context.account ? { account: problem.account ?? context.account } : {}),
    ...(problem.accountName ? { accountName: problem.accountName } : {}),
    ...(problem.region ?? context.region ? { region: problem.region ?? context.region } : {}),
    resource: problem.resource,
    dedupKey: problem.incidentKey,
    evidence: { check: problem.check, ...problem.evidence },
    runbook: metadata.runbook,
    recordedAt: now.toISOString(),
  };
  return { ...content, contentHash: contentHashOf(content) };
}
