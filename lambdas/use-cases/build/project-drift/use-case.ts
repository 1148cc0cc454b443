/**
 * build.project-drift: a watched CodeBuild project differs from its last known state.
 *
 * - CreateProject gives a baseline (its logged response is the whole project); values that are risky
 *   in themselves (see below) are reported low, as for a project first seen through an update.
 * - DeleteProject marks the known state deleted (kept, so a re-creation is compared with the project
 *   as it was): high, low through infrastructure as code.
 * - UpdateProject carries only the fields the caller sent: they (and the logged response, which is
 *   the whole project after the call) are merged into the known state, and only the fields the caller
 *   sent are judged, so a console edit that resends everything reports only what really changed.
 * - No known state yet: BatchGetProjects through the look-ups. A look-up shows the project when it
 *   was made, which may be long after the update (the cloud's look-up runs after it; a replay or
 *   backfill runs days later), so only its lastModified places it in time: modified before the update,
 *   it is the earlier state (the baseline); modified at the update's time and showing what was sent,
 *   it is this update, and the sent fields' earlier values are unknown; modified later (or when is
 *   unknown), it says nothing about that time. Unknown earlier values are marked so, and only values
 *   that are risky in themselves (inline buildspec, privileged mode, PLAINTEXT secrets, logs off,
 *   insecure SSL) are reported, low. An update older than a recorded change gets no look-up at all.
 * Failed calls never reach this use case (the engine drops them): build.refused-project-change reports them.
 */
import * as z from 'zod';
import { ownValue, setOwn } from '../../../engine/own-keys.js';
import { severityRank, type Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase,
  optionsOf,
  type DiffEntry,
  type DriftFacts,
  type JsonObject,
  type JsonValue,
  type Observation,
  type StateReport,
  type UseCaseContext, } from '../../../engine/use-case.js';
import { describeVariableChanges, isWatchedProject, normaliseProject, timestampOf, variableChanges } from '../codebuild.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({ ...infrastructureAsCodeOptions }));

/** A sent field's earlier value when the only earlier state available already showed the update. */
export const UNKNOWN_BEFORE = '(unknown: the look-up already showed this update)';
/** A sent field's earlier value when there is no earlier state at all (no look-up answer). */
export const UNSEEN_BEFORE = '(unknown: the project was not seen before)';
const UNKNOWN = new Set<JsonValue | undefined>([UNKNOWN_BEFORE, UNSEEN_BEFORE]);

interface ProjectReport extends StateReport {
  readonly resource: string;
  readonly eventName: string;
  readonly eventTime: string;
  /** The normalised fields the caller sent: what this event vouches for. */
  readonly sent: JsonObject;
}

function isProjectReport(report: StateReport): report is ProjectReport {
  return 'sent' in report && 'eventName' in report && 'eventTime' in report;
}

/** Severity by path (first match wins); variables and logs are graded apart, undefined is record only. */
const SEVERITY_BY_PATH: ReadonlyArray<readonly [RegExp, Severity]> = [
  [/^source\.buildspec(\.|$)/, 'critical'],
  [/^serviceRole$/, 'critical'],
  [/^environment\.(image|privilegedMode|imagePullCredentialsType|certificate|registryCredential)(\.|$)/, 'high'],
  [/^source\.(location|type|insecureSsl|auth)(\.|$)/, 'high'],
  [/^(secondarySources|vpcConfig|fileSystemLocations)(\.|$)/, 'high'],
  [/^(encryptionKey|artifacts|secondaryArtifacts)(\.|$)/, 'medium'],
  [/^(sourceVersion|cache|environment\.(computeType|type))(\.|$)/, 'low'],
];
const VARIABLES = 'environment.environmentVariables';
/** The mark a DeleteProject leaves on the last known state, its event time (not a field of a CodeBuild project). */
const DELETED = 'deletedAt';

