/**
 * The backfill's current state seeds the build-environment snapshots: compute fleets (BatchGetFleets)
 * for build.fleet-drift, and the digests of followed build-image tags (DescribeImages) for
 * build.image-change, so the first change after deployment is judged against today's state.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { runReplay } from '../../bin/commands/replay.js';
import type { CloudTrailRecord } from '../../lambdas/engine/events.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { ACCOUNT, capture, eventId, fakeClock, iamUser, jsonLines, project, workdir, writeConfig } from './fixtures.js';

const PROJECT = 'payments-service-build';
const REPOSITORY = 'build-images/node20';
const IMAGE = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${REPOSITORY}:stable`;
const FLEET = 'linux-large';
const FLEET_ARN = `arn:aws:codebuild:eu-west-1:${ACCOUNT}:fleet/${FLEET}:5e1b2a3c-0000-4000-8000-000000000001`;
const LIVE = `sha256:${'a'.repeat(64)}`;
const STALE = `sha256:${'c'.repeat(64)}`;
const LAPTOP = `sha256:${'e'.repeat(64)}`;
const NOW = Date.parse('2026-10-01T00:00:00Z');

const CONFIG = {
  pipeline: { repositories: ['payments-service'], buildProjects: [{ name: PROJECT }] },
  useCases: {
    'build.image-change': { options: { imageBuilders: [`arn:aws:iam::${ACCOUNT}:role/build-image-pipeline`] } },
    'build.fleet-drift': { options: { fleets: ['shared-arm'] } },
  },
};

function put(root: string, path: string, content: unknown): void {
  const file = join(root, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(content));
}

/** Recorded answers: the project builds on IMAGE on FLEET; `stable` points to LIVE. */
function recorded(dir: string): string {
  const root = join(dir, 'recorded');
  const onFleet = { ...project(PROJECT, IMAGE), environment: { type: 'LINUX_CONTAINER', image: IMAGE, computeType: 'BUILD_GENERAL1_LARGE', fleet: { fleetArn: FLEET_ARN } } };
  put(root, `codebuild/BatchGetProjects/${PROJECT}.json`, { projects: [onFleet], projectsNotFound: [] });
  put(root, `codebuild/BatchGetFleets/${FLEET}.json`, {
    fleets: [{ name: FLEET, arn: FLEET_ARN, baseCapacity: 2, environmentType: 'LINUX_EC2', computeType: 'BUILD_GENERAL1_LARGE', imageId: 'ami-0a1b2c3d4e5f60001', fleetServiceRole: `arn:aws:iam::${ACCOUNT}:role/fleet-role` }],
  });
  put(root, 'codebuild/BatchGetFleets/shared-arm.json', { fleets: [], fleetsNotFound: ['shared-arm'] });
  put(root, `ecr/DescribeImages/${REPOSITORY}.json`, {
    imageDetails: [
      { registryId: ACCOUNT, repositoryName: REPOSITORY, imageDigest: LIVE, imageTags: ['stable', 'v20.17'], imagePushedAt: '2026-09-20T10:00:00+00:00' },
      { registryId: ACCOUNT, repositoryName: REPOSITORY, imageDigest: STALE, imageTags: ['v20.16'] },
    ],
  });
  return root;
}

function putImage(options: { user: string; time: string; digest: string }): CloudTrailRecord {
  return {
    eventVersion: '1.10',
    userIdentity: iamUser(options.user),
    eventTime: options.time,
    eventSource: 'ecr.amazonaws.com',
    eventName: 'PutImage',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'docker/27.1',
    requestParameters: { repositoryName: REPOSITORY, imageTag: 'stable', registryId: ACCOUNT },
    responseElements: { image: { repositoryName: REPOSITORY, registryId: ACCOUNT, imageId: { imageDigest: options.digest, imageTag: 'stable' } } },
    eventID: eventId('put'),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
  };
}

function updateFleet(options: { user: string; time: string; imageId: string }): CloudTrailRecord {
  return {
    eventVersion: '1.10',
    userIdentity: iamUser(options.user),
    eventTime: options.time,
    eventSource: 'codebuild.amazonaws.com',
    eventName: 'UpdateFleet',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.17.0',
    requestParameters: { arn: FLEET_ARN, imageId: options.imageId },
    responseElements: { fleet: { name: FLEET, arn: FLEET_ARN, imageId: options.imageId } },
    eventID: eventId('fleet'),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
  };
}

