/**
 * The engine in organisation mode (#16): each event sees its account's pipeline, and state, dedup
 * and correlation keys are kept per account and region; without an `organization` section every key
 * is what it always was.
 */
import { describe, expect, it } from 'vitest';
import type { BuildwatchConfigInput } from '../../lambdas/config/config.js';
import { eventLocation, locatedKey } from '../../lambdas/engine/event-location.js';
import { envelopeForCloudTrail, type CloudTrailRecord, type EventBridgeEvent } from '../../lambdas/engine/events.js';
import { stringAt, toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { defineUseCase, type UseCase, type UseCaseLogic } from '../../lambdas/engine/use-case.js';
import type { Outcome } from '../../lambdas/engine/engine.js';
import { parseConfig } from '../../lambdas/config/config.js';
import type { Lookups } from '../../lambdas/lookups/lookups.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();

const TOOLING = '111122223333';
const ARTIFACTS = '222233334444';
const SECURITY = '333344445555';

const organization = {
  id: 'o-a1b2c3d4e5',
  managementAccount: '999988887777',
  central: { account: SECURITY, region: 'eu-west-1' },
  members: { accounts: [TOOLING, ARTIFACTS], regions: ['eu-west-1', 'us-east-1'] },
  accounts: [
    { id: TOOLING, name: 'tooling', pipeline: { repositories: ['payments-service', 'tooling-only'], buildProjects: [{ name: 'payments-build' }] } },
    { id: ARTIFACTS, name: 'artifacts' },
  ],
};

let seq = 0;
function record(account: string, overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  seq += 1;
  return {
    eventVersion: '1.09',
    eventTime: '2026-10-20T10:00:00Z',
    eventSource: 'codecommit.amazonaws.com',
    eventName: 'GitPush',
    awsRegion: 'eu-west-1',
    eventID: `e0000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    eventType: 'AwsApiCall',
    recipientAccountId: account,
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${account}:user/alice`, accountId: account, userName: 'alice' },
    requestParameters: { repositoryName: 'payments-service' },
    ...overrides,
  };
}

const event = (rec: CloudTrailRecord) => toPipelineEvent(envelopeForCloudTrail(rec));

function probe(id: string, logic: UseCaseLogic): UseCase {
  return defineUseCase({
    metadata: {
      id,
      answers: 'source.new-contributor',
      title: `Probe ${id} for organisation tests`,
      stage: 'source',
      description: 'A probe that shows what the engine gives it.',
      severity: 'medium',
      defaultMode: 'alert',
      riskReduction: 1,
      effort: 1,
      mitre: ['T1078'],
      falsePositives: ['none'],
      runbook: 'nothing to do, it is a probe',
    },
    pattern: { source: ['aws.codecommit'] },
    logic,
  });
}

const firstPusher = probe('source.first-pusher-probe', {
  kind: 'firstSeen',
  sightings: (e) => [{ scope: `repo/${stringAt(e.cloudTrail?.requestParameters, 'repositoryName')}`, value: e.principal?.key ?? 'unknown', resource: 'payments-service' }],
  describe: (facts) => ({ summary: `first push by ${facts.sighting.value} to ${facts.sighting.scope}` }),
});

const repoDrift = probe('source.repo-drift-probe', {
  kind: 'drift',
  report: (e) => ({ key: 'repo/payments-service', resource: 'payments-service', state: { branch: stringAt(e.cloudTrail?.requestParameters, 'branch') ?? 'main' }, partial: false }),
  assess: (facts) => ({ summary: `changed: ${facts.diff.map((d) => d.path).join(', ')}`, resource: 'payments-service' }),
});

/** Reports the pipeline and the drift snapshot it sees, under one fixed dedup key. */
const looker = probe('source.looker-probe', {
  kind: 'match',
  evaluate: async (e, ctx) => {
    const snapshot = await ctx.snapshots?.get(repoDrift.metadata.id, 'repo/payments-service');
    return {
      summary: 'looked',
      resource: 'payments-service',
      dedupKey: 'fixed',
      evidence: { repositories: ctx.config.pipeline.repositories, branch: snapshot?.state['branch'] ?? null, sameLookups: ctx.lookups === noLookups },
    };
  },
});

/** Records (eventName Record) and claims (eventName Claim) joined on `project`; the claim says where its project lives. */
const joiner = probe('source.joiner-probe', {
  kind: 'correlate',
  deadlineMinutes: () => 0,
  inputs: (e) => {
    const params = e.cloudTrail?.requestParameters;
    const join = stringAt(params, 'project') ?? 'none';
    if (e.cloudTrail?.eventName === 'Record') return { records: [{ join, id: e.id, keys: ['hash-1'], data: {} }] };
    const account = stringAt(params, 'projectAccount');
    return { claims: [{ join, subject: 'pkg@1', data: {}, ...(account ? { joinLocation: { account } } : {}) }] };
  },
  judge: async (facts) => {
    const found = await facts.records.withKey('hash-1');
    return { status: 'settled', observations: [{ summary: `${facts.claim.join}: ${found.length} record(s)`, resource: facts.claim.join }] };
  },
});

