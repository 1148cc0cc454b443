/**
 * The source-stage helpers on the edges the labelled cases do not reach: every identity type's MFA
 * verdict, approval-rule content that is odd or broken, branch globs and where a repository name hides.
 */
import { describe, expect, it } from 'vitest';
import { envelopeForCloudTrail, type CloudTrailRecord, type EventBridgeEvent } from '../../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../../lambdas/engine/pipeline-event.js';
import { principalFromIdentity } from '../../../lambdas/engine/principal.js';
import { describeRequirement, requirementOf } from '../../../lambdas/use-cases/source/approval-rules.js';
import { contributionOf, matchesBranch, repositoryOf } from '../../../lambdas/use-cases/source/codecommit.js';
import { mfaVerdict } from '../../../lambdas/use-cases/source/mfa.js';

const ACCOUNT = '111122223333';

function record(userIdentity: CloudTrailRecord['userIdentity'], overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.10',
    eventTime: '2026-10-26T10:00:00Z',
    eventSource: 'codecommit.amazonaws.com',
    eventName: 'GitPush',
    eventID: 'b7c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e',
    eventType: 'AwsApiCall',
    recipientAccountId: ACCOUNT,
    userIdentity,
    ...overrides,
  };
}

const verdict = (r: CloudTrailRecord, idpRoles: string[] = []) => mfaVerdict(r, principalFromIdentity(r.userIdentity), idpRoles).state;

