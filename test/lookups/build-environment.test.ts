/** The build-environment look-ups the backfill seeds snapshots with: ECR DescribeImages and CodeBuild BatchGetFleets. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BatchGetFleetsCommand, CodeBuildClient, InvalidInputException } from '@aws-sdk/client-codebuild';
import { CodeartifactClient } from '@aws-sdk/client-codeartifact';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException, RepositoryNotFoundException } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsEcrLookups } from '../../lambdas/lookups/aws-ecr-lookups.js';
import { createAwsLookups } from '../../lambdas/lookups/aws-lookups.js';
import { fleetNameFromArn, noLookups, type EcrImageRef } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';

expect.extend(allCustomMatcher);

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const codebuild = new CodeBuildClient(config);
const ecrEu = new ECRClient(config);
const ecrUs = new ECRClient({ ...config, region: 'us-east-1' });
const cbMock = mockClient(codebuild);
const ecrEuMock = mockClient(ecrEu);
const ecrUsMock = mockClient(ecrUs);
const aws = {
  ...createAwsLookups({ s3: new S3Client(config), codeartifact: new CodeartifactClient(config), codebuild }),
  ...createAwsEcrLookups((region) => (region === 'us-east-1' ? ecrUs : ecrEu)),
};

const DIGEST = `sha256:${'a'.repeat(64)}`;
const image: EcrImageRef = { registryId: '111122223333', region: 'eu-west-1', repository: 'build/base', tag: 'stable' };
const FLEET_ARN = 'arn:aws:codebuild:eu-west-1:111122223333:fleet/linux-large:5e1b2a3c-0000-4000-8000-000000000001';

describe('createAwsEcrLookups: ecrImage (DescribeImages)', () => {
  beforeEach(() => {
    ecrEuMock.reset();
    ecrUsMock.reset();
  });

  it('asks the registry and region the image URI names, for the one tag, and returns its digest', async () => {
    ecrEuMock.on(DescribeImagesCommand).resolves({
      imageDetails: [{ registryId: '111122223333', repositoryName: 'build/base', imageDigest: DIGEST, imageTags: ['stable', 'v12'], imagePushedAt: new Date('2026-09-01T10:00:00Z') }],
    });
    expect(await aws.ecrImage!(image)).toEqual({ status: 'found', value: { digest: DIGEST, tags: ['stable', 'v12'], pushedAt: '2026-09-01T10:00:00.000Z' } });
    expect(ecrEuMock).toHaveReceivedCommandWith(DescribeImagesCommand, { registryId: '111122223333', repositoryName: 'build/base', imageIds: [{ imageTag: 'stable' }] });
    expect(ecrUsMock).not.toHaveReceivedAnyCommand();

    ecrUsMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['stable'] }] });
    expect(await aws.ecrImage!({ ...image, region: 'us-east-1' })).toEqual({ status: 'found', value: { digest: DIGEST, tags: ['stable'] } });
  });

  it('a tag or repository that does not exist is missing; any other failure is unavailable', async () => {
    ecrEuMock.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'no such tag', $metadata: {} }));
    expect(await aws.ecrImage!(image)).toEqual({ status: 'missing' });
    ecrEuMock.on(DescribeImagesCommand).rejects(new RepositoryNotFoundException({ message: 'no such repository', $metadata: {} }));
    expect(await aws.ecrImage!(image)).toEqual({ status: 'missing' });
    // An answer about other tags only is not this tag's image.
    ecrEuMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['other'] }] });
    expect(await aws.ecrImage!(image)).toEqual({ status: 'missing' });
    const denied = Object.assign(new Error('not authorized to perform ecr:DescribeImages'), { name: 'AccessDeniedException' });
    ecrEuMock.on(DescribeImagesCommand).rejects(denied);
    expect(await aws.ecrImage!(image)).toEqual({ status: 'unavailable', reason: 'AccessDeniedException: not authorized to perform ecr:DescribeImages' });
  });

  it('is not among the common look-ups (detect and the sweep never ask ECR): only the backfill adds it', () => {
    const common = createAwsLookups({ s3: new S3Client(config), codeartifact: new CodeartifactClient(config), codebuild });
    expect(common.ecrImage).toBeUndefined();
  });
});

describe('createAwsLookups: codeBuildFleet (BatchGetFleets)', () => {
  beforeEach(() => cbMock.reset());

  it('finds the fleet by name or ARN and returns it as plain JSON', async () => {
    cbMock.on(BatchGetFleetsCommand).resolves({
      fleets: [{ name: 'linux-large', arn: FLEET_ARN, imageId: 'ami-0123', fleetServiceRole: 'arn:aws:iam::111122223333:role/fleet', created: new Date('2026-08-01T00:00:00Z') }],
    });
    expect(await aws.codeBuildFleet!('linux-large')).toEqual({
      status: 'found',
      value: { name: 'linux-large', arn: FLEET_ARN, imageId: 'ami-0123', fleetServiceRole: 'arn:aws:iam::111122223333:role/fleet', created: '2026-08-01T00:00:00.000Z' },
    });
    expect(await aws.codeBuildFleet!(FLEET_ARN)).toMatchObject({ status: 'found', value: { name: 'linux-large' } });
    expect(cbMock).toHaveReceivedCommandWith(BatchGetFleetsCommand, { names: [FLEET_ARN] });
  });

  it('a fleet in fleetsNotFound is missing; a failed call is unavailable', async () => {
    cbMock.on(BatchGetFleetsCommand).resolves({ fleets: [], fleetsNotFound: ['gone'] });
    expect(await aws.codeBuildFleet!('gone')).toEqual({ status: 'missing' });
    cbMock.on(BatchGetFleetsCommand).rejects(new InvalidInputException({ message: 'bad name', $metadata: {} }));
    expect(await aws.codeBuildFleet!('linux-large')).toEqual({ status: 'unavailable', reason: 'InvalidInputException: bad name' });
  });
});

describe('createRecordedLookups: ecrImage and codeBuildFleet', () => {
  let dir: string;
  const put = async (path: string, content: unknown): Promise<void> => {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildwatch-recorded-env-'));
    // `aws ecr describe-images --repository-name build/base`: the CLI prints imagePushedAt as an ISO string.
    await put('ecr/DescribeImages/build/base.json', {
      imageDetails: [
        { registryId: '111122223333', repositoryName: 'build/base', imageDigest: DIGEST, imageTags: ['stable', 'v12'], imagePushedAt: '2026-09-01T10:00:00+00:00' },
        { registryId: '111122223333', repositoryName: 'build/base', imageDigest: `sha256:${'b'.repeat(64)}`, imageTags: ['v11'] },
      ],
    });
    await put('ecr/DescribeImages/broken.json', { images: [] });
    await put('codebuild/BatchGetFleets/linux-large.json', { fleets: [{ name: 'linux-large', arn: FLEET_ARN, imageId: 'ami-0123' }], fleetsNotFound: [] });
    await put('codebuild/BatchGetFleets/bare.json', { name: 'bare', imageId: 'ami-0456' });
    await put('codebuild/BatchGetFleets/gone.json', { fleets: [], fleetsNotFound: ['gone'] });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a tag\'s digest from the recorded describe-images output of its repository', async () => {
    const lookups = createRecordedLookups(dir);
    expect(await lookups.ecrImage!(image)).toEqual({ status: 'found', value: { digest: DIGEST, tags: ['stable', 'v12'], pushedAt: '2026-09-01T10:00:00.000Z' } });
    expect(await lookups.ecrImage!({ ...image, tag: 'v11' })).toMatchObject({ status: 'found', value: { digest: `sha256:${'b'.repeat(64)}` } });
    expect(await lookups.ecrImage!({ ...image, tag: 'nightly' })).toEqual({ status: 'missing' });
    // Another account's repository of the same name is a different repository.
    expect(await lookups.ecrImage!({ ...image, registryId: '444455556666' })).toEqual({ status: 'missing' });
    expect(await lookups.ecrImage!({ ...image, repository: 'never-recorded' })).toEqual({ status: 'missing' });
  });

  it('refuses a malformed recording or a repository name that would leave the directory', async () => {
    const lookups = createRecordedLookups(dir);
    expect(await lookups.ecrImage!({ ...image, repository: 'broken' })).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('is not a DescribeImages response') });
    expect((await lookups.ecrImage!({ ...image, repository: '../codebuild/BatchGetFleets/bare' })).status).toBe('unavailable');
    expect((await lookups.ecrImage!({ ...image, repository: '/etc/passwd' })).status).toBe('unavailable');
  });

  it('reads a fleet by name or ARN, as the whole BatchGetFleets response or the fleet alone', async () => {
    const lookups = createRecordedLookups(dir);
    expect(await lookups.codeBuildFleet!('linux-large')).toEqual({ status: 'found', value: { name: 'linux-large', arn: FLEET_ARN, imageId: 'ami-0123' } });
    expect(await lookups.codeBuildFleet!(FLEET_ARN)).toMatchObject({ status: 'found', value: { name: 'linux-large' } });
    expect(await lookups.codeBuildFleet!('bare')).toEqual({ status: 'found', value: { name: 'bare', imageId: 'ami-0456' } });
    expect(await lookups.codeBuildFleet!('gone')).toEqual({ status: 'missing' });
    expect(await lookups.codeBuildFleet!('never-recorded')).toEqual({ status: 'missing' });
    expect((await lookups.codeBuildFleet!('..')).status).toBe('unavailable');
  });

  it('offline without a directory, both say so', async () => {
    expect(await noLookups.ecrImage!(image)).toMatchObject({ status: 'unavailable' });
    expect(await noLookups.codeBuildFleet!('linux-large')).toMatchObject({ status: 'unavailable' });
    expect(fleetNameFromArn(FLEET_ARN)).toBe('linux-large');
    expect(fleetNameFromArn('linux-large')).toBe('linux-large');
  });
});
