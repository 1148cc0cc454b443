/**
 * build.build-override: a build of a watched project ran with settings its project does not have.
 * StartBuild/StartBuildBatch overrides change the "build server" for one build without touching the
 * project, a blind spot for build.project-drift (EVENTS.md 4.2).
 *
 * Two sources, one finding per build (incidentKey = the build ARN, which the StartBuild response
 * and the native event's `build-id` share):
 * - CloudTrail StartBuild/StartBuildBatch: the overrides are in the request (judged at once).
 * - The native `CodeBuild Build State Change`, for when CloudTrail is late or lost: what the build
 *   ran with (image, privileged mode, variables, buildspec, source) compared with the project as it
 *   was when the build started: build.project-drift's state at that time (kept current by every
 *   CreateProject/UpdateProject, console, CLI or CloudFormation). BatchGetProjects only fills in what
 *   nothing recorded tells, and only if the project was not modified after the build started; when
 *   nothing speaks for the project at that time, the comparison proves nothing and is skipped.
 *   The native event arrives within seconds, the UpdateProject record minutes later (CloudTrail's
 *   delivery): a build that differs from the recorded project waits `nativeBuildGraceMinutes` (the
 *   correlate kind's deadline) and is judged again on the project as recorded then, so a change made
 *   just before the build is not taken for an override. A build that agrees is settled at once.
 * Routine overrides by the pipeline itself (automation principals, CodePipeline) are configurable.
 */
import { textOf } from '../../../engine/own-keys.js';
import * as z from 'zod';
import { severityRank, type Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type CorrelateFacts, type CorrelateInputs, type CorrelateVerdict, type CorrelationClaim, type JsonObject, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { UNKNOWN_BEFORE, UNSEEN_BEFORE } from '../project-drift/use-case.js';
import { redactText } from '../../../engine/redact.js';
import { buildspecState, fingerprint, isInlineBuildspec, isWatchedProject, normaliseProject, normaliseVariables, observedBuild, observedVariables, timestampOf } from '../codebuild.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Overrides that are routine when the caller is an automation principal or CodePipeline (which passes variables and its source artifact). */
  automationRoutineOverrides: z
    .array(z.string().min(1))
    .default(['environmentVariablesOverride', 'sourceTypeOverride', 'sourceLocationOverride', 'secondarySourcesOverride', 'secondarySourcesVersionOverride', 'artifactsOverride', 'secondaryArtifactsOverride']),
  /** Compare native build events with the project from BatchGetProjects (catches overrides whose CloudTrail record is late or lost). */
  compareNativeBuilds: z.boolean().default(true),
  /**
   * How long (event-time minutes) a native build that differs from its recorded project waits for a
   * late CloudTrail record of a project change made before it started (CloudTrail delivers in about
   * 5 minutes on average, without a guarantee). 0 judges at once.
   */
  nativeBuildGraceMinutes: z.number().int().min(0).max(1440).default(20),
}));
type Options = z.output<typeof optionsSchema>;

/** How much each StartBuild override matters; absent ones (timeouts, compute, cache…) are not reported. */
const OVERRIDE_SEVERITY: Readonly<Record<string, Severity>> = {
  buildspecOverride: 'high',
  imageOverride: 'high',
  privilegedModeOverride: 'high',
  environmentVariablesOverride: 'high',
  serviceRoleOverride: 'high',
  sourceLocationOverride: 'high',
  sourceTypeOverride: 'high',
  sourceAuthOverride: 'high',
  secondarySourcesOverride: 'high',
  insecureSslOverride: 'high',
  registryCredentialOverride: 'high',
  certificateOverride: 'high',
  imagePullCredentialsTypeOverride: 'medium',
  encryptionKeyOverride: 'medium',
  artifactsOverride: 'medium',
  secondaryArtifactsOverride: 'medium',
  logsConfigOverride: 'medium',
  debugSessionEnabled: 'medium',
};
/** Boolean overrides that only matter when switched on. */
const ONLY_WHEN_TRUE = new Set(['privilegedModeOverride', 'insecureSslOverride', 'debugSessionEnabled']);

