/**
 * build.project-exposure: who can see or trigger a build changed. A public project exposes its build
 * logs and artifacts; source credentials and webhooks decide which code and whose events start
 * builds (an unfiltered pull-request webhook lets anyone on GitHub run code with the project's role);
 * a resource policy shares the project with other accounts.
 */
import { textOf } from '../../../engine/own-keys.js';
import * as z from 'zod';
import type { Severity } from '../../../engine/model.js';
import { isRecord, stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { isWatchedProject, projectNameOf } from '../codebuild.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';
import { refusedSummary } from '../phrasing.js';
import { policyExposure } from '../policy-principals.js';
import { trustedAccountsOf } from '../../organization-membership.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  ...infrastructureAsCodeOptions,
  /** Accounts a project may be shared with (besides its own). */
  trustedAccounts: z.array(z.string().regex(/^\d{12}$/, '12-digit account id')).default([]),
}));

const PULL_REQUEST_EVENTS = /PULL_REQUEST_(CREATED|UPDATED|REOPENED)/;

/** Why a webhook's filters let builds start from events or people nobody vetted; empty when they do not. */
export function permissiveWebhook(params: Record<string, unknown>): string[] {
  const groups = params['filterGroups'];
  if (!Array.isArray(groups) || groups.length === 0) {
    return typeof params['branchFilter'] === 'string' && params['branchFilter'] !== '' ? [] : ['no filter groups: every push and pull request from anyone starts a build'];
  }
  const reasons = new Set<string>();
  for (const group of groups) {
    const filters = Array.isArray(group) ? group.filter(isRecord) : [];
    const event = filters.find((f) => f['type'] === 'EVENT');
    const coversPullRequests = !event || PULL_REQUEST_EVENTS.test(textOf(event['pattern']));
    if (!coversPullRequests) continue;
    const actors = filters.filter((f) => f['type'] === 'ACTOR_ACCOUNT_ID' && f['excludeMatchedPattern'] !== true);
    if (actors.length === 0) reasons.add('pull requests from any account start builds (no ACTOR_ACCOUNT_ID filter)');
    // An unanchored account pattern also matches longer ids that merely contain a trusted one.
    else if (actors.some((f) => !/^\^.*\$$/.test(textOf(f['pattern'])))) reasons.add('ACTOR_ACCOUNT_ID pattern is not anchored with ^…$');
  }
  return [...reasons];
}

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const params = record.requestParameters ?? {};
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const iac = viaInfrastructureAsCode(event, options);
  const report = (resource: string, severity: Severity, title: string, what: string, evidence: Record<string, unknown>, exposesToOthers = false): Observation => {
    const base = { resource, dedupKey: `${resource}|${record.eventName}`, evidence: { eventName: record.eventName, ...evidence, viaInfrastructureAsCode: iac } };
    if (!event.succeeded) {
      return { ...base, severity: 'low', title: `Refused: ${title.toLowerCase()}`, summary: refusedSummary(who, what, record.errorCode), evidence: { ...base.evidence, errorCode: record.errorCode } };
    }
    // Exposure to everyone or to other accounts is not lowered for infrastructure as code.
    return { ...base, severity: iac && !exposesToOthers ? options.infrastructureAsCodeSeverity : severity, title, summary: `${who} ${what}${iac ? ' (through infrastructure as code)' : ''}` };
  };

  switch (record.eventName) {
    case 'UpdateProjectVisibility': {
      const project = projectNameOf(stringAt(params, 'projectArn'));
      if (!isWatchedProject(ctx.config, project) || params['projectVisibility'] !== 'PUBLIC_READ') return undefined;
      const role = stringAt(params, 'resourceAccessRole');
      return report(project, 'high', 'Build project made public', `made build project ${project} public (PUBLIC_READ${role ? `, logs and artifacts readable through ${role}` : ''})`, { project, projectVisibility: 'PUBLIC_READ', resourceAccessRole: role ?? null }, true);
    }
    case 'ImportSourceCredentials': {
      const server = stringAt(params, 'serverType') ?? 'unknown server';
      return report(`source-credentials/${server}`, 'medium', 'Build source credentials imported', `imported ${stringAt(params, 'authType') ? `${stringAt(params, 'authType')} ` : ''}source credentials for ${server}${params['shouldOverwrite'] === true ? ' (overwriting the existing ones)' : ''}`, {
        serverType: server,
        authType: stringAt(params, 'authType') ?? null,
        shouldOverwrite: params['shouldOverwrite'] ?? null,
        username: stringAt(params, 'username') ?? null,
      });
    }
    case 'DeleteSourceCredentials': {
      const arn = stringAt(params, 'arn') ?? 'unknown credentials';
      return report(arn, 'medium', 'Build source credentials deleted', `deleted source credentials ${arn}`, { arn });
    }
    case 'CreateWebhook':
    case 'UpdateWebhook':
    case 'DeleteWebhook': {
      const project = stringAt(params, 'projectName');
      if (!isWatchedProject(ctx.config, project)) return undefined;
      const loose = record.eventName === 'DeleteWebhook' ? [] : permissiveWebhook(params);
      const evidence = { project, filterGroups: params['filterGroups'] ?? null, branchFilter: params['branchFilter'] ?? null, buildType: params['buildType'] ?? null, permissive: loose };
      if (record.eventName === 'DeleteWebhook') return report(project, 'medium', 'Build webhook deleted', `deleted the webhook of build project ${project}`, evidence);
      if (record.eventName === 'CreateWebhook') return report(project, 'medium', 'Build webhook created', `created a webhook for build project ${project}${loose.length > 0 ? `: ${loose.join('; ')}` : ''}`, evidence);
      // An update that only rotates the secret or tightens the filters is not a loosening.
      if (!('filterGroups' in params) && !('branchFilter' in params)) return undefined;
      if (loose.length === 0) return undefined;
      return report(project, 'medium', 'Build webhook loosened', `loosened the webhook of build project ${project}: ${loose.join('; ')}`, evidence);
    }
    case 'PutResourcePolicy': {
      const arn = stringAt(params, 'resourceArn');
      const project = projectNameOf(arn);
      if (!arn?.includes(':project/') || !isWatchedProject(ctx.config, project)) return undefined;
      const account = /:(\d{12}):project\//.exec(arn)?.[1];
      const exposure = policyExposure(params['policy'], account, [...trustedAccountsOf(ctx.config, options.trustedAccounts)]);
      const others = exposure.publicStatements.length > 0 || exposure.externalAccounts.length > 0;
      const whom = exposure.publicStatements.length > 0 ? 'everyone' : exposure.externalAccounts.length > 0 ? `accounts ${exposure.externalAccounts.join(', ')}` : 'principals of its own account';
      return report(project, others ? 'high' : 'medium', 'Build project shared', `shared build project ${project} with ${whom}`, { project, externalAccounts: exposure.externalAccounts, publicStatements: exposure.publicStatements }, others);
    }
    default:
      return undefined;
  }
}

