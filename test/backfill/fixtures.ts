/** Generated CloudTrail history for the backfill tests: records, trail files, a fake clock. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Clock } from '../../lambdas/backfill/rate-limit.js';
import { capture, jsonLines } from '../support/capture.js';

export { capture, jsonLines };

export const ACCOUNT = '111122223333';
export type CloudTrailRecord = Record<string, unknown> & { eventID: string; eventTime: string; eventSource: string; awsRegion: string };

let counter = 0;
/** A unique, stable-looking event id. */
export function eventId(prefix = 'e'): string {
  counter += 1;
  return `${prefix}-${String(counter).padStart(8, '0')}-0000-4000-8000-000000000000`;
}

export function iamUser(name: string): Record<string, unknown> {
  return { type: 'IAMUser', principalId: `AIDA${name.toUpperCase()}`, arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, accountId: ACCOUNT, userName: name };
}

export function userArn(name: string): string {
  return `arn:aws:iam::${ACCOUNT}:user/${name}`;
}

/** The write record of a push (the one EventBridge delivers by default). */
export function gitPush(options: { user: string; time: string; repository?: string; region?: string; id?: string }): CloudTrailRecord {
  const repository = options.repository ?? 'payments-service';
  const region = options.region ?? 'eu-west-1';
  return {
    eventVersion: '1.09',
    userIdentity: iamUser(options.user),
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
    recipientAccountId: ACCOUNT,
    additionalEventData: { protocol: 'HTTP', dataTransferred: true, repositoryName: repository },
    resources: [{ ARN: `arn:aws:codecommit:${region}:${ACCOUNT}:${repository}`, accountId: ACCOUNT, type: 'AWS::CodeCommit::Repository' }],
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

export function workdir(prefix = 'buildwatch-backfill-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** CloudTrail's S3 layout and file name for records delivered at `time` (yyyy-mm-ddThh:mm:ssZ). */
export function trailKey(time: string, region = 'eu-west-1', unique = 'a1b2c3'): string {
  const [date = '', clock = ''] = time.split('T');
  const [yyyy, mm, dd] = date.split('-');
  const stamp = `${date.replace(/-/g, '')}T${clock.slice(0, 5).replace(':', '')}Z`;
  return `AWSLogs/${ACCOUNT}/CloudTrail/${region}/${yyyy}/${mm}/${dd}/${ACCOUNT}_CloudTrail_${region}_${stamp}_${unique}.json.gz`;
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