describe('backfill --current-state: build environment', () => {
  let dynamo: EmbeddedDynamo;
  beforeEach(async () => {
    dynamo = await startEmbeddedDynamo();
  });
  afterEach(async () => {
    await dynamo.close();
  });

  async function backfill(dir: string, config: string): Promise<string> {
    const run = capture();
    const { exitCode } = await runBackfillCommand([], { config, currentState: true, recorded: recorded(dir), endpoint: dynamo.endpoint, checkpoint: join(dir, 'cp.json') }, run.io, { clock: fakeClock(NOW) });
    expect(run.err()).not.toMatch(/look-up unavailable/);
    expect(exitCode).toBe(0);
    return run.err();
  }

  async function replay(dir: string, config: string, records: CloudTrailRecord[], useCase: string): Promise<Array<Record<string, unknown>>> {
    const file = join(dir, `events-${eventId('f')}.json`);
    writeFileSync(file, JSON.stringify({ Records: records }));
    const out = capture();
    // The detect Lambda has look-ups (fleet-drift asks BatchGetProjects which projects use the fleet).
    await runReplay([file], { config, endpoint: dynamo.endpoint, json: true, recorded: join(dir, 'recorded') }, out.io);
    return jsonLines(out.out()).filter((finding) => finding['useCase'] === useCase);
  }

  it('seeds the fleet a watched project builds on, so a hand-made AMI swap is diffed against it; a configured fleet that does not exist is a note', async () => {
    const dir = workdir();
    const config = writeConfig(dir, CONFIG);
    const err = await backfill(dir, config);
    expect(err).toContain('buildwatch: note: CodeBuild fleet shared-arm: does not exist (BatchGetFleets)');
    // The project, its fleet and the followed tag: three current states, no would-be finding.
    expect(err).toMatch(/backfilled 0 events \(3 current states\) into .*: 0 received by use cases; 0 would-be alerts and 0 attestations/);

    const findings = await replay(dir, config, [updateFleet({ user: 'mallory', time: '2026-10-02T03:00:00Z', imageId: 'ami-0badbadbadbad0001' })], 'build.fleet-drift');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      mode: 'alert',
      severity: 'high',
      resource: FLEET,
      evidence: { diff: [{ path: 'imageId', change: 'changed', before: 'ami-0a1b2c3d4e5f60001', after: 'ami-0badbadbadbad0001' }], usedBy: [PROJECT], knownSince: '2026-10-01T00:00:00Z' },
    });
  });

  it('seeds the digest of the tag a project follows as a look-up baseline: a later push is diffed against it, a stale push never overwrites it', async () => {
    const dir = workdir();
    const config = writeConfig(dir, CONFIG);
    await backfill(dir, config);

    // A push from before the look-up, delivered late: judged as a superseded push, the seeded digest stays.
    const stale = await replay(dir, config, [putImage({ user: 'dev', time: '2026-09-15T12:00:00Z', digest: STALE })], 'build.image-change');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ evidence: { digest: STALE, supersededSince: '2026-10-01T00:00:00Z' } });

    const laptop = await replay(dir, config, [putImage({ user: 'mallory', time: '2026-10-02T03:00:00Z', digest: LAPTOP })], 'build.image-change');
    expect(laptop).toHaveLength(1);
    expect(laptop[0]).toMatchObject({
      mode: 'alert',
      severity: 'high',
      evidence: { digest: LAPTOP, digestBefore: LIVE, knownSince: 'look-up', projectsFollowingTag: [{ project: PROJECT, image: IMAGE }] },
    });
  });

  it('re-pushing the digest the look-up found moves nothing, whoever pushes it', async () => {
    const dir = workdir();
    const config = writeConfig(dir, CONFIG);
    await backfill(dir, config);
    expect(await replay(dir, config, [putImage({ user: 'mallory', time: '2026-10-01T06:00:00Z', digest: LIVE })], 'build.image-change')).toEqual([]);
    // The same push moving the tag would have been high: the empty answer is the seeded digest's doing.
    const moved = await replay(dir, config, [putImage({ user: 'mallory', time: '2026-10-01T07:00:00Z', digest: LAPTOP })], 'build.image-change');
    expect(moved.map((finding) => finding['severity'])).toEqual(['high']);
  });

  it('a fleet name from a look-up answer reaches the terminal escaped', async () => {
    const dir = workdir();
    const root = recorded(dir);
    const hostile = `arn:aws:codebuild:eu-west-1:${ACCOUNT}:fleet/\u001b]8;;https://evil.example\u0007x:1`;
    put(root, `codebuild/BatchGetProjects/${PROJECT}.json`, { projects: [{ ...project(PROJECT, IMAGE), environment: { image: IMAGE, fleet: { fleetArn: hostile } } }] });
    const run = capture();
    await runBackfillCommand([], { config: writeConfig(dir, CONFIG), currentState: true, recorded: root, whatIf: true }, run.io, { clock: fakeClock(NOW) });
    expect(run.err()).toMatch(/note: CodeBuild fleet .*\]8;;https: does not exist/);
    expect(run.err()).not.toMatch(/[\u0007\u001b]/);
  });

  it('a tag DescribeImages does not know is a note; look-ups that cannot answer are named and fail the run', async () => {
    const dir = workdir();
    const root = recorded(dir);
    put(root, `ecr/DescribeImages/${REPOSITORY}.json`, { imageDetails: [{ registryId: ACCOUNT, imageDigest: STALE, imageTags: ['v20.16'] }] });
    const config = writeConfig(dir, CONFIG);
    const run = capture();
    const { exitCode } = await runBackfillCommand([], { config, currentState: true, recorded: root, endpoint: dynamo.endpoint, checkpoint: join(dir, 'cp.json') }, run.io, { clock: fakeClock(NOW) });
    expect(exitCode).toBe(0);
    expect(run.err()).toContain(`buildwatch: note: build image ${IMAGE} (used by ${PROJECT}): the tag does not exist (DescribeImages)`);

    // Offline without answers: the project cannot be read, so neither its fleet nor its image is known,
    // but the configured fleet and projectImages are still asked for, and each failure is named.
    const offline = writeConfig(dir, { ...CONFIG, useCases: { ...CONFIG.useCases, 'build.image-change': { options: { projectImages: { [PROJECT]: IMAGE } } } } });
    const failed = capture();
    const result = await runBackfillCommand([], { config: offline, currentState: true, whatIf: true }, failed.io, { lookups: noLookups, clock: fakeClock(NOW) });
    expect(result.exitCode).toBe(1);
    expect(failed.err()).toContain('buildwatch: current state: CodeBuild fleet shared-arm: look-up unavailable');
    expect(failed.err()).toContain(`buildwatch: current state: build image ${IMAGE}: look-up unavailable`);
  });
});
