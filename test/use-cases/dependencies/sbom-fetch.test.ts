import { GetObjectCommand, type GetObjectCommandOutput, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CodeartifactClient } from '@aws-sdk/client-codeartifact';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../../lambdas/config/config.js';
import { toPipelineEvent } from '../../../lambdas/engine/pipeline-event.js';
import { createAwsLookups } from '../../../lambdas/lookups/aws-lookups.js';
import type { LookupResult, Lookups } from '../../../lambdas/lookups/lookups.js';
import { buildOf, type BuildInfo } from '../../../lambdas/use-cases/dependencies/build-event.js';
import { fetchBuildSbom } from '../../../lambdas/use-cases/dependencies/sbom-fetch.js';
import { renderTemplate, sbomTemplatesFor } from '../../../lambdas/use-cases/dependencies/sbom-locations.js';

const ARN = 'arn:aws:codebuild:eu-west-1:111122223333:build/payments-service-build:3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21';
const build: BuildInfo = {
  project: 'payments-service-build',
  arn: ARN,
  buildId: 'payments-service-build:3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21',
  buildUuid: '3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21',
  buildNumber: 455,
  status: 'SUCCEEDED',
};
const SBOM = new TextEncoder().encode(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ type: 'library', name: 'ms', version: '2.1.3', purl: 'pkg:npm/ms@2.1.3' }] }));

function config(sbom: string[], extra: BuildwatchConfigInput = {}) {
  return parseConfig({ pipeline: { buildProjects: [{ name: 'payments-service-build', sbom }] }, ...extra });
}

/** Look-ups answering from a map of s3://bucket/key → outcome, counting calls. */
function fakeLookups(answers: Record<string, LookupResult<Uint8Array>>): Lookups & { calls: string[] } {
  const calls: string[] = [];
  const unavailable = async () => ({ status: 'unavailable' as const, reason: 'not in this test' });
  return {
    calls,
    s3Object: async (bucket, key) => {
      calls.push(`s3://${bucket}/${key}`);
      return answers[`s3://${bucket}/${key}`] ?? { status: 'missing' };
    },
    packageVersionAssets: unavailable,
    codeBuildProject: unavailable,
  };
}

describe('buildOf', () => {
  it('reads project, ids and number from a native build event', () => {
    const event = toPipelineEvent({
      version: '0',
      id: 'b0fd26c4-a5e0-aeae-7ba8-d36e4143d576',
      'detail-type': 'CodeBuild Build State Change',
      source: 'aws.codebuild',
      account: '111122223333',
      time: '2026-10-24T01:40:02Z',
      region: 'eu-west-1',
      resources: [ARN],
      detail: { 'build-status': 'SUCCEEDED', 'project-name': 'payments-service-build', 'build-id': ARN, 'additional-information': { 'build-number': 455, 'source-version': 'abc', initiator: 'codepipeline/payments-release' } },
    });
    expect(buildOf(event)).toEqual({ ...build, sourceVersion: 'abc', initiator: 'codepipeline/payments-release' });
  });
});

describe('SBOM locations', () => {
  it('fills {project}, {buildId}, {buildUuid} and {buildNumber}', () => {
    expect(renderTemplate('s3://acme-artifacts/sbom/{project}/{buildNumber}/{buildId}/{buildUuid}.json', build)).toEqual({
      location: {
        bucket: 'acme-artifacts',
        key: 'sbom/payments-service-build/455/payments-service-build:3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21/3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21.json',
        url: 's3://acme-artifacts/sbom/payments-service-build/455/payments-service-build:3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21/3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21.json',
      },
    });
  });

  it('reports placeholders it does not know or cannot fill', () => {
    expect(renderTemplate('s3://b/{sourceVersion}/bom.json', build)).toEqual({ problem: 's3://b/{sourceVersion}/bom.json: unknown placeholder {sourceVersion}' });
    const { buildNumber: _omitted, ...withoutNumber } = build;
    expect(renderTemplate('s3://b/{buildNumber}/bom.json', withoutNumber)).toEqual({ problem: 's3://b/{buildNumber}/bom.json: the build event has no value for {buildNumber}' });
  });

  it('uses a project\'s own templates, else the defaults for watched projects only', () => {
    const options = { useCases: { 'dependencies.sbom': { options: { defaultLocations: ['s3://b/default/{project}.json'] } } } };
    expect(sbomTemplatesFor(config(['s3://b/own.json'], options), 'payments-service-build')).toEqual(['s3://b/own.json']);
    expect(sbomTemplatesFor(config([], options), 'payments-service-build')).toEqual(['s3://b/default/{project}.json']);
    expect(sbomTemplatesFor(config([], options), 'someone-elses-build')).toEqual([]);
    expect(sbomTemplatesFor(parseConfig(options), 'any-build')).toEqual(['s3://b/default/{project}.json']);
    expect(sbomTemplatesFor(parseConfig({}), 'any-build')).toEqual([]);
  });
});