function report(event: PipelineEvent, ctx: UseCaseContext): ProjectReport | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const responseProject = valueAt(record.responseElements, 'project');
  const name = stringAt(responseProject, 'name') ?? stringAt(params, 'name');
  if (!isWatchedProject(ctx.config, name)) return undefined;
  // A deletion vouches for nothing but itself: the last known state stays, marked.
  // Marked with its time: every deletion is a change, even one judged before a late re-creation between two deletions.
  if (record.eventName === 'DeleteProject') return { key: `project/${name}`, resource: name, state: { [DELETED]: event.time }, partial: true, eventName: record.eventName, eventTime: event.time, sent: {} };
  const sent = normaliseProject(params);
  const response = isRecord(responseProject) ? normaliseProject(responseProject) : {};
  const create = record.eventName === 'CreateProject';
  // The logged response is the project after the call: it wins over the request where both speak.
  const state = create && Object.keys(response).length > 0 ? response : { ...sent, ...response };
  return { key: `project/${name}`, resource: name, state, partial: !create, eventName: record.eventName, eventTime: event.time, sent };
}

/** Leaf paths of normalised state (arrays are leaves: their order matters in AWS APIs). */
function leaves(state: JsonObject, prefix = ''): Array<readonly [string, JsonValue]> {
  return Object.entries(state).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isRecord(value) ? leaves(value as JsonObject, path) : [[path, value] as const];
  });
}

function leafAt(state: JsonObject, path: string): JsonValue | undefined {
  return valueAt(state, ...path.split('.')) as JsonValue | undefined;
}

/** A copy of state with the given leaves set (objects created along the way). */
function withLeaves(state: JsonObject, entries: ReadonlyArray<readonly [string, JsonValue]>): JsonObject {
  const copy = structuredClone(state);
  for (const [path, value] of entries) {
    const steps = path.split('.');
    let node: JsonObject = copy;
    for (const step of steps.slice(0, -1)) {
      // Own properties only: a tag key `__proto__` must stay data, never reach a prototype.
      const next = ownValue(node, step);
      if (isRecord(next)) node = next as JsonObject;
      else {
        const created: JsonObject = {};
        setOwn(node, step, created);
        node = created;
      }
    }
    setOwn(node, steps.at(-1) as string, value);
  }
  return copy;
}

function withUnknown(state: JsonObject, paths: readonly string[], marker: string): JsonObject {
  return withLeaves(state, paths.map((path) => [path, marker] as const));
}

/** The API leaves out fields at their default (false, 0, empty): absent there and default here is agreement. */
function sameOrDefaulted(looked: JsonValue | undefined, sent: JsonValue): boolean {
  if (looked === undefined) return sent === false || sent === 0 || sent === '' || sent === null || (Array.isArray(sent) && sent.length === 0);
  return JSON.stringify(looked) === JSON.stringify(sent);
}

/** How close lastModified must be to the update's event time to be that update (both are AWS-side clocks). */
const SAME_CHANGE_MS = 120_000;

async function initialState(reported: StateReport, ctx: UseCaseContext): Promise<JsonObject | undefined> {
  if (!isProjectReport(reported)) return undefined;
  // A project deleted before anything was known of it: nothing to keep, but the deletion is judged.
  if (reported.eventName === 'DeleteProject') return {};
  // A new project has no earlier state: every value it was created with is unseen before.
  if (reported.eventName === 'CreateProject') {
    const created = leaves(reported.state).map(([path]) => path);
    return created.length > 0 ? withUnknown({}, created, UNSEEN_BEFORE) : undefined;
  }
  if (reported.eventName !== 'UpdateProject') return undefined;
  const sent = leaves(reported.sent);
  const unseen = (): JsonObject | undefined => (sent.length > 0 ? withUnknown({}, sent.map(([path]) => path), UNSEEN_BEFORE) : undefined);
  const found = await ctx.lookups.codeBuildProject(reported.resource);
  // Nothing to compare with: the update is the baseline, its values judged only on their own.
  if (found.status !== 'found') return unseen();
  const looked = normaliseProject(found.value);
  // Defaults the API left out are not changes: put them in the baseline as sent.
  const baseline = withLeaves(looked, sent.filter(([path, value]) => leafAt(looked, path) === undefined && sameOrDefaulted(undefined, value)));
  const modified = timestampOf(found.value['lastModified']);
  const at = Date.parse(reported.eventTime);
  // A look-up shows the project when it was made, which may be long after the update (a replay, a
  // backfill, a late event). Only lastModified places it: before the update, it is the earlier state.
  if (modified !== undefined && modified < at) return baseline;
  const agrees = sent.every(([path, value]) => sameOrDefaulted(leafAt(looked, path), value));
  // This very update (it shows what was sent, modified when it was made): the sent fields' earlier values are unknown.
  if (modified !== undefined && agrees && modified - at <= SAME_CHANGE_MS) return withUnknown(looked, sent.map(([path]) => path), UNKNOWN_BEFORE);
  // Modified later, or when is unknown: it is not the state at this update's time.
  return unseen();
}

