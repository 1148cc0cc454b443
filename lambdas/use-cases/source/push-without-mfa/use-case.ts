/**
 * source.push-without-mfa: code reached a repository (push, merge, direct commit) or a pull request
 * was approved or its rules overridden, by a session IAM did not see authenticated with MFA.
 *
 * One push is at most one finding (and by default one a day per principal, repository and situation):
 * only the GitPush write record counts. Its read-only negotiation twin
 * carries the same identity, and the native reference events carry no MFA at all, so neither adds
 * anything. The incident key is the CloudTrail eventID, so the same record delivered by EventBridge
 * and again from the trail's S3 file is still one finding.
 */
import * as z from 'zod';
import type { Severity } from '../../../engine/model.js';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { actorOf, cloudTrailIncident, contributionOf, DIRECT_COMMIT_CALLS, inScope, MERGE_CALLS, repositoryOf } from '../codecommit.js';
import { mfaVerdict, type MfaState } from '../mfa.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Report Identity Center, SAML, web-identity and federated sessions, whose MFA IAM cannot see (as low). */
  reportUnknown: z.boolean().default(false),
  /** Report IAM users' long-lived credentials (Git credentials, SSH keys, access keys), which cannot carry MFA. */
  reportImpossible: z.boolean().default(true),
  /** Roles people reach through an external identity provider (ARN or glob): their MFA is unknown, not absent. */
  idpRoles: z.array(z.string().min(1)).default([]),
  /**
   * How often the same principal, repository and situation makes a new finding: once a day (the
   * default: the situation rarely changes within a day, and a finding per push buries the signal),
   * or for every action.
   */
  findingPer: z.enum(['day', 'action']).default('day'),
}));

const APPROVAL_CALLS = ['UpdatePullRequestApprovalState', 'OverridePullRequestApprovalRules'] as const;

const TITLES: Readonly<Record<Exclude<MfaState, 'present'>, string>> = {
  absent: 'Code change or approval without MFA',
  impossible: 'Code change or approval with credentials that cannot use MFA',
  unknown: 'Code change or approval with MFA unknown',
};

const SEVERITIES: Readonly<Record<Exclude<MfaState, 'present'>, Severity>> = { absent: 'medium', impossible: 'medium', unknown: 'low' };

/** What the call did, as `<verb> <repository>`; undefined for calls that are not a write or an approval. */
function actionOf(event: PipelineEvent): { verb: string; refs: string[]; commits: string[] } | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  if (record.eventName === 'UpdatePullRequestApprovalState') {
    return stringAt(params, 'approvalState') === 'APPROVE' ? { verb: `approved pull request ${stringAt(params, 'pullRequestId') ?? '(unknown)'} in`, refs: [], commits: [] } : undefined;
  }
  if (record.eventName === 'OverridePullRequestApprovalRules') {
    return stringAt(params, 'overrideStatus') === 'OVERRIDE' ? { verb: `overrode the approval rules of pull request ${stringAt(params, 'pullRequestId') ?? '(unknown)'} in`, refs: [], commits: [] } : undefined;
  }
  const contribution = contributionOf(event);
  // The negotiation record of a push repeats the write record's identity: the write record speaks for the push.
  if (!contribution || contribution.kind === 'push-session' || contribution.kind === 'branch') return undefined;
  return { verb: contribution.verb, refs: contribution.refs, commits: contribution.commits };
}

function evaluate(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const record = event.cloudTrail;
  if (!record || isAutomationPrincipal(ctx.config, event.principal)) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const repository = repositoryOf(event);
  if (!inScope(ctx.config, repository)) return undefined;
  const action = actionOf(event);
  if (!action) return undefined;
  const verdict = mfaVerdict(record, event.principal, options.idpRoles);
  if (verdict.state === 'present') return undefined;
  if (verdict.state === 'unknown' && !options.reportUnknown) return undefined;
  if (verdict.state === 'impossible' && !options.reportImpossible) return undefined;
  const where = repository ?? 'a repository (name not in the record)';
  const principalKey = event.principal?.key ?? 'unknown';
  return {
    title: TITLES[verdict.state],
    severity: SEVERITIES[verdict.state],
    ...(repository ? { resource: repository } : {}),
    dedupKey: `${where}|${principalKey}|${verdict.state}`,
    incidentKey: options.findingPer === 'day' ? `${where}|${principalKey}|${verdict.state}|${event.time.slice(0, 10)}` : cloudTrailIncident(event),
    summary: `${actorOf(event)} ${action.verb} ${where}: ${verdict.reason}`,
    evidence: {
      repository: repository ?? null,
      mfa: verdict.state,
      reason: verdict.reason,
      principalType: record.userIdentity?.type,
      eventName: record.eventName,
      refs: action.refs,
      commits: action.commits,
      mfaAuthenticated: record.userIdentity?.sessionContext?.attributes?.mfaAuthenticated ?? null,
      sessionIssuer: record.userIdentity?.sessionContext?.sessionIssuer?.arn ?? null,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'source.push-without-mfa',
    answers: 'source.no-mfa',
    title: 'Code change or approval without MFA',
    stage: 'source',
    description:
      'A push, merge, direct commit or pull-request approval by a session without MFA: "no MFA" when the session says mfaAuthenticated "false", "MFA impossible" for IAM users\' long-lived Git credentials, SSH keys and access keys, "MFA unknown" (not reported by default) for Identity Center and federated sessions whose MFA IAM cannot see. Automation principals are exempt.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 3,
    effort: 2,
    mitre: ['T1078.004', 'T1195.002'],
    falsePositives: [
      'Developers who push with HTTPS Git credentials or SSH keys of IAM users: move them to federated access (git-remote-codecommit), or set reportImpossible to false (or suppress them with an expiry) while migrating.',
      'A CI role not listed in automationPrincipals.',
      'SAML-federated roles: list them in idpRoles, so they count as MFA unknown.',
    ],
    runbook:
      'Confirm with the principal that the change is theirs. For "MFA impossible", plan the move from IAM users\' Git credentials and SSH keys to federated sessions; for "no MFA", require aws:MultiFactorAuthPresent in the role\'s trust policy. If the change is not theirs, revoke the credentials and review the pushed commits.',
    references: [
      'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html',
      'https://docs.aws.amazon.com/codecommit/latest/userguide/integ-cloudtrail.html',
    ],
  },
  pattern: {
    source: ['aws.codecommit'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codecommit.amazonaws.com'], eventName: ['GitPush', ...MERGE_CALLS, ...DIRECT_COMMIT_CALLS, ...APPROVAL_CALLS] },
  },
  logic: { kind: 'match', evaluate },
  optionsSchema,
});
