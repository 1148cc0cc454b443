/**
 * heartbeat Lambda (scheduled): gathers what the health checks need (liveness markers, canary alerts
 * that came back through the alerts topic, dead-letter depth), lets lambdas/use-cases/monitor/health.ts
 * judge, then records each new problem in the findings table and publishes it straight to the alerts
 * topic: the path it reports on (detect, stream, notify) may be the broken part. Finally it makes its
 * CloudTrail probe (TagQueue), so a quiet account still sends CloudTrail events.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, TagQueueCommand } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { BuildwatchConfig } from '../config/config.js';
import { policyFor } from '../engine/policy.js';
import type { Notifier } from '../notify/notifier.js';
import { alertChannels } from '../notify/channels.js';
import { documentClient } from '../store/dynamo-clients.js';
import { FindingsStore } from '../store/findings-store.js';
import { ENV } from '../store/schema.js';
import { useCaseById } from '../use-cases/index.js';
import { CANARY_USE_CASE, HEARTBEAT_ENV, HEARTBEAT_USE_CASE, PROBE_TAG } from '../use-cases/monitor/constants.js';
import { assessHealth, expectedPlaces, healthFinding, heartbeatOptionsSchema, type CanaryCheck, type HealthProblem } from '../use-cases/monitor/health.js';
import { LivenessStore } from '../use-cases/monitor/liveness.js';
import { MONITOR_RESOURCES_ENV, monitorResourcesSchema } from '../use-cases/monitor/own-resources.js';
import { bundledConfig, logger, requireEnv } from './runtime.js';
import { recordDelivery, recordHealth } from './metrics.js';

export interface HeartbeatDeps {
  readonly config: BuildwatchConfig;
  readonly liveness: Pick<LivenessStore, 'read' | 'mark' | 'watchingSince'>;
  readonly findings: Pick<FindingsStore, 'get' | 'put'>;
  /** Publishes straight to the alerts topic. */
  readonly notifier: Notifier;
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** Receives the canary's alerts from the alerts topic; absent when the canary is not checked end to end. */
  readonly receiptsQueueUrl?: string;
  readonly clock: () => Date;
  readonly account?: string;
  readonly region?: string;
}

export interface HeartbeatResult {
  readonly problems: readonly HealthProblem[];
  /** Ids of findings recorded (new incidents) in this run. */
  readonly recorded: readonly string[];
  readonly receipts: number;
}

/** At most this many receive calls per run: the queue gets one message an hour. */
const MAX_RECEIVES = 5;

/** An SNS notification as SQS receives it (raw delivery off). */
const snsEnvelopeSchema = z.looseObject({
  MessageId: z.string(),
  // Not a date-time: skipped like any other stranger on the queue (and deleted), never a failed run.
  Timestamp: z.iso.datetime({ offset: true }),
  MessageAttributes: z.record(z.string(), z.looseObject({ Value: z.string() })).optional(),
});

/** Reads (and deletes) the canary alerts that came back; returns how many and marks the latest. */
async function drainReceipts(deps: HeartbeatDeps, queueUrl: string): Promise<number> {
  let count = 0;
  let latest: { at: string; eventId: string } | undefined;
  for (let round = 0; round < MAX_RECEIVES; round += 1) {
    const { Messages } = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages || Messages.length === 0) break;
    for (const message of Messages) {
      const parsed = snsEnvelopeSchema.safeParse(safeJson(message.Body));
      if (!parsed.success || parsed.data.MessageAttributes?.['useCase']?.Value !== CANARY_USE_CASE) continue;
      count += 1;
      const at = new Date(parsed.data.Timestamp).toISOString();
      if (!latest || at > latest.at) latest = { at, eventId: parsed.data.MessageId };
    }
    const entries = Messages.filter((m) => m.ReceiptHandle).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string }));
    if (entries.length > 0) await deps.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
  if (latest) await deps.liveness.mark('canary-delivered', latest);
  return count;
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

