import {
  CodeartifactClient,
  ListPackageVersionAssetsCommand,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-codeartifact';
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { GetObjectCommand, type GetObjectCommandOutput, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsLookups, MAX_S3_OBJECT_BYTES } from '../../lambdas/lookups/aws-lookups.js';
import type { PackageVersionRef } from '../../lambdas/lookups/lookups.js';

expect.extend(allCustomMatcher);

// Clients with fixed region and credentials so nothing is resolved from the machine; the mocks
// intercept `send`, so no request leaves the process.
const config = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const s3 = new S3Client(config);
const codeartifact = new CodeartifactClient(config);
const codebuild = new CodeBuildClient(config);
const s3Mock = mockClient(s3);
const caMock = mockClient(codeartifact);
const cbMock = mockClient(codebuild);
const lookups = createAwsLookups({ s3, codeartifact, codebuild });

/** What the SDK hands back as GetObject's Body, reduced to the one method the code uses. */
function body(bytes: Uint8Array, destroy = vi.fn()): GetObjectCommandOutput['Body'] {
  return { transformToByteArray: async () => bytes, destroy } as unknown as GetObjectCommandOutput['Body'];
}

const ref: PackageVersionRef = {
  domain: 'acme',
  domainOwner: '111122223333',
  repository: 'releases',
  format: 'npm',
  namespace: null,
  package: 'left-pad',
  version: '1.3.0',
};

beforeEach(() => {
  s3Mock.reset();
  caMock.reset();
  cbMock.reset();
});

describe('createAwsLookups: s3Object', () => {
  it('reads the body to bytes', async () => {
    const bytes = new TextEncoder().encode('{"bomFormat":"CycloneDX"}');
    s3Mock
      .on(GetObjectCommand, { Bucket: 'sboms', Key: 'builds/42/sbom.json' })
      .resolves({ Body: body(bytes), ContentLength: bytes.byteLength });
    expect(await lookups.s3Object('sboms', 'builds/42/sbom.json')).toEqual({ status: 'found', value: bytes });
  });

  it('is missing on NoSuchKey and NotFound', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }))
      .rejectsOnce(new S3ServiceException({ name: 'NotFound', $fault: 'client', message: 'Not Found', $metadata: {} }));
    expect(await lookups.s3Object('sboms', 'nope')).toEqual({ status: 'missing' });
    expect(await lookups.s3Object('sboms', 'nope')).toEqual({ status: 'missing' });
  });

  it('is unavailable on access denied, with the error name and message', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: {} }));
    expect(await lookups.s3Object('sboms', 'x')).toEqual({ status: 'unavailable', reason: 'AccessDenied: Access Denied' });
  });

  it('refuses an object over 10 MiB without reading it', async () => {
    const destroy = vi.fn();
    const read = vi.fn();
    s3Mock.on(GetObjectCommand).resolves({
      Body: { transformToByteArray: read, destroy } as unknown as GetObjectCommandOutput['Body'],
      ContentLength: MAX_S3_OBJECT_BYTES + 1,
    });
    const result = await lookups.s3Object('sboms', 'huge');
    expect(result.status).toBe('unavailable');
    expect(read).not.toHaveBeenCalled();
    expect(destroy).toHaveBeenCalled();
  });

  it('refuses an over-size body when ContentLength is absent', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(new Uint8Array(MAX_S3_OBJECT_BYTES + 1)) });
    expect((await lookups.s3Object('sboms', 'huge')).status).toBe('unavailable');
  });
});

