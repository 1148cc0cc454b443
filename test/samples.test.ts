/**
 * The sample history: deterministic, well-formed, telling the story the README promises, and the
 * committed files in samples/history identical to a fresh generation (so they cannot go stale).
 */
import { createHash } from 'node:crypto';
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
    // Day 20 (offset 19) is the laptop retag of the build image and the runner session: the attack's first step.
    expect(quiet.slice(0, 19)).toEqual(history.slice(0, 19));
    expect(quiet.slice(19, 22).map((day) => day.date)).toEqual(history.slice(19, 22).map((day) => day.date));
    expect(JSON.stringify(quiet)).not.toContain('svc-legacy-deploy');
    expect(JSON.stringify(quiet)).not.toContain('StartSession');
    expect(JSON.stringify(quiet)).toContain('AWS-RunPatchBaseline');
    expect(JSON.stringify(quiet)).not.toContain('StopLogging');
    // The attack's story lines go with it; the baseline ones (approval template, trigger, policy, pipeline, monitor deployment) stay.
    expect(JSON.stringify(quiet)).not.toContain('444455556666');
    expect(JSON.stringify(quiet)).not.toContain('/maint');
    expect(JSON.stringify(quiet)).toContain('CreateApprovalRuleTemplate');
  });

  it('keeps the original history byte for byte: the story lines only add records, from their own stream', () => {
    const original = generateHistory({ ...DEFAULT_HISTORY_OPTIONS, storyLines: false });
    // Digest of samples/history before the story lines were added (days 1-28, both files of each day).
    const digest = createHash('sha256');
    for (const day of original) for (const file of sampleFiles(day)) digest.update(`${day.date}\n${file.name}\n`).update(file.text).update('\n');
    expect(digest.digest('hex')).toBe('5e833e164b9b798c67424c462c5a50dede9c7819352aa4a87f469cc91ea8d3dd');
    for (const [i, day] of history.entries()) {
      const before = original[i] as GeneratedDay;
      expect(eventBridgeFileText(day)).toBe(eventBridgeFileText(before));
      const ids = new Set(before.cloudTrail.Records.map((r) => r.eventID));
      expect(day.cloudTrail.Records.filter((r) => ids.has(r.eventID))).toEqual(before.cloudTrail.Records);
    }
    const added = records.length - original.reduce((n, d) => n + d.cloudTrail.Records.length, 0);
    expect(added).toBe(32);
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

describe('the story lines', () => {
  const maint = 'arn:aws:sts::111122223333:assumed-role/OrganizationAccountAccessRole/maint';
  const attacker = 'arn:aws:iam::111122223333:user/svc-legacy-deploy';
  const lead = 'arn:aws:sts::111122223333:assumed-role/platform-lead/rui.costa';
  const day = (r: JsonMap): string => String(r.eventTime).slice(0, 10);
  const stopLogging = String(named('StopLogging').find((r) => r.errorCode === undefined)?.eventTime);
  const only = (name: string): JsonMap => {
    const found = named(name);
    expect(found, name).toHaveLength(1);
    return found[0] as JsonMap;
  };

  it('has the lead require two approvals on main of payments-service, and a secret-scanner trigger', () => {
    const template = only('CreateApprovalRuleTemplate');
    expect(callerArn(template)).toBe(lead);
    expect(map(map(template.userIdentity).sessionContext).attributes).toMatchObject({ mfaAuthenticated: 'true' });
    const params = map(template.requestParameters);
    expect(params.approvalRuleTemplateName).toBe('main-needs-lead-approval');
    const content = JSON.parse(String(params.approvalRuleTemplateContent)) as { DestinationReferences: string[]; Statements: { NumberOfApprovalsNeeded: number }[] };
    expect(content.DestinationReferences).toEqual(['refs/heads/main']);
    expect(content.Statements[0]?.NumberOfApprovalsNeeded).toBe(2);
    const associations = named('AssociateApprovalRuleTemplateWithRepository');
    expect(associations.map((r) => [day(r), callerArn(r), map(r.requestParameters).repositoryName])).toEqual([
      ['2026-10-01', lead, 'payments-service'],
      ['2026-10-26', lead, 'payments-service'],
    ]);
    const triggers = named('PutRepositoryTriggers').sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
    expect(triggers.map((r) => [day(r), callerArn(r)])).toEqual([
      ['2026-10-02', lead],
      ['2026-10-25', maint],
    ]);
    expect(map(triggers[0]?.requestParameters).triggers).toEqual([{ name: 'secret-scanner', destinationArn: 'arn:aws:lambda:eu-west-1:111122223333:function:secret-scanner', customData: '', branches: [], events: ['all'] }]);
    expect(map(triggers[1]?.requestParameters).triggers).toEqual([]);
  });

  it('has a refused override on day 16 and, after StopLogging, the template disassociated and the triggers removed', () => {
    const override = only('OverridePullRequestApprovalRules');
    expect(day(override)).toBe('2026-10-16');
    expect(override.errorCode).toBe('AccessDeniedException');
    expect(String(callerArn(override))).toContain('/daniel.okafor@acme.example');
    const pullRequest = map(override.requestParameters).pullRequestId;
    expect(named('CreatePullRequest').some((r) => map(map(r.responseElements).pullRequest).pullRequestId === pullRequest)).toBe(true);
    const disassociate = only('DisassociateApprovalRuleTemplateFromRepository');
    expect(callerArn(disassociate)).toBe(maint);
    expect(String(disassociate.eventTime) > stopLogging).toBe(true);
    expect(map(disassociate.requestParameters)).toEqual({ approvalRuleTemplateName: 'main-needs-lead-approval', repositoryName: 'payments-service' });
  });

  it('opens the signing key to account 444455556666, then maint signs with it', () => {
    const policy = only('PutKeyPolicy');
    expect(callerArn(policy)).toBe(maint);
    expect(String(policy.eventTime) > stopLogging).toBe(true);
    expect(map(policy.requestParameters).keyId).toBe('7f3c1a52-9d4e-4b1a-8c39-2f6b0e4d9a11');
    const statements = (JSON.parse(String(map(policy.requestParameters).policy)) as { Statement: { Principal: { AWS: string }; Action: string[] | string }[] }).Statement;
    expect(statements.find((st) => st.Principal.AWS === 'arn:aws:iam::444455556666:root')?.Action).toContain('kms:Sign');
    const signs = named('Sign').filter((r) => callerArn(r) === maint);
    expect(signs).toHaveLength(1);
    expect(signs[0]?.readOnly).toBe(true);
    expect(String(signs[0]?.eventTime) > String(policy.eventTime)).toBe(true);
  });

  it('has a CloudFormation update of payments-release on day 12', () => {
    const update = only('UpdatePipeline');
    expect(day(update)).toBe('2026-10-12');
    expect(map(update.userIdentity).invokedBy).toBe('cloudformation.amazonaws.com');
    expect(update.userAgent).toBe('cloudformation.amazonaws.com');
    expect(map(map(update.requestParameters).pipeline).name).toBe('payments-release');
  });

  it('opens @acme/payments-client to upstream and internal-releases to account 444455556666, whose CI then gets a token', () => {
    const origin = only('PutPackageOriginConfiguration');
    expect([day(origin), callerArn(origin)]).toEqual(['2026-10-24', attacker]);
    expect(map(origin.requestParameters)).toMatchObject({ domain: 'acme', repository: 'internal-releases', format: 'npm', namespace: 'acme', package: 'payments-client', restrictions: { publish: 'BLOCK', upstream: 'ALLOW' } });
    const policies = named('PutRepositoryPermissionsPolicy').sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
    expect(policies.map((r) => day(r))).toEqual(['2026-10-03', '2026-10-24']);
    expect(String(map(policies[0]?.requestParameters).policyDocument)).not.toContain('444455556666');
    expect(String(map(policies[1]?.requestParameters).policyDocument)).toContain('arn:aws:iam::444455556666:root');
    expect(map(policies[1]?.requestParameters).policyRevision).toBe(map(map(policies[0]?.responseElements).policy).revision);
    const partner = named('GetAuthorizationToken').filter((r) => map(r.userIdentity).accountId === '444455556666');
    expect(partner).toHaveLength(1);
    expect(day(partner[0] as JsonMap)).toBe('2026-10-27');
    expect(callerArn(partner[0] as JsonMap)).toBe('arn:aws:sts::444455556666:assumed-role/partner-ci/build-7781');
    expect(partner[0]?.recipientAccountId).toBe(ACCOUNT);
  });

  it("deploys the monitor through CloudFormation on day 1, and has the deploy user go for it on day 25", () => {
    for (const name of ['UpdateFunctionCode20150331v2', 'PutRule', 'CreateAlias']) {
      const r = only(name);
      expect(day(r), name).toBe('2026-10-01');
      expect(map(r.userIdentity).invokedBy, name).toBe('cloudformation.amazonaws.com');
      expect(String(callerArn(r)), name).toMatch(/assumed-role\/cdk-hnb659fds-cfn-exec-role-/);
    }
    expect(map(only('CreateAlias').requestParameters).aliasName).toBe('alias/buildwatch-key');
    const deleteAlias = only('DeleteAlias');
    expect([callerArn(deleteAlias), deleteAlias.errorCode]).toEqual([attacker, 'AccessDeniedException']);
    const refusedStop = String(named('StopLogging').find((r) => r.errorCode !== undefined)?.eventTime);
    expect(String(deleteAlias.eventTime) < refusedStop).toBe(true);
    expect([callerArn(only('DisableRule')), map(only('DisableRule').requestParameters).name]).toEqual([attacker, 'buildwatch-source-new-pusher']);
    expect(map(only('PurgeQueue').requestParameters).queueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-detect');
    expect([callerArn(only('EnableRule')), day(only('EnableRule'))]).toEqual([lead, '2026-10-26']);
  });
});

describe('the build-environment story line (#17)', () => {
  const daniel = /^arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_Developer_[0-9a-f]+\/daniel\.okafor@acme\.example$/;
  const pipeline = /^arn:aws:sts::111122223333:assumed-role\/build-image-pipeline\/AWSCodeBuild-/;
  const day = (r: JsonMap): string => String(r.eventTime).slice(0, 10);

  it('has the image pipeline move build-images/node20:stable every Monday of weeks 1-3, then Daniel from his laptop on day 20', () => {
    const pushes = named('PutImage').sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
    expect(pushes.map((r) => [day(r), pipeline.test(String(callerArn(r))) ? 'pipeline' : daniel.test(String(callerArn(r))) ? 'daniel' : callerArn(r)])).toEqual([
      ['2026-10-05', 'pipeline'],
      ['2026-10-12', 'pipeline'],
      ['2026-10-19', 'pipeline'],
      ['2026-10-20', 'daniel'],
    ]);
    const digests = pushes.map((r) => String(map(map(map(r.responseElements).image).imageId).imageDigest));
    expect(new Set(digests).size).toBe(4);
    for (const r of pushes) expect(map(r.requestParameters)).toMatchObject({ repositoryName: 'build-images/node20', imageTag: 'stable', registryId: ACCOUNT });
    const laptop = pushes[3] as JsonMap;
    // A laptop, not the pipeline: Docker Desktop on macOS from his home address, late in the evening.
    expect([laptop.sourceIPAddress, String(laptop.userAgent)]).toEqual(['198.51.100.191', expect.stringContaining('Docker-Client/27.3.1 \\(darwin\\)')]);
    expect(String(laptop.eventTime) > '2026-10-20T22:00:00Z').toBe(true);
    for (const r of pushes.slice(0, 3)) expect([r.sourceIPAddress, String(r.userAgent)]).toEqual(['52.48.211.37', expect.stringContaining('os/linux arch/amd64')]);
  });

  it('has the maintenance window patch the runners by their Auto Scaling group on Sundays, and Daniel open a session onto a runner twelve minutes after his push', () => {
    const patches = named('SendCommand');
    expect(patches.map((r) => day(r))).toEqual(expect.arrayContaining(['2026-10-04', '2026-10-11', '2026-10-18']));
    expect(patches).toHaveLength(3);
    for (const r of patches) {
      expect(String(callerArn(r))).toMatch(/assumed-role\/ssm-maintenance-window-role\//);
      expect(map(r.userIdentity).invokedBy).toBe('ssm.amazonaws.com');
      expect(map(r.requestParameters)).toMatchObject({ documentName: 'AWS-RunPatchBaseline', targets: [{ key: 'tag:aws:autoscaling:groupName', values: ['gitlab-runner-asg'] }] });
    }
    const session = named('StartSession');
    expect(session).toHaveLength(1);
    const s = session[0] as JsonMap;
    expect([day(s), daniel.test(String(callerArn(s))), s.sourceIPAddress, map(s.requestParameters).target]).toEqual(['2026-10-20', true, '198.51.100.191', 'i-0b5e7a11c0ffee123']);
    const push = named('PutImage').find((r) => daniel.test(String(callerArn(r)))) as JsonMap;
    expect(Date.parse(String(s.eventTime)) - Date.parse(String(push.eventTime))).toBeGreaterThan(10 * 60_000);
  });

  it('records the runner and its launch template in samples/.recorded, so the session is tied to the runner group offline', () => {
    const recorded = join(HISTORY_DIR, '..', '.recorded', 'ec2');
    const instance = JSON.parse(readFileSync(join(recorded, 'DescribeInstances', 'i-0b5e7a11c0ffee123.json'), 'utf8')) as { Reservations: { Instances: { Tags: { Key: string; Value: string }[] }[] }[] };
    expect(instance.Reservations[0]?.Instances[0]?.Tags).toEqual(expect.arrayContaining([{ Key: 'aws:autoscaling:groupName', Value: 'gitlab-runner-asg' }]));
    expect(existsSync(join(recorded, 'DescribeLaunchTemplateVersions', 'lt-0a1b2c3d4e5f60718.json'))).toBe(true);
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
