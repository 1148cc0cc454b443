/**
 * build.refused-project-change: someone tried to change a watched build project and AWS refused.
 * Nothing changed, so build.project-drift (which sees successful calls only, and must not record a
 * refused update as the project's state) stays silent; an attempt is still worth a low note, since
 * attackers probe what their credentials can do.
 */
import { failureOutcome } from '../../../engine/failure.js';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { isWatchedProject, normaliseProject } from '../codebuild.js';

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const record = event.cloudTrail;
  if (!record || event.succeeded) return undefined;
  const params = record.requestParameters ?? {};
  const project = stringAt(params, 'name');
  if (!isWatchedProject(ctx.config, project)) return undefined;
  const fields = Object.keys(normaliseProject(params));
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  return {
    resource: project,
    dedupKey: `project/${project}|${record.eventName}`,
    severity: 'low',
    summary: `${who} tried to ${record.eventName === 'DeleteProject' ? 'delete' : 'change'} build project ${project}${fields.length > 0 ? ` (${fields.join(', ')})` : ''} and ${failureOutcome(record.errorCode)}`,
    evidence: { project, eventName: record.eventName, attemptedFields: fields, errorCode: record.errorCode, errorMessage: record.errorMessage },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.refused-project-change',
    answers: 'build.server-change',
    title: 'Refused attempt to change a build project',
    stage: 'build',
    description:
      'An UpdateProject or DeleteProject on a watched CodeBuild project that AWS refused (AccessDenied and the like). Nothing changed, so the project\'s known state is untouched; the attempt is reported low.',
    severity: 'low',
    defaultMode: 'alert',
    riskReduction: 2,
    effort: 1,
    mitre: ['T1195.002', 'T1580'],
    falsePositives: ['A developer trying an edit their role does not allow; confirm with them.'],
    runbook:
      'Ask the principal what they tried to do. Repeated refusals from one principal, or from one that never works on builds, suggest stolen credentials probing their permissions: review its other calls.',
    references: ['https://docs.aws.amazon.com/codebuild/latest/userguide/cloudtrail.html'],
    includeFailedCalls: true,
  },
  pattern: {
    source: ['aws.codebuild'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codebuild.amazonaws.com'], eventName: ['UpdateProject', 'DeleteProject'], errorCode: [{ exists: true }] },
  },
  logic: { kind: 'match', evaluate: observe },
});
