/**
 * The heartbeat of an organisation deployment (#16): any event from a member account and region
 * (its scheduled heartbeat included) is its sign of life; each expected member account × region that
 * falls silent is its own incident, alerted once, naming the account and region. Against dynalite,
 * with SQS mocked and an injected clock.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { matchesPattern as matches } from '../../lambdas/engine/event-pattern.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { runHeartbeat, type HeartbeatDeps } from '../../lambdas/handlers/heartbeat.js';
import type { Notifier } from '../../lambdas/notify/notifier.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import heartbeat from '../../lambdas/use-cases/monitor/heartbeat/use-case.js';
import { expectedPlaces } from '../../lambdas/use-cases/monitor/health.js';
import { LivenessRecorder, LivenessStore } from '../../lambdas/use-cases/monitor/liveness.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { quietQueues } from '../support/quiet-queues.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);

const TOOLING = '111122223333';
const ARTIFACTS = '222233334444';
const OU_ACCOUNT = '555566667777';
const config = parseConfig({
  organization: {
    id: 'o-a1b2c3d4e5',
    managementAccount: '999988887777',
    central: { account: '333344445555', region: 'eu-west-1' },
    members: { organizationalUnits: ['ou-ab12-cdef3456'], accounts: [TOOLING, ARTIFACTS], regions: ['eu-west-1', 'us-east-1'] },
    accounts: [{ id: TOOLING, name: 'tooling' }, { id: ARTIFACTS, name: 'artifacts' }],
  },
});

/** The member stack's scheduled heartbeat, as EventBridge delivers it to the central bus. */
function memberHeartbeat(account: string, region: string, time: string): EventBridgeEvent {
  return {
    version: '0',
    id: `hb-${account}-${region}-${time}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time,
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/buildwatch-member-heartbeat`],
    detail: {},
  };
}

class CollectingNotifier implements Notifier {
  readonly sent: Finding[] = [];
  async notify(finding: Finding): Promise<void> {
    this.sent.push(finding);
  }
}

async function rig() {
  const stores = await dynamo.freshStores();
  const liveness = new LivenessStore(documentClient(localDynamoClient(dynamo.endpoint())), stores.tables.state);
  const notifier = new CollectingNotifier();
  let now = new Date('2026-11-03T10:00:00Z');
  const recorder = new LivenessRecorder(liveness, () => now, { perPlace: true });
  const deps = (): HeartbeatDeps => ({
    config,
    liveness,
    findings: stores.findings,
    notifier,
    sqs: new SQSClient({ region: 'eu-west-1' }),
    deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/333344445555/buildwatch-dead-letter',
    clock: () => now,
    account: '333344445555',
    region: 'eu-west-1',
  });
  return { liveness, notifier, recorder, deps, setNow: (iso: string) => (now = new Date(iso)) };
}

describe('organisation heartbeat', () => {
  beforeEach(() => {
    quietQueues(sqsMock);
  });

  it('routes a member stack\'s scheduled heartbeat to the detector, and no other scheduled rule\'s event', () => {
    expect(matches(heartbeat.pattern, memberHeartbeat(TOOLING, 'us-east-1', '2026-11-03T10:00:00Z'))).toBe(true);
    const other = { ...memberHeartbeat(TOOLING, 'us-east-1', '2026-11-03T10:00:00Z'), resources: [`arn:aws:events:us-east-1:${TOOLING}:rule/nightly-report`] };
    expect(matches(heartbeat.pattern, other)).toBe(false);
  });

  it('expects every configured member account in every member region, and accounts once heard from', () => {
    const seen = new Map([[`${OU_ACCOUNT}/us-east-1`, { at: '2026-11-03T09:00:00Z' }], [`${OU_ACCOUNT}/ap-south-1`, { at: '2026-11-03T09:00:00Z' }]]);
    expect(expectedPlaces(config, seen)?.map((p) => `${p.name ?? '-'}:${p.account}/${p.region}`)).toEqual([
      `tooling:${TOOLING}/eu-west-1`,
      `tooling:${TOOLING}/us-east-1`,
      `artifacts:${ARTIFACTS}/eu-west-1`,
      `artifacts:${ARTIFACTS}/us-east-1`,
      // Heard from through the OU; ap-south-1 is not a member region.
      `-:${OU_ACCOUNT}/us-east-1`,
    ]);
    expect(expectedPlaces(parseConfig({}), seen)).toBeUndefined();
  });

  it('reports each silent member account and region once, by name, and not those whose events (any events) arrive', async () => {
    const r = await rig();
    await runHeartbeat(r.deps());
    // Three of the four places stay alive: a heartbeat, a CloudTrail record, a native event.
    r.setNow('2026-11-03T12:50:00Z');
    await r.recorder.processed(toPipelineEvent(memberHeartbeat(TOOLING, 'eu-west-1', '2026-11-03T12:50:00Z')));
    await r.recorder.processed(toPipelineEvent(memberHeartbeat(TOOLING, 'us-east-1', '2026-11-03T12:50:00Z')));
    await r.recorder.processed(toPipelineEvent({ ...memberHeartbeat(ARTIFACTS, 'eu-west-1', '2026-11-03T12:50:00Z'), source: 'aws.codeartifact', 'detail-type': 'CodeArtifact Package Version State Change', resources: [] }));

    r.setNow('2026-11-03T13:00:00Z');
    const result = await runHeartbeat(r.deps());
    const silent = result.problems.filter((p) => p.check === 'member-silence');
    expect(silent.map((p) => `${p.account}/${p.region}`)).toEqual([`${ARTIFACTS}/us-east-1`]);
    const alert = r.notifier.sent.find((f) => f.title === 'No events from a member account and region');
    expect(alert).toMatchObject({ account: ARTIFACTS, accountName: 'artifacts', region: 'us-east-1', severity: 'high', mode: 'alert' });
    expect(alert?.summary).toContain('No event from account artifacts (222233334444) in us-east-1');

    r.setNow('2026-11-03T13:15:00Z');
    await r.recorder.processed(toPipelineEvent(memberHeartbeat(TOOLING, 'eu-west-1', '2026-11-03T13:15:00Z')));
    const again = await runHeartbeat(r.deps());
    expect(again.problems.filter((p) => p.check === 'member-silence')).toHaveLength(1);
    expect(r.notifier.sent.filter((f) => f.title === 'No events from a member account and region')).toHaveLength(1);
  });

  it('marks each place at most once per interval per container, and only in organisation mode', async () => {
    const r = await rig();
    const marks: string[] = [];
    const store = { mark: async (kind: string) => void marks.push(kind) };
    const recorder = new LivenessRecorder(store, () => new Date('2026-11-03T10:00:00Z'), { perPlace: true });
    await recorder.processed(toPipelineEvent(memberHeartbeat(TOOLING, 'eu-west-1', '2026-11-03T10:00:00Z')));
    await recorder.processed(toPipelineEvent(memberHeartbeat(TOOLING, 'eu-west-1', '2026-11-03T10:00:10Z')));
    await recorder.processed(toPipelineEvent(memberHeartbeat(TOOLING, 'us-east-1', '2026-11-03T10:00:10Z')));
    expect(marks).toEqual([`place#${TOOLING}/eu-west-1`, `place#${TOOLING}/us-east-1`]);
    const single: string[] = [];
    await new LivenessRecorder({ mark: async (kind: string) => void single.push(kind) }).processed(toPipelineEvent(memberHeartbeat(TOOLING, 'eu-west-1', '2026-11-03T10:00:00Z')));
    expect(single).toEqual([]);
    expect((await r.liveness.read()).places).toBeUndefined();
  });
});
