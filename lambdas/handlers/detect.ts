/**
 * detect Lambda: SQS batch of {useCase, event} messages (one EventBridge rule per use case puts them
 * there) → engine → findings table. Thin: parsing, wiring and failure routing only.
 * Failures are classified (failure-class.ts): poison messages and permanent failures go to the
 * dead-letter queue at once with their reason; transient ones are reported as partial batch failures
 * and retried by SQS, up to MAX_ATTEMPTS, then dead-lettered with their reason. The queue's own
 * redrive (maxReceiveCount) sits a few receives above MAX_ATTEMPTS, so a failed forward is retried
 * before SQS moves the message itself; and every reason is also logged, keyed by message id, before
 * each forward, so even a message SQS redrives keeps its reason in the logs.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { Engine } from '../engine/engine.js';
import { eventBridgeEventSchema, eventTimeOf } from '../engine/events.js';
import { toPipelineEvent, type PipelineEvent } from '../engine/pipeline-event.js';
import { awsLookupsFor } from './lookup-clients.js';
import { withEc2Lookups } from './ec2-lookup-clients.js';
import { documentClient } from '../store/dynamo-clients.js';
import { FindingsStore } from '../store/findings-store.js';
import { countingLookups, recordDeadLetter, recordEvaluation } from './metrics.js';
import { ENV } from '../store/schema.js';
import { StateStore } from '../store/state-store.js';
import { useCaseById } from '../use-cases/index.js';
import { LivenessRecorder, LivenessStore } from '../use-cases/monitor/liveness.js';
import { MONITOR_RESOURCES_ENV, withMonitorResources } from '../use-cases/monitor/own-resources.js';
import { classifyFailure, type FailureClass } from './failure-class.js';
import { bundledConfig, logger, requireEnv } from './runtime.js';

/**
 * Evaluations of a transiently failing message before it is sent to the dead-letter queue with its
 * reason. Keep it below the queue's maxReceiveCount (lib/constructs/queues.ts), so a forward that
 * fails is retried on the next receives before SQS redrives the message without its reason.
 */
export const MAX_ATTEMPTS = 5;

/** The message log line that keeps a dead letter's reason even if the message reaches the queue without it. */
export const DEAD_LETTER_LOG = 'dead-letter reason';

const isTime = (value: string): boolean => !Number.isNaN(Date.parse(value));

const messageSchema = z.object({ useCase: z.string().min(1), event: eventBridgeEventSchema }).superRefine((message, ctx) => {
  // Detection runs on event time (baselines, windows, snapshots): an event without one is unusable.
  if (!isTime(message.event.time)) ctx.addIssue({ code: 'custom', path: ['event', 'time'], message: 'not a date-time' });
  else if (!isTime(eventTimeOf(message.event))) ctx.addIssue({ code: 'custom', path: ['event', 'detail', 'eventTime'], message: 'not a date-time' });
});

export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

export interface DetectDeps {
  readonly engine: Engine;
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** Records that events are being processed, for the heartbeat (monitor.heartbeat). */
  readonly liveness?: Pick<LivenessRecorder, 'processed'>;
  /** DynamoDB requests made so far by the engine's stores (for the DynamoDBCalls metric). */
  readonly dynamoCalls?: () => number;
}

let cached: DetectDeps | undefined;

function defaultDeps(): DetectDeps {
  if (!cached) {
    const doc = documentClient(new DynamoDBClient({}));
    const state = new StateStore(doc, requireEnv(ENV.stateTable));
    const findings = new FindingsStore(doc, requireEnv(ENV.findingsTable));
    // The stack passes what the configuration cannot know: its account and its KMS key.
    const config = withMonitorResources(bundledConfig(), process.env[MONITOR_RESOURCES_ENV]);
    cached = {
      engine: new Engine({
        config,
        // Instances are resolved in the event's region (the role's region condition refuses others, which the finding then says).
        lookups: countingLookups(awsLookupsFor(config, withEc2Lookups)),
        state,
        findings,
      }),
      dynamoCalls: () => state.calls + findings.calls,
      sqs: new SQSClient({}),
      deadLetterQueueUrl: requireEnv(ENV.deadLetterQueueUrl),
      // Organisation deployments: every member account and region's events are its signs of life.
      liveness: new LivenessRecorder(new LivenessStore(doc, requireEnv(ENV.stateTable)), undefined, { perPlace: config.organization !== undefined }),
    };
  }
  return cached;
}