function logsOff(state: JsonObject): boolean {
  return valueAt(state, 'logsConfig', 'cloudWatchLogs', 'status') === 'DISABLED';
}

function variablesOf(state: JsonObject): JsonObject[] {
  const list = valueAt(state, 'environment', 'environmentVariables');
  return Array.isArray(list) ? list.filter(isRecord).map((v) => v as JsonObject) : [];
}

function grade(entry: DiffEntry, facts: DriftFacts): Severity | undefined {
  if (entry.path.startsWith('logsConfig')) return logsOff(facts.after) && !logsOff(facts.before) ? 'high' : 'low';
  return SEVERITY_BY_PATH.find(([pattern]) => pattern.test(entry.path))?.[1];
}

/** Values that are risky whatever they were before: reported when the earlier state is unknown. */
function riskyNow(after: JsonObject, paths: ReadonlySet<string>): string[] {
  const risky: string[] = [];
  if ([...paths].some((p) => p.startsWith('source.buildspec')) && valueAt(after, 'source', 'buildspec', 'inline') === true) risky.push('inline buildspec');
  if (paths.has('environment.privilegedMode') && valueAt(after, 'environment', 'privilegedMode') === true) risky.push('privileged mode on');
  if (paths.has(VARIABLES)) {
    const secrets = variablesOf(after).filter((v) => v['plaintextSecret'] === true).map((v) => String(v['name']));
    if (secrets.length > 0) risky.push(`PLAINTEXT variables that look like secrets: ${secrets.join(', ')}`);
  }
  if ([...paths].some((p) => p.startsWith('logsConfig')) && logsOff(after)) risky.push('CloudWatch logs disabled');
  if (paths.has('source.insecureSsl') && valueAt(after, 'source', 'insecureSsl') === true) risky.push('insecure SSL to the source');
  return risky;
}

const max = (a: Severity, b: Severity): Severity => (severityRank(b) > severityRank(a) ? b : a);

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const options = optionsOf(optionsSchema, ctx);
  const reported = facts.report;
  const eventName = isProjectReport(reported) ? reported.eventName : undefined;
  if (eventName === 'DeleteProject') return deletion(facts, event, options);
  const created = eventName === 'CreateProject';
  // Judge only what the caller sent; the rest of the logged response merely completes the baseline.
  const sentKeys = isProjectReport(reported) && reported.eventName === 'UpdateProject' ? new Set(Object.keys(reported.sent)) : undefined;
  // A re-creation is compared with the project as it was before its deletion; the mark is not a change.
  const recreated = typeof facts.before[DELETED] === 'string';
  const entries = facts.diff.filter((entry) => entry.path !== DELETED && (!sentKeys || sentKeys.has(entry.path.split('.')[0] as string)));
  // With no earlier state at all, nothing is known to have changed, whatever the diff says.
  const unseen = leaves(facts.before).some(([, value]) => value === UNSEEN_BEFORE);
  const unknown = entries.filter((entry) => UNKNOWN.has(entry.before));
  const known = unseen ? [] : entries.filter((entry) => !UNKNOWN.has(entry.before));
  const project = reported.resource ?? reported.key;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const iac = viaInfrastructureAsCode(event, options);
  const fromLookUp = facts.since === 'look-up' && !unseen;

  let severity: Severity | undefined;
  for (const entry of known) {
    if (entry.path === VARIABLES) continue;
    const graded = grade(entry, facts);
    if (graded) severity = severity ? max(severity, graded) : graded;
  }
  const changes = known.some((entry) => entry.path === VARIABLES) ? variableChanges(variablesOf(facts.before), variablesOf(facts.after)) : undefined;
  if (changes && (changes.added.length > 0 || changes.changed.length > 0)) severity = severity ? max(severity, 'high') : 'high';
  else if (changes && changes.removed.length > 0) severity = severity ? max(severity, 'medium') : 'medium';
  const variables = changes ? describeVariableChanges(changes) : [];
  // A buildspec is one thing to a reader, however many facets of it changed.
  const paths = [...new Set(known.map((entry) => entry.path.replace(/^source\.buildspec\..*$/, 'source.buildspec')))];
  const evidence = {
    project,
    diff: known,
    variableChanges: variables,
    knownSince: facts.since,
    viaInfrastructureAsCode: iac,
    eventName: event.cloudTrail?.eventName,
    ...(unknown.length > 0 ? { earlierValueUnknown: unknown.map((entry) => entry.path) } : {}),
    // Delivered late: judged against the state at its own time; newer state was kept.
    ...(facts.newerStateSince ? { deliveredAfterNewerChange: facts.newerStateSince } : {}),
  };

  if (known.length === 0) {
    const risky = riskyNow(facts.after, new Set(unknown.map((entry) => entry.path)));
    if (risky.length === 0) return undefined;
    return {
      resource: project,
      dedupKey: reported.key,
      severity: iac ? options.infrastructureAsCodeSeverity : 'low',
      title: created ? 'Build project created with risky settings' : 'Build project updated; its earlier state is unknown',
      summary: created
        ? `${who} created build project ${project}${iac ? ' through infrastructure as code' : ''}: ${risky.join('; ')}`
        : `${who} updated build project ${project}, whose earlier state is unknown (${unseen ? 'first seen through this update' : 'the look-up already showed the update'}): ${risky.join('; ')}`,
      evidence,
    };
  }
  const alerting = severity !== undefined;
  return {
    resource: project,
    dedupKey: reported.key,
    // Descriptions, tags and timeouts: evidence for audits, not a page.
    severity: !alerting ? 'info' : iac ? options.infrastructureAsCodeSeverity : severity,
    attestation: !alerting,
    title: alerting ? 'Build project changed from its last known state' : 'Build project metadata changed',
    summary:
      `${who} ${recreated ? 're-created' : 'changed'} build project ${project}${iac ? ' through infrastructure as code' : ''}${recreated ? ', differing from the project deleted before' : ''}: ${paths.join(', ')}` +
      `${variables.length > 0 ? ` (variables: ${variables.join('; ')})` : ''}${fromLookUp ? ' (earlier state from BatchGetProjects)' : ''}`,
    evidence,
  };
}

