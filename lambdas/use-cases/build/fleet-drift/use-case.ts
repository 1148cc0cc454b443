/**
 * build.fleet-drift: a CodeBuild compute fleet (reserved capacity that builds run on) differs from its
 * last known state. A fleet's image or custom AMI, service role, proxy rules and VPC are the build
 * host itself, so changing them changes every build on the fleet without touching a project.
 *
 * - CreateFleet gives a baseline (the logged response is the whole fleet); UpdateFleet carries the
 *   fields the caller sent, merged into the known state; DeleteFleet marks it deleted.
 * - Which watched projects use the fleet: BatchGetProjects (environment.fleet.fleetArn) through the
 *   look-ups, since the project-drift state does not keep the fleet; `fleets` in the options names
 *   fleets to treat as used whatever the look-up says. A fleet no watched project uses is attested.
 * - Changes through CloudFormation/CDK rate infrastructureAsCodeSeverity (low), as in build.project-drift.
 */
import * as z from 'zod';
import { maxSeverity, type Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { redact } from '../../../engine/redact.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DriftFacts, type JsonObject, type JsonValue, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  ...infrastructureAsCodeOptions,
  /** Fleet names watched whatever the look-up says (a project outside the configuration builds on them, or look-ups are off). */
  fleets: z.array(z.string().min(1)).default([]),
}));

const FIELDS = ['baseCapacity', 'environmentType', 'computeType', 'computeConfiguration', 'scalingConfiguration', 'overflowBehavior', 'vpcConfig', 'proxyConfiguration', 'imageId', 'fleetServiceRole'] as const;

/** Severity by top-level field; unlisted ones (capacity, scaling, tags) are recorded, not alerted. */
const SEVERITY_BY_FIELD: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ['imageId', 'high'],
  ['fleetServiceRole', 'high'],
  ['proxyConfiguration', 'high'],
  ['vpcConfig', 'high'],
  ['deleted', 'medium'],
  ['overflowBehavior', 'medium'],
  ['environmentType', 'medium'],
  ['computeType', 'low'],
  ['computeConfiguration', 'low'],
]);

interface FleetReport extends StateReport {
  readonly resource: string;
  readonly fleet: string;
  readonly usedBy: readonly string[];
  readonly watched: boolean;
}

function isFleetReport(report: StateReport): report is FleetReport {
  return 'fleet' in report && 'usedBy' in report;
}

/** `arn:aws:codebuild:<region>:<account>:fleet/<name>:<id>` or a bare name → the name. */
export function fleetNameOf(nameOrArn: string | undefined): string | undefined {
  if (!nameOrArn) return undefined;
  const match = /^arn:aws[a-z-]*:codebuild:[^:]*:\d{12}:fleet\/([^:]+)(?::.*)?$/.exec(nameOrArn);
  return match ? match[1] : nameOrArn.startsWith('arn:') ? undefined : nameOrArn;
}

export function normaliseFleet(fleet: Record<string, unknown>): JsonObject {
  const state: JsonObject = {};
  for (const field of FIELDS) {
    const value = fleet[field];
    if (value !== undefined && value !== null) state[field] = redact(value) as JsonValue;
  }
  if (Array.isArray(fleet['tags'])) {
    // Tag keys come from the event: a null-prototype object keeps them off any prototype.
    const tags: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
    for (const tag of fleet['tags'].filter(isRecord)) tags[String(tag['key'] ?? '')] = redact(String(tag['value'] ?? ''));
    state['tags'] = { ...tags };
  }
  return state;
}

async function projectsOnFleet(fleet: string, ctx: UseCaseContext): Promise<string[]> {
  const users: string[] = [];
  for (const { name } of ctx.config.pipeline.buildProjects) {
    const found = await ctx.lookups.codeBuildProject(name);
    if (found.status === 'found' && fleetNameOf(stringAt(valueAt(found.value, 'environment', 'fleet'), 'fleetArn')) === fleet) users.push(name);
  }
  return users;
}

