/**
 * Look-ups across the organisation (#16 item 3): member accounts through their look-up role (STS
 * AssumeRole with the external id), the central account with the function's own role, credentials
 * and clients cached, failures an `unavailable` answer with the reason, never a throw.
 */
import { BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeartifactClient } from '@aws-sdk/client-codeartifact';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { lookupExternalId, memberLookupRoleName } from '../../lambdas/config/organization.js';
import type { AwsLookupClients } from '../../lambdas/lookups/aws-lookups.js';
import { createOrganizationLookups, type AwsCredentialIdentityProvider, type OrganizationLookupOptions } from '../../lambdas/lookups/organization-lookups.js';

expect.extend(allCustomMatcher);

const CENTRAL = '333344445555';
const TOOLING = '111122223333';
const own = { accessKeyId: 'own', secretAccessKey: 'own' };
const sts = new STSClient({ region: 'eu-west-1', credentials: own });
const organizations = new OrganizationsClient({ region: 'eu-west-1', credentials: own });
const stsMock = mockClient(sts);
const orgMock = mockClient(organizations);
const codebuildMock = mockClient(CodeBuildClient);

interface Made {
  readonly region: string;
  readonly credentials?: AwsCredentialIdentityProvider;
}

function setUp(now: { value: number }, mockCodeBuild = true) {
  const made: Made[] = [];
  const clientsFor = (region: string, credentials?: AwsCredentialIdentityProvider): AwsLookupClients => {
    made.push({ region, ...(credentials ? { credentials } : {}) });
    const config = { region, credentials: credentials ?? own };
    // Without the class mock, a real client: it resolves the credentials (and fails there) before any request.
    const codebuild = new CodeBuildClient({ ...config, maxAttempts: 1 });
    if (!mockCodeBuild) codebuildMock.restore();
    return { s3: new S3Client(config), codeartifact: new CodeartifactClient(config), codebuild };
  };
  const options: OrganizationLookupOptions = {
    centralAccount: CENTRAL,
    centralRegion: 'eu-west-1',
    roleName: memberLookupRoleName('buildwatch-'),
    externalId: lookupExternalId('o-a1b2c3d4e5'),
    sts,
    organizations,
    clientsFor,
    clock: () => new Date(now.value),
  };
  return { lookups: createOrganizationLookups(options), made };
}

const T0 = Date.parse('2026-10-20T10:00:00Z');

function assumed(expiresAt: number, key = 'member') {
  return { Credentials: { AccessKeyId: key, SecretAccessKey: `${key}-secret`, SessionToken: `${key}-token`, Expiration: new Date(expiresAt) } };
}

beforeEach(() => {
  stsMock.reset();
  orgMock.reset();
  codebuildMock.reset();
});

describe('createOrganizationLookups', () => {
  it('uses the function\'s own role for the central account, and assumes nothing', async () => {
    codebuildMock.on(BatchGetProjectsCommand).resolves({ projects: [{ name: 'p' }] });
    const { lookups, made } = setUp({ value: T0 });
    const central = lookups.inAccount?.(CENTRAL, 'us-east-1');
    expect(await central?.codeBuildProject('p')).toEqual({ status: 'found', value: { name: 'p' } });
    expect(made.map((m) => [m.region, m.credentials === undefined])).toEqual([['eu-west-1', true], ['us-east-1', true]]);
    expect(stsMock).not.toHaveReceivedCommand(AssumeRoleCommand);
  });

  it('assumes the member look-up role with the external id, once per account, in the event\'s region', async () => {
    stsMock.on(AssumeRoleCommand).resolves(assumed(T0 + 3_600_000));
    const { lookups, made } = setUp({ value: T0 });
    const euWest = lookups.inAccount?.(TOOLING, 'eu-west-1');
    const usEast = lookups.inAccount?.(TOOLING, 'us-east-1');
    // Clients are cached per account and region.
    expect(lookups.inAccount?.(TOOLING, 'eu-west-1')).toBe(euWest);
    const members = made.filter((m) => m.credentials !== undefined);
    expect(members.map((m) => m.region)).toEqual(['eu-west-1', 'us-east-1']);
    const [first, second] = members;
    expect(await first?.credentials?.()).toEqual({ accessKeyId: 'member', secretAccessKey: 'member-secret', sessionToken: 'member-token', expiration: new Date(T0 + 3_600_000) });
    await second?.credentials?.();
    expect(usEast).toBeDefined();
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: `arn:aws:iam::${TOOLING}:role/buildwatch-member-lookup`, ExternalId: 'buildwatch-o-a1b2c3d4e5' });
  });

  it('renews the member credentials shortly before they expire', async () => {
    stsMock.on(AssumeRoleCommand).resolvesOnce(assumed(T0 + 3_600_000, 'first')).resolves(assumed(T0 + 7_200_000, 'second'));
    const now = { value: T0 };
    const { lookups, made } = setUp(now);
    lookups.inAccount?.(TOOLING, 'eu-west-1');
    const provider = made.find((m) => m.credentials)?.credentials;
    expect((await provider?.())?.accessKeyId).toBe('first');
    now.value = T0 + 50 * 60_000;
    expect((await provider?.())?.accessKeyId).toBe('first');
    now.value = T0 + 56 * 60_000;
    expect((await provider?.())?.accessKeyId).toBe('second');
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('makes a look-up in a member whose role cannot be assumed unavailable, with the reason, and tries again next time', async () => {
    stsMock.on(AssumeRoleCommand).rejects(new STSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: {}, message: 'not authorized to perform sts:AssumeRole' }));
    const { lookups } = setUp({ value: T0 }, false);
    const member = lookups.inAccount?.(TOOLING, 'eu-west-1');
    const result = await member?.codeBuildProject('payments-build');
    expect(result?.status).toBe('unavailable');
    const reason = result?.status === 'unavailable' ? result.reason : '';
    expect(reason).toContain('AccessDenied');
    expect(reason).toContain(`arn:aws:iam::${TOOLING}:role/buildwatch-member-lookup`);
    await member?.codeBuildProject('payments-build');
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('lists the organisation\'s accounts once (cached), and says why when it cannot', async () => {
    orgMock.on(ListAccountsCommand).resolvesOnce({ Accounts: [{ Id: TOOLING, Name: 'tooling', State: 'ACTIVE' }], NextToken: 'n' }).resolves({ Accounts: [{ Id: CENTRAL, Name: 'security' }] });
    const { lookups } = setUp({ value: T0 });
    const first = await lookups.organizationAccounts?.();
    expect(first).toEqual({ status: 'found', value: [{ id: TOOLING, name: 'tooling', status: 'ACTIVE' }, { id: CENTRAL, name: 'security' }] });
    // Every place's look-ups share the one list.
    expect(await lookups.inAccount?.(TOOLING, 'eu-west-1').organizationAccounts?.()).toEqual(first);
    expect(orgMock).toHaveReceivedCommandTimes(ListAccountsCommand, 2);

    orgMock.reset();
    orgMock.on(ListAccountsCommand).rejects(Object.assign(new Error('not a delegated administrator'), { name: 'AccessDeniedException' }));
    const denied = await setUp({ value: T0 }).lookups.organizationAccounts?.();
    expect(denied).toEqual({ status: 'unavailable', reason: 'AccessDeniedException: not a delegated administrator' });
  });
});
