/**
 * source.review-bypass: code review set aside or weakened. Pull-request approval rules overridden,
 * approval-rule templates deleted, disassociated from a watched repository or rewritten, and
 * pull-request approval rules deleted or rewritten.
 *
 * CloudTrail only: CodeCommit's native approval events repeat the same actions without the error
 * code, source address or session, and a refused attempt exists only in CloudTrail.
 * Only the new rule content is logged, so a rewrite is judged by what it now requires: fewer
 * approvals than `minApprovals` (no approvals at all by default) is a weakening.
 */
import * as z from 'zod';
import { stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { describeRequirement, requirementOf } from '../approval-rules.js';
import { observationOf, type Change } from '../change.js';
import { inScope, isWatchedRepository, repositoryOf } from '../codecommit.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** A rewritten rule that needs fewer approvals than this is a weakening (high); otherwise the rewrite is medium. */
  minApprovals: z.number().int().min(1).max(20).default(1),
}));

const templateResource = (name: string): string => `approval-rule-template/${name}`;

/** A rewritten rule's new content: high when it needs fewer approvals than required, medium otherwise. */
function rewrite(content: unknown, minApprovals: number): { weakened: boolean; detail: string; requirement: unknown } {
  const requirement = requirementOf(content);
  if (!requirement) return { weakened: false, detail: 'the new content is not readable JSON; review it', requirement: null };
  const weakened = requirement.approvals < minApprovals;
  return { weakened, detail: `it now requires ${describeRequirement(requirement)}${weakened ? ` (fewer than ${minApprovals})` : ''}`, requirement };
}

function pullRequestChange(event: PipelineEvent, ctx: UseCaseContext, minApprovals: number): Change | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const repository = repositoryOf(event);
  if (!inScope(ctx.config, repository)) return undefined;
  const pullRequest = stringAt(params, 'pullRequestId') ?? '(unknown)';
  const where = repository ? ` in ${repository}` : '';
  const common = { ...(repository ? { resource: repository } : {}), evidence: { repository: repository ?? null, pullRequestId: pullRequest } };
  switch (record.eventName) {
    case 'OverridePullRequestApprovalRules': {
      // REVOKE reinstates the rules: the opposite of a bypass.
      if (stringAt(params, 'overrideStatus') !== 'OVERRIDE') return undefined;
      const subject = `the approval rules of pull request ${pullRequest}${where}`;
      return { ...common, severity: 'high', title: 'Pull request approval rules overridden', did: `overrode ${subject}`, attempt: `override ${subject}`, detail: 'it can now be merged without the required approvals', evidence: { ...common.evidence, revisionId: stringAt(params, 'revisionId') ?? null } };
    }
    case 'DeletePullRequestApprovalRule': {
      const subject = `approval rule ${stringAt(params, 'approvalRuleName') ?? '(unnamed)'} of pull request ${pullRequest}${where}`;
      return { ...common, severity: 'medium', title: 'Pull request approval rule deleted', did: `deleted ${subject}`, attempt: `delete ${subject}` };
    }
    case 'UpdatePullRequestApprovalRuleContent': {
      const subject = `approval rule ${stringAt(params, 'approvalRuleName') ?? '(unnamed)'} of pull request ${pullRequest}${where}`;
      const judged = rewrite(params['newRuleContent'], minApprovals);
      return {
        ...common,
        severity: judged.weakened ? 'high' : 'medium',
        title: judged.weakened ? 'Pull request approval rule weakened' : 'Pull request approval rule changed',
        did: `${judged.weakened ? 'weakened' : 'changed'} ${subject}`,
        attempt: `change ${subject}`,
        detail: judged.detail,
        evidence: { ...common.evidence, requirement: judged.requirement },
      };
    }
    default:
      return undefined;
  }
}

