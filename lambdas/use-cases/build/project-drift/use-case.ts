/**
 * build.project-drift: a watched CodeBuild project differs from its last known state. CreateProject
 * gives a baseline; UpdateProject carries only the fields the caller sent, so they are merged into
 * the known state before diffing (a console edit resends everything; only real changes count).
 */
import type { Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type DiffEntry, type DriftFacts, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { isWatchedProject, normaliseProject } from '../codebuild.js';

/** Severity by what changed (first match wins); undefined means record only. */
const SEVERITY_BY_PATH: ReadonlyArray<readonly [RegExp, Severity]> = [
  [/^source\.buildspec/, 'critical'],
  [/^serviceRole$/, 'critical'],
  [/^environment\.(image|privilegedMode|imagePullCredentialsType|certificate)$/, 'high'],
  [/^environment\.environmentVariables$/, 'high'],
  [/^source\.(location|type|insecureSsl)$/, 'high'],
  [/^secondarySources/, 'high'],
  [/^(logsConfig|vpcConfig)/, 'high'],
  [/^(encryptionKey|artifacts)/, 'medium'],
  [/^(sourceVersion|environment\.(computeType|type))/, 'low'],
];

function severityOf(entry: DiffEntry): Severity | undefined {
  return SEVERITY_BY_PATH.find(([pattern]) => pattern.test(entry.path))?.[1];
}

const RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

function report(event: PipelineEvent, ctx: UseCaseContext): StateReport | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const responseProject = valueAt(record.responseElements, 'project');
  const params = record.requestParameters ?? {};
  const name = stringAt(responseProject, 'name') ?? stringAt(params, 'name');
  if (!isWatchedProject(ctx.config, name)) return undefined;
  // A full project in the response is the complete new state; the request alone is partial.
  const full = isRecord(responseProject) && record.eventName === 'CreateProject';
  const source = full ? responseProject : params;
  return { key: `project/${name}`, resource: name, state: normaliseProject(source), partial: record.eventName === 'UpdateProject' };
}

/** Per-variable changes, which the whole-list diff entry hides. */
function variableChanges(facts: DriftFacts): string[] {
  const list = (state: unknown): Map<string, string> => {
    const variables = valueAt(state, 'environment', 'environmentVariables');
    const map = new Map<string, string>();
    if (Array.isArray(variables)) for (const v of variables.filter(isRecord)) map.set(String(v['name']), JSON.stringify(v));
    return map;
  };
  const before = list(facts.before);
  const after = list(facts.after);
  const changes: string[] = [];
  for (const [name, value] of after) {
    if (!before.has(name)) changes.push(`${name} added${value.includes('plaintextSecret') ? ' (PLAINTEXT value that looks like a secret)' : ''}`);
    else if (before.get(name) !== value) changes.push(`${name} changed`);
  }
  for (const name of before.keys()) if (!after.has(name)) changes.push(`${name} removed`);
  return changes;
}

function viaInfrastructureAsCode(event: PipelineEvent): boolean {
  const invokedBy = event.cloudTrail?.userIdentity?.invokedBy;
  return invokedBy === 'cloudformation.amazonaws.com' || event.userAgent === 'cloudformation.amazonaws.com';
}

function assess(facts: DriftFacts, event: PipelineEvent): Observation | undefined {
  const graded = facts.diff.map((entry) => ({ entry, severity: severityOf(entry) }));
  const alerting = graded.filter((g) => g.severity !== undefined);
  let severity: Severity = alerting.reduce<Severity>((max, g) => (RANK[g.severity as Severity] > RANK[max] ? (g.severity as Severity) : max), 'info');
  const iac = viaInfrastructureAsCode(event);
  if (iac && alerting.length > 0) severity = 'low';
  const project = facts.report.resource ?? facts.report.key;
  // A buildspec is one thing to a reader, however many facets of it changed.
  const paths = [...new Set(facts.diff.map((entry) => entry.path.replace(/^source\.buildspec\..*$/, 'source.buildspec')))];
  const variables = variableChanges(facts);
  return {
    resource: project,
    dedupKey: facts.report.key,
    severity: alerting.length > 0 ? severity : 'info',
    // Descriptions, tags and timeouts: evidence for audits, not a page.
    attestation: alerting.length === 0,
    title: alerting.length > 0 ? 'Build project changed from its last known state' : 'Build project metadata changed',
    summary: `${event.principal?.arn ?? 'unknown principal'} changed build project ${project}${iac ? ' through CloudFormation' : ''}: ${paths.join(', ')}${variables.length > 0 ? ` (variables: ${variables.join('; ')})` : ''}`,
    evidence: { project, diff: facts.diff, environmentVariables: variables, knownSince: facts.since, viaCloudFormation: iac, eventName: event.cloudTrail?.eventName },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.project-drift',
    answers: 'build.server-change',
    title: 'Build project changed from its last known state',
    stage: 'build',
    description:
      'Keeps the last known state of each watched CodeBuild project (from CreateProject and UpdateProject) and reports what an update changed, graded by risk: an inline buildspec or a new service role is critical, a new image, privileged mode, source, variables, logging or network is high.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 2,
    mitre: ['T1195.002', 'T1554'],
    falsePositives: ['Planned pipeline changes made by hand; prefer infrastructure as code, which this use case rates low.'],
    runbook:
      'Compare the diff with the team\'s change records. For an unexpected buildspec, image or role change: stop the project\'s builds, restore the project definition from source control, and inspect builds run since the change for tampered artifacts.',
    references: ['https://docs.aws.amazon.com/codebuild/latest/userguide/cloudtrail.html'],
  },
  pattern: {
    source: ['aws.codebuild'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['CreateProject', 'UpdateProject'] },
  },
  logic: { kind: 'drift', report, assess },
});
