/**
 * Look-ups loaded on first use (issue #15, goal 4): nothing is loaded until a look-up is made, it is
 * loaded once, a failed load is an `unavailable` answer tried again next time, and the functions'
 * deferred AWS look-ups offer what the eager ones do and answer through the same SDK client classes
 * (so aws-sdk-client-mock's class mocks apply, and organisation credentials stay per account).
 */
import { join } from 'node:path';
import { BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../lambdas/config/config.js';
import { deferredAwsLookupsFor } from '../../lambdas/handlers/deferred-lookup-clients.js';
import { withEc2Lookups } from '../../lambdas/handlers/ec2-lookup-clients.js';
import { awsLookupsFor } from '../../lambdas/handlers/lookup-clients.js';
import { deferredLookupMethods, deferredLookups } from '../../lambdas/lookups/deferred-lookups.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';

expect.extend(allCustomMatcher);

const ROOT = join(import.meta.dirname, '..', '..');
const single = parseConfig({});
const organization = loadConfig(join(ROOT, 'samples', 'organization.config.json'));
const MEMBER = '111122223333';

const found = (name: string): Lookups => ({ ...noLookups, codeBuildProject: async (project) => ({ status: 'found', value: { name: `${name}:${project}` } }) });

describe('deferredLookups', () => {
  it('loads nothing until the first look-up, then loads once for every look-up after it', async () => {
    let loads = 0;
    const lookups = deferredLookups(async () => {
      loads += 1;
      return found('loaded');
    }, { optional: ['trails'] });
    expect(loads).toBe(0);
    const answers = await Promise.all([lookups.codeBuildProject('a'), lookups.codeBuildProject('b')]);
    expect(answers).toEqual([{ status: 'found', value: { name: 'loaded:a' } }, { status: 'found', value: { name: 'loaded:b' } }]);
    expect((await lookups.trails?.())?.status).toBe('unavailable');
    expect(loads).toBe(1);
  });

  it('answers `unavailable` with the reason when the load fails, and loads again on the next look-up', async () => {
    let loads = 0;
    const lookups = deferredLookups(async () => {
      loads += 1;
      if (loads === 1) throw new Error('module evaluation failed');
      return found('second');
    }, { optional: [] });
    expect(await lookups.codeBuildProject('a')).toEqual({ status: 'unavailable', reason: 'codeBuildProject: the look-ups could not be loaded: Error: module evaluation failed' });
    expect(await lookups.codeBuildProject('a')).toEqual({ status: 'found', value: { name: 'second:a' } });
    expect(loads).toBe(2);
  });

  it('offers only the optional look-ups it is told the loaded ones have, and says so when they lack one', async () => {
    const lookups = deferredLookups(async () => ({ s3Object: noLookups.s3Object, packageVersionAssets: noLookups.packageVersionAssets, codeBuildProject: noLookups.codeBuildProject }), { optional: ['ec2Instance'] });
    expect(Object.keys(lookups).sort()).toEqual(['codeBuildProject', 'ec2Instance', 'packageVersionAssets', 's3Object']);
    expect(await lookups.ec2Instance?.({ instanceId: 'i-0123456789abcdef0', region: 'eu-west-1' })).toEqual({ status: 'unavailable', reason: 'the look-ups have no ec2Instance' });
    expect(Object.keys(deferredLookupMethods(async () => noLookups, ['trails', 'ecrImage'])).sort()).toEqual(['ecrImage', 'trails']);
  });

  it('gives a place\'s look-ups without loading, and answers them through the loaded inAccount', async () => {
    let loads = 0;
    const places: string[] = [];
    const lookups = deferredLookups(async () => {
      loads += 1;
      return { ...found('own'), inAccount: (account: string, region: string) => (places.push(`${account}/${region}`), found(`${account}/${region}`)) };
    }, { optional: [], inAccount: true });
    const member = lookups.inAccount?.(MEMBER, 'us-east-1');
    expect(loads).toBe(0);
    expect(await member?.codeBuildProject('p')).toEqual({ status: 'found', value: { name: `${MEMBER}/us-east-1:p` } });
    expect(await lookups.codeBuildProject('p')).toEqual({ status: 'found', value: { name: 'own:p' } });
    expect(loads).toBe(1);
    expect(places).toEqual([`${MEMBER}/us-east-1`]);
  });
});

describe('deferredAwsLookupsFor (the detect and sweep functions\' look-ups)', () => {
  const codebuild = mockClient(CodeBuildClient);
  const ec2 = mockClient(EC2Client);
  const sts = mockClient(STSClient);
  beforeEach(() => {
    codebuild.reset();
    ec2.reset();
    sts.reset();
  });
  afterAll(() => {
    codebuild.restore();
    ec2.restore();
    sts.restore();
  });

  it('offers the same look-ups as the eager ones, in one account and in an organisation', () => {
    for (const config of [single, organization]) {
      expect(Object.keys(deferredAwsLookupsFor(config, { ec2: true })).sort()).toEqual(Object.keys(awsLookupsFor(config, withEc2Lookups)).sort());
      expect(Object.keys(deferredAwsLookupsFor(config)).sort()).toEqual(Object.keys(awsLookupsFor(config)).sort());
    }
  });

  it('answers through the SDK client classes the tests mock (the dynamically imported modules are the same)', async () => {
    codebuild.on(BatchGetProjectsCommand).resolves({ projects: [{ name: 'payments-build' }] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0123456789abcdef0', Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'runners' }] }] }] });
    const lookups = deferredAwsLookupsFor(single, { ec2: true });
    expect(await lookups.codeBuildProject('payments-build')).toEqual({ status: 'found', value: { name: 'payments-build' } });
    const instance = await lookups.ec2Instance?.({ instanceId: 'i-0123456789abcdef0', region: 'eu-west-1' });
    expect(instance?.status === 'found' ? instance.value.autoScalingGroup : instance).toBe('runners');
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: ['i-0123456789abcdef0'] });
  });

  it('in an organisation, makes a member\'s look-ups with its role, assumed once for all its regions', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'member', SecretAccessKey: 'member-secret', SessionToken: 'member-token', Expiration: new Date(Date.now() + 3_600_000) } });
    codebuild.on(BatchGetProjectsCommand).resolves({ projects: [{ name: 'payments-build' }] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const lookups = deferredAwsLookupsFor(organization, { ec2: true });
    expect((await lookups.inAccount?.(MEMBER, 'eu-west-1').codeBuildProject('payments-build'))?.status).toBe('found');
    expect((await lookups.inAccount?.(MEMBER, 'us-east-1').ec2Instance?.({ instanceId: 'i-0123456789abcdef0', region: 'us-east-1' }))?.status).toBe('missing');
    // The EC2 request was signed for the member: its client's credentials are the assumed role's.
    const client = ec2.call(0).thisValue as EC2Client;
    expect((await client.config.credentials()).accessKeyId).toBe('member');
    expect(await client.config.region()).toBe('us-east-1');
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: `arn:aws:iam::${MEMBER}:role/buildwatch-member-lookup` });
  });
});