function templateChanges(event: PipelineEvent, ctx: UseCaseContext, minApprovals: number): Change[] {
  const record = event.cloudTrail;
  if (!record) return [];
  const params = record.requestParameters ?? {};
  const template = stringAt(params, 'approvalRuleTemplateName') ?? '(unnamed)';
  const evidence = { template };
  switch (record.eventName) {
    case 'DeleteApprovalRuleTemplate':
      return [{ severity: 'high', title: 'Approval rule template deleted', did: `deleted approval rule template ${template}`, attempt: `delete approval rule template ${template}`, detail: 'pull requests in the repositories it was associated with no longer get its approval rule', resource: templateResource(template), evidence }];
    case 'DisassociateApprovalRuleTemplateFromRepository': {
      const repository = stringAt(params, 'repositoryName');
      if (!isWatchedRepository(ctx.config, repository)) return [];
      return [disassociation(template, repository, event)];
    }
    case 'BatchDisassociateApprovalRuleTemplateFromRepositories': {
      const requested = valueAt(params, 'repositoryNames');
      const done = valueAt(record.responseElements, 'disassociatedRepositoryNames');
      const names = (Array.isArray(done) && event.succeeded ? done : Array.isArray(requested) ? requested : []).filter((n): n is string => typeof n === 'string');
      return names.filter((name) => isWatchedRepository(ctx.config, name)).map((name) => disassociation(template, name, event));
    }
    case 'UpdateApprovalRuleTemplateContent': {
      const judged = rewrite(params['newRuleContent'], minApprovals);
      return [{
        severity: judged.weakened ? 'high' : 'medium',
        title: judged.weakened ? 'Approval rule template weakened' : 'Approval rule template changed',
        did: `${judged.weakened ? 'weakened' : 'changed'} approval rule template ${template}`,
        attempt: `change approval rule template ${template}`,
        detail: judged.detail,
        resource: templateResource(template),
        evidence: { ...evidence, requirement: judged.requirement },
      }];
    }
    default:
      return [];
  }
}

function disassociation(template: string, repository: string, event: PipelineEvent): Change {
  const subject = `approval rule template ${template} from ${repository}`;
  const id = event.cloudTrail?.eventID ?? event.id;
  return {
    severity: 'high',
    title: 'Approval rule template removed from a repository',
    did: `disassociated ${subject}`,
    attempt: `disassociate ${subject}`,
    detail: 'new pull requests there no longer get its approval rule',
    resource: repository,
    // One finding per repository of a batch, so each repository's team hears of it.
    incidentKey: `cloudtrail|${id}|${repository}`,
    evidence: { template, repository },
  };
}

function evaluate(event: PipelineEvent, ctx: UseCaseContext): Observation[] {
  const { minApprovals } = optionsOf(optionsSchema, ctx);
  const pullRequest = pullRequestChange(event, ctx, minApprovals);
  const changes = pullRequest ? [pullRequest] : templateChanges(event, ctx, minApprovals);
  return changes.map((change) => observationOf(change, event));
}

export default defineUseCase({
  metadata: {
    id: 'source.review-bypass',
    answers: 'source.review-bypass',
    title: 'Code review bypassed or approval rule weakened',
    stage: 'source',
    description:
      'Pull-request approval rules overridden, approval-rule templates deleted or disassociated from a watched repository (high), approval rules rewritten (medium, high when they no longer require approvals), pull-request approval rules deleted (medium). Refused attempts are low.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 1,
    mitre: ['T1195.002', 'T1562.001'],
    falsePositives: [
      'An emergency fix merged with an agreed override: record the approval in the change ticket.',
      'A planned reorganisation of approval-rule templates: suppress with an expiry for the change window.',
    ],
    runbook:
      'Ask the principal why review was set aside, and who agreed. Review the pull request\'s commits (or, for a template change, the pull requests merged since) before the next build; restore the template or its association if the change was not agreed.',
    references: [
      'https://docs.aws.amazon.com/codecommit/latest/userguide/how-to-override-approval-rules.html',
      'https://docs.aws.amazon.com/codecommit/latest/userguide/approval-rule-templates.html',
    ],
    includeFailedCalls: true,
  },
  pattern: {
    source: ['aws.codecommit'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['codecommit.amazonaws.com'],
      eventName: [
        'OverridePullRequestApprovalRules',
        'DeletePullRequestApprovalRule',
        'UpdatePullRequestApprovalRuleContent',
        'DeleteApprovalRuleTemplate',
        'DisassociateApprovalRuleTemplateFromRepository',
        'BatchDisassociateApprovalRuleTemplateFromRepositories',
        'UpdateApprovalRuleTemplateContent',
      ],
    },
  },
  logic: { kind: 'match', evaluate },
  optionsSchema,
});