const PIPELINE = 'codepipeline.amazonaws.com';

function highest(severities: readonly Severity[]): Severity {
  return severities.reduce<Severity>((max, s) => (severityRank(s) > severityRank(max) ? s : max), 'info');
}

function byAutomation(event: PipelineEvent, ctx: UseCaseContext): boolean {
  return event.cloudTrail?.userIdentity?.invokedBy === PIPELINE || event.userAgent === PIPELINE || isAutomationPrincipal(ctx.config, event.principal);
}

/** One line per override, values never shown raw (buildspecs as a fingerprint, variables by name). */
function describeOverride(name: string, value: unknown): string {
  switch (name) {
    case 'buildspecOverride': {
      const text = textOf(value);
      return isInlineBuildspec(text) ? `inline buildspec (${text.split('\n').length} lines, ${String(buildspecState(text)?.['sha256'])})` : `buildspec file ${text}`;
    }
    case 'environmentVariablesOverride': {
      const variables = normaliseVariables(value);
      const secrets = variables.filter((v) => v['plaintextSecret'] === true).map((v) => String(v['name']));
      return `variables ${variables.map((v) => String(v['name'])).join(', ')}${secrets.length > 0 ? ` (PLAINTEXT secrets: ${secrets.join(', ')})` : ''}`;
    }
    case 'privilegedModeOverride':
      return 'privileged mode on';
    case 'insecureSslOverride':
      return 'insecure SSL on';
    case 'debugSessionEnabled':
      return 'debug session (Session Manager into the build container)';
    case 'logsConfigOverride':
      return 'logs configuration';
    default:
      return typeof value === 'string' ? `${name.replace(/Override$/, '')} ${value}` : name.replace(/Override$/, '');
  }
}

/** Evidence-safe copy of the overrides: buildspecs reduced to their state, variables fingerprinted. */
function overrideEvidence(overrides: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const evidence: Record<string, unknown> = {};
  for (const [name, value] of overrides) {
    if (name === 'buildspecOverride') evidence[name] = buildspecState(value) ?? null;
    else if (name === 'environmentVariablesOverride') evidence[name] = normaliseVariables(value);
    else evidence[name] = value;
  }
  return evidence;
}

function buildArnOf(event: PipelineEvent, batch: boolean): string | undefined {
  const record = event.cloudTrail;
  const build = valueAt(record?.responseElements, batch ? 'buildBatch' : 'build');
  const arn = stringAt(build, 'arn');
  if (arn) return arn;
  const id = stringAt(build, 'id');
  const region = record?.awsRegion ?? event.envelope.region;
  const account = record?.recipientAccountId ?? event.envelope.account;
  return id && region && account ? `arn:aws:codebuild:${region}:${account}:${batch ? 'build-batch' : 'build'}/${id}` : undefined;
}

