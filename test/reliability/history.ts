/**
 * The sample history as the detect queue would carry it: every event, in event-time order, as one
 * {useCase, event} message per use case whose EventBridge rule matches it (what `route` decides
 * locally). Message ids are stable per (event, use case), as a redelivery keeps its content.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import { expandInputPaths, readInputFile } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { route } from '../../lambdas/engine/router.js';
import { useCases } from '../../lambdas/use-cases/index.js';

export const HISTORY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'samples', 'history');

export interface QueueMessage {
  readonly messageId: string;
  readonly useCase: string;
  readonly eventId: string;
  /** Event time in ms (for shuffling within a window). */
  readonly at: number;
  readonly body: string;
}

let cached: Promise<QueueMessage[]> | undefined;

/** Every message of the sample history, in event-time order (stable for equal times). */
export function historyMessages(): Promise<QueueMessage[]> {
  cached ??= load();
  return cached;
}

async function load(): Promise<QueueMessage[]> {
  const { files, problems } = await expandInputPaths([HISTORY_DIR]);
  if (problems.length > 0) throw new Error(`sample history: ${problems.map((p) => p.reason).join('; ')}`);
  const events: Array<{ envelope: EventBridgeEvent; at: number; order: number }> = [];
  for (const file of files) {
    const input = await readInputFile(file);
    if (input.problems.length > 0) throw new Error(`sample history: ${input.problems.map((p) => p.reason).join('; ')}`);
    for (const envelope of input.events) events.push({ envelope, at: Date.parse(toPipelineEvent(envelope).time), order: events.length });
  }
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  const messages: QueueMessage[] = [];
  for (const { envelope, at } of events) {
    for (const useCase of route(useCases, envelope)) {
      const id = useCase.metadata.id;
      messages.push({ messageId: `${envelope.id}#${id}`, useCase: id, eventId: envelope.id, at, body: JSON.stringify({ useCase: id, event: envelope }) });
    }
  }
  return messages;
}

/** A deterministic PRNG (mulberry32), so every run injects the same faults and the same shuffle. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Reorders messages within windows of `windowMs` of event time, as EventBridge and SQS do to
 * events that happen close together; events further apart keep their order.
 */
export function shuffleWithinWindows(messages: readonly QueueMessage[], windowMs: number, random: () => number): QueueMessage[] {
  const keyed = messages.map((message) => ({ message, key: Math.floor(message.at / windowMs), tie: random() }));
  keyed.sort((a, b) => a.key - b.key || a.tie - b.tie);
  return keyed.map((entry) => entry.message);
}
