/**
 * The sample history: deterministic, well-formed, telling the story the README promises, and the
 * committed files in samples/history identical to a fresh generation (so they cannot go stale).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  cloudTrailFileText,
  DEFAULT_HISTORY_OPTIONS,
  eventBridgeFileText,
  generateHistory,
  sampleFiles,
  type GeneratedDay,
  type Json,
  type JsonMap,
} from '../samples/generate-history.js';

const HISTORY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'samples', 'history');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const ACCOUNT = '111122223333';

const history = generateHistory(DEFAULT_HISTORY_OPTIONS);
const records = history.flatMap((day) => day.cloudTrail.Records.map((record) => ({ day, record })));
const events = history.flatMap((day) => day.eventBridge.map((event) => ({ day, event })));

function isMap(value: Json | undefined): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function map(value: Json | undefined): JsonMap {
  if (!isMap(value)) throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  return value;
}

function named(name: string): JsonMap[] {
  return records.filter(({ record }) => record.eventName === name).map(({ record }) => record);
}

function callerArn(record: JsonMap): string | undefined {
  const arn = map(record.userIdentity).arn;
  return typeof arn === 'string' ? arn : undefined;
}

describe('generateHistory determinism', () => {
  it('gives identical output for the same options', () => {
    const again = generateHistory(DEFAULT_HISTORY_OPTIONS);
    expect(again).toEqual(history);
    expect(again.map(cloudTrailFileText)).toEqual(history.map(cloudTrailFileText));
    expect(again.map(eventBridgeFileText)).toEqual(history.map(eventBridgeFileText));
  });

  it('is deterministic for other options too, and the seed matters', () => {
    const options = { startDate: '2027-02-01', days: 6, seed: 7, developers: 4, scale: 2, attack: false };
    expect(generateHistory(options)).toEqual(generateHistory(options));
    const other = generateHistory({ ...options, seed: 8 });
    expect(other.map(cloudTrailFileText)).not.toEqual(generateHistory(options).map(cloudTrailFileText));
  });

  it('leaves the days before the attack untouched when the attack is switched off', () => {
    const quiet = generateHistory({ ...DEFAULT_HISTORY_OPTIONS, attack: false });
    expect(quiet.slice(0, 22)).toEqual(history.slice(0, 22));
    expect(JSON.stringify(quiet)).not.toContain('svc-legacy-deploy');
    expect(JSON.stringify(quiet)).not.toContain('StopLogging');
  });

  it('multiplies daily activity with scale', () => {
    const base = { startDate: '2026-10-05', days: 3, seed: 3 };
    const one = generateHistory(base).reduce((n, d) => n + d.cloudTrail.Records.length, 0);
    const five = generateHistory({ ...base, scale: 5 }).reduce((n, d) => n + d.cloudTrail.Records.length, 0);
    expect(five).toBeGreaterThan(3 * one);
  });

  it('rejects bad options', () => {
    expect(() => generateHistory({ startDate: '1 Oct 2026', days: 3, seed: 1 })).toThrow(/startDate/);
    expect(() => generateHistory({ startDate: '2026-10-01', days: 0, seed: 1 })).toThrow(/days/);
    expect(() => generateHistory({ startDate: '2026-10-01', days: 2, seed: 1, scale: 0 })).toThrow(/scale/);
  });
});

describe('CloudTrail records', () => {
  it('have every mandatory field with the right type', () => {
    expect(records.length).toBeGreaterThan(1000);
    for (const { day, record } of records) {
      expect(record.eventVersion).toMatch(/^1\.\d{2}$/);
      expect(record.eventTime).toMatch(ISO_SECONDS);
      expect(String(record.eventTime).slice(0, 10)).toBe(day.date);
      expect(record.eventSource).toMatch(/^[a-z]+\.amazonaws\.com$/);
      expect(typeof record.eventName).toBe('string');
      expect(record.awsRegion).toMatch(/^(eu-west-1|us-east-1)$/);
      expect(record.eventID).toMatch(UUID);
      expect(['AwsApiCall', 'AwsServiceEvent']).toContain(record.eventType);
      expect(isMap(record.userIdentity)).toBe(true);
      expect(record.recipientAccountId).toBe(ACCOUNT);
      expect(typeof record.readOnly).toBe('boolean');
      expect(record.managementEvent).toBe(true);
      expect(record.eventCategory).toBe('Management');
      expect(record.requestID).toMatch(UUID);
    }
  });

  it('have unique eventIDs across the whole history', () => {
    const ids = records.map(({ record }) => record.eventID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('log each push as two GitPush records: a read-only advertisement, then the references', () => {
    const pushes = named('GitPush');
    const advert = pushes.filter((r) => r.readOnly === true);
    const writes = pushes.filter((r) => r.readOnly === false);
    expect(advert.length).toBe(writes.length);
    for (const r of advert) {
      expect(r.requestParameters).toBeNull();
      expect(map(r.additionalEventData).dataTransferred).toBe(false);
    }
    for (const r of writes) {
      const references = map(r.requestParameters).references;
      expect(Array.isArray(references) && references.length > 0).toBe(true);
      expect(map(r.additionalEventData).dataTransferred).toBe(true);
    }
    for (const r of pushes) {
      const extra = map(r.additionalEventData);
      expect(Object.keys(extra).sort()).toEqual(['capabilities', 'dataTransferred', 'protocol', 'repositoryId', 'repositoryName', 'shallow']);
      expect(map((r.resources as Json[])[0]).type).toBe('AWS::CodeCommit::Repository');
    }
  });

  it('mix identity types like a real team', () => {
    const identities = named('GitPush').map((r) => map(r.userIdentity));
    const iamUsers = identities.filter((i) => i.type === 'IAMUser');
    expect(iamUsers.length).toBeGreaterThan(0);
    for (const i of iamUsers) expect(i.sessionContext).toBeUndefined();
    expect(iamUsers.some((i) => i.accessKeyId === '')).toBe(true);
    expect(iamUsers.some((i) => !('accessKeyId' in i))).toBe(true);
    const sessions = identities.filter((i) => i.type === 'AssumedRole').map((i) => map(map(i.sessionContext).attributes).mfaAuthenticated);
    expect(new Set(sessions)).toEqual(new Set(['true', 'false']));
    const sso = identities.filter((i) => String(map(map(i.sessionContext ?? {}).sessionIssuer ?? {}).arn ?? '').includes('/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developer_'));
    expect(sso.length).toBeGreaterThan(0);
    expect(records.some(({ record }) => map(record.userIdentity).type === 'AWSService')).toBe(true);
    expect(records.some(({ record }) => typeof record.errorCode === 'string' && record.userIdentity !== undefined && !String(callerArn(record)).includes('svc-legacy-deploy'))).toBe(true);
  });
});

describe('EventBridge events', () => {
  it('have the envelope fields and are native service events only', () => {
    expect(events.length).toBeGreaterThan(500);
    for (const { day, event } of events) {
      expect(event.version).toBe('0');
      expect(event.id).toMatch(UUID);
      expect(event['detail-type']).toMatch(/^(CodeCommit|CodeBuild|CodeArtifact|KMS) /);
      expect(event['detail-type']).not.toMatch(/via CloudTrail$/);
      expect(event.source).toMatch(/^aws\.(codecommit|codebuild|codeartifact|kms)$/);
      expect(event.account).toBe(ACCOUNT);
      expect(event.time).toMatch(ISO_SECONDS);
      expect(String(event.time).slice(0, 10)).toBe(day.date);
      expect(event.region).toBe('eu-west-1');
      expect(Array.isArray(event.resources) && (event.resources as Json[]).every((r) => typeof r === 'string')).toBe(true);
      expect(isMap(event.detail)).toBe(true);
    }
    const ids = events.map(({ event }) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are in delivery (time) order within a day', () => {
    for (const day of history) {
      const times = day.eventBridge.map((e) => String(e.time));
      expect(times).toEqual([...times].sort());
    }
  });

  it('carry one native reference event per pushed ref, with the caller ARN', () => {
    const pushedRefs = named('GitPush').filter((r) => r.readOnly === false).reduce((n, r) => n + (map(r.requestParameters).references as Json[]).length, 0);
    const refEvents = events.filter(({ event }) => event['detail-type'] === 'CodeCommit Repository State Change').map(({ event }) => map(event.detail));
    const fromPushes = refEvents.filter((d) => d.event !== 'referenceDeleted' && d.mergeOption === undefined);
    // Fast-forward merges also move main without a push, so at least one event per pushed ref.
    expect(fromPushes.length).toBeGreaterThanOrEqual(pushedRefs);
    for (const d of refEvents) expect(String(d.callerUserArn)).toMatch(/^arn:aws:(iam::\d{12}:user\/|sts::\d{12}:assumed-role\/)/);
  });

  it('give every build an IN_PROGRESS and one final state, with hashes only on success', () => {
    const builds = new Map<string, string[]>();
    for (const { event } of events) {
      if (event['detail-type'] !== 'CodeBuild Build State Change') continue;
      const detail = map(event.detail);
      const id = String(detail['build-id']);
      expect(id).toMatch(/^arn:aws:codebuild:eu-west-1:111122223333:build\/(payments-service|web-frontend)-build:[0-9a-f-]{36}$/);
      builds.set(id, [...(builds.get(id) ?? []), String(detail['build-status'])]);
      const info = map(detail['additional-information']);
      expect(String(info['build-start-time'])).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$/);
      const artifact = map(info.artifact);
      expect('sha256sum' in artifact).toBe(detail['build-status'] === 'SUCCEEDED');
    }
    for (const statuses of builds.values()) {
      expect(statuses[0]).toBe('IN_PROGRESS');
      expect(statuses).toHaveLength(2);
      expect(['SUCCEEDED', 'FAILED']).toContain(statuses[1]);
    }
    expect([...builds.values()].some((s) => s[1] === 'FAILED')).toBe(true);
  });
});

describe('the story', () => {
  const attacker = 'arn:aws:iam::111122223333:user/svc-legacy-deploy';

  it('has the web-frontend project created by CloudFormation and an ordinary UpdateProject early on', () => {
    const create = named('CreateProject');
    expect(create).toHaveLength(1);
    expect(create[0]?.sourceIPAddress).toBe('cloudformation.amazonaws.com');
    expect(map(create[0]?.userIdentity).invokedBy).toBe('cloudformation.amazonaws.com');
    expect(String(create[0]?.eventTime) < '2026-10-03').toBe(true);
    const updates = named('UpdateProject').filter((r) => r.errorCode === undefined);
    expect(updates.map((r) => String(r.eventTime).slice(0, 10))).toEqual(['2026-10-05', '2026-10-24', '2026-10-26']);
  });

  it('has the attacker push, rewrite the build, blind the trail and publish a tampered artifact', () => {
    const attackerPushes = named('GitPush').filter((r) => callerArn(r) === attacker);
    expect(attackerPushes).toHaveLength(2);
    expect(attackerPushes.every((r) => String(r.eventTime).startsWith('2026-10-23') && r.userAgent === 'SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11')).toBe(true);

    const tamper = named('UpdateProject').find((r) => callerArn(r) === attacker);
    const params = map(tamper?.requestParameters);
    expect(String(map(params.source).buildspec)).toContain('curl -fsSL');
    expect(map(params.environment).privilegedMode).toBe(true);
    expect(named('StartBuild').some((r) => callerArn(r) === attacker && typeof map(r.requestParameters).buildspecOverride === 'string')).toBe(true);

    const stops = named('StopLogging');
    expect(stops.map((r) => r.errorCode ?? 'ok')).toEqual(expect.arrayContaining(['AccessDenied', 'ok']));
    expect(callerArn(stops.find((r) => r.errorCode === undefined) ?? {})).toBe('arn:aws:sts::111122223333:assumed-role/OrganizationAccountAccessRole/maint');
    const selectors = named('PutEventSelectors').find((r) => String(callerArn(r)).endsWith('/maint'));
    expect(JSON.stringify(selectors?.requestParameters)).toContain('"includeManagementEvents":false');

    // The privileged build on the rewritten project succeeds and publishes a file whose hash is not the build's.
    const tamperedBuilds = events
      .map(({ event }) => event)
      .filter((e) => e['detail-type'] === 'CodeBuild Build State Change' && map(e.detail)['build-status'] === 'SUCCEEDED')
      .map((e) => map(map(e.detail)['additional-information']))
      .filter((info) => map(info.environment)['privileged-mode'] === true);
    expect(tamperedBuilds.length).toBeGreaterThan(0);
    const published = new Set(named('PublishPackageVersion').map((r) => String(map(r.requestParameters).assetSHA256)));
    for (const info of tamperedBuilds) expect(published.has(String(map(info.artifact).sha256sum))).toBe(false);
    const honest = events
      .map(({ event }) => map(event.detail))
      .filter((d) => d['project-name'] === 'payments-service-build' && d['build-status'] === 'SUCCEEDED' && map(map(d['additional-information']).environment)['privileged-mode'] === false);
    for (const d of honest) expect(published.has(String(map(map(d['additional-information']).artifact).sha256sum))).toBe(true);
  });
});

describe('committed samples/history', () => {
  it('equals a fresh generation with the default options (rerun: npx tsx samples/write-samples.ts)', () => {
    expect(existsSync(HISTORY_DIR)).toBe(true);
    const dirs = readdirSync(HISTORY_DIR).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
    expect(dirs).toEqual(history.map((d: GeneratedDay) => d.date));
    for (const day of history) {
      const expected = sampleFiles(day);
      expect(readdirSync(join(HISTORY_DIR, day.date)).sort(), day.date).toEqual(expected.map((f) => f.name).sort());
      for (const file of expected) {
        expect(readFileSync(join(HISTORY_DIR, day.date, file.name), 'utf8'), `${day.date}/${file.name}`).toBe(file.text);
      }
    }
  });

  it('backs every id the README quotes', () => {
    const readme = readFileSync(join(HISTORY_DIR, '..', 'README.md'), 'utf8');
    const quoted = readme.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [];
    expect(quoted.length).toBeGreaterThan(10);
    const known = new Set([...records.map(({ record }) => record.eventID), ...events.map(({ event }) => event.id)]);
    expect(quoted.filter((id) => !known.has(id))).toEqual([]);
  });

  it('stays small enough to commit', () => {
    const bytes = history.flatMap(sampleFiles).reduce((n, f) => n + Buffer.byteLength(f.text), 0);
    expect(bytes).toBeLessThan(3_000_000);
  });
});
