/**
 * build.pipeline-change: the CodePipeline that drives the builds was changed, deleted, or had a
 * stage transition disabled. A changed pipeline can swap the build project, drop an approval or a
 * test stage, or run with another role; a disabled transition holds releases (or a fix) back.
 * UpdatePipeline sends the whole definition, so the evidence lists its stages and actions.
 */
import * as z from 'zod';
import type { Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';
import { refusedSummary } from '../phrasing.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  ...infrastructureAsCodeOptions,
  /** Pipeline names to watch; empty watches every pipeline. */
  pipelines: z.array(z.string().min(1)).default([]),
}));

/** Stage → actions ("Build: CodeBuild payments-service-build"), for a reviewer to compare with the intended pipeline. */
function outline(pipeline: unknown): string[] {
  const stages = valueAt(pipeline, 'stages');
  if (!Array.isArray(stages)) return [];
  return stages.filter(isRecord).map((stage) => {
    const actions = Array.isArray(stage['actions']) ? stage['actions'].filter(isRecord) : [];
    const described = actions.map((action) => {
      const provider = stringAt(action, 'actionTypeId', 'provider') ?? stringAt(action, 'actionTypeId', 'category') ?? 'action';
      const target = stringAt(action, 'configuration', 'ProjectName') ?? stringAt(action, 'configuration', 'RepositoryName') ?? stringAt(action, 'configuration', 'FunctionName') ?? '';
      return `${provider}${target ? ` ${target}` : ''}`;
    });
    return `${stringAt(stage, 'name') ?? 'stage'}: ${described.join(', ') || 'no actions'}`;
  });
}

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const params = record.requestParameters ?? {};
  const name = stringAt(params, 'pipeline', 'name') ?? stringAt(params, 'name') ?? stringAt(params, 'pipelineName');
  if (!name || (options.pipelines.length > 0 && !options.pipelines.includes(name))) return undefined;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const iac = viaInfrastructureAsCode(event, options);
  let severity: Severity;
  let title: string;
  let what: string;
  const evidence: Record<string, unknown> = { pipeline: name, eventName: record.eventName, viaInfrastructureAsCode: iac };
  switch (record.eventName) {
    case 'UpdatePipeline': {
      const stages = outline(valueAt(params, 'pipeline'));
      const approvals = stages.filter((s) => /\bManual\b|Approval/.test(s)).length;
      const builds = [...new Set(stages.flatMap((s) => [...s.matchAll(/CodeBuild (\S+?)(?:,|$)/g)].map((m) => m[1] as string)))];
      severity = 'medium';
      title = 'Pipeline definition changed';
      what = `updated pipeline ${name} (${stages.length} stages, ${approvals > 0 ? 'with' : 'no'} manual approval${builds.length > 0 ? `, builds with ${builds.join(', ')}` : ''})`;
      Object.assign(evidence, { stages, roleArn: stringAt(params, 'pipeline', 'roleArn') ?? null, version: valueAt(params, 'pipeline', 'version') ?? null });
      break;
    }
    case 'DeletePipeline':
      severity = 'high';
      title = 'Pipeline deleted';
      what = `deleted pipeline ${name}`;
      break;
    case 'DisableStageTransition': {
      const stage = stringAt(params, 'stageName') ?? 'unknown stage';
      severity = 'medium';
      title = 'Pipeline stage transition disabled';
      what = `disabled the ${(stringAt(params, 'transitionType') ?? '').toLowerCase() || 'stage'} transition of stage ${stage} in pipeline ${name}`;
      Object.assign(evidence, { stage, transitionType: stringAt(params, 'transitionType') ?? null, reason: stringAt(params, 'reason') ?? null });
      break;
    }
    default:
      return undefined;
  }
  const base = { resource: name, dedupKey: `pipeline/${name}|${record.eventName}` };
  if (!event.succeeded) {
    return { ...base, severity: 'low', title: `Refused: ${title.toLowerCase()}`, summary: refusedSummary(who, what, record.errorCode), evidence: { ...evidence, errorCode: record.errorCode } };
  }
  return { ...base, severity: iac ? options.infrastructureAsCodeSeverity : severity, title, summary: `${who} ${what}${iac ? ' (through infrastructure as code)' : ''}`, evidence };
}

export default defineUseCase({
  metadata: {
    id: 'build.pipeline-change',
    answers: 'build.server-change',
    title: 'Pipeline changed, deleted or a stage transition disabled',
    stage: 'build',
    description:
      'CodePipeline UpdatePipeline (medium, with the new stages and actions as evidence), DeletePipeline (high) and DisableStageTransition (medium). Infrastructure-as-code changes (CloudFormation, CDK pipelines that update themselves) are low; refused attempts are low.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 3,
    effort: 1,
    mitre: ['T1195.002', 'T1554'],
    falsePositives: ['Pipeline edits in the console during planned work; prefer infrastructure as code, which is rated low.'],
    runbook:
      'Compare the new stages and actions with the pipeline definition in source control: a swapped build project, a removed approval or test stage, or a new role is a reason to stop the pipeline and restore it. For a disabled transition, ask why and re-enable it.',
    references: ['https://docs.aws.amazon.com/codepipeline/latest/userguide/monitoring-cloudtrail-logs.html'],
    includeFailedCalls: true,
  },
  pattern: {
    source: ['aws.codepipeline'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codepipeline.amazonaws.com'], eventName: ['UpdatePipeline', 'DeletePipeline', 'DisableStageTransition'] },
  },
  optionsSchema,
  logic: { kind: 'match', evaluate: observe },
});
