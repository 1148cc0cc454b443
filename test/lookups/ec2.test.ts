/** EC2 look-ups for self-hosted build hosts: DescribeInstances (instance → groups) and DescribeLaunchTemplateVersions ($Default), AWS, recorded and cached. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsEc2Lookups } from '../../lambdas/lookups/aws-ec2-lookups.js';
import { withInstanceCache } from '../../lambdas/lookups/instance-cache.js';
import { noLookups, type Ec2InstanceDetail, type Lookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';

expect.extend(allCustomMatcher);

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const ec2Eu = new EC2Client(config);
const ec2Us = new EC2Client({ ...config, region: 'us-east-1' });
const euMock = mockClient(ec2Eu);
const usMock = mockClient(ec2Us);
const aws = createAwsEc2Lookups((region) => (region === 'us-east-1' ? ec2Us : ec2Eu));

const RUNNER = 'i-0b5e7a11c0ffee123';
const TEMPLATE = 'lt-0a1b2c3d4e5f60718';

/** `aws ec2 describe-instances` of a runner an Auto Scaling group launched from a template. */
const describeRunner = {
  Reservations: [
    {
      Instances: [
        {
          InstanceId: RUNNER,
          ImageId: 'ami-0c1d2e3f4a5b6c7d8',
          IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/gitlab-runner-profile' },
          SecurityGroups: [{ GroupId: 'sg-0fedcba9876543210', GroupName: 'runners' }],
          Tags: [
            { Key: 'Name', Value: 'gitlab-runner' },
            { Key: 'aws:autoscaling:groupName', Value: 'gitlab-runner-asg' },
            { Key: 'aws:ec2launchtemplate:id', Value: TEMPLATE },
            { Key: 'aws:ec2launchtemplate:version', Value: '3' },
          ],
        },
      ],
    },
  ],
};

const runner: Ec2InstanceDetail = {
  instanceId: RUNNER,
  tags: [
    ['Name', 'gitlab-runner'],
    ['aws:autoscaling:groupName', 'gitlab-runner-asg'],
    ['aws:ec2launchtemplate:id', TEMPLATE],
    ['aws:ec2launchtemplate:version', '3'],
  ],
  autoScalingGroup: 'gitlab-runner-asg',
  launchTemplateId: TEMPLATE,
  launchTemplateVersion: '3',
  imageId: 'ami-0c1d2e3f4a5b6c7d8',
  instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/gitlab-runner-profile',
  securityGroups: ['sg-0fedcba9876543210'],
};

/** `aws ec2 describe-launch-template-versions --versions '$Default'`, with a non-default version alongside. */
const describeTemplate = {
  LaunchTemplateVersions: [
    { LaunchTemplateId: TEMPLATE, LaunchTemplateName: 'gitlab-runners', VersionNumber: 4, DefaultVersion: false, LaunchTemplateData: { ImageId: 'ami-0ffffffffffffffff' } },
    {
      LaunchTemplateId: TEMPLATE,
      LaunchTemplateName: 'gitlab-runners',
      VersionNumber: 3,
      DefaultVersion: true,
      CreateTime: '2026-09-20T08:00:00.000Z',
      LaunchTemplateData: {
        ImageId: 'ami-0c1d2e3f4a5b6c7d8',
        UserData: 'IyEvYmluL2Jhc2gK',
        IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/gitlab-runner-profile' },
        SecurityGroupIds: ['sg-0fedcba9876543210'],
        NetworkInterfaces: [{ DeviceIndex: 0, Groups: ['sg-0aaaabbbbccccdddd', 'sg-0fedcba9876543210'] }],
      },
    },
  ],
};

const defaultVersion = {
  launchTemplateId: TEMPLATE,
  launchTemplateName: 'gitlab-runners',
  versionNumber: 3,
  defaultVersion: true,
  createTime: '2026-09-20T08:00:00.000Z',
  imageId: 'ami-0c1d2e3f4a5b6c7d8',
  userData: 'IyEvYmluL2Jhc2gK',
  instanceProfile: 'arn:aws:iam::111122223333:instance-profile/gitlab-runner-profile',
  securityGroups: ['sg-0aaaabbbbccccdddd', 'sg-0fedcba9876543210'],
};