export default defineUseCase({
  metadata: {
    id: 'build.project-exposure',
    answers: 'build.server-change',
    title: 'Build project exposed or its triggers changed',
    stage: 'build',
    description:
      'UpdateProjectVisibility to PUBLIC_READ and project resource policies that share a project with everyone or other accounts (high); source credentials imported or deleted, webhooks created, deleted or loosened (no filters, pull requests from anyone, unanchored ACTOR_ACCOUNT_ID) (medium). Refused attempts are low; infrastructure-as-code changes are low unless they expose the project to others.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 1,
    mitre: ['T1195.002', 'T1567', 'T1098'],
    falsePositives: ['Open-source projects that are public on purpose: suppress per project with a reason.', 'Credential rotation by the platform team.'],
    runbook:
      'Confirm the change with the project owner. A public project: set it back to PRIVATE and check its logs and artifacts for secrets. A loosened webhook: restore ACTOR_ACCOUNT_ID filters (anchored ^…$) and review builds started by pull requests since. New source credentials: confirm whose token it is and rotate it if unknown.',
    references: [
      'https://docs.aws.amazon.com/codebuild/latest/userguide/public-builds.html',
      'https://docs.aws.amazon.com/codebuild/latest/userguide/github-webhook.html',
      'https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ImportSourceCredentials.html',
    ],
    includeFailedCalls: true,
  },
  pattern: {
    source: ['aws.codebuild'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['codebuild.amazonaws.com'],
      eventName: ['UpdateProjectVisibility', 'ImportSourceCredentials', 'DeleteSourceCredentials', 'CreateWebhook', 'UpdateWebhook', 'DeleteWebhook', 'PutResourcePolicy'],
    },
  },
  optionsSchema,
  logic: { kind: 'match', evaluate: observe },
});