describe('createAwsLookups: packageVersionAssets', () => {
  it('follows nextToken across pages and omits an empty namespace', async () => {
    caMock
      .on(ListPackageVersionAssetsCommand)
      .resolvesOnce({
        format: 'npm',
        package: 'left-pad',
        version: '1.3.0',
        versionRevision: 'rev1',
        assets: [{ name: 'package.tgz', size: 10, hashes: { MD5: 'm', 'SHA-1': 's1', 'SHA-256': 'abc', 'SHA-512': 's5' } }],
        nextToken: 'page-2',
      })
      .resolvesOnce({ format: 'npm', assets: [{ name: 'extra.txt', size: 2, hashes: { 'SHA-256': 'def' } }] });

    const result = await lookups.packageVersionAssets(ref);

    expect(result).toEqual({
      status: 'found',
      value: {
        format: 'npm',
        package: 'left-pad',
        version: '1.3.0',
        versionRevision: 'rev1',
        assets: [
          { name: 'package.tgz', size: 10, hashes: { MD5: 'm', 'SHA-1': 's1', 'SHA-256': 'abc', 'SHA-512': 's5' } },
          { name: 'extra.txt', size: 2, hashes: { 'SHA-256': 'def' } },
        ],
      },
    });
    expect(caMock).toHaveReceivedCommandTimes(ListPackageVersionAssetsCommand, 2);
    expect(caMock).toHaveReceivedNthCommandWith(ListPackageVersionAssetsCommand, 2, { nextToken: 'page-2' });
    const firstInput = caMock.commandCalls(ListPackageVersionAssetsCommand)[0]?.args[0].input;
    expect(firstInput).toEqual({
      domain: 'acme',
      domainOwner: '111122223333',
      repository: 'releases',
      format: 'npm',
      package: 'left-pad',
      packageVersion: '1.3.0',
    });
  });

  it('passes a namespace when there is one', async () => {
    caMock.on(ListPackageVersionAssetsCommand).resolves({ namespace: 'myscope', assets: [] });
    const result = await lookups.packageVersionAssets({ ...ref, namespace: 'myscope' });
    expect(result).toMatchObject({ status: 'found', value: { namespace: 'myscope', assets: [] } });
    expect(caMock).toHaveReceivedCommandWith(ListPackageVersionAssetsCommand, { namespace: 'myscope' });
  });

  it('is missing on ResourceNotFoundException', async () => {
    caMock
      .on(ListPackageVersionAssetsCommand)
      .rejects(new ResourceNotFoundException({ message: 'Package version not found', $metadata: {} }));
    expect(await lookups.packageVersionAssets(ref)).toEqual({ status: 'missing' });
  });

  it('is unavailable on throttling', async () => {
    caMock.on(ListPackageVersionAssetsCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    expect(await lookups.packageVersionAssets(ref)).toEqual({
      status: 'unavailable',
      reason: 'ThrottlingException: Rate exceeded',
    });
  });

  it('gives up on a token that never ends', async () => {
    caMock.on(ListPackageVersionAssetsCommand).resolves({ assets: [], nextToken: 'again' });
    expect((await lookups.packageVersionAssets(ref)).status).toBe('unavailable');
  });
});

describe('createAwsLookups: codeBuildProject', () => {
  const arn = 'arn:aws:codebuild:eu-west-1:111122223333:project/app-build';

  it('returns the named project as plain JSON', async () => {
    cbMock.on(BatchGetProjectsCommand, { names: ['app-build'] }).resolves({
      projects: [{ name: 'app-build', arn, serviceRole: 'role-a', created: new Date('2024-01-02T03:04:05Z') }],
      projectsNotFound: [],
    });
    expect(await lookups.codeBuildProject('app-build')).toEqual({
      status: 'found',
      value: { name: 'app-build', arn, serviceRole: 'role-a', created: '2024-01-02T03:04:05.000Z' },
    });
  });

  it('matches a project asked for by ARN', async () => {
    cbMock.on(BatchGetProjectsCommand).resolves({ projects: [{ name: 'app-build', arn }] });
    expect(await lookups.codeBuildProject(arn)).toMatchObject({ status: 'found', value: { name: 'app-build' } });
  });

  it('is missing when listed in projectsNotFound', async () => {
    cbMock.on(BatchGetProjectsCommand).resolves({ projects: [], projectsNotFound: ['gone'] });
    expect(await lookups.codeBuildProject('gone')).toEqual({ status: 'missing' });
  });

  it('is unavailable on any other error', async () => {
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    cbMock.on(BatchGetProjectsCommand).rejects(error);
    expect(await lookups.codeBuildProject('app-build')).toEqual({
      status: 'unavailable',
      reason: 'ThrottlingException: Rate exceeded',
    });
  });
});

describe('trails (DescribeTrails)', () => {
  it('returns each trail\'s bucket, prefix and key, including shadow trails; a failure is unavailable, no client is unavailable', async () => {
    const cloudtrail = new CloudTrailClient(config);
    const ctMock = mockClient(cloudtrail);
    ctMock.on(DescribeTrailsCommand, { includeShadowTrails: true }).resolvesOnce({
      trailList: [{ Name: 'org-audit', TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit', S3BucketName: 'acme-logs', S3KeyPrefix: 'ct', KmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k' }, { TrailARN: 'nameless' }],
    }).rejectsOnce(new Error('Throttling'));
    const withTrails = createAwsLookups({ s3, codeartifact, codebuild, cloudtrail });
    expect(await withTrails.trails?.()).toEqual({
      status: 'found',
      value: [{ name: 'org-audit', trailArn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit', s3BucketName: 'acme-logs', s3KeyPrefix: 'ct', kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k' }],
    });
    expect(await withTrails.trails?.()).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('Throttling') });
    expect(await lookups.trails?.()).toMatchObject({ status: 'unavailable' });
  });
});
