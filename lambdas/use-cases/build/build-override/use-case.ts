/**
 * build.build-override: a build of a watched project ran with settings its project does not have.
 * StartBuild/StartBuildBatch overrides change the "build server" for one build without touching the
 * project, a blind spot for build.project-drift (EVENTS.md 4.2).
 *
 * Two sources, one finding per build (incidentKey = the build ARN, which the StartBuild response
 * and the native event's `build-id` share):
 * - CloudTrail StartBuild/StartBuildBatch: the overrides are in the request.
 * - The native `CodeBuild Build State Change`, for when CloudTrail is late or lost: what the build
 *   ran with (image, privileged mode, variables, buildspec, source) compared with the project as
 *   BatchGetProjects returns it now. A match use case keeps no state, so the look-up is the
 *   reference; when the project was modified after the build started (or cannot be looked up) the
 *   comparison proves nothing and is skipped.
 * Routine overrides by the pipeline itself (automation principals, CodePipeline) are configurable.
 */
import { textOf } from '../../../engine/own-keys.js';
import { z } from 'zod';
import { severityRank, type Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { defineUseCase, optionsOf, type JsonObject, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { buildspecState, isInlineBuildspec, isWatchedProject, normaliseProject, normaliseVariables, observedBuild, timestampOf, variableChanges } from '../codebuild.js';

export const optionsSchema = z.strictObject({
  /** Overrides that are routine when the caller is an automation principal or CodePipeline (which passes variables and its source artifact). */
  automationRoutineOverrides: z
    .array(z.string().min(1))
    .default(['environmentVariablesOverride', 'sourceTypeOverride', 'sourceLocationOverride', 'secondarySourcesOverride', 'secondarySourcesVersionOverride', 'artifactsOverride', 'secondaryArtifactsOverride']),
  /** Compare native build events with the project from BatchGetProjects (catches overrides whose CloudTrail record is late or lost). */
  compareNativeBuilds: z.boolean().default(true),
});
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

async function fromNativeBuild(event: PipelineEvent, ctx: UseCaseContext, options: Options): Promise<Observation | undefined> {
  if (!options.compareNativeBuilds) return undefined;
  const project = stringAt(event.detail, 'project-name');
  const arn = stringAt(event.detail, 'build-id');
  if (!isWatchedProject(ctx.config, project) || !arn) return undefined;
  const looked = await ctx.lookups.codeBuildProject(project);
  if (looked.status !== 'found') return undefined;
  const build = observedBuild(event.detail);
  const started = build.startedAt ?? Date.parse(event.time);
  const modified = timestampOf(looked.value['lastModified']);
  // The project changed after the build started: differences may be that change, not an override.
  if (modified !== undefined && modified >= started) return undefined;
  const expected = normaliseProject(looked.value);
  const routine = build.initiator?.startsWith('codepipeline/') ? new Set(options.automationRoutineOverrides) : new Set<string>();
  const differences: string[] = [];
  const image = stringAt(expected, 'environment', 'image');
  if (build.image && image && build.image !== image) differences.push(`image ${build.image} (project: ${image})`);
  if (build.privilegedMode === true && valueAt(expected, 'environment', 'privilegedMode') !== true) differences.push('privileged mode on (project: off)');
  if (!routine.has('environmentVariablesOverride')) {
    const projectVariables = valueAt(expected, 'environment', 'environmentVariables');
    const changes = variableChanges(Array.isArray(projectVariables) ? projectVariables.filter(isRecord).map((v) => v as JsonObject) : [], build.variables);
    const names = [...changes.added, ...changes.changed];
    if (names.length > 0) differences.push(`variables ${names.join(', ')} differ from the project's`);
  }
  const projectBuildspec = valueAt(expected, 'source', 'buildspec');
  const ranBuildspec = build.buildspec ? buildspecState(build.buildspec) : undefined;
  if (ranBuildspec?.['inline'] === true && ranBuildspec['sha256'] !== valueAt(projectBuildspec, 'sha256')) {
    const projectSays = valueAt(projectBuildspec, 'inline') === true ? `inline ${String(valueAt(projectBuildspec, 'sha256'))}` : `file ${String(valueAt(projectBuildspec, 'preview') ?? 'buildspec.yml')}`;
    differences.push(`inline buildspec ${String(ranBuildspec['sha256'])} (project: ${projectSays})`);
  }
  const sourceType = stringAt(expected, 'source', 'type');
  const sourceLocation = stringAt(expected, 'source', 'location');
  if (!routine.has('sourceLocationOverride') && build.sourceLocation && sourceLocation && build.sourceType === sourceType && build.sourceLocation !== sourceLocation) {
    differences.push(`source ${build.sourceLocation} (project: ${sourceLocation})`);
  }
  if (differences.length === 0) return undefined;
  const number = valueAt(event.detail, 'additional-information', 'build-number');
  return {
    resource: project,
    dedupKey: arn,
    incidentKey: arn,
    severity: 'high',
    summary: `build ${project}${typeof number === 'number' ? ` #${number}` : ''} (started by ${build.initiator ?? 'unknown'}) ran with settings its project does not have: ${differences.join('; ')}`,
    evidence: { project, build: arn, initiator: build.initiator ?? null, differences, comparedWith: 'BatchGetProjects', buildStatus: stringAt(event.detail, 'build-status') ?? null },
  };
}

async function evaluate(event: PipelineEvent, ctx: UseCaseContext): Promise<Observation | undefined> {
  const options = optionsOf(optionsSchema, ctx);
  return event.cloudTrail ? fromStartBuild(event, ctx, options) : fromNativeBuild(event, ctx, options);
}

export default defineUseCase({
  metadata: {
    id: 'build.build-override',
    answers: 'build.server-change',
    title: 'Build started with overrides of its project',
    stage: 'build',
    description:
      'StartBuild or StartBuildBatch on a watched project with a buildspec, image, privileged-mode, environment-variable, service-role or source override (high; artifacts, logs, encryption or a debug session: medium), one finding per build together with the native build event. The native event alone also reveals an override when the build ran with an image, privileged mode, variables, inline buildspec or source that the project (BatchGetProjects) does not have.',
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
  logic: { kind: 'match', evaluate },
});