async function report(event: PipelineEvent, ctx: UseCaseContext): Promise<FleetReport | undefined> {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const response = valueAt(record.responseElements, 'fleet');
  const fleet = fleetNameOf(stringAt(response, 'name') ?? stringAt(params, 'name') ?? stringAt(params, 'arn') ?? stringAt(response, 'arn'));
  const account = record.recipientAccountId ?? event.envelope.account;
  const region = record.awsRegion ?? event.envelope.region;
  if (!fleet || !account || !region) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const usedBy = await projectsOnFleet(fleet, ctx);
  const watched = usedBy.length > 0 || options.fleets.some((entry) => fleetNameOf(entry) === fleet);
  const base = { key: `fleet/${account}/${region}/${fleet}`, resource: fleet, fleet, usedBy, watched };
  switch (record.eventName) {
    case 'CreateFleet':
      return { ...base, state: isRecord(response) ? normaliseFleet(response) : normaliseFleet(params), partial: false };
    case 'UpdateFleet':
      // Only the fields the caller sent: the response (the whole fleet) would report defaults as changes.
      return { ...base, state: { ...normaliseFleet(params), deleted: false }, partial: true };
    case 'DeleteFleet':
      return { ...base, state: { deleted: true }, partial: true };
    default:
      return undefined;
  }
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const reported = facts.report;
  if (!isFleetReport(reported)) return undefined;
  // deleted:false on an update of a fleet never deleted is bookkeeping, not a change.
  const diff = facts.diff.filter((entry) => !(entry.path === 'deleted' && entry.before === undefined && entry.after === false));
  if (diff.length === 0) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  let severity: Severity | undefined;
  for (const entry of diff) {
    const graded = SEVERITY_BY_FIELD.get(entry.path.split('.')[0] as string);
    if (graded) severity = severity ? maxSeverity(severity, graded) : graded;
  }
  const iac = viaInfrastructureAsCode(event, options);
  const alerting = severity !== undefined && reported.watched;
  const fields = [...new Set(diff.map((entry) => entry.path.split('.')[0] as string))];
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const users = reported.usedBy.length > 0 ? ` (used by ${reported.usedBy.join(', ')})` : reported.watched ? '' : ' (no watched project uses it)';
  return {
    resource: reported.fleet,
    dedupKey: reported.key,
    severity: !alerting ? (severity && !reported.watched ? 'low' : 'info') : iac ? options.infrastructureAsCodeSeverity : (severity as Severity),
    ...(!alerting ? { attestation: true } : {}),
    title: alerting ? 'Build fleet changed from its last known state' : 'Build fleet changed',
    summary: `${who} ${facts.after['deleted'] === true ? 'deleted' : 'changed'} compute fleet ${reported.fleet}${iac ? ' through infrastructure as code' : ''}${users}: ${fields.join(', ')}`,
    evidence: { fleet: reported.fleet, diff, usedBy: reported.usedBy, knownSince: facts.since, viaInfrastructureAsCode: iac, eventName: event.cloudTrail?.eventName },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.fleet-drift',
    answers: 'build.server-change',
    title: 'Build compute fleet changed from its last known state',
    stage: 'build',
    description:
      'Keeps the last known state of each CodeBuild compute fleet (CreateFleet, UpdateFleet merged into it, DeleteFleet) and reports what changed on fleets watched projects build on (BatchGetProjects environment.fleet, or the fleets option): image or custom AMI, service role, proxy rules or VPC is high; overflow behaviour, environment type and deletion medium; compute low; capacity, scaling and tags are recorded. Changes through CloudFormation/CDK are low (configurable).',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1195.002', 'T1578'],
    falsePositives: ['Planned fleet changes made by hand; prefer infrastructure as code, which this use case rates low.'],
    runbook:
      "Compare the diff with the platform team's change records. For an unexpected image/AMI, role, proxy or VPC change: restore the fleet's definition from source control, stop builds on the fleet, and inspect builds run since the change (and the AMI's provenance) for tampered artifacts.",
    references: ['https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateFleet.html', 'https://docs.aws.amazon.com/codebuild/latest/userguide/fleets.html'],
  },
  pattern: {
    source: ['aws.codebuild'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['CreateFleet', 'UpdateFleet', 'DeleteFleet'] },
  },
  optionsSchema,
  logic: { kind: 'drift', report, assess },
});
