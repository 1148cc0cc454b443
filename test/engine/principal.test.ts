import { describe, expect, it } from 'vitest';
import { principalFromArn, principalFromIdentity, principalMatches, sessionNameOf } from '../../lambdas/engine/principal.js';

const ssoIdentity = (session: string, mfa: string) => ({
  type: 'AssumedRole',
  principalId: `AROAEXAMPLE:${session}`,
  arn: `arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d/${session}`,
  accountId: '111122223333',
  sessionContext: {
    sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developer_0a1b2c3d' },
    attributes: { mfaAuthenticated: mfa },
  },
});

describe('principal normalisation', () => {
  it('keys assumed roles by role and session, so people behind one SSO role stay apart', () => {
    const alice = principalFromIdentity(ssoIdentity('alice@acme.example', 'false'));
    const bob = principalFromIdentity(ssoIdentity('bob@acme.example', 'true'));
    expect(alice.key).toBe('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d/alice@acme.example');
    expect(bob.key).not.toBe(alice.key);
    expect(alice.mfa).toBe('false');
    expect(bob.mfa).toBe('true');
  });

  it.each(['3f9c2a1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b', 'botocore-session-1718000000', 'i-0abc1234def567890', 'AWSCodeBuild-8c3b0f5e-1d2a', '1718000000123'])(
    'collapses the machine-generated session name %s to the role',
    (session) => {
      expect(principalFromArn(`arn:aws:sts::111122223333:assumed-role/ci-role/${session}`).key).toBe('arn:aws:sts::111122223333:assumed-role/ci-role/*');
    },
  );

  it('gives a native event caller ARN the same key as the CloudTrail identity', () => {
    const fromTrail = principalFromIdentity(ssoIdentity('alice@acme.example', 'false'));
    const fromNative = principalFromArn('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d/alice@acme.example');
    expect(fromNative.key).toBe(fromTrail.key);
    const user = principalFromIdentity({ type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333', userName: 'bob' });
    expect(principalFromArn('arn:aws:iam::111122223333:user/bob').key).toBe(user.key);
  });

  it('says MFA is impossible for IAM users (Git credentials and SSH keys have no session)', () => {
    expect(principalFromIdentity({ type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' }).mfa).toBe('impossible');
  });

  it.each(['github-actions-12345678901', 'gh-actions-123456789', 'GitHubActions-12345678901-2', 'aws-sdk-java-1727772000123', 'aws-dotnet-sdk-session-638123456789012345', 'eks-prod-payments-api-7d9f8-3f9c2a1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b'])(
    'collapses the CI and SDK session name %s (a run or time number, or a trailing uuid) to the role',
    (session) => {
      expect(principalFromArn(`arn:aws:sts::111122223333:assumed-role/ci-role/${session}`).key).toBe('arn:aws:sts::111122223333:assumed-role/ci-role/*');
    },
  );

  it.each(['alice@acme.example', 'rui.costa', 'build-7731', 'GitHubActions', 'maint', 'deploy-2024'])('keeps the session name %s (a person, or a fixed name)', (session) => {
    expect(principalFromArn(`arn:aws:sts::111122223333:assumed-role/ci-role/${session}`).key).toBe(`arn:aws:sts::111122223333:assumed-role/ci-role/${session}`);
  });

  it('matches a configured glob that names the role with its path (service-role/, aws-reserved/sso.amazonaws.com/…) through the session issuer', () => {
    const withPath = (path: string, role: string, session: string) =>
      principalFromIdentity({
        type: 'AssumedRole',
        principalId: `AROAEXAMPLE:${session}`,
        arn: `arn:aws:sts::111122223333:assumed-role/${role}/${session}`,
        accountId: '111122223333',
        sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${path}${role}` } },
      });
    const codebuild = withPath('service-role/', 'codebuild-payments-service-role', 'AWSCodeBuild-8c3b0f5e-1d2a-4b3c-9d4e-5f6a7b8c9d0e');
    expect(principalMatches('arn:aws:iam::111122223333:role/service-role/codebuild-*', codebuild)).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:role/codebuild-*', codebuild)).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:role/service-role/other-*', codebuild)).toBe(false);
    const sso = withPath('aws-reserved/sso.amazonaws.com/eu-west-1/', 'AWSReservedSSO_Developer_0a1b2c3d', 'alice@acme.example');
    expect(principalMatches('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*', sso)).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Developer_*', sso)).toBe(true);
  });

  it("keys the resource owner's copy of a cross-account call (AWSAccount) by account and principal id, machine sessions collapsed", () => {
    const owned = (principalId: string) => ({ type: 'AWSAccount', principalId, accountId: '222233334444' });
    const build1 = principalFromIdentity(owned('AROA3RIXI6RYK5M5UUXZO:AWSCodeBuild-4e6acd24-1857-4077-8453-6291b497ff5b'));
    const build2 = principalFromIdentity(owned('AROA3RIXI6RYK5M5UUXZO:AWSCodeBuild-9f1e2d3c-1857-4077-8453-6291b497ff5b'));
    expect(build1.key).toBe('AWSAccount:222233334444:AROA3RIXI6RYK5M5UUXZO:*');
    expect(build2.key).toBe(build1.key);
    expect(build1).toMatchObject({ type: 'AWSAccount', accountId: '222233334444', isAwsService: false, mfa: 'unknown' });
    expect(build1.arn).toBeUndefined();
    expect(principalFromIdentity(owned('AROA3RIXI6RYK5M5UUXZO:priya.nair')).key).toBe('AWSAccount:222233334444:AROA3RIXI6RYK5M5UUXZO:priya.nair');
    expect(principalFromIdentity(owned('AIDAJ45Q7YFFAREXAMPLE')).key).toBe('AWSAccount:222233334444:AIDAJ45Q7YFFAREXAMPLE');
    expect(sessionNameOf(owned('AROA3RIXI6RYK5M5UUXZO:AWSCodeBuild-4e6acd24-1857-4077-8453-6291b497ff5b'))).toBe('AWSCodeBuild-4e6acd24-1857-4077-8453-6291b497ff5b');
    expect(sessionNameOf(owned('AIDAJ45Q7YFFAREXAMPLE'))).toBeUndefined();
    expect(sessionNameOf(ssoIdentity('alice@acme.example', 'true'))).toBe('alice@acme.example');
    expect(sessionNameOf({ type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' })).toBeUndefined();
  });

  it('keys Identity Center users, AWS services and root', () => {
    expect(principalFromIdentity({ type: 'IdentityCenterUser', accountId: '111122223333', onBehalfOf: { userId: 'u-1', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-123' } }).key).toBe(
      'arn:aws:identitystore::111122223333:identitystore/d-123/u-1',
    );
    const service = principalFromIdentity({ type: 'AWSService', invokedBy: 'codepipeline.amazonaws.com' });
    expect(service).toMatchObject({ key: 'service:codepipeline.amazonaws.com', isAwsService: true });
    expect(principalFromIdentity({ type: 'Root', arn: 'arn:aws:iam::111122223333:root', principalId: '111122223333' }).key).toBe('arn:aws:iam::111122223333:root');
    expect(principalFromIdentity(undefined).key).toBe('unknown');
  });

  it('matches configured role ARNs (with or without a path) to every session of the role', () => {
    const session = principalFromArn('arn:aws:sts::111122223333:assumed-role/release-orchestrator-role/3f9c2a1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b');
    expect(principalMatches('arn:aws:iam::111122223333:role/release-orchestrator-role', session)).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:role/ci/release-orchestrator-role', session)).toBe(true);
    expect(principalMatches('arn:aws:iam::444455556666:role/release-orchestrator-role', session)).toBe(false);
    expect(principalMatches('arn:aws:iam::111122223333:role/release-*', session)).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:role/deploy-*', session)).toBe(false);
    expect(principalMatches('arn:aws:sts::111122223333:assumed-role/release-*', session)).toBe(true);
  });
});