/** A watched project deleted: its builds stop, and whatever re-creates it is compared with it. */
function deletion(facts: DriftFacts, event: PipelineEvent, options: z.output<typeof optionsSchema>): Observation {
  const project = facts.report.resource ?? facts.report.key;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const iac = viaInfrastructureAsCode(event, options);
  return {
    resource: project,
    dedupKey: facts.report.key,
    severity: iac ? options.infrastructureAsCodeSeverity : 'high',
    title: 'Watched build project deleted',
    summary: `${who} deleted build project ${project}${iac ? ' through infrastructure as code' : ''}`,
    evidence: { project, eventName: 'DeleteProject', knownSince: facts.since, viaInfrastructureAsCode: iac },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.project-drift',
    answers: 'build.server-change',
    title: 'Build project changed from its last known state',
    stage: 'build',
    description:
      'Keeps the last known state of each watched CodeBuild project (CreateProject, UpdateProject merged into it, BatchGetProjects when nothing is known) and reports what an update changed, graded by risk: a changed buildspec or service role is critical; image, privileged mode, source, variables, logs turned off or network is high; description, tags and timeouts are recorded, not alerted. A deleted project is high; a project created with values risky in themselves (inline buildspec, privileged mode, PLAINTEXT secrets, logs off, insecure SSL) is low. Changes through CloudFormation/CDK are low (configurable).',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 2,
    mitre: ['T1195.002', 'T1554'],
    falsePositives: [
      'Planned pipeline changes made by hand; prefer infrastructure as code, which this use case rates low.',
      'A project first seen through an update whose look-up already shows it: only risky values are reported, low.',
    ],
    runbook:
      "Compare the diff with the team's change records. For an unexpected buildspec, image or role change: stop the project's builds, restore the project definition from source control, and inspect builds run since the change for tampered artifacts.",
    references: ['https://docs.aws.amazon.com/codebuild/latest/userguide/cloudtrail.html', 'https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateProject.html'],
  },
  pattern: {
    source: ['aws.codebuild'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['CreateProject', 'UpdateProject', 'DeleteProject'] },
  },
  optionsSchema,
  logic: { kind: 'drift', report, initialState, assess },
});
