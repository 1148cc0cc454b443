/** Generated CloudTrail history for the backfill tests: records, trail files, a fake clock. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, type GetObjectCommandOutput, ListObjectsV2Command, type ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../lambdas/backfill/rate-limit.js';
import { capture, jsonLines } from '../support/capture.js';
import { tempDir } from '../support/temp-dirs.js';

export { capture, jsonLines };

export const ACCOUNT = '111122223333';
export type CloudTrailRecord = Record<string, unknown> & { eventID: string; eventTime: string; eventSource: string; awsRegion: string };

let counter = 0;
/** A unique, stable-looking event id. */
export function eventId(prefix = 'e'): string {
  counter += 1;
  return `${prefix}-${String(counter).padStart(8, '0')}-0000-4000-8000-000000000000`;
}

export function iamUser(name: string, account = ACCOUNT): Record<string, unknown> {
  return { type: 'IAMUser', principalId: `AIDA${name.toUpperCase()}`, arn: `arn:aws:iam::${account}:user/${name}`, accountId: account, userName: name };
}

export function userArn(name: string, account = ACCOUNT): string {
  return `arn:aws:iam::${account}:user/${name}`;
}

/** The write record of a push (the one EventBridge delivers by default). */
export function gitPush(options: { user: string; time: string; repository?: string; region?: string; id?: string; account?: string }): CloudTrailRecord {
  const repository = options.repository ?? 'payments-service';
  const region = options.region ?? 'eu-west-1';
  const account = options.account ?? ACCOUNT;
  return {
    eventVersion: '1.09',
    userIdentity: iamUser(options.user, account),
    eventTime: options.time,
    eventSource: 'codecommit.amazonaws.com',
    eventName: 'GitPush',
    awsRegion: region,
    sourceIPAddress: '203.0.113.24',
    userAgent: 'git/2.45.2',
    requestParameters: { references: [{ commit: 'c0ffee', ref: 'refs/heads/main' }] },
    responseElements: null,
    eventID: options.id ?? eventId('push'),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    additionalEventData: { protocol: 'HTTP', dataTransferred: true, repositoryName: repository },
    resources: [{ ARN: `arn:aws:codecommit:${region}:${account}:${repository}`, accountId: account, type: 'AWS::CodeCommit::Repository' }],
  };
}

/** A call nobody watches (noise in the archive). */
export function describeSomething(time: string, region = 'eu-west-1'): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: iamUser('alice'),
    eventTime: time,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: region,
    eventID: eventId('ec2'),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    requestParameters: {},
    responseElements: null,
  };
}

export function project(name: string, image: string): Record<string, unknown> {
  return {
    name,
    arn: `arn:aws:codebuild:eu-west-1:${ACCOUNT}:project/${name}`,
    source: { type: 'CODECOMMIT', location: `https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/payments-service`, buildspec: 'buildspec.yml' },
    environment: { type: 'LINUX_CONTAINER', image, computeType: 'BUILD_GENERAL1_SMALL', privilegedMode: false, environmentVariables: [] },
    serviceRole: `arn:aws:iam::${ACCOUNT}:role/payments-codebuild-service-role`,
    artifacts: { type: 'NO_ARTIFACTS' },
    timeoutInMinutes: 30,
  };
}

export function createProject(options: { user: string; time: string; project: Record<string, unknown> }): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: iamUser(options.user),
    eventTime: options.time,
    eventSource: 'codebuild.amazonaws.com',
    eventName: 'CreateProject',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.24',
    userAgent: 'aws-cli/2.17.0',
    requestParameters: { name: options.project['name'] },
    responseElements: { project: options.project },
    eventID: eventId('create'),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
  };
}

export function updateProject(options: { user: string; time: string; name: string; image: string }): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: iamUser(options.user),
    eventTime: options.time,
    eventSource: 'codebuild.amazonaws.com',
    eventName: 'UpdateProject',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.24',
    userAgent: 'aws-cli/2.17.0',
    requestParameters: { name: options.name, environment: { image: options.image } },
    responseElements: null,
    eventID: eventId('update'),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
  };
}

