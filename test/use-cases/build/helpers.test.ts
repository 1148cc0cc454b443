/** The build stage's shared helpers: policy reading, KMS identifiers, CodeBuild normalisation, webhooks, IaC. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config/config.js';
import { envelopeForCloudTrail } from '../../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../../lambdas/engine/pipeline-event.js';
import { isInlineBuildspec, normaliseProject, normaliseVariables, observedBuild, observedVariables, projectNameOf, timestampOf, variableChanges } from '../../../lambdas/use-cases/build/codebuild.js';
import { viaInfrastructureAsCode } from '../../../lambdas/use-cases/build/iac.js';
import { attempted, refusedSummary } from '../../../lambdas/use-cases/build/phrasing.js';
import { accountOfPrincipal, policyExposure } from '../../../lambdas/use-cases/build/policy-principals.js';
import { permissiveWebhook } from '../../../lambdas/use-cases/build/project-exposure/use-case.js';
import { kmsIdentifiers, kmsRefOf, namesConfiguredKey, signerProfileName, signingTargets } from '../../../lambdas/use-cases/build/signing.js';

const OWNER = '111122223333';
const KEY_ID = '7f3c1a52-9d4e-4b1a-8c39-2f6b0e4d9a11';
const KEY_ARN = `arn:aws:kms:eu-west-1:${OWNER}:key/${KEY_ID}`;

const policy = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (principal: unknown, condition?: unknown) => ({ Effect: 'Allow', Principal: principal, Action: 'kms:Sign', Resource: '*', ...(condition ? { Condition: condition } : {}) });

function kmsEvent(overrides: Record<string, unknown>) {
  return toPipelineEvent(
    envelopeForCloudTrail({
      eventTime: '2026-10-24T01:00:00Z',
      eventSource: 'kms.amazonaws.com',
      eventName: 'PutKeyPolicy',
      eventID: 'e-1',
      recipientAccountId: OWNER,
      ...overrides,
    }),
  );
}

describe('policyExposure', () => {
  it('finds public statements, other accounts, and ignores the owner, services and Deny', () => {
    const text = policy(
      { Sid: 'Root', ...allow({ AWS: `arn:aws:iam::${OWNER}:root` }) },
      { Sid: 'Public', ...allow('*') },
      { Sid: 'Partner', ...allow({ AWS: ['444455556666', 'arn:aws:sts::555566667777:assumed-role/r/s'] }) },
      { Sid: 'Service', ...allow({ Service: 'codebuild.amazonaws.com' }) },
      { Sid: 'Deny', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' },
    );
    expect(policyExposure(text, OWNER)).toEqual({ publicStatements: ['Public'], externalAccounts: ['444455556666', '555566667777'], unreadable: false });
  });

  it('treats * pinned to accounts or an organisation as not public, and reports pinned outside accounts', () => {
    expect(policyExposure(policy(allow({ AWS: '*' }, { StringEquals: { 'kms:CallerAccount': OWNER, 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' } })), OWNER).publicStatements).toEqual([]);
    expect(policyExposure(policy(allow({ AWS: '*' }, { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } })), OWNER)).toMatchObject({ publicStatements: [], externalAccounts: [] });
    expect(policyExposure(policy(allow({ AWS: '*' }, { StringEquals: { 'aws:PrincipalAccount': ['999988887777'] } })), OWNER).externalAccounts).toEqual(['999988887777']);
    // A negated condition excludes, it does not restrict.
    expect(policyExposure(policy(allow('*', { StringNotEquals: { 'aws:PrincipalAccount': OWNER } })), OWNER).publicStatements).toEqual(['#0']);
  });

  it('honours trusted accounts, NotPrincipal, objects and unreadable text', () => {
    expect(policyExposure(policy(allow({ AWS: '444455556666' })), OWNER, ['444455556666']).externalAccounts).toEqual([]);
    expect(policyExposure(policy({ Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:root` }, Action: '*', Resource: '*' }), OWNER).publicStatements).toEqual(['#0']);
    expect(policyExposure({ Statement: allow('*') }, OWNER).publicStatements).toEqual(['#0']);
    expect(policyExposure('{not json', OWNER).unreadable).toBe(true);
    expect(policyExposure('[]', OWNER).unreadable).toBe(true);
  });

  it('reads accounts from principals', () => {
    expect(accountOfPrincipal('*')).toBe('*');
    expect(accountOfPrincipal('444455556666')).toBe('444455556666');
    expect(accountOfPrincipal('arn:aws:iam::444455556666:role/x')).toBe('444455556666');
    expect(accountOfPrincipal('codebuild.amazonaws.com')).toBeUndefined();
  });
});

describe('KMS identifiers', () => {
  it('reduces ids, key ARNs, alias names and alias ARNs to comparable forms', () => {
    expect(kmsRefOf(KEY_ARN)).toEqual({ kind: 'key', id: KEY_ID });
    expect(kmsRefOf(KEY_ID.toUpperCase())).toEqual({ kind: 'key', id: KEY_ID });
    expect(kmsRefOf(`arn:aws:kms:eu-west-1:${OWNER}:alias/release-signing`)).toEqual({ kind: 'alias', name: 'alias/release-signing' });
    expect(kmsRefOf('alias/release-signing')).toEqual({ kind: 'alias', name: 'alias/release-signing' });
    expect(kmsRefOf('arn:aws:s3:::bucket')).toBeUndefined();
    expect(kmsRefOf('  ')).toBeUndefined();
  });

  it('matches a configured key whichever form the event uses, and a configured alias only by its name', () => {
    const byArn = signingTargets(parseConfig({ pipeline: { signing: { kmsKeys: [KEY_ARN] } } }));
    const byAlias = signingTargets(parseConfig({ pipeline: { signing: { kmsKeys: ['alias/release-signing'] } } }));
    const withId = kmsIdentifiers(kmsEvent({ requestParameters: { keyId: KEY_ID } }));
    const withAliasAndArn = kmsIdentifiers(kmsEvent({ eventName: 'Sign', requestParameters: { keyId: 'alias/release-signing' }, resources: [{ ARN: KEY_ARN, type: 'AWS::KMS::Key' }] }));
    expect(namesConfiguredKey(withId, byArn)).toBe(true);
    expect(namesConfiguredKey(withAliasAndArn, byArn)).toBe(true);
    expect(namesConfiguredKey(withAliasAndArn, byAlias)).toBe(true);
    // An administrative call names only the key: an alias-only configuration cannot know it is the same key.
    expect(namesConfiguredKey(withId, byAlias)).toBe(false);
    expect(withAliasAndArn).toMatchObject({ keyArn: KEY_ARN, keyAccount: OWNER, keyIds: [KEY_ID], aliases: ['alias/release-signing'] });
  });

  it('reads native KMS events', () => {
    const native = toPipelineEvent({ version: '0', id: 'n-1', 'detail-type': 'KMS CMK Deletion', source: 'aws.kms', account: OWNER, time: '2026-11-01T00:00:41Z', region: 'eu-west-1', resources: [KEY_ARN], detail: { 'key-id': KEY_ID } });
    expect(kmsIdentifiers(native)).toMatchObject({ keyIds: [KEY_ID], keyArn: KEY_ARN });
  });

  it('names Signer profiles by name or ARN', () => {
    expect(signerProfileName(`arn:aws:signer:eu-west-1:${OWNER}:/signing-profiles/payments_release_lambda/z0rJ1ZzXqN`)).toBe('payments_release_lambda');
    expect(signerProfileName('payments_release_lambda')).toBe('payments_release_lambda');
    expect(signerProfileName('arn:aws:s3:::x')).toBeUndefined();
  });
});

describe('CodeBuild normalisation', () => {
  it('fingerprints PLAINTEXT values, keeps references and flags secret-looking values', () => {
    const variables = normaliseVariables([
      { name: 'TOKEN', value: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', type: 'PLAINTEXT' },
      { name: 'NPM_TOKEN', value: '/ci/npm-token', type: 'PARAMETER_STORE' },
      { name: 'STAGE', value: 'prod' },
    ]);
    expect(JSON.stringify(variables)).not.toContain('ghp_');
    expect(variables.map((v) => v['name'])).toEqual(['NPM_TOKEN', 'STAGE', 'TOKEN']);
    expect(variables[0]).toEqual({ name: 'NPM_TOKEN', type: 'PARAMETER_STORE', value: '/ci/npm-token' });
    expect(variables[2]).toMatchObject({ plaintextSecret: true });
  });

  it('normalises tags, logs and the new fields, and never stores a buildspec raw', () => {
    const state = normaliseProject({
      name: 'p',
      source: { type: 'CODECOMMIT', buildspec: 'version: 0.2\nphases:\n  build:\n    commands:\n      - echo $GITHUB_TOKEN\n' },
      tags: [{ key: 'team', value: 'payments' }, { key: 'a', value: 'b' }],
      fileSystemLocations: [{ type: 'EFS', location: 'fs-1.efs.eu-west-1.amazonaws.com:/' }],
      concurrentBuildLimit: 2,
    });
    expect(state['tags']).toEqual({ a: 'b', team: 'payments' });
    expect(state['fileSystemLocations']).toBeDefined();
    expect(state['concurrentBuildLimit']).toBe(2);
    expect(state['source']).toMatchObject({ type: 'CODECOMMIT', buildspec: { inline: true } });
  });

  it('tells inline buildspecs from file names', () => {
    expect(isInlineBuildspec('buildspec.yml')).toBe(false);
    expect(isInlineBuildspec('version: 0.2')).toBe(true);
    expect(isInlineBuildspec('a\nb')).toBe(true);
  });

  it('reads the time formats AWS uses, time-zone independent', () => {
    const iso = Date.UTC(2026, 9, 24, 1, 9, 21);
    expect(timestampOf('Oct 24, 2026 1:09:21 AM')).toBe(iso);
    expect(timestampOf('Oct 24, 2026 1:09:21 PM')).toBe(iso + 12 * 3_600_000);
    expect(timestampOf('Oct 24, 2026 12:09:21 AM')).toBe(iso - 3_600_000);
    expect(timestampOf('2026-10-24T01:09:21.000000+00:00')).toBe(iso);
    expect(timestampOf(iso / 1000)).toBe(iso);
    expect(timestampOf(iso)).toBe(iso);
    expect(timestampOf(String(iso / 1000))).toBe(iso);
    expect(timestampOf('yesterday')).toBeUndefined();
    expect(timestampOf(undefined)).toBeUndefined();
    // Before 1970 or past what a Date holds: unreadable, not a time to look state up at.
    expect(timestampOf(-1594125618)).toBeUndefined();
    expect(timestampOf('1919-06-27T11:19:42Z')).toBeUndefined();
    expect(timestampOf(1e300)).toBeUndefined();
    expect(timestampOf('9'.repeat(30))).toBeUndefined();
    expect(timestampOf(0)).toBe(0);
  });

  it('reads what a build ran with from the native event', () => {
    const detail = {
      'additional-information': {
        initiator: 'codepipeline/payments-release',
        'build-start-time': 'Oct 24, 2026 1:09:21 AM',
        source: { type: 'CODECOMMIT', location: 'https://example/repo', buildspec: 'buildspec.yml' },
        environment: { image: 'img', 'privileged-mode': true, 'environment-variables': [{ name: 'A', type: 'PLAINTEXT', value: 'x' }] },
      },
    };
    expect(observedBuild(detail)).toEqual({
      image: 'img',
      privilegedMode: true,
      buildspec: 'buildspec.yml',
      sourceType: 'CODECOMMIT',
      sourceLocation: 'https://example/repo',
      initiator: 'codepipeline/payments-release',
      startedAt: Date.UTC(2026, 9, 24, 1, 9, 21),
    });
    const variables = observedVariables(detail);
    expect(variables.map((v) => v['name'])).toEqual(['A']);
    expect(JSON.stringify(variables)).not.toContain('"x"');
  });

  it('lists variable changes by name, secrets flagged', () => {
    const before = normaliseVariables([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    const after = normaliseVariables([{ name: 'A', value: '1' }, { name: 'C', value: 'AKIAIOSFODNN7EXAMPLE' }, { name: 'B', value: '3' }]);
    expect(variableChanges(before, after)).toEqual({ added: ['C'], changed: ['B'], removed: [], plaintextSecrets: ['C'] });
  });

  it('names projects from ARNs', () => {
    expect(projectNameOf('arn:aws:codebuild:eu-west-1:111122223333:project/payments-service-build')).toBe('payments-service-build');
    expect(projectNameOf('payments-service-build')).toBe('payments-service-build');
    expect(projectNameOf('arn:aws:s3:::x')).toBeUndefined();
  });
});

describe('webhook filters', () => {
  it('are permissive without groups, without actor filters on pull requests, or with unanchored actor patterns', () => {
    expect(permissiveWebhook({ projectName: 'p' })).toHaveLength(1);
    expect(permissiveWebhook({ projectName: 'p', branchFilter: '^main$' })).toEqual([]);
    expect(permissiveWebhook({ filterGroups: [[{ type: 'EVENT', pattern: 'PULL_REQUEST_CREATED' }]] })[0]).toContain('ACTOR_ACCOUNT_ID');
    expect(permissiveWebhook({ filterGroups: [[{ type: 'EVENT', pattern: 'PULL_REQUEST_CREATED' }, { type: 'ACTOR_ACCOUNT_ID', pattern: '123|456' }]] })[0]).toContain('anchored');
    expect(permissiveWebhook({ filterGroups: [[{ type: 'EVENT', pattern: 'PULL_REQUEST_CREATED' }, { type: 'ACTOR_ACCOUNT_ID', pattern: '^(123|456)$' }]] })).toEqual([]);
    expect(permissiveWebhook({ filterGroups: [[{ type: 'EVENT', pattern: 'PUSH' }, { type: 'HEAD_REF', pattern: '^refs/heads/main$' }]] })).toEqual([]);
    // An excluding actor filter does not vet who opens pull requests.
    expect(permissiveWebhook({ filterGroups: [[{ type: 'EVENT', pattern: 'PULL_REQUEST_UPDATED' }, { type: 'ACTOR_ACCOUNT_ID', pattern: '^1$', excludeMatchedPattern: true }]] })).toHaveLength(1);
  });
});

describe('infrastructure as code', () => {
  const settings = { infrastructureAsCodeSeverity: 'low' as const, infrastructureAsCodePrincipals: ['arn:aws:iam::*:role/cdk-*-cfn-exec-role-*'] };
  const event = (userIdentity: Record<string, unknown>, userAgent = 'aws-cli/2.17.37') =>
    toPipelineEvent(envelopeForCloudTrail({ eventTime: '2026-10-24T01:00:00Z', eventSource: 'codebuild.amazonaws.com', eventName: 'UpdateProject', eventID: 'e-2', userIdentity, userAgent }));

  it('is CloudFormation acting for the caller, or a configured principal', () => {
    expect(viaInfrastructureAsCode(event({ type: 'AssumedRole', arn: `arn:aws:sts::${OWNER}:assumed-role/admin/priya`, invokedBy: 'cloudformation.amazonaws.com' }), settings)).toBe(true);
    expect(viaInfrastructureAsCode(event({ type: 'AssumedRole', arn: `arn:aws:sts::${OWNER}:assumed-role/admin/priya` }, 'cloudformation.amazonaws.com'), settings)).toBe(true);
    expect(viaInfrastructureAsCode(event({ type: 'AssumedRole', arn: `arn:aws:sts::${OWNER}:assumed-role/cdk-hnb659fds-cfn-exec-role-${OWNER}-eu-west-1/AWSCloudFormation` }), settings)).toBe(true);
    expect(viaInfrastructureAsCode(event({ type: 'IAMUser', arn: `arn:aws:iam::${OWNER}:user/svc-legacy-deploy` }), settings)).toBe(false);
    expect(viaInfrastructureAsCode(event({ type: 'AssumedRole', arn: `arn:aws:sts::${OWNER}:assumed-role/cdk-hnb659fds-cfn-exec-role-${OWNER}-eu-west-1/AWSCloudFormation` }), { ...settings, infrastructureAsCodePrincipals: [] })).toBe(false);
  });
});

describe('phrasing', () => {
  it('turns what happened into what was tried', () => {
    expect(attempted('deleted pipeline payments-release')).toBe('tried to delete pipeline payments-release');
    expect(attempted('re-pointed signing key alias alias/x to key k')).toBe('tried to re-point signing key alias alias/x to key k');
    expect(attempted('signing key k was deleted')).toBe('tried: signing key k was deleted');
    expect(refusedSummary('alice', 'made build project p public', 'AccessDeniedException')).toBe('alice tried to make build project p public and was refused (AccessDeniedException)');
    // Failures that are not refusals (no such thing, a bad name, no code at all) are not called refusals.
    expect(refusedSummary('alice', 'deleted pipeline p', 'PipelineNotFoundException')).toBe('alice tried to delete pipeline p and failed (PipelineNotFoundException)');
    expect(refusedSummary('alice', 'made build project p public', undefined)).toBe('alice tried to make build project p public and failed (error)');
  });
});
