/**
 * build.interactive-access: someone opened a shell into a watched project's build environment:
 * CodeBuild sandboxes (StartSandbox, StartSandboxConnection, StartCommandExecution) and builds started
 * with a Session Manager debug session (debugSessionEnabled). Interactive access is how a SUNSPOT-like
 * implant gets onto a build host without changing the project.
 *
 * First-seen account × principal ("never seen doing it"): high after the learning period; every
 * other interactive act is still reported, medium (low, attested, for automation principals). The
 * command text of StartCommandExecution goes to evidence masked and bounded. Findings share a dedup
 * key per project and principal, so a configured dedup window folds one session's calls into one.
 */
import { createHash } from 'node:crypto';
import { stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { redactText } from '../../../engine/redact.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { defineUseCase, type Observation, type RepeatReason, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import { isWatchedProject, projectNameOf } from '../codebuild.js';

/** Longest command text kept in evidence (characters, after masking). */
export const MAX_COMMAND_CHARS = 1024;
/** Command characters shown in the summary (alerts); the evidence keeps up to MAX_COMMAND_CHARS. */
const SUMMARY_COMMAND_CHARS = 120;
/** What CloudTrail logs in place of a field the service marks sensitive. */
const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

const ACTIONS: Readonly<Record<string, string>> = {
  StartSandbox: 'started a sandbox',
  StartSandboxConnection: 'connected to a sandbox',
  StartCommandExecution: 'ran a command in a sandbox',
  StartBuild: 'started a build with a debug session',
  StartBuildBatch: 'started a build batch with a debug session',
};

/**
 * The project of a sandbox: a sandbox ARN `arn:aws:codebuild:<region>:<account>:sandbox/<project>:<uuid>`
 * or a sandbox id `<project>:<uuid>`, like build ids (the id form is inferred from builds').
 */
export function projectOfSandbox(sandbox: string | undefined): string | undefined {
  if (!sandbox) return undefined;
  const bare = /^arn:aws[a-z-]*:codebuild:[^:]*:\d{12}:sandbox\/(.+)$/.exec(sandbox)?.[1] ?? (sandbox.startsWith('arn:') ? undefined : sandbox);
  return bare ? /^(.+):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.exec(bare)?.[1] : undefined;
}

function projectOf(event: PipelineEvent): string | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  switch (record?.eventName) {
    case 'StartSandbox':
      return stringAt(params, 'projectName') ?? stringAt(record.responseElements, 'sandbox', 'projectName');
    case 'StartSandboxConnection':
    case 'StartCommandExecution':
      return projectOfSandbox(stringAt(params, 'sandboxId')) ?? projectOfSandbox(stringAt(record.responseElements, 'commandExecution', 'sandboxArn'));
    case 'StartBuild':
    case 'StartBuildBatch':
      return valueAt(params, 'debugSessionEnabled') === true ? projectNameOf(stringAt(params, 'projectName')) : undefined;
    default:
      return undefined;
  }
}

/** The command as evidence: secrets masked, bounded, with a fingerprint of the whole text. */
export function commandEvidence(command: unknown): Record<string, unknown> | undefined {
  if (typeof command !== 'string') return undefined;
  // The API model marks the command sensitive, so CloudTrail may log this placeholder instead.
  if (command === HIDDEN) return { text: '(hidden by CloudTrail)', length: 0, truncated: false, hidden: true };
  const masked = redactText(command);
  const text = masked.length > MAX_COMMAND_CHARS ? `${masked.slice(0, MAX_COMMAND_CHARS)}…` : masked;
  return { text, length: command.length, truncated: masked.length > MAX_COMMAND_CHARS, sha256: createHash('sha256').update(command).digest('hex').slice(0, 16) };
}

function preview(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > SUMMARY_COMMAND_CHARS ? `${line.slice(0, SUMMARY_COMMAND_CHARS)}…` : line;
}

function sightings(event: PipelineEvent, ctx: UseCaseContext): Sighting[] {
  const project = projectOf(event);
  if (!event.principal || !isWatchedProject(ctx.config, project)) return [];
  const account = event.cloudTrail?.recipientAccountId ?? event.envelope.account ?? 'unknown';
  // Marked expected so a known automation principal stays low too (the engine checks known values first).
  return [{ scope: `codebuild-interactive/${account}`, value: event.principal.key, resource: project, expected: isAutomationPrincipal(ctx.config, event.principal) }];
}

function observe(sighting: Sighting, event: PipelineEvent, first: boolean, why?: RepeatReason): Observation {
  const record = event.cloudTrail;
  const project = sighting.resource ?? 'unknown project';
  const who = event.principal?.arn ?? sighting.value;
  const action = ACTIONS[record?.eventName ?? ''] ?? 'opened interactive access';
  const command = record?.eventName === 'StartCommandExecution' ? commandEvidence(valueAt(record.requestParameters, 'command')) : undefined;
  const sandbox = stringAt(record?.requestParameters, 'sandboxId') ?? stringAt(record?.responseElements, 'sandbox', 'id') ?? null;
  const automation = !first && (why === 'expected' || sighting.expected === true);
  const note = first ? ' for the first time' : automation ? ' (automation principal)' : why === 'learning' ? ' (learning period)' : '';
  return {
    resource: project,
    dedupKey: `${project}|${sighting.value}`,
    severity: first ? 'high' : automation ? 'low' : 'medium',
    ...(automation ? { attestation: true } : {}),
    title: first ? 'New principal opened interactive access to a build environment' : 'Interactive access to a build environment',
    summary: `${who} ${action} on build project ${project}${note}${command ? `: ${preview(String(command['text']))}` : ''}`,
    evidence: {
      project,
      principal: sighting.value,
      eventName: record?.eventName,
      sandboxId: sandbox,
      ...(command ? { command } : {}),
      firstTime: first,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.interactive-access',
    answers: 'build.server-change',
    title: 'Interactive access to a build environment',
    stage: 'build',
    description:
      'CodeBuild sandboxes (StartSandbox, StartSandboxConnection, StartCommandExecution) and builds started with debugSessionEnabled on watched projects: high for a principal never seen doing it in the account (after the learning period), medium otherwise, low and attested for automation principals. The command text goes to evidence masked and bounded.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1059', 'T1609', 'T1195.002'],
    falsePositives: [
      'A developer debugging a failing build: expected now and then; the first time per principal is high on purpose.',
      'A long sandbox session gives one finding per command: set dedupWindowMinutes (e.g. 60) for this use case to fold a session into one finding with a count.',
    ],
    runbook:
      'Ask the principal why it needed a shell in the build environment and read the commands (evidence, CloudTrail, the sandbox logs). If unexpected: stop the sandbox or build, revoke codebuild:StartSandbox/StartCommandExecution and the debug-session rights, and inspect the project and builds run since for changes to sources, caches or artifacts.',
    references: [
      'https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartSandbox.html',
      'https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartCommandExecution.html',
      'https://docs.aws.amazon.com/codebuild/latest/userguide/session-manager.html',
    ],
  },
  pattern: {
    $or: [
      {
        source: ['aws.codebuild'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['StartSandbox', 'StartSandboxConnection', 'StartCommandExecution'] },
      },
      {
        source: ['aws.codebuild'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['StartBuild', 'StartBuildBatch'], requestParameters: { debugSessionEnabled: [true] } },
      },
    ],
  },
  logic: {
    kind: 'firstSeen',
    sightings,
    describe: ({ sighting }, event) => observe(sighting, event, true),
    describeRepeat: (sighting, why, event) => observe(sighting, event, false, why),
  },
});
