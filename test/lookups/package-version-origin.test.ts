/** packageVersionOrigin: DescribePackageVersion's origin, from the AWS SDK (mocked) and from a recorded directory. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CodeartifactClient, DescribePackageVersionCommand, ResourceNotFoundException, ThrottlingException } from '@aws-sdk/client-codeartifact';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsLookups } from '../../lambdas/lookups/aws-lookups.js';
import { noLookups, type PackageVersionRef } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import { tempDir } from '../support/temp-dirs.js';

expect.extend(allCustomMatcher);

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const codeartifact = new CodeartifactClient(config);
const caMock = mockClient(codeartifact);
const aws = createAwsLookups({ s3: new S3Client(config), codeartifact, codebuild: new CodeBuildClient(config) });

const ref: PackageVersionRef = { domain: 'acme', domainOwner: '111122223333', repository: 'internal-releases', format: 'npm', namespace: null, package: 'payments-service', version: '2.4.0' };

beforeEach(() => caMock.reset());

describe('createAwsLookups: packageVersionOrigin', () => {
  it('returns the origin type, its entry point and the status; no namespace is sent when there is none', async () => {
    caMock.on(DescribePackageVersionCommand).resolves({
      packageVersion: {
        format: 'npm',
        packageName: 'payments-service',
        version: '2.4.0',
        status: 'Published',
        origin: { originType: 'EXTERNAL', domainEntryPoint: { externalConnectionName: 'public:npmjs' } },
      },
    });
    expect(await aws.packageVersionOrigin?.(ref)).toEqual({ status: 'found', value: { originType: 'EXTERNAL', externalConnectionName: 'public:npmjs', status: 'Published' } });
    expect(caMock.commandCalls(DescribePackageVersionCommand)[0]?.args[0].input).toEqual({
      domain: 'acme',
      domainOwner: '111122223333',
      repository: 'internal-releases',
      format: 'npm',
      package: 'payments-service',
      packageVersion: '2.4.0',
    });
  });

  it('says UNKNOWN for a version without origin information', async () => {
    caMock.on(DescribePackageVersionCommand).resolves({ packageVersion: { packageName: 'payments-service', version: '2.4.0' } });
    expect(await aws.packageVersionOrigin?.({ ...ref, namespace: 'acme' })).toEqual({ status: 'found', value: { originType: 'UNKNOWN' } });
    expect(caMock).toHaveReceivedCommandWith(DescribePackageVersionCommand, { namespace: 'acme' });
  });

  it('is missing for an unknown version and unavailable on throttling', async () => {
    caMock
      .on(DescribePackageVersionCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'not found', $metadata: {} }))
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    expect(await aws.packageVersionOrigin?.(ref)).toEqual({ status: 'missing' });
    expect(await aws.packageVersionOrigin?.(ref)).toEqual({ status: 'unavailable', reason: 'ThrottlingException: Rate exceeded' });
  });
});

describe('createRecordedLookups: packageVersionOrigin', () => {
  let dir: string;
  const put = async (path: string, content: string): Promise<void> => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  };
  const base = 'codeartifact/DescribePackageVersion/acme/internal-releases';

  beforeAll(async () => {
    dir = tempDir('buildwatch-origin-');
    // The API response shape, and the bare description the CLI documentation shows.
    await put(`${base}/npm/_/payments-service/2.4.0.json`, JSON.stringify({ packageVersion: { status: 'Published', origin: { originType: 'INTERNAL', domainEntryPoint: { repositoryName: 'internal-releases' } } } }));
    await put(`${base}/npm/types/webpack/4.41.5.json`, JSON.stringify({ format: 'npm', namespace: 'types', status: 'Published', origin: { domainEntryPoint: { externalConnectionName: 'public:npmjs' }, originType: 'EXTERNAL' } }));
    await put(`${base}/npm/_/broken/1.0.0.json`, JSON.stringify({ packageVersion: 'nope' }));
  });

  it('reads the response or the bare description', async () => {
    const recorded = createRecordedLookups(dir);
    expect(await recorded.packageVersionOrigin?.(ref)).toEqual({ status: 'found', value: { originType: 'INTERNAL', repositoryName: 'internal-releases', status: 'Published' } });
    expect(await recorded.packageVersionOrigin?.({ ...ref, namespace: 'types', package: 'webpack', version: '4.41.5' })).toEqual({
      status: 'found',
      value: { originType: 'EXTERNAL', externalConnectionName: 'public:npmjs', status: 'Published' },
    });
  });

  it('is missing without a file, unavailable for a malformed one or an unsafe name', async () => {
    const recorded = createRecordedLookups(dir);
    expect(await recorded.packageVersionOrigin?.({ ...ref, version: '9.9.9' })).toEqual({ status: 'missing' });
    expect((await recorded.packageVersionOrigin?.({ ...ref, package: 'broken', version: '1.0.0' }))?.status).toBe('unavailable');
    expect((await recorded.packageVersionOrigin?.({ ...ref, package: '../../etc' }))?.status).toBe('unavailable');
  });

  it('is unavailable offline without a directory', async () => {
    expect((await noLookups.packageVersionOrigin?.(ref))?.status).toBe('unavailable');
  });
});