const awsError = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe('createAwsEc2Lookups: ec2Instance (DescribeInstances)', () => {
  beforeEach(() => {
    euMock.reset();
    usMock.reset();
  });

  it('asks the region of the event for the one instance and reads the Auto Scaling and launch-template tags', async () => {
    euMock.on(DescribeInstancesCommand).resolves(describeRunner);
    expect(await aws.ec2Instance({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'found', value: runner });
    expect(euMock).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: [RUNNER] });
    expect(usMock).not.toHaveReceivedAnyCommand();
  });

  it('an unknown instance is missing; access denied or throttling is unavailable, with the reason', async () => {
    euMock.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound', `The instance ID '${RUNNER}' does not exist`));
    expect(await aws.ec2Instance({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'missing' });
    euMock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    expect(await aws.ec2Instance({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'missing' });
    euMock.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    expect(await aws.ec2Instance({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'unavailable', reason: 'UnauthorizedOperation: You are not authorized to perform this operation.' });
  });
});

describe('createAwsEc2Lookups: launchTemplateDefaultVersion (DescribeLaunchTemplateVersions)', () => {
  beforeEach(() => euMock.reset());

  it('asks for $Default by id or by name and returns what the hosts boot (AMI, user data, profile, every security group)', async () => {
    euMock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: describeTemplate.LaunchTemplateVersions.map(({ CreateTime, ...version }) => ({ ...version, ...(CreateTime ? { CreateTime: new Date(CreateTime) } : {}) })),
    });
    expect(await aws.launchTemplateDefaultVersion({ idOrName: TEMPLATE, region: 'eu-west-1' })).toEqual({ status: 'found', value: defaultVersion });
    expect(euMock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: TEMPLATE, Versions: ['$Default'] });
    expect(await aws.launchTemplateDefaultVersion({ idOrName: 'gitlab-runners', region: 'eu-west-1' })).toEqual({ status: 'found', value: defaultVersion });
    expect(euMock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateName: 'gitlab-runners', Versions: ['$Default'] });
  });

  it('a template that does not exist is missing; other failures are unavailable', async () => {
    euMock.on(DescribeLaunchTemplateVersionsCommand).rejects(awsError('InvalidLaunchTemplateId.NotFound', 'not found'));
    expect(await aws.launchTemplateDefaultVersion({ idOrName: TEMPLATE, region: 'eu-west-1' })).toEqual({ status: 'missing' });
    euMock.on(DescribeLaunchTemplateVersionsCommand).rejects(awsError('InvalidLaunchTemplateName.NotFoundException', 'not found'));
    expect(await aws.launchTemplateDefaultVersion({ idOrName: 'gone', region: 'eu-west-1' })).toEqual({ status: 'missing' });
    euMock.on(DescribeLaunchTemplateVersionsCommand).rejects(awsError('RequestLimitExceeded', 'Request limit exceeded.'));
    expect(await aws.launchTemplateDefaultVersion({ idOrName: TEMPLATE, region: 'eu-west-1' })).toEqual({ status: 'unavailable', reason: 'RequestLimitExceeded: Request limit exceeded.' });
  });
});

describe('createRecordedLookups: ec2/DescribeInstances and ec2/DescribeLaunchTemplateVersions', () => {
  let dir: string;
  const put = async (path: string, body: string): Promise<void> => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), body);
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recorded-ec2-'));
    await put(`ec2/DescribeInstances/${RUNNER}.json`, JSON.stringify(describeRunner));
    await put('ec2/DescribeInstances/i-0000000000000bad1.json', JSON.stringify({ Reservations: [{ Instances: [{ Tags: [] }] }] }));
    await put(`ec2/DescribeLaunchTemplateVersions/${TEMPLATE}.json`, JSON.stringify(describeTemplate));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('answers as the SDK does from the CLI output', async () => {
    const recorded = createRecordedLookups(dir);
    expect(await recorded.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'found', value: runner });
    expect(await recorded.launchTemplateDefaultVersion!({ idOrName: TEMPLATE, region: 'eu-west-1' })).toEqual({ status: 'found', value: defaultVersion });
  });

  it('absent files are missing, malformed ones and path tricks unavailable', async () => {
    const recorded = createRecordedLookups(dir);
    expect(await recorded.ec2Instance!({ instanceId: 'i-0ffffffffffffffff', region: 'eu-west-1' })).toEqual({ status: 'missing' });
    expect(await recorded.launchTemplateDefaultVersion!({ idOrName: 'other-template', region: 'eu-west-1' })).toEqual({ status: 'missing' });
    const bad = await recorded.ec2Instance!({ instanceId: 'i-0000000000000bad1', region: 'eu-west-1' });
    expect(bad).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('is not a DescribeInstances response') });
    expect(await recorded.launchTemplateDefaultVersion!({ idOrName: '../x', region: 'eu-west-1' })).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('path separator') });
    expect(await noLookups.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' })).toMatchObject({ status: 'unavailable' });
  });
});

describe('withInstanceCache', () => {
  function counting(answers: Array<'found' | 'unavailable' | 'missing'>): { lookups: Lookups; asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      lookups: {
        ...noLookups,
        ec2Instance: async (ref) => {
          asked.push(ref.instanceId);
          const answer = answers.shift() ?? 'found';
          return answer === 'found' ? { status: 'found', value: { ...runner, instanceId: ref.instanceId } } : answer === 'missing' ? { status: 'missing' } : { status: 'unavailable', reason: 'Throttling' };
        },
      },
    };
  }

  it('reuses an answer EC2 gave until the TTL passes, then asks again', async () => {
    let now = 0;
    const { lookups, asked } = counting([]);
    const cached = withInstanceCache(lookups, { ttlMs: 1000, now: () => now });
    await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' });
    now = 999;
    expect(await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' })).toMatchObject({ status: 'found' });
    expect(asked).toEqual([RUNNER]);
    now = 1000;
    await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' });
    expect(asked).toEqual([RUNNER, RUNNER]);
    // Another region is another instance.
    await cached.ec2Instance!({ instanceId: RUNNER, region: 'us-east-1' });
    expect(asked).toHaveLength(3);
  });

  it('never keeps unavailable or missing answers, and holds at most maxEntries instances', async () => {
    const { lookups, asked } = counting(['unavailable', 'missing']);
    const cached = withInstanceCache(lookups, { maxEntries: 2, now: () => 0 });
    expect(await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'unavailable', reason: 'Throttling' });
    expect(await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' })).toEqual({ status: 'missing' });
    expect(await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' })).toMatchObject({ status: 'found' });
    expect(asked).toHaveLength(3);
    for (const id of ['i-0000000000000aaa1', 'i-0000000000000aaa2']) await cached.ec2Instance!({ instanceId: id, region: 'eu-west-1' });
    // RUNNER was the oldest of three: evicted, so asked again.
    await cached.ec2Instance!({ instanceId: RUNNER, region: 'eu-west-1' });
    expect(asked.filter((id) => id === RUNNER)).toHaveLength(4);
    await cached.ec2Instance!({ instanceId: 'i-0000000000000aaa2', region: 'eu-west-1' });
    expect(asked.filter((id) => id === 'i-0000000000000aaa2')).toHaveLength(1);
  });
});