function fromStartBuild(event: PipelineEvent, ctx: UseCaseContext, options: Options): Observation | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const project = stringAt(params, 'projectName');
  if (!isWatchedProject(ctx.config, project)) return undefined;
  const routine = byAutomation(event, ctx) ? new Set(options.automationRoutineOverrides) : new Set<string>();
  const overrides = Object.entries(params).filter(
    ([name, value]) => OVERRIDE_SEVERITY[name] !== undefined && value !== null && value !== undefined && !routine.has(name) && (!ONLY_WHEN_TRUE.has(name) || value === true),
  );
  if (overrides.length === 0) return undefined;
  const batch = record.eventName === 'StartBuildBatch';
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const lines = overrides.map(([name, value]) => describeOverride(name, value));
  const evidence = { project, eventName: record.eventName, overrides: overrideEvidence(overrides), sourceVersion: stringAt(params, 'sourceVersion') ?? null };
  if (!event.succeeded) {
    return {
      resource: project,
      dedupKey: `project/${project}|refused-override`,
      severity: 'low',
      title: 'Refused attempt to start a build with overrides',
      summary: `${who} tried to start a build of ${project} with ${lines.join('; ')} and was refused (${record.errorCode ?? 'error'})`,
      evidence: { ...evidence, errorCode: record.errorCode, errorMessage: record.errorMessage },
    };
  }
  const arn = buildArnOf(event, batch);
  const number = valueAt(record.responseElements, batch ? 'buildBatch' : 'build', batch ? 'buildBatchNumber' : 'buildNumber');
  return {
    resource: project,
    dedupKey: arn ?? `project/${project}`,
    ...(arn ? { incidentKey: arn } : {}),
    severity: highest(overrides.map(([name]) => OVERRIDE_SEVERITY[name] as Severity)),
    summary: `${who} started ${batch ? 'build batch' : 'build'} ${project}${typeof number === 'number' ? ` #${number}` : ''} with overrides: ${lines.join('; ')}`,
    evidence: { ...evidence, build: arn ?? null },
  };
}

/** Where the project's state at a build's start came from (evidence). */
type ProjectSource = 'build.project-drift' | 'BatchGetProjects';

const DRIFT_USE_CASE = 'build.project-drift';
/** Fields the comparison reads; a recorded state lacking them is completed by a look-up when one can speak for that time. */
const COMPARED = [
  ['environment', 'image'],
  ['source', 'type'],
] as const;

/**
 * The project as it was when the build started. The one notion of a project's last known state is
 * build.project-drift's change log (every CreateProject/UpdateProject, console, CLI or
 * CloudFormation), read at the build's start time. A look-up fills in only what nothing recorded
 * tells, and only when the project was not modified after the build started (a look-up shows the
 * present, which may be long after the build: a replay, a backfill, a late event).
 */
async function projectAtStart(project: string, startedAt: number, ctx: UseCaseContext, mayBeStale: boolean): Promise<{ state: JsonObject; source: ProjectSource; knownSince?: string } | undefined> {
  const key = `project/${project}`;
  const known = await ctx.knownState?.(DRIFT_USE_CASE, key, new Date(startedAt).toISOString(), { mayBeStale });
  if (!known) {
    // Recorded changes, all after the build started: the state at its start is unknown.
    if (await ctx.knownState?.(DRIFT_USE_CASE, key, END_OF_TIME)) return undefined;
  }
  const complete = known !== undefined && COMPARED.every((path) => valueAt(known.state, ...path) !== undefined);
  const looked = complete ? undefined : await lookedUpAtStart(project, startedAt, ctx);
  if (!known) return looked ? { state: looked, source: 'BatchGetProjects' } : undefined;
  return { state: looked ? fillMissing(known.state, looked) : known.state, source: DRIFT_USE_CASE, knownSince: known.at };
}

const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/** The look-up, only if it speaks for the build's start (project not modified since before it). */
async function lookedUpAtStart(project: string, startedAt: number, ctx: UseCaseContext): Promise<JsonObject | undefined> {
  const looked = await ctx.lookups.codeBuildProject(project);
  if (looked.status !== 'found') return undefined;
  const modified = timestampOf(looked.value['lastModified']);
  if (modified === undefined || modified >= startedAt) return undefined;
  return normaliseProject(looked.value);
}

