/**
 * The heartbeat handler (thin, but it owns the order of things: drain canary receipts, judge, record
 * and publish each new incident once, probe CloudTrail) and the liveness markers the detector writes,
 * against dynalite, with SQS mocked and an injected clock.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, TagQueueCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { handleBatch } from '../../lambdas/handlers/detect.js';
import { runHeartbeat, type HeartbeatDeps } from '../../lambdas/handlers/heartbeat.js';
import type { Notifier } from '../../lambdas/notify/notifier.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { HEARTBEAT_PRINCIPAL, PROBE_TAG } from '../../lambdas/use-cases/monitor/constants.js';
import { assessHealth, heartbeatOptionsSchema } from '../../lambdas/use-cases/monitor/health.js';
import { configuredMaxSilenceMinutes, LivenessRecorder, LivenessStore, markIntervalMs, MAX_MARK_INTERVAL_MS, RETRY_FAILED_MARK_MS } from '../../lambdas/use-cases/monitor/liveness.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { quietQueues } from '../support/quiet-queues.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-dead-letter';
const RECEIPTS = 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-canary-receipts';

class CollectingNotifier implements Notifier {
  readonly sent: Finding[] = [];
  failWith?: Error;
  async notify(finding: Finding): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.sent.push(finding);
  }
}

function receipt(id: string, timestamp: string, useCase = 'monitor.canary') {
  return {
    MessageId: `sqs-${id}`,
    ReceiptHandle: `rh-${id}`,
    Body: JSON.stringify({
      Type: 'Notification',
      MessageId: id,
      TopicArn: 'arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts',
      Subject: '[INFO] monitor.canary: Monitor canary came through',
      Message: 'INFO alert: Monitor canary came through',
      Timestamp: timestamp,
      MessageAttributes: { useCase: { Type: 'String', Value: useCase }, severity: { Type: 'String', Value: 'info' } },
    }),
  };
}

interface Rig {
  deps: (overrides?: Partial<HeartbeatDeps>) => HeartbeatDeps;
  liveness: LivenessStore;
  notifier: CollectingNotifier;
  findings: HeartbeatDeps['findings'];
  setNow: (iso: string) => void;
}

async function rig(config: BuildwatchConfigInput = {}): Promise<Rig> {
  const stores = await dynamo.freshStores();
  const liveness = new LivenessStore(documentClient(localDynamoClient(dynamo.endpoint())), stores.tables.state);
  const notifier = new CollectingNotifier();
  let now = new Date('2026-11-03T10:00:00Z');
  return {
    liveness,
    notifier,
    findings: stores.findings,
    setNow: (iso) => {
      now = new Date(iso);
    },
    deps: (overrides = {}) => ({
      config: parseConfig(config),
      liveness,
      findings: stores.findings,
      notifier,
      sqs: new SQSClient({ region: 'eu-west-1' }),
      deadLetterQueueUrl: DLQ,
      receiptsQueueUrl: RECEIPTS,
      clock: () => now,
      account: '111122223333',
      region: 'eu-west-1',
      ...overrides,
    }),
  };
}

describe('heartbeat handler', () => {
  beforeEach(() => {
    quietQueues(sqsMock);
  });

  it('on a fresh deployment: starts watching, finds nothing wrong, and probes CloudTrail by tagging the receipts queue', async () => {
    const r = await rig();
    const result = await runHeartbeat(r.deps());
    expect(result.problems).toEqual([]);
    expect(r.notifier.sent).toEqual([]);
    expect((await r.liveness.read()).watching?.at).toBe('2026-11-03T10:00:00.000Z');
    const tags = sqsMock.commandCalls(TagQueueCommand).map((call) => call.args[0].input);
    expect(tags).toEqual([{ QueueUrl: RECEIPTS, Tags: { [PROBE_TAG]: '2026-11-03T10:00:00.000Z' } }]);
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input.QueueUrl).toBe(DLQ);
  });

  it('reads canary alerts back from the receipts queue, deletes them, and keeps the latest delivery time', async () => {
    const r = await rig();
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [receipt('a', '2026-11-03T09:00:04.512Z'), receipt('b', '2026-11-03T08:00:03.001Z'), receipt('c', '2026-11-03T09:30:00.000Z', 'build.project-drift')] })
      .resolves({ Messages: [] });
    const result = await runHeartbeat(r.deps());
    expect(result.receipts).toBe(2);
    expect((await r.liveness.read())['canary-delivered']).toEqual({ at: '2026-11-03T09:00:04.512Z', eventId: 'a' });
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries?.map((e) => e.ReceiptHandle)).toEqual(['rh-a', 'rh-b', 'rh-c']);
  });

  it('skips and deletes a canary receipt whose timestamp is not a date-time, and the run goes on', async () => {
    const r = await rig();
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [receipt('bad', 'not a time'), receipt('a', '2026-11-03T09:00:04.512Z')] })
      .resolves({ Messages: [] });
    const result = await runHeartbeat(r.deps());
    expect(result.receipts).toBe(1);
    expect((await r.liveness.read())['canary-delivered']).toEqual({ at: '2026-11-03T09:00:04.512Z', eventId: 'a' });
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries?.map((e) => e.ReceiptHandle)).toEqual(['rh-bad', 'rh-a']);
  });

  it('alerts once per incident: silence and a missing canary are published straight to SNS and recorded, and not again on the next run', async () => {
    const r = await rig();
    await runHeartbeat(r.deps());
    r.setNow('2026-11-03T13:00:00Z');
    const first = await runHeartbeat(r.deps());
    expect(first.problems.map((p) => p.check)).toEqual(['cloudtrail-silence', 'canary-missing']);
    expect(r.notifier.sent.map((f) => f.useCase)).toEqual(['monitor.heartbeat', 'monitor.heartbeat']);
    expect(r.notifier.sent.every((f) => f.principal === HEARTBEAT_PRINCIPAL && f.mode === 'alert' && f.severity === 'high')).toBe(true);
    for (const id of first.recorded) expect(await r.findings.get(id)).toBeDefined();

    r.setNow('2026-11-03T13:15:00Z');
    const second = await runHeartbeat(r.deps());
    expect(second.problems).toHaveLength(2);
    expect(second.recorded).toEqual([]);
    expect(r.notifier.sent).toHaveLength(2);
  });

  it('stays quiet while the detector records CloudTrail events and canaries come back', async () => {
    const r = await rig();
    await runHeartbeat(r.deps());
    r.setNow('2026-11-03T13:00:00Z');
    await r.liveness.mark('cloudtrail', { at: '2026-11-03T12:40:00.000Z', eventId: 'ct-1' });
    const waiting = [receipt('x', '2026-11-03T12:00:05.000Z')];
    sqsMock.on(ReceiveMessageCommand).callsFake(() => ({ Messages: waiting.splice(0) }));
    expect((await runHeartbeat(r.deps())).problems).toEqual([]);
  });

  it('reports dead letters (medium), and a dead-letter queue it cannot read', async () => {
    const r = await rig();
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' } });
    const result = await runHeartbeat(r.deps());
    expect(result.problems).toEqual([expect.objectContaining({ check: 'dead-letter', severity: 'medium' })]);
    expect(r.notifier.sent[0]?.summary).toContain('4 messages');

    const denied = await rig();
    sqsMock.on(GetQueueAttributesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    expect((await runHeartbeat(denied.deps())).problems).toEqual([expect.objectContaining({ check: 'check-failed' })]);
  });

  it('alerts even when the findings table is unreadable, and fails the run when SNS fails (so the error alarm fires and the next run retries)', async () => {
    const r = await rig();
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    const broken = { get: async () => Promise.reject(new Error('ResourceNotFoundException')), put: async () => 'created' as const };
    await runHeartbeat(r.deps({ findings: broken }));
    expect(r.notifier.sent).toHaveLength(1);

    const failing = await rig();
    failing.notifier.failWith = new Error('KMSAccessDenied');
    await expect(runHeartbeat(failing.deps())).rejects.toThrow(/could not be recorded or published/);
    failing.notifier.failWith = undefined;
    const retried = await runHeartbeat(failing.deps());
    expect(retried.recorded).toHaveLength(1);
    expect(failing.notifier.sent).toHaveLength(1);
  });

  it('follows the configuration: heartbeat off does nothing; an attest-mode canary is checked at the detector; no probe when disabled', async () => {
    const off = await rig({ useCases: { 'monitor.heartbeat': { mode: 'off' } } });
    expect(await runHeartbeat(off.deps())).toEqual({ problems: [], recorded: [], receipts: 0 });
    expect(sqsMock.commandCalls(TagQueueCommand)).toHaveLength(0);

    const attest = await rig({ useCases: { 'monitor.canary': { mode: 'attest' }, 'monitor.heartbeat': { options: { probe: false } } } });
    await runHeartbeat(attest.deps());
    await attest.liveness.mark('cloudtrail', { at: '2026-11-03T12:50:00.000Z' });
    await attest.liveness.mark('canary-detected', { at: '2026-11-03T12:00:02.000Z' });
    attest.setNow('2026-11-03T13:00:00Z');
    expect((await runHeartbeat(attest.deps())).problems).toEqual([]);
    expect(sqsMock.commandCalls(TagQueueCommand)).toHaveLength(0);
  });
});

const cloudTrail = (id: string) =>
  toPipelineEvent({
    version: '0', id, 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.codecommit', account: '111122223333', time: '2026-11-03T09:58:00Z', region: 'eu-west-1', resources: [],
    detail: { eventTime: '2026-11-03T09:58:00Z', eventSource: 'codecommit.amazonaws.com', eventName: 'GitPush', eventID: id, userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/dev' } },
  });

describe('liveness markers', () => {
  it('move forward only, whatever order concurrent writers arrive in', async () => {
    const r = await rig();
    await r.liveness.mark('cloudtrail', { at: '2026-11-03T10:05:00.000Z', eventId: 'late' });
    await r.liveness.mark('cloudtrail', { at: '2026-11-03T10:01:00.000Z', eventId: 'early' });
    expect((await r.liveness.read()).cloudtrail).toEqual({ at: '2026-11-03T10:05:00.000Z', eventId: 'late' });
    expect(await r.liveness.watchingSince('2026-11-03T10:00:00.000Z')).toBe('2026-11-03T10:00:00.000Z');
    expect(await r.liveness.watchingSince('2026-11-04T10:00:00.000Z')).toBe('2026-11-03T10:00:00.000Z');
  });

  it('the recorder marks CloudTrail at most once per interval per container, and every canary', async () => {
    const marks: Array<[string, string]> = [];
    let now = new Date('2026-11-03T10:00:00Z');
    const recorder = new LivenessRecorder({ mark: async (kind, marker) => void marks.push([kind, marker.eventId ?? '']) }, () => now);
    const canary = toPipelineEvent({ version: '0', id: 'canary-1', 'detail-type': 'Buildwatch Canary', source: 'buildwatch.canary', account: '111122223333', time: '2026-11-03T10:00:00Z', region: 'eu-west-1', resources: [], detail: {} });
    await recorder.processed(cloudTrail('a'));
    await recorder.processed(cloudTrail('b'));
    await recorder.processed(canary);
    await recorder.processed(canary);
    now = new Date(now.getTime() + recorder.intervalMs - 1);
    await recorder.processed(cloudTrail('c'));
    now = new Date(now.getTime() + 1);
    await recorder.processed(cloudTrail('d'));
    expect(marks).toEqual([['cloudtrail', 'a'], ['canary-detected', 'canary-1'], ['canary-detected', 'canary-1'], ['cloudtrail', 'd']]);
  });

  it('derives the marker interval from the silence limit: a tenth of it, at most 10 minutes, below the heartbeat period', () => {
    expect(markIntervalMs(15)).toBe(90_000);
    expect(markIntervalMs(60)).toBe(360_000);
    expect(markIntervalMs(120)).toBe(MAX_MARK_INTERVAL_MS);
    expect(markIntervalMs(10_080)).toBe(MAX_MARK_INTERVAL_MS);
    for (const limit of [15, 16, 45, 99, 100, 101, 1440]) {
      expect(markIntervalMs(limit)).toBeLessThanOrEqual((limit * 60_000) / 10);
      expect(markIntervalMs(limit)).toBeLessThan(15 * 60_000);
    }
    expect(new LivenessRecorder({ mark: async () => undefined }).intervalMs).toBe(markIntervalMs(heartbeatOptionsSchema.parse({}).maxSilenceMinutes));
    expect(configuredMaxSilenceMinutes(parseConfig({ useCases: { 'monitor.heartbeat': { options: { maxSilenceMinutes: 30 } } } }))).toBe(30);
    expect(configuredMaxSilenceMinutes(parseConfig({}))).toBe(120);
  });

  it('a failed marker write is tried again a minute later, not with every event nor a whole interval later', async () => {
    const marks: string[] = [];
    let fail = true;
    let attempts = 0;
    let now = new Date('2026-11-03T10:00:00Z');
    const recorder = new LivenessRecorder({
      mark: async (_kind, marker) => {
        attempts += 1;
        if (fail) throw new Error('throttled');
        marks.push(marker.eventId ?? '');
      },
    }, () => now);
    await expect(recorder.processed(cloudTrail('a'))).rejects.toThrow('throttled');
    fail = false;
    await recorder.processed(cloudTrail('b'));
    expect(attempts).toBe(1);
    now = new Date(now.getTime() + RETRY_FAILED_MARK_MS);
    await recorder.processed(cloudTrail('c'));
    await recorder.processed(cloudTrail('d'));
    expect(marks).toEqual(['c']);
    expect(RETRY_FAILED_MARK_MS).toBeLessThan(recorder.intervalMs);
  });

  it.each([15, 30, 120])('with markers written once per interval, the heartbeat still sees a silence of %i minutes in time and no silence below 90%% of it', async (maxSilenceMinutes) => {
    const r = await rig();
    const options = heartbeatOptionsSchema.parse({ maxSilenceMinutes });
    let now = new Date('2026-11-03T10:00:00Z');
    const recorder = new LivenessRecorder(r.liveness, () => now, { maxSilenceMinutes });
    // A CloudTrail event every 20 seconds for two hours, then nothing.
    const lastEvent = new Date(now.getTime() + 2 * 3_600_000);
    for (let i = 0; now < lastEvent; i += 1) {
      await recorder.processed(cloudTrail(`e${i}`));
      now = new Date(now.getTime() + 20_000);
    }
    const observed = async (at: Date) => {
      const markers = await r.liveness.read();
      const problems = assessHealth({ watchingSince: '2026-11-03T09:00:00.000Z', ...(markers.cloudtrail ? { cloudTrail: markers.cloudtrail } : {}), deadLetter: { messages: 0 }, canaryCheck: 'off' }, options, at);
      return problems.map((problem) => problem.check);
    };
    const minute = 60_000;
    // The marker lags the last event by less than the interval.
    expect(lastEvent.getTime() - Date.parse((await r.liveness.read()).cloudtrail?.at ?? '')).toBeLessThan(recorder.intervalMs + 20_000);
    expect(await observed(new Date(lastEvent.getTime() + Math.floor(maxSilenceMinutes * 0.9) * minute - 20_000))).toEqual([]);
    expect(await observed(new Date(lastEvent.getTime() + (maxSilenceMinutes + 1) * minute))).toEqual(['cloudtrail-silence']);
  });

  it('the detect handler records liveness after evaluating, and a failing marker write does not fail the message', async () => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    const { engine } = await dynamo.freshEngine({});
    const seen: string[] = [];
    const canary = { version: '0', id: 'canary-2', 'detail-type': 'Buildwatch Canary', source: 'buildwatch.canary', account: '111122223333', time: '2026-11-03T11:00:00Z', region: 'eu-west-1', resources: [], detail: { scheduledTime: '2026-11-03T11:00:00Z', executionId: 'exec-2' } };
    const batch: SQSEvent = {
      Records: [
        {
          messageId: 'm1',
          receiptHandle: 'rh',
          body: JSON.stringify({ useCase: 'monitor.canary', event: canary }),
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'events', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:buildwatch-detect',
          awsRegion: 'eu-west-1',
        },
      ],
    };
    const base = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: DLQ };
    expect(await handleBatch(batch, undefined, { ...base, liveness: { processed: async (event) => void seen.push(event.id) } })).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['canary-2']);
    const failing = { processed: async () => Promise.reject(new Error('throttled')) };
    expect(await handleBatch(batch, undefined, { ...base, liveness: failing })).toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