describe('fetchBuildSbom', () => {
  it('tries locations in order: missing moves on, the first that exists wins', async () => {
    const lookups = fakeLookups({ 's3://b/second/455.json': { status: 'found', value: SBOM } });
    const result = await fetchBuildSbom(build, config(['s3://b/first/{buildUuid}.json', 's3://b/second/{buildNumber}.json', 's3://b/third.json']), lookups);
    expect(result.status).toBe('found');
    expect(result.status === 'found' && result.location).toBe('s3://b/second/455.json');
    expect(lookups.calls).toEqual(['s3://b/first/3f0c5a8e-2d61-4c2b-9a7e-5b1f0d9e8c21.json', 's3://b/second/455.json']);
  });

  it('never calls an SBOM missing when a location could not be asked', async () => {
    const lookups = fakeLookups({ 's3://b/first.json': { status: 'unavailable', reason: 'AccessDenied: Access Denied' } });
    const result = await fetchBuildSbom(build, config(['s3://b/first.json', 's3://b/second.json']), lookups);
    expect(result).toEqual({ status: 'unavailable', tried: ['s3://b/first.json', 's3://b/second.json'], reasons: ['s3://b/first.json: AccessDenied: Access Denied'] });
  });

  it('still finds the SBOM at a later location after an unavailable one', async () => {
    const lookups = fakeLookups({ 's3://b/first.json': { status: 'unavailable', reason: 'throttled' }, 's3://b/second.json': { status: 'found', value: SBOM } });
    expect((await fetchBuildSbom(build, config(['s3://b/first.json', 's3://b/second.json']), lookups)).status).toBe('found');
  });

  it('is missing only when every location said so', async () => {
    const result = await fetchBuildSbom(build, config(['s3://b/first.json', 's3://b/{nope}.json']), fakeLookups({}));
    expect(result).toEqual({ status: 'missing', tried: ['s3://b/first.json'], problems: ['s3://b/{nope}.json: unknown placeholder {nope}'] });
  });

  it('turns the look-ups\' size refusal into an answer about the SBOM', async () => {
    const lookups = fakeLookups({ 's3://b/big.json': { status: 'unavailable', reason: 's3://b/big.json is 73400320 bytes, over the 10485760-byte limit' } });
    expect(await fetchBuildSbom(build, config(['s3://b/big.json']), lookups)).toEqual({ status: 'too-large', location: 's3://b/big.json', bytes: 73400320, limit: 10485760, tried: ['s3://b/big.json'] });
  });

  it('asks S3 once per build when several use cases read the same SBOM', async () => {
    const lookups = fakeLookups({ 's3://b/bom.json': { status: 'found', value: SBOM } });
    const cfg = config(['s3://b/bom.json']);
    const results = await Promise.all([fetchBuildSbom(build, cfg, lookups), fetchBuildSbom(build, cfg, lookups), fetchBuildSbom(build, cfg, lookups)]);
    expect(new Set(results).size).toBe(1);
    expect(lookups.calls).toHaveLength(1);
  });

  it('expects nothing from projects without templates', async () => {
    const lookups = fakeLookups({});
    expect(await fetchBuildSbom({ ...build, project: 'docs-site-build' }, config(['s3://b/bom.json']), lookups)).toEqual({ status: 'not-configured' });
    expect(lookups.calls).toEqual([]);
  });
});

describe('fetchBuildSbom through the AWS SDK look-ups', () => {
  const clientConfig = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const s3 = new S3Client(clientConfig);
  const s3Mock = mockClient(s3);
  beforeEach(() => s3Mock.reset());
  const lookups = () => createAwsLookups({ s3, codeartifact: new CodeartifactClient(clientConfig), codebuild: new CodeBuildClient(clientConfig) });
  const body = (bytes: Uint8Array) => ({ transformToByteArray: async () => bytes, destroy: vi.fn() }) as unknown as GetObjectCommandOutput['Body'];

  it('NoSuchKey at the first location, the object at the second', async () => {
    s3Mock.on(GetObjectCommand, { Bucket: 'acme-artifacts', Key: 'sbom/payments-service-build/455/bom.json' }).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    s3Mock.on(GetObjectCommand, { Bucket: 'acme-artifacts', Key: `sbom/${build.buildId}/bom.json` }).resolves({ Body: body(SBOM), ContentLength: SBOM.byteLength });
    const result = await fetchBuildSbom(build, config(['s3://acme-artifacts/sbom/{project}/{buildNumber}/bom.json', 's3://acme-artifacts/sbom/{buildId}/bom.json']), lookups());
    expect(result.status).toBe('found');
  });

  it('AccessDenied is unavailable, not missing', async () => {
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }));
    const result = await fetchBuildSbom(build, config(['s3://acme-artifacts/sbom/{buildUuid}.json']), lookups());
    expect(result.status).toBe('unavailable');
  });
});

describe('sbomObjectArns', () => {
  it('grants the key prefixes up to the first placeholder, once each', async () => {
    const { sbomBucketArns, sbomObjectArns } = await import('../../../lambdas/use-cases/dependencies/sbom-locations.js');
    const cfg = parseConfig({
      pipeline: {
        buildProjects: [
          { name: 'a', sbom: ['s3://acme-artifacts/sbom/{project}/{buildUuid}/bom.cdx.json', 's3://acme-artifacts/fixed/bom.json'] },
          { name: 'b', sbom: ['s3://acme-artifacts/sbom/{project}/{buildNumber}/sbom.spdx.json'] },
        ],
      },
      useCases: { 'dependencies.sbom': { options: { defaultLocations: ['s3://other-bucket/{project}.json'] } } },
    });
    expect(sbomObjectArns(cfg)).toEqual(['arn:aws:s3:::acme-artifacts/fixed/bom.json', 'arn:aws:s3:::acme-artifacts/sbom/*', 'arn:aws:s3:::other-bucket/*']);
    expect(sbomBucketArns(cfg, 'aws-cn')).toEqual(['arn:aws-cn:s3:::acme-artifacts', 'arn:aws-cn:s3:::other-bucket']);
  });
});