/** ISO time of day `day` (1-based) of September 2026 at `hour`:`minute`. */
export function at(day: number, hour = 9, minute = 0): string {
  return new Date(Date.UTC(2026, 8, day, hour, minute)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Deterministic shuffle: CloudTrail writes records in no particular order. */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const copy = [...items];
  let state = seed;
  for (let index = copy.length - 1; index > 0; index -= 1) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const other = state % (index + 1);
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** A temporary working directory, removed after the test file. */
export function workdir(prefix = 'buildwatch-backfill-'): string {
  return tempDir(prefix);
}

/**
 * CloudTrail's S3 layout and file name for records delivered at `time` (yyyy-mm-ddThh:mm:ssZ);
 * with `organizationId`, an organisation trail's (AWSLogs/<o-id>/<account>/…).
 */
export function trailKey(time: string, region = 'eu-west-1', unique = 'a1b2c3', account = ACCOUNT, organizationId?: string): string {
  const [date = '', clock = ''] = time.split('T');
  const [yyyy, mm, dd] = date.split('-');
  const stamp = `${date.replace(/-/g, '')}T${clock.slice(0, 5).replace(':', '')}Z`;
  return `AWSLogs/${organizationId ? `${organizationId}/` : ''}${account}/CloudTrail/${region}/${yyyy}/${mm}/${dd}/${account}_CloudTrail_${region}_${stamp}_${unique}.json.gz`;
}

export function trailFile(records: readonly CloudTrailRecord[]): Buffer {
  return gzipSync(JSON.stringify({ Records: shuffled(records) }));
}

/** Writes one gz trail file per (day, region) of the records under `dir`, in CloudTrail's layout. */
export function writeArchive(dir: string, records: readonly CloudTrailRecord[]): string[] {
  const groups = new Map<string, CloudTrailRecord[]>();
  for (const record of records) {
    const key = trailKey(`${record.eventTime.slice(0, 10)}T23:55:00Z`, record.awsRegion);
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const written: string[] = [];
  for (const [key, group] of groups) {
    const path = join(dir, key);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, trailFile(group));
    written.push(path);
  }
  return written.sort();
}

/** A clock that only moves when someone sleeps, recording the sleeps. */
export function fakeClock(start = Date.parse('2026-10-01T00:00:00Z')): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    advance(ms: number) {
      now += ms;
    },
  };
}



export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const path = join(dir, 'buildwatch.config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/**
 * S3 as the archive tests need it (no local implementation exists, so aws-sdk-client-mock): ListObjectsV2
 * with Prefix, Delimiter, StartAfter and pages of `pageSize` entries; GetObject counting reads in flight.
 */
export function fakeS3(objects: ReadonlyMap<string, Buffer>, pageSize = 10) {
  const s3 = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(s3);
  const reads: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => {
    const prefix = input.Prefix ?? '';
    const entries: Array<{ key: string; common: boolean }> = [];
    for (const key of [...objects.keys()].sort()) {
      if (!key.startsWith(prefix) || (input.StartAfter !== undefined && key <= input.StartAfter)) continue;
      const cut = input.Delimiter ? key.indexOf(input.Delimiter, prefix.length) : -1;
      if (cut < 0) entries.push({ key, common: false });
      else if (entries.at(-1)?.key !== key.slice(0, cut + 1)) entries.push({ key: key.slice(0, cut + 1), common: true });
    }
    const start = Number(input.ContinuationToken ?? 0);
    const page = entries.slice(start, start + pageSize);
    const more = start + pageSize < entries.length;
    return {
      Contents: page.filter((entry) => !entry.common).map((entry) => ({ Key: entry.key, Size: objects.get(entry.key)?.length ?? 0 })),
      CommonPrefixes: page.filter((entry) => entry.common).map((entry) => ({ Prefix: entry.key })),
      IsTruncated: more,
      ...(more ? { NextContinuationToken: String(start + pageSize) } : {}),
    };
  });
  mock.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    reads.push(input.Key);
    const bytes = objects.get(input.Key);
    if (!bytes) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } as unknown as GetObjectCommandOutput['Body'] };
  });
  return { s3, mock, reads, maxInFlight: () => maxInFlight };
}