/** A liveness write that fails must not fail (or repeat) the evaluation it follows: the heartbeat will notice. */
async function recordLiveness(deps: DetectDeps, event: PipelineEvent): Promise<void> {
  try {
    await deps.liveness?.processed(event);
  } catch (error) {
    logger.warn('could not record liveness for the heartbeat', { eventId: event.id, error: (error as Error).message });
  }
}

/** Parses a message; anything unparseable will never succeed, so it is poison, not a retry. */
export function parseMessage(body: string): z.infer<typeof messageSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    throw new PoisonMessageError(`message body is not JSON: ${(error as Error).message}`);
  }
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PoisonMessageError(`message is not {useCase, event}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

interface DeadLetter {
  readonly reason: string;
  readonly failure: FailureClass | 'poison';
  readonly attempts: number;
}

/**
 * Parks a message in the dead-letter queue with its reason. The reason is logged first, keyed by
 * message id (SQS keeps the id when its redrive moves a message), so it survives a forward that fails.
 */
async function toDeadLetterQueue(deps: DetectDeps, record: SQSRecord, letter: DeadLetter): Promise<void> {
  const reason = letter.reason.slice(0, 1000);
  logger.error(DEAD_LETTER_LOG, { messageId: record.messageId, failure: letter.failure, attempts: letter.attempts, reason });
  await deps.sqs.send(
    new SendMessageCommand({
      QueueUrl: deps.deadLetterQueueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: reason },
        failure: { DataType: 'String', StringValue: letter.failure },
        attempts: { DataType: 'Number', StringValue: String(letter.attempts) },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
  recordDeadLetter(letter.failure);
}

function attemptsOf(record: SQSRecord): number {
  const count = Number(record.attributes.ApproximateReceiveCount ?? '1');
  return Number.isFinite(count) && count >= 1 ? count : 1;
}

export function recordHandler(deps: DetectDeps) {
  return async (record: SQSRecord): Promise<void> => {
    const attempts = attemptsOf(record);
    let message: z.infer<typeof messageSchema>;
    try {
      message = parseMessage(record.body);
    } catch (error) {
      await toDeadLetterQueue(deps, record, { reason: (error as Error).message, failure: 'poison', attempts });
      return;
    }
    const useCase = useCaseById(message.useCase);
    if (!useCase) {
      // A rule names a use case this code does not have: a wiring bug, retrying cannot help.
      await toDeadLetterQueue(deps, record, { reason: `unknown use case ${message.useCase}`, failure: 'poison', attempts });
      return;
    }
    try {
      const event = toPipelineEvent(message.event);
      const callsBefore = deps.dynamoCalls?.() ?? 0;
      const started = performance.now();
      const outcomes = await deps.engine.evaluate(useCase, event);
      recordEvaluation(useCase.metadata.id, outcomes, { latencyMs: performance.now() - started, dynamoCalls: (deps.dynamoCalls?.() ?? 0) - callsBefore });
      for (const outcome of outcomes) {
        if (outcome.status === 'finding') logger.info('finding', { id: outcome.finding.id, useCase: useCase.metadata.id, severity: outcome.finding.severity, created: outcome.created });
        else if (outcome.status === 'deduplicated') logger.info('repeat folded into an earlier finding', { id: outcome.finding.id, into: outcome.into, useCase: useCase.metadata.id, counted: outcome.counted });
      }
      await recordLiveness(deps, event);
    } catch (error) {
      const failure = classifyFailure(error);
      const reason = `use case ${useCase.metadata.id} failed on event ${message.event.id}: ${errorText(error)}`;
      if (failure === 'permanent') {
        await toDeadLetterQueue(deps, record, { reason: `${reason} (permanent: not retried)`, failure, attempts });
        return;
      }
      if (attempts >= MAX_ATTEMPTS) {
        await toDeadLetterQueue(deps, record, { reason: `${reason} (after ${attempts} attempts)`, failure, attempts });
        return;
      }
      logger.warn('evaluation failed; SQS will retry', { messageId: record.messageId, attempts, reason });
      throw error;
    }
  };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `non-error thrown: ${String(error)}`;
}

export async function handleBatch(event: SQSEvent, context: Context | undefined, deps: DetectDeps): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  // A batch where every record failed is still reported record by record, not as a Lambda error.
  // One record at a time, in the batch's order: records of one incident (a push's records, a build's
  // events) often share a batch, and racing them on the same state would make which one is judged
  // first depend on timing. A batch is at most 10 messages, so the latency this adds is small.
  return processPartialResponse(event, recordHandler(deps), processor, { ...(context ? { context } : {}), throwOnFullBatchFailure: false, processInParallel: false });
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => handleBatch(event, context, defaultDeps());
