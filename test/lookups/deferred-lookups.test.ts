/**
 * Look-ups loaded on first use (issue #15, goal 4): nothing is loaded until one of them is asked, it
 * is loaded once, a failed load is an `unavailable` answer tried again next time; and the detect
 * function's EC2 look-ups, so loaded, are offered as before and answer through the same SDK client
 * class (aws-sdk-client-mock's class mocks apply), with an organisation member's credentials.
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
import { withDeferredEc2Lookups } from '../../lambdas/handlers/deferred-ec2-lookup-clients.js';
import { withEc2Lookups } from '../../lambdas/handlers/ec2-lookup-clients.js';
import { awsLookupsFor } from '../../lambdas/handlers/lookup-clients.js';
import { deferredLookupMethods } from '../../lambdas/lookups/deferred-lookups.js';
import { noLookups, type Lookups } from '../../lambdas/lookups/lookups.js';

expect.extend(allCustomMatcher);

const ROOT = join(import.meta.dirname, '..', '..');
const single = parseConfig({});
const organization = loadConfig(join(ROOT, 'samples', 'organization.config.json'));
const MEMBER = '111122223333';
const INSTANCE = 'i-0123456789abcdef0';

const withFleets = (name: string): Lookups => ({ ...noLookups, codeBuildFleet: async (fleet) => ({ status: 'found', value: { name: `${name}:${fleet}` } }) });

describe('deferredLookupMethods', () => {
  it('loads nothing until one of them is asked, then loads once for every look-up after it', async () => {
    let loads = 0;
    const methods = deferredLookupMethods(async () => {
      loads += 1;
      return withFleets('loaded');
    }, ['codeBuildFleet', 'trails']);
    expect(loads).toBe(0);
    const answers = await Promise.all([methods.codeBuildFleet?.('a'), methods.codeBuildFleet?.('b')]);
    expect(answers).toEqual([{ status: 'found', value: { name: 'loaded:a' } }, { status: 'found', value: { name: 'loaded:b' } }]);
    expect((await methods.trails?.())?.status).toBe('unavailable');
    expect(loads).toBe(1);
  });

  it('answers `unavailable` with the reason when the load fails, and loads again on the next look-up', async () => {
    let loads = 0;
    const methods = deferredLookupMethods(async () => {
      loads += 1;
      if (loads === 1) throw new Error('module evaluation failed');
      return withFleets('second');
    }, ['codeBuildFleet']);
    expect(await methods.codeBuildFleet?.('a')).toEqual({ status: 'unavailable', reason: 'codeBuildFleet: the look-ups could not be loaded: Error: module evaluation failed' });
    expect(await methods.codeBuildFleet?.('a')).toEqual({ status: 'found', value: { name: 'second:a' } });
    expect(loads).toBe(2);
  });

  it('offers only the look-ups named, and says so when the loaded ones lack one', async () => {
    const methods = deferredLookupMethods(async () => ({ s3Object: noLookups.s3Object, packageVersionAssets: noLookups.packageVersionAssets, codeBuildProject: noLookups.codeBuildProject }), ['ec2Instance']);
    expect(Object.keys(methods)).toEqual(['ec2Instance']);
    expect(await methods.ec2Instance?.({ instanceId: INSTANCE, region: 'eu-west-1' })).toEqual({ status: 'unavailable', reason: 'the look-ups have no ec2Instance' });
  });
});

describe('withDeferredEc2Lookups (the detect function\'s EC2 look-ups)', () => {
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

  it('offers the same look-ups as withEc2Lookups, in one account and in an organisation', () => {
    for (const config of [single, organization]) {
      const eager = awsLookupsFor(config, withEc2Lookups);
      const deferred = awsLookupsFor(config, withDeferredEc2Lookups);
      expect(Object.keys(deferred).sort()).toEqual(Object.keys(eager).sort());
      if (config.organization) expect(Object.keys(deferred.inAccount?.(MEMBER, 'us-east-1') ?? {}).sort()).toEqual(Object.keys(eager.inAccount?.(MEMBER, 'us-east-1') ?? {}).sort());
    }
  });

  it('answers through the EC2 client class the tests mock (the module import() loads is the same), its answers cached', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'runners' }] }] }] });
    const lookups = awsLookupsFor(single, withDeferredEc2Lookups);
    for (let i = 0; i < 2; i += 1) {
      const instance = await lookups.ec2Instance?.({ instanceId: INSTANCE, region: 'eu-west-1' });
      expect(instance?.status === 'found' ? instance.value.autoScalingGroup : instance).toBe('runners');
    }
    // The instance cache of withEc2Lookups is kept with the loaded look-ups: one request for both.
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: [INSTANCE] });
  });

  it('in an organisation, makes a member\'s EC2 look-ups with its role, assumed once for all its look-ups and regions', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'member', SecretAccessKey: 'member-secret', SessionToken: 'member-token', Expiration: new Date(Date.now() + 3_600_000) } });
    codebuild.on(BatchGetProjectsCommand).resolves({ projects: [{ name: 'payments-build' }] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const lookups = awsLookupsFor(organization, withDeferredEc2Lookups);
    expect((await lookups.inAccount?.(MEMBER, 'eu-west-1').codeBuildProject('payments-build'))?.status).toBe('found');
    expect((await lookups.inAccount?.(MEMBER, 'us-east-1').ec2Instance?.({ instanceId: INSTANCE, region: 'us-east-1' }))?.status).toBe('missing');
    // The EC2 request was signed for the member, in its region: its client's credentials are the assumed role's.
    const client = ec2.call(0).thisValue as EC2Client;
    expect((await client.config.credentials()).accessKeyId).toBe('member');
    expect(await client.config.region()).toBe('us-east-1');
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: `arn:aws:iam::${MEMBER}:role/buildwatch-member-lookup` });
  });
});