/** `known` with the fields it lacks taken from `filler` (objects merged key by key; known values win). */
function fillMissing(known: JsonObject, filler: JsonObject): JsonObject {
  const result: JsonObject = { ...filler };
  for (const [key, value] of Object.entries(known)) {
    const other = Object.hasOwn(filler, key) ? filler[key] : undefined;
    const both = isRecord(value) && isRecord(other) && !Array.isArray(value) && !Array.isArray(other);
    Object.defineProperty(result, key, { value: both ? fillMissing(value as JsonObject, other as JsonObject) : value, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** An earlier value build.project-drift marked unknown is no value to compare with. */
function knownValue<T>(value: T): T | undefined {
  return value === UNKNOWN_BEFORE || value === UNSEEN_BEFORE ? undefined : value;
}

/**
 * What a build ran with, as kept with a pending check (no secret: variables fingerprinted, an inline
 * buildspec as its state, the source location as a fingerprint and a redacted copy to show).
 */
const ranWithSchema = builtOnFirstUse(() => z.object({
  project: z.string(),
  build: z.string(),
  number: z.number().nullable(),
  initiator: z.string().nullable(),
  startedAt: z.number(),
  buildStatus: z.string().nullable(),
  image: z.string().optional(),
  privilegedMode: z.boolean().optional(),
  /** buildspecState of an inline buildspec (a file's contents are not in the event). */
  buildspec: z.record(z.string(), z.unknown()).optional(),
  sourceType: z.string().optional(),
  sourceLocation: z.object({ shown: z.string(), sha: z.string() }).optional(),
  /**
   * Each variable as [name, digest of its normalised form]: a {name, value} pair would be masked as a
   * PLAINTEXT variable when stored, and compare unequal when judged again. Undefined when variables
   * are not compared (routine for the pipeline that started the build).
   */
  variables: z.array(z.tuple([z.string(), z.string()])).optional(),
  /** Overrides routine for the build's initiator, not compared. */
  routine: z.array(z.string()),
}));
type RanWith = z.infer<typeof ranWithSchema>;

function ranWith(event: PipelineEvent, project: string, arn: string, options: Options): RanWith {
  const build = observedBuild(event.detail);
  const routine = build.initiator?.startsWith('codepipeline/') ? options.automationRoutineOverrides : [];
  // Fingerprinting variables is most of the work, wasted where they are routine (a pipeline passes its own).
  const variables = routine.includes('environmentVariablesOverride') ? undefined : observedVariables(event.detail);
  const number = valueAt(event.detail, 'additional-information', 'build-number');
  const inline = build.buildspec && isInlineBuildspec(build.buildspec) ? buildspecState(build.buildspec) : undefined;
  return {
    project,
    build: arn,
    number: typeof number === 'number' ? number : null,
    initiator: build.initiator ?? null,
    startedAt: build.startedAt ?? Date.parse(event.time),
    buildStatus: stringAt(event.detail, 'build-status') ?? null,
    ...(build.image ? { image: build.image } : {}),
    ...(build.privilegedMode !== undefined ? { privilegedMode: build.privilegedMode } : {}),
    ...(inline ? { buildspec: inline } : {}),
    ...(build.sourceType ? { sourceType: build.sourceType } : {}),
    ...(build.sourceLocation ? { sourceLocation: { shown: redactText(build.sourceLocation), sha: fingerprint(build.sourceLocation) } } : {}),
    ...(variables ? { variables: variables.map((v) => [String(v['name']), variableDigest(v)] as [string, string]) } : {}),
    routine: [...routine],
  };
}

/** A normalised variable (value fingerprinted, or a reference) as one digest: equal digests, equal variables. */
function variableDigest(variable: JsonObject): string {
  return fingerprint(JSON.stringify(variable));
}

/** Variables the build ran with that the project lacks or has otherwise, by name. */
function variablesDiffering(ran: ReadonlyArray<readonly [string, string]>, project: readonly JsonObject[]): string[] {
  const known = new Map(project.map((v) => [String(v['name']), variableDigest(v)]));
  // Added ones first, then changed ones (as build.project-drift names them).
  const added = ran.filter(([name]) => !known.has(name)).map(([name]) => name);
  const changed = ran.filter(([name, digest]) => known.has(name) && known.get(name) !== digest).map(([name]) => name);
  return [...added, ...changed];
}

/** What the build ran with that its project (as `expected`) did not have, one line each. */
function differencesFrom(ran: RanWith, expected: JsonObject): string[] {
  const differences: string[] = [];
  const routine = new Set(ran.routine);
  const image = knownValue(stringAt(expected, 'environment', 'image'));
  const sourceType = knownValue(stringAt(expected, 'source', 'type'));
  const sourceLocation = knownValue(stringAt(expected, 'source', 'location'));
  // A part of the project whose state is unknown (never recorded, or marked unknown) is not compared:
  // absent from a known environment means off/none (the API leaves defaults out); unknown means unknown.
  const environmentKnown = image !== undefined;
  if (ran.image && image && ran.image !== image) differences.push(`image ${ran.image} (project: ${image})`);
  const privileged = knownValue(valueAt(expected, 'environment', 'privilegedMode'));
  if (environmentKnown && ran.privilegedMode === true && privileged !== true) differences.push('privileged mode on (project: off)');
  const projectVariables = knownValue(valueAt(expected, 'environment', 'environmentVariables'));
  if (environmentKnown && ran.variables !== undefined && (projectVariables === undefined || Array.isArray(projectVariables))) {
    const names = variablesDiffering(ran.variables, Array.isArray(projectVariables) ? projectVariables.filter(isRecord).map((v) => v as JsonObject) : []);
    if (names.length > 0) differences.push(`variables ${names.join(', ')} differ from the project's`);
  }
  const projectBuildspec = knownValue(valueAt(expected, 'source', 'buildspec'));
  if (sourceType !== undefined && ran.buildspec !== undefined && ran.buildspec['sha256'] !== valueAt(projectBuildspec, 'sha256')) {
    const projectSays = valueAt(projectBuildspec, 'inline') === true ? `inline ${String(valueAt(projectBuildspec, 'sha256'))}` : `file ${String(valueAt(projectBuildspec, 'preview') ?? 'buildspec.yml')}`;
    differences.push(`inline buildspec ${String(ran.buildspec['sha256'])} (project: ${projectSays})`);
  }
  if (!routine.has('sourceLocationOverride') && ran.sourceLocation && sourceLocation && ran.sourceType === sourceType && ran.sourceLocation.sha !== fingerprint(sourceLocation)) {
    differences.push(`source ${ran.sourceLocation.shown} (project: ${redactText(sourceLocation)})`);
  }
  return differences;
}

/**
 * The native build judged against its project at its start. The first time, the container's copy of
 * the project's newest state will do when it agrees (no call): agreeing with it is wrong only if
 * another container recorded a change of the project within the copy's few minutes and the build ran
 * with exactly the settings from before that change, an override back to them, which the StartBuild
 * record reports on its own. A difference is never judged on the copy: it is read again.
 */
async function judgeNativeBuild(ran: RanWith, facts: CorrelateFacts, ctx: UseCaseContext): Promise<CorrelateVerdict> {
  let reference = await projectAtStart(ran.project, ran.startedAt, ctx, true);
  let differences = reference ? differencesFrom(ran, reference.state) : [];
  if (differences.length > 0) {
    reference = await projectAtStart(ran.project, ran.startedAt, ctx, false);
    differences = reference ? differencesFrom(ran, reference.state) : [];
  }
  // Nothing tells how the project was when the build started: no comparison proves anything.
  if (!reference) return { status: 'settled', reason: 'the project\'s state at the build\'s start is unknown' };
  if (differences.length === 0) return { status: 'settled', reason: 'the build ran with its project\'s settings' };
  // A project change made just before the build may still be on its way (CloudTrail's delivery).
  if (!facts.final) return { status: 'wait' };
  const observation: Observation = {
    resource: ran.project,
    dedupKey: ran.build,
    incidentKey: ran.build,
    severity: 'high',
    summary: `build ${ran.project}${ran.number !== null ? ` #${ran.number}` : ''} (started by ${ran.initiator ?? 'unknown'}) ran with settings its project does not have: ${differences.join('; ')}`,
    evidence: {
      project: ran.project,
      build: ran.build,
      initiator: ran.initiator,
      differences,
      comparedWith: reference.source,
      ...(reference.knownSince ? { projectStateOf: reference.knownSince } : {}),
      buildStatus: ran.buildStatus,
    },
  };
  return { status: 'settled', observations: [observation] };
}

/** A StartBuild record is judged at once (its overrides are in it); a native build event as it may wait. */
function inputs(event: PipelineEvent, ctx: UseCaseContext): CorrelateInputs | undefined {
  const options = optionsOf(optionsSchema, ctx);
  if (event.cloudTrail) {
    const project = stringAt(event.cloudTrail.requestParameters, 'projectName');
    if (!isWatchedProject(ctx.config, project)) return undefined;
    return { claims: [{ join: project, subject: `start/${event.id}`, data: { source: 'StartBuild' }, wants: [] }] };
  }
  if (!options.compareNativeBuilds) return undefined;
  const project = stringAt(event.detail, 'project-name');
  const arn = stringAt(event.detail, 'build-id');
  if (!isWatchedProject(ctx.config, project) || !arn) return undefined;
  const claim: CorrelationClaim = { join: project, subject: arn, data: { source: 'native', ranWith: ranWith(event, project, arn, options) as unknown as JsonObject }, wants: [] };
  return { claims: [claim] };
}

async function judge(facts: CorrelateFacts, event: PipelineEvent, ctx: UseCaseContext): Promise<CorrelateVerdict> {
  if (facts.claim.data['source'] === 'StartBuild') {
    const observation = fromStartBuild(event, ctx, optionsOf(optionsSchema, ctx));
    return observation ? { status: 'settled', observations: [observation] } : { status: 'settled', reason: 'no override to report' };
  }
  const parsed = ranWithSchema.safeParse(facts.claim.data['ranWith']);
  if (!parsed.success) return { status: 'settled', reason: 'unreadable build facts' };
  return judgeNativeBuild(parsed.data, facts, ctx);
}

export default defineUseCase({
  metadata: {
    id: 'build.build-override',
    answers: 'build.server-change',
    title: 'Build started with overrides of its project',
    stage: 'build',
    description:
      'StartBuild or StartBuildBatch on a watched project with a buildspec, image, privileged-mode, environment-variable, service-role or source override (high; artifacts, logs, encryption or a debug session: medium), one finding per build together with the native build event. The native event alone also reveals an override when the build ran with an image, privileged mode, variables, inline buildspec or source that the project did not have when the build started (its state as build.project-drift knows it; BatchGetProjects only fills gaps), judged after nativeBuildGraceMinutes so that a late CloudTrail record of a project change made just before the build is taken into account.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1195.002', 'T1554', 'T1059'],
    falsePositives: [
      'Pipelines that pass variables or their source artifact as overrides: routine for automation principals and CodePipeline (option automationRoutineOverrides).',
      'Engineers debugging a build with a one-off buildspec: ask them to use a separate project.',
    ],
    runbook:
      "Look at the overrides in the evidence and the build's logs. If nobody planned the build: treat its artifacts as untrusted (do not release them), revoke the caller's credentials, and check what the build's service role did during the build.",
    references: ['https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html', 'https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html'],
    includeFailedCalls: true,
  },
  pattern: {
    $or: [
      {
        source: ['aws.codebuild'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['StartBuild', 'StartBuildBatch'] },
      },
      { source: ['aws.codebuild'], 'detail-type': ['CodeBuild Build State Change'] },
    ],
  },
  optionsSchema,
  logic: {
    kind: 'correlate',
    inputs,
    // Only native builds that differ from their recorded project ever wait; StartBuild records never do.
    deadlineMinutes: (ctx) => optionsOf(optionsSchema, ctx).nativeBuildGraceMinutes,
    judge,
  },
});
