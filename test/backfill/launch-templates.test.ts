/**
 * seedLaunchTemplates against the real state store (dynalite): which templates are read, what is
 * written when (user data hashed, never stored), and how build.host-drift then describes a
 * launch-template change against the default version as looked up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configuredLaunchTemplates, seedLaunchTemplates } from '../../lambdas/backfill/launch-templates.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { envelopeForCloudTrail, type CloudTrailRecord } from '../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import type { LaunchTemplateRef, Lookups } from '../../lambdas/lookups/lookups.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import hostDrift from '../../lambdas/use-cases/build/host-drift/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { ACCOUNT, workdir } from './fixtures.js';

const dynamo = useLocalDynamo();
const ID = 'build.host-drift';
const TEMPLATE = 'lt-0a1b2c3d4e5f60718';
const KEY = `launch-template/${TEMPLATE}`;
const AT = '2026-10-01T00:00:00Z';
const TOKEN = 'glrt-SECRETREGISTRATIONTOKEN0001';
const USER_DATA = Buffer.from(`#!/bin/bash\ngitlab-runner register --token ${TOKEN}\n`).toString('base64');

const groups = [{ name: 'gitlab-runners', autoScalingGroups: ['gitlab-runner-asg'], launchTemplates: [TEMPLATE] }];
const config = parseConfig({
  useCases: {
    [ID]: { options: { hostGroups: groups } },
    // The same template named again, by name, and one that no longer exists.
    'build.host-access': { options: { hostGroups: [{ name: 'gitlab-runners', launchTemplates: [TEMPLATE, 'gitlab-runners', 'retired-agents'] }] } },
  },
});

/** Recorded DescribeLaunchTemplateVersions for the template (by id and by name), counting the look-ups asked. */
function lookups(): { lookups: Lookups; asked: LaunchTemplateRef[] } {
  const root = join(workdir(), 'recorded');
  mkdirSync(join(root, 'ec2', 'DescribeLaunchTemplateVersions'), { recursive: true });
  const answer = {
    LaunchTemplateVersions: [
      {
        LaunchTemplateId: TEMPLATE,
        LaunchTemplateName: 'gitlab-runners',
        VersionNumber: 3,
        DefaultVersion: true,
        CreateTime: '2026-09-21T08:14:02+00:00',
        LaunchTemplateData: { ImageId: 'ami-0c1d2e3f4a5b6c7d8', UserData: USER_DATA, IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/gitlab-runner-profile` }, SecurityGroupIds: ['sg-0fedcba9876543210'] },
      },
    ],
  };
  for (const name of [TEMPLATE, 'gitlab-runners']) writeFileSync(join(root, 'ec2', 'DescribeLaunchTemplateVersions', `${name}.json`), JSON.stringify(answer));
  const recorded = createRecordedLookups(root);
  const asked: LaunchTemplateRef[] = [];
  return { asked, lookups: { ...recorded, launchTemplateDefaultVersion: async (ref) => (asked.push(ref), recorded.launchTemplateDefaultVersion!(ref)) } };
}

describe('configuredLaunchTemplates', () => {
  it("takes build.host-drift's and build.host-access's host groups, each template once, in configuration order", () => {
    expect(configuredLaunchTemplates(config)).toEqual([TEMPLATE, 'gitlab-runners', 'retired-agents']);
    expect(configuredLaunchTemplates(parseConfig({}))).toEqual([]);
  });
});

describe('seedLaunchTemplates', () => {
  it('writes the default version as a look-up baseline (change log, then head), user data as its hash only; a missing template is a note', async () => {
    const { state } = await dynamo.freshStores();
    const { lookups: answers, asked } = lookups();
    const result = await seedLaunchTemplates({ config, lookups: answers, state, at: AT, region: 'eu-west-1', keepDays: 90 });
    expect(result).toEqual({ seeded: 1, notes: ['launch template retired-agents: does not exist (DescribeLaunchTemplateVersions)'], problems: [] });
    expect(asked.map((ref) => ref.idOrName)).toEqual([TEMPLATE, 'gitlab-runners', 'retired-agents']);
    expect(asked.every((ref) => ref.region === 'eu-west-1')).toBe(true);
    const head = await state.getSnapshot(ID, KEY);
    expect(head).toMatchObject({
      updatedAt: AT,
      version: 1,
      state: {
        launchTemplateId: TEMPLATE,
        launchTemplateName: 'gitlab-runners',
        defaultVersion: 3,
        imageId: 'ami-0c1d2e3f4a5b6c7d8',
        instanceProfile: `arn:aws:iam::${ACCOUNT}:instance-profile/gitlab-runner-profile`,
        securityGroups: ['sg-0fedcba9876543210'],
        userDataSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        versionCreated: '2026-09-21T08:14:02.000Z',
      },
    });
    expect(JSON.stringify(head)).not.toContain(TOKEN);
    expect(JSON.stringify(head)).not.toContain(USER_DATA);
    const { prior } = await state.stateChangesAround(ID, KEY, { at: '2026-10-02T00:00:00Z', eventId: 'later', kind: 'event' });
    expect(prior).toMatchObject({ kind: 'baseline', at: AT, partial: false, after: { defaultVersion: 3 } });

    // Again (a resumed or repeated backfill): known as it is, nothing rewritten.
    const again = await seedLaunchTemplates({ config, lookups: answers, state, at: '2026-10-05T00:00:00Z', region: 'eu-west-1', keepDays: 90 });
    expect(again.seeded).toBe(0);
    expect(await state.getSnapshot(ID, KEY)).toMatchObject({ updatedAt: AT, version: 1 });
  });

  it('leaves a head newer than the look-up alone; without a region or a look-up it says so and writes nothing', async () => {
    const { state } = await dynamo.freshStores();
    await state.putSnapshot(ID, KEY, { state: { defaultVersion: 5 }, version: 2, updatedAt: '2026-10-01T00:00:05Z', lastEventId: 'e-1' }, undefined);
    const result = await seedLaunchTemplates({ config: parseConfig({ useCases: { [ID]: { options: { hostGroups: groups } } } }), lookups: lookups().lookups, state, at: AT, region: 'eu-west-1', keepDays: 90 });
    expect(result).toEqual({ seeded: 0, notes: [`launch template ${TEMPLATE}: not seeded: its snapshot (2026-10-01T00:00:05Z) is not older than the look-up`], problems: [] });
    expect(await state.getSnapshot(ID, KEY)).toMatchObject({ state: { defaultVersion: 5 }, version: 2 });

    const fresh = await dynamo.freshStores();
    const noRegion = await seedLaunchTemplates({ config, lookups: lookups().lookups, state: fresh.state, at: AT, region: undefined, keepDays: 90 });
    expect(noRegion.problems).toEqual([{ file: 'current state', reason: 'current state: launch templates (3): not seeded: no region to ask EC2 in (give --region)' }]);
    const offline = await seedLaunchTemplates({ config, lookups: noLookups, state: fresh.state, at: AT, region: 'eu-west-1', keepDays: 90 });
    expect(offline.problems[0]?.reason).toBe(`current state: launch template ${TEMPLATE}: look-up unavailable: no recorded look-ups directory (--recorded) given`);
    expect(await fresh.state.getSnapshot(ID, KEY)).toBeUndefined();
  });
});

function createVersion(time: string, data: Record<string, unknown>): CloudTrailRecord {
  return {
    eventVersion: '1.10',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, accountId: ACCOUNT, userName: 'mallory' },
    eventTime: time,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'CreateLaunchTemplateVersion',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.77',
    userAgent: 'aws-cli/2.17.0',
    requestParameters: { CreateLaunchTemplateVersionRequest: { LaunchTemplateId: TEMPLATE, SourceVersion: '3', LaunchTemplateData: data } },
    responseElements: { CreateLaunchTemplateVersionResponse: { launchTemplateVersion: { launchTemplateId: TEMPLATE, launchTemplateName: 'gitlab-runners', versionNumber: 4, defaultVersion: false } } },
    eventID: `e-${time}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
  } as CloudTrailRecord;
}

describe('build.host-drift after seeding', () => {
  it('describes a new version against the default version as looked up; an event before the look-up gets no comparison', async () => {
    const { engine, state } = await dynamo.freshEngine({ useCases: { [ID]: { options: { hostGroups: groups } } } });
    await seedLaunchTemplates({ config, lookups: lookups().lookups, state, at: AT, region: 'eu-west-1', keepDays: 90 });
    const swapped = createVersion('2026-10-20T14:00:00Z', { ImageId: 'ami-0badbadbadbadbad0', UserData: '<sensitiveDataRemoved>', SecurityGroupIds: ['sg-0fedcba9876543210'] });
    const [outcome] = await engine.evaluate(hostDrift, toPipelineEvent(envelopeForCloudTrail(swapped)));
    expect(outcome).toMatchObject({ status: 'finding', finding: { severity: 'high' } });
    const finding = outcome?.status === 'finding' ? outcome.finding : undefined;
    expect(finding?.summary).toContain(
      `created version 4 of launch template gitlab-runners (build host group gitlab-runners); against default version 3 (looked up ${AT}): AMI ami-0c1d2e3f4a5b6c7d8 → ami-0badbadbadbadbad0; user data (hidden by CloudTrail: compare it with DescribeLaunchTemplateVersions)`,
    );
    expect(finding?.evidence).toMatchObject({ knownDefault: { version: 3, fromLookUp: true, knownSince: AT }, changedFromKnownDefault: [expect.stringContaining('AMI'), expect.stringContaining('user data')] });

    // Before the look-up, the looked-up default is not the state at that time: no comparison.
    const [early] = await engine.evaluate(hostDrift, toPipelineEvent(envelopeForCloudTrail(createVersion('2026-09-25T10:00:00Z', { ImageId: 'ami-0badbadbadbadbad0' }))));
    const earlyFinding = early?.status === 'finding' ? early.finding : undefined;
    expect(earlyFinding?.summary).toMatch(/created version 4 of launch template gitlab-runners \(build host group gitlab-runners\)$/);
    expect(earlyFinding?.evidence).not.toHaveProperty('knownDefault');
  });
});