const role = (name: string, session: string, mfa: string, extra: Record<string, unknown> = {}) => ({
  type: 'AssumedRole',
  principalId: `AROAEXAMPLE:${session}`,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/${session}`,
  accountId: ACCOUNT,
  sessionContext: {
    sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, accountId: ACCOUNT, userName: name },
    webIdFederationData: {},
    attributes: { creationDate: '2026-10-26T09:00:00Z', mfaAuthenticated: mfa },
    ...extra,
  },
});

describe('mfaVerdict', () => {
  it('tells an IAM user\'s long-lived credentials (impossible) from its console session (the flag)', () => {
    const user = { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/bob`, accountId: ACCOUNT, userName: 'bob' };
    expect(verdict(record(user))).toBe('impossible');
    expect(verdict(record({ ...user, sessionContext: { attributes: { mfaAuthenticated: 'false' } } }))).toBe('absent');
    expect(verdict(record({ ...user, sessionContext: { attributes: { mfaAuthenticated: 'true' } } }))).toBe('present');
    expect(verdict(record({ type: 'Root', arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT }))).toBe('impossible');
  });

  it('names the long-lived credential an IAM user pushed with', () => {
    const user = { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/bob`, accountId: ACCOUNT, userName: 'bob' };
    const reason = (r: CloudTrailRecord) => mfaVerdict(r, principalFromIdentity(r.userIdentity), []).reason;
    expect(reason(record(user, { userAgent: 'SSH-2.0-OpenSSH_9.6', additionalEventData: { protocol: 'SSH' } }))).toContain('an SSH key');
    expect(reason(record({ ...user, accessKeyId: '' }, { userAgent: 'git/2.45.2', additionalEventData: { protocol: 'HTTP' } }))).toContain('HTTPS Git credentials');
    expect(reason(record({ ...user, accessKeyId: 'AKIAEXAMPLEBOBKEY001' }, { userAgent: 'git/2.45.2 git-remote-codecommit/1.17', additionalEventData: { protocol: 'HTTP' } }))).toContain('a long-term access key');
  });

  it('reads a role session\'s flag, also when a tool re-serialised it as a boolean, and ignores an empty webIdFederationData', () => {
    expect(verdict(record(role('ops-engineer', 'dana', 'false')))).toBe('absent');
    expect(verdict(record(role('platform-lead', 'rui', 'true')))).toBe('present');
    const boolean = role('ops-engineer', 'dana', 'x');
    boolean.sessionContext.attributes = { creationDate: '2026-10-26T09:00:00Z', mfaAuthenticated: true as unknown as string };
    expect(verdict(record(boolean))).toBe('present');
  });

  it('says unknown where IAM cannot see the MFA', () => {
    const sso = role('AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b', 'alice@acme.example', 'false');
    sso.sessionContext.sessionIssuer.arn = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b`;
    expect(verdict(record(sso))).toBe('unknown');
    expect(verdict(record(role('github-mirror', 'gh', 'false', { webIdFederationData: { federatedProvider: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' } })))).toBe('unknown');
    expect(verdict(record(role('AcmeOkta-Developers', 'erin@acme.example', 'false')), ['arn:aws:iam::111122223333:role/AcmeOkta-*'])).toBe('unknown');
    expect(verdict(record({ type: 'FederatedUser', arn: `arn:aws:sts::${ACCOUNT}:federated-user/broker`, accountId: ACCOUNT }))).toBe('unknown');
    expect(verdict(record({ type: 'IdentityCenterUser', accountId: ACCOUNT, onBehalfOf: { userId: 'u-1', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1' } }))).toBe('unknown');
    expect(verdict(record({ ...role('ops-engineer', 'dana', 'false'), invokedBy: 'codepipeline.amazonaws.com' }))).toBe('unknown');
    expect(verdict(record(undefined))).toBe('unknown');
  });
});

describe('approval-rule content', () => {
  it('takes the strictest Approvers statement, with its pool and branches', () => {
    const content = JSON.stringify({
      Version: '2018-11-08',
      DestinationReferences: ['refs/heads/main'],
      Statements: [
        { Type: 'Approvers', NumberOfApprovalsNeeded: 1, ApprovalPoolMembers: ['CodeCommitReview/*'] },
        { Type: 'Approvers', NumberOfApprovalsNeeded: 2 },
      ],
    });
    const requirement = requirementOf(content);
    expect(requirement).toEqual({ approvals: 2, poolMembers: ['CodeCommitReview/*'], branches: ['refs/heads/main'] });
    expect(describeRequirement(requirement!)).toBe('2 approvals from CodeCommitReview/* on refs/heads/main');
  });

  it('reads no statements as no approvals, and refuses what is not JSON content', () => {
    expect(requirementOf('{"Version":"2018-11-08","Statements":[]}')).toEqual({ approvals: 0, poolMembers: [], branches: [] });
    expect(requirementOf('{"Version": ')).toBeUndefined();
    expect(requirementOf('{"Statements":"all"}')).toBeUndefined();
    expect(requirementOf(undefined)).toBeUndefined();
  });
});

describe('CodeCommit accessors', () => {
  it('matches branch names and globs, with or without refs/heads/', () => {
    expect(matchesBranch(['main', 'release/*'], 'refs/heads/main')).toBe(true);
    expect(matchesBranch(['main', 'release/*'], 'release/2.3')).toBe(true);
    expect(matchesBranch(['refs/heads/main'], 'main')).toBe(true);
    expect(matchesBranch(['main'], 'main-old')).toBe(false);
    expect(matchesBranch(['release/*'], 'hotfix/release')).toBe(false);
  });

  it('finds the repository of pull-request events and of calls that only name a pull request', () => {
    const native: EventBridgeEvent = {
      version: '0', id: 'e1', 'detail-type': 'CodeCommit Pull Request State Change', source: 'aws.codecommit', account: ACCOUNT,
      time: '2026-10-26T10:00:00Z', region: 'eu-west-1', resources: [], detail: { event: 'pullRequestMergeStatusUpdated', isMerged: 'True', repositoryNames: ['payments-service'] },
    };
    expect(repositoryOf(toPipelineEvent(native))).toBe('payments-service');
    const override = record(role('ops-engineer', 'dana', 'false'), {
      eventName: 'OverridePullRequestApprovalRules',
      requestParameters: { pullRequestId: '221', revisionId: 'r', overrideStatus: 'OVERRIDE' },
      resources: [{ ARN: `arn:aws:codecommit:eu-west-1:${ACCOUNT}:web-frontend`, accountId: ACCOUNT, type: 'AWS::CodeCommit::Repository' }],
    });
    expect(repositoryOf(toPipelineEvent(envelopeForCloudTrail(override)))).toBe('web-frontend');
    expect(repositoryOf(toPipelineEvent(envelopeForCloudTrail({ ...override, resources: [] })))).toBeUndefined();
  });

  it('tells the negotiation record of a push from its write record', () => {
    const base = record(role('ops-engineer', 'dana', 'false'), { additionalEventData: { repositoryName: 'payments-service', dataTransferred: false }, requestParameters: null, readOnly: true });
    expect(contributionOf(toPipelineEvent(envelopeForCloudTrail(base)))?.kind).toBe('push-session');
    const written = { ...base, readOnly: false, additionalEventData: { repositoryName: 'payments-service', dataTransferred: true }, requestParameters: { references: [{ commit: 'b', ref: 'refs/heads/main' }, { commit: 'a', ref: 'refs/tags/v1' }] } };
    expect(contributionOf(toPipelineEvent(envelopeForCloudTrail(written)))).toMatchObject({ kind: 'push', refs: ['refs/heads/main', 'refs/tags/v1'], commits: ['a', 'b'] });
    expect(contributionOf(toPipelineEvent(envelopeForCloudTrail({ ...base, eventName: 'GitPull' })))).toBeUndefined();
  });
});