/** A claim that waits for its deadline (60 minutes), then reports: judged later, from the stored slim copy. */
const waiter = probe('source.waiter-probe', {
  kind: 'correlate',
  deadlineMinutes: () => 60,
  inputs: () => ({ claims: [{ join: 'payments-build', subject: 'pkg@2', data: {} }] }),
  judge: (facts) => (facts.final ? { status: 'settled', observations: [{ summary: `settled ${facts.claim.subject}`, resource: 'pkg' }] } : { status: 'wait' }),
});

function findingsOf(outcomes: Outcome[]) {
  return outcomes.flatMap((o) => (o.status === 'finding' ? [o.finding] : []));
}

describe('eventLocation: the account an event is about', () => {
  it('is the resource owner for a cross-account call, not the caller', () => {
    const copy = event(record(ARTIFACTS, {
      eventSource: 'kms.amazonaws.com',
      eventName: 'Sign',
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ARTIFACTS}:assumed-role/ci/x`, accountId: ARTIFACTS },
      resources: [{ ARN: `arn:aws:kms:eu-west-1:${SECURITY}:key/k`, accountId: SECURITY, type: 'AWS::KMS::Key' }],
    }));
    expect(eventLocation(copy)).toEqual({ account: SECURITY, region: 'eu-west-1' });
  });

  it('is the CodeArtifact domain owner when the record names one, whichever copy it is', () => {
    const callerCopy = event(record(TOOLING, { eventSource: 'codeartifact.amazonaws.com', eventName: 'GetAuthorizationToken', requestParameters: { domain: 'acme', domainOwner: ARTIFACTS } }));
    expect(eventLocation(callerCopy).account).toBe(ARTIFACTS);
  });

  it('is the recipient otherwise, and the envelope account for native events', () => {
    expect(eventLocation(event(record(TOOLING, { awsRegion: 'us-east-1' })))).toEqual({ account: TOOLING, region: 'us-east-1' });
    const native: EventBridgeEvent = { version: '0', id: 'n-1', 'detail-type': 'CodeBuild Build State Change', source: 'aws.codebuild', account: ARTIFACTS, time: '2026-10-20T10:00:00Z', region: 'us-east-1', resources: [], detail: {} };
    expect(eventLocation(toPipelineEvent(native))).toEqual({ account: ARTIFACTS, region: 'us-east-1' });
  });

  it('leaves keys alone without an organisation section', () => {
    expect(locatedKey(parseConfig({}), { account: TOOLING, region: 'eu-west-1' }, 'repo/x')).toBe('repo/x');
    expect(locatedKey(parseConfig({ organization }), { account: TOOLING, region: 'eu-west-1' }, 'repo/x')).toBe(`${TOOLING}/eu-west-1/repo/x`);
  });
});

describe('Engine in organisation mode', () => {
  const learning: BuildwatchConfigInput['defaults'] = { learningDays: 0 };
  /** One principal (a role in tooling) pushing to namesake repositories of several accounts. */
  const alice = { userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${TOOLING}:user/alice`, accountId: TOOLING, userName: 'alice' } };

  it('keeps first-seen baselines per account and region: the same repository name in two accounts', async () => {
    const { engine } = await dynamo.freshEngine({ organization, defaults: learning });
    const base = findingsOf(await engine.evaluate(firstPusher, event(record(TOOLING, { eventTime: '2026-10-01T00:00:00Z' }))));
    expect(base).toHaveLength(1);
    // alice is known in tooling: a second push there is no first.
    expect(findingsOf(await engine.evaluate(firstPusher, event(record(TOOLING))))).toHaveLength(0);
    // The artifacts account's payments-service is another repository: alice is new there.
    const other = findingsOf(await engine.evaluate(firstPusher, event(record(ARTIFACTS, alice))));
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ account: ARTIFACTS, region: 'eu-west-1' });
    expect(other[0]?.dedupKey.startsWith(`${ARTIFACTS}/eu-west-1/`)).toBe(true);
    // And another region of the same account is another repository too.
    expect(findingsOf(await engine.evaluate(firstPusher, event(record(TOOLING, { awsRegion: 'us-east-1' }))))).toHaveLength(1);
  });

  it('keeps the old shared baseline without an organisation section', async () => {
    const { engine } = await dynamo.freshEngine({ defaults: learning });
    await engine.evaluate(firstPusher, event(record(TOOLING, { eventTime: '2026-10-01T00:00:00Z' })));
    const other = findingsOf(await engine.evaluate(firstPusher, event(record(ARTIFACTS, alice))));
    expect(other).toHaveLength(0);
  });

  it('keeps drift snapshots per account, and a use case reads the snapshot of its own event\'s account', async () => {
    const { engine } = await dynamo.freshEngine({ organization });
    await engine.evaluate(repoDrift, event(record(TOOLING, { eventTime: '2026-10-01T00:00:00Z', requestParameters: { repositoryName: 'payments-service', branch: 'main' } })));
    await engine.evaluate(repoDrift, event(record(ARTIFACTS, { eventTime: '2026-10-02T00:00:00Z', requestParameters: { repositoryName: 'payments-service', branch: 'release' } })));
    // A change in tooling is judged against tooling's state (main), not the artifacts account's (release).
    const changed = findingsOf(await engine.evaluate(repoDrift, event(record(TOOLING, { eventTime: '2026-10-03T00:00:00Z', requestParameters: { repositoryName: 'payments-service', branch: 'release' } }))));
    expect(changed).toHaveLength(1);
    expect(changed[0]?.summary).toBe('changed: branch');
    const seenFromArtifacts = findingsOf(await engine.evaluate(looker, event(record(ARTIFACTS, { eventTime: '2026-10-04T00:00:00Z' }))));
    expect(seenFromArtifacts[0]?.evidence['branch']).toBe('release');
  });

  it('gives each event its account\'s pipeline, else the top-level one', async () => {
    const { engine } = await dynamo.freshEngine({ organization, pipeline: { repositories: ['top-level'] } });
    const tooling = findingsOf(await engine.evaluate(looker, event(record(TOOLING))));
    const artifacts = findingsOf(await engine.evaluate(looker, event(record(ARTIFACTS))));
    expect(tooling[0]?.evidence['repositories']).toEqual(['payments-service', 'tooling-only']);
    expect(artifacts[0]?.evidence['repositories']).toEqual(['top-level']);
    // Findings name the account as configured.
    expect(tooling[0]).toMatchObject({ account: TOOLING, accountName: 'tooling', region: 'eu-west-1' });
    expect(artifacts[0]?.accountName).toBe('artifacts');
  });

  it('makes look-ups in the event\'s account and region when the look-ups can', async () => {
    const asked: string[] = [];
    const lookups: Lookups = { ...noLookups, inAccount: (account, region) => (asked.push(`${account}/${region}`), noLookups) };
    const { engine } = await dynamo.freshEngine({ organization }, lookups);
    const found = findingsOf(await engine.evaluate(looker, event(record(ARTIFACTS, { awsRegion: 'us-east-1' }))));
    expect(asked).toEqual([`${ARTIFACTS}/us-east-1`]);
    expect(found[0]?.evidence['sameLookups']).toBe(true);
  });

  it('makes the same incident in two accounts two findings (dedup and incident keys per account)', async () => {
    const { engine } = await dynamo.freshEngine({ organization });
    const a = findingsOf(await engine.evaluate(looker, event(record(TOOLING))));
    const b = findingsOf(await engine.evaluate(looker, event(record(ARTIFACTS))));
    expect(a[0]?.dedupKey).toBe(`${TOOLING}/eu-west-1/fixed`);
    expect(b[0]?.dedupKey).toBe(`${ARTIFACTS}/eu-west-1/fixed`);
  });

  it('keeps a deferred finding in the account its claim was judged in, though the stored copy lacks the request parameters', async () => {
    const { engine } = await dynamo.freshEngine({ organization });
    // The caller's copy (tooling) of a call on the artifacts account's domain: it is about artifacts.
    const claim = event(record(TOOLING, { eventSource: 'codeartifact.amazonaws.com', eventName: 'PublishPackageVersion', requestParameters: { domain: 'acme', domainOwner: ARTIFACTS } }));
    expect(findingsOf(await engine.evaluate(waiter, claim))).toHaveLength(0);
    const settled = findingsOf(await engine.settle([waiter]));
    expect(settled.map((f) => [f.summary, f.account, f.region])).toEqual([['settled pkg@2', ARTIFACTS, 'eu-west-1']]);
    expect(settled[0]?.dedupKey).toBe(`${ARTIFACTS}/eu-west-1/pkg`);
  });

  it('joins correlations per account and region, across accounts where the claim says so', async () => {
    const { engine } = await dynamo.freshEngine({ organization });
    await engine.evaluate(joiner, event(record(TOOLING, { eventName: 'Record', requestParameters: { project: 'payments-build' } })));
    // A namesake project in the artifacts account has no records.
    const local = findingsOf(await engine.evaluate(joiner, event(record(ARTIFACTS, { eventName: 'Claim', requestParameters: { project: 'payments-build' } }))));
    expect(local[0]?.summary).toBe('payments-build: 0 record(s)');
    // A claim whose build project lives in tooling finds tooling's record; the use case sees its own join key.
    const across = findingsOf(await engine.evaluate(joiner, event(record(ARTIFACTS, { eventName: 'Claim', requestParameters: { project: 'payments-build', projectAccount: TOOLING } }))));
    expect(across[0]?.summary).toBe('payments-build: 1 record(s)');
  });
});