async function deadLetterDepth(deps: HeartbeatDeps): Promise<{ messages: number } | { error: string }> {
  try {
    const { Attributes } = await deps.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deps.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { messages: Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** The canary is checked at the end of the path only when its alerts go out and come back. */
function canaryCheckOf(deps: HeartbeatDeps): CanaryCheck {
  const canary = useCaseById(CANARY_USE_CASE);
  if (!canary) return 'off';
  const mode = policyFor(canary.metadata, deps.config).mode;
  if (mode === 'off') return 'off';
  return mode === 'alert' && deps.receiptsQueueUrl ? 'delivered' : 'detected';
}

export async function runHeartbeat(deps: HeartbeatDeps): Promise<HeartbeatResult> {
  const useCase = useCaseById(HEARTBEAT_USE_CASE);
  if (!useCase || policyFor(useCase.metadata, deps.config).mode === 'off') return { problems: [], recorded: [], receipts: 0 };
  const options = heartbeatOptionsSchema.parse(deps.config.useCases[HEARTBEAT_USE_CASE]?.options ?? {});
  const now = deps.clock();

  const watchingSince = await deps.liveness.watchingSince(now.toISOString());
  const receipts = deps.receiptsQueueUrl ? await drainReceipts(deps, deps.receiptsQueueUrl) : 0;
  const markers = await deps.liveness.read();
  const expected = expectedPlaces(deps.config, markers.places);
  const problems = assessHealth(
    {
      watchingSince,
      ...(markers.cloudtrail ? { cloudTrail: markers.cloudtrail } : {}),
      ...(markers['canary-detected'] ? { canaryDetected: markers['canary-detected'] } : {}),
      ...(markers['canary-delivered'] ? { canaryDelivered: markers['canary-delivered'] } : {}),
      deadLetter: await deadLetterDepth(deps),
      canaryCheck: canaryCheckOf(deps),
      ...(expected ? { places: { expected, seen: markers.places ?? new Map() } } : {}),
    },
    options,
    now,
  );

  const canaryCheck = canaryCheckOf(deps);
  const canaryMarker = canaryCheck === 'delivered' ? markers['canary-delivered'] : canaryCheck === 'detected' ? markers['canary-detected'] : undefined;
  recordHealth(now, { ...(markers.cloudtrail ? { cloudTrailAt: markers.cloudtrail.eventTime ?? markers.cloudtrail.at } : {}), ...(canaryMarker ? { canaryAt: canaryMarker.at } : {}) }, problems.map((p) => p.check));

  const recorded: string[] = [];
  const failures: unknown[] = [];
  for (const problem of problems) {
    const finding = healthFinding(problem, now, { useCase, config: deps.config, ...(deps.account ? { account: deps.account } : {}), ...(deps.region ? { region: deps.region } : {}) });
    try {
      // One incident, one alert: a later run finds it in the ledger. If the ledger is unreadable, alert anyway.
      const known = await deps.findings.get(finding.id).catch((error: unknown) => {
        logger.warn('findings table unreadable; alerting anyway', { error: (error as Error).message });
        return undefined;
      });
      if (known) continue;
      if (finding.mode === 'alert') await deps.notifier.notify(finding);
      await deps.findings.put(finding);
      recorded.push(finding.id);
      logger.warn('monitor health problem', { check: problem.check, id: finding.id, summary: problem.summary });
    } catch (error) {
      failures.push(error);
      logger.error('could not record or publish a health problem', { check: problem.check, error: (error as Error).message });
    }
  }

  if (options.probe && deps.receiptsQueueUrl) {
    try {
      await deps.sqs.send(new TagQueueCommand({ QueueUrl: deps.receiptsQueueUrl, Tags: { [PROBE_TAG]: now.toISOString() } }));
    } catch (error) {
      // Not fatal: without probes the silence check fires, which is the right outcome.
      logger.warn('CloudTrail probe failed', { error: (error as Error).message });
    }
  }
  // Fail the invocation so the heartbeat's error alarm reaches the ops topic.
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} health problem(s) could not be recorded or published`);
  return { problems, recorded, receipts };
}

let deps: HeartbeatDeps | undefined;

function defaultDeps(): HeartbeatDeps {
  if (!deps) {
    const doc = documentClient(new DynamoDBClient({}));
    const resources = monitorResourcesSchema.safeParse(safeJson(process.env[MONITOR_RESOURCES_ENV]));
    const receiptsQueueUrl = process.env[HEARTBEAT_ENV.receiptsQueueUrl];
    const config = bundledConfig();
    deps = {
      config,
      liveness: new LivenessStore(doc, requireEnv(ENV.stateTable)),
      findings: new FindingsStore(doc, requireEnv(ENV.findingsTable)),
      // The alerts topic, and security's chat channels when routing has any (health findings have no team).
      notifier: alertChannels(new SNSClient({}), process.env, config, {}, (finding, error) => {
        logger.error('chat publish failed', { id: finding.id, error: (error as Error).message });
        recordDelivery('chat', 0, 1);
      }),
      sqs: new SQSClient({}),
      deadLetterQueueUrl: requireEnv(ENV.deadLetterQueueUrl),
      ...(receiptsQueueUrl ? { receiptsQueueUrl } : {}),
      clock: () => new Date(),
      ...(resources.success && resources.data.account ? { account: resources.data.account } : {}),
      ...(process.env['AWS_REGION'] ? { region: process.env['AWS_REGION'] } : {}),
    };
  }
  return deps;
}

export const handler = async (): Promise<HeartbeatResult> => runHeartbeat(defaultDeps());
