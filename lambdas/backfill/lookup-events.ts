/**
 * History from CloudTrail's LookupEvents API (EVENTS.md 8): management events of the last 90 days,
 * per region, one lookup attribute per request (here the event source), at most 50 events a page,
 * 2 requests per second per account and region.
 *
 * The range is cut into time windows processed oldest first, because the engine's state is built
 * from event time (a first sighting starts a learning period; a drift snapshot keeps the newest
 * state). In each window every (region, event source) is paged to the end, newest first as the API
 * answers, then the window's events are deduplicated, sorted by event time and handed on together.
 * Memory holds one window. Requests go through a token bucket per (account, region) and are
 * retried with backoff on throttling; the checkpoint is written after every page.
 */
import { LookupEventsCommand, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import type { EventBridgeEvent } from '../engine/events.js';
import { eventTimeOf } from '../engine/events.js';
import { normaliseContent, type InputProblem } from '../engine/normalise-input.js';
import type { CheckpointStore, LookupCursor, LookupPlan } from './checkpoint.js';
import { withRetries, type Clock, type RateLimiter } from './rate-limit.js';

export const MAX_LOOKUP_DAYS = 90;
export const LOOKUP_PAGE_SIZE = 50;
const HOUR_MS = 3_600_000;

/** What the reader needs of a CloudTrail client (the SDK's CloudTrailClient fits). */
export interface CloudTrailLike {
  send(command: LookupEventsCommand): Promise<LookupEventsCommandOutput>;
}

export interface LookupWindow {
  readonly index: number;
  readonly count: number;
  readonly start: string;
  readonly end: string;
}

export interface LookupEventsDeps {
  /** The client of a region. Create it with `maxAttempts: 1`: retries are paced here, not by the SDK. */
  readonly clientFor: (region: string) => CloudTrailLike;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly random?: () => number;
  /** Names the account in rate-limit keys; one run uses one set of credentials, so one account. */
  readonly account?: string;
  readonly checkpoint: CheckpointStore;
  readonly onRequest?: (region: string, source: string) => void;
  readonly onThrottled?: (region: string, source: string, delayMs: number) => void;
  /**
   * Which events to keep for processing (those some use case's rule receives). The others are
   * dropped as their page arrives, so a window holds only what matters: an event source such as
   * kms.amazonaws.com is mostly read-only data-key calls no rule receives.
   */
  readonly keep?: (event: EventBridgeEvent) => boolean;
  /** Told how many events of a page were dropped by `keep`. */
  readonly onDropped?: (count: number) => void;
  /** A record of a page that could not be read (dropped, reported once as it arrives). */
  readonly onProblem?: (problem: InputProblem) => void;
}

/** The window's events, oldest first, and any records that could not be read. */
export type WindowHandler = (window: LookupWindow, events: EventBridgeEvent[], problems: InputProblem[]) => Promise<void>;

export function lookupPlan(options: { regions: readonly string[]; sources: readonly string[]; days: number; windowHours: number; end: Date; notBefore?: string }): LookupPlan {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > MAX_LOOKUP_DAYS) {
    throw new RangeError(`--days must be a whole number from 1 to ${MAX_LOOKUP_DAYS} (LookupEvents keeps ${MAX_LOOKUP_DAYS} days), not ${options.days}`);
  }
  const endMs = Math.floor(options.end.getTime() / 1000) * 1000;
  let startMs = endMs - options.days * 24 * HOUR_MS;
  const notBefore = options.notBefore ? Date.parse(options.notBefore) : Number.NaN;
  if (!Number.isNaN(notBefore) && notBefore > startMs) startMs = Math.min(endMs, notBefore);
  return {
    regions: [...options.regions],
    sources: [...options.sources],
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    windowHours: options.windowHours,
  };
}

export function windowCount(plan: LookupPlan): number {
  const span = Date.parse(plan.end) - Date.parse(plan.start);
  return span <= 0 ? 0 : Math.ceil(span / (plan.windowHours * HOUR_MS));
}

function windowAt(plan: LookupPlan, index: number): LookupWindow {
  const startMs = Date.parse(plan.start) + index * plan.windowHours * HOUR_MS;
  const endMs = Math.min(Date.parse(plan.end), startMs + plan.windowHours * HOUR_MS);
  return { index, count: windowCount(plan), start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
}

const cursorKey = (region: string, source: string): string => `${region} ${source}`;

/**
 * Reads the plan's windows from where the checkpoint says (the start, for a new one) and hands each
 * window's events to `handle`. After `handle` returns the window is committed to the checkpoint.
 */
export async function readLookupEvents(plan: LookupPlan, deps: LookupEventsDeps, handle: WindowHandler): Promise<void> {
  const data = deps.checkpoint.data;
  data.lookupEvents ??= { plan, windowIndex: 0, cursors: {}, pendingLines: 0, complete: false };
  const state = data.lookupEvents;
  if (state.complete) return;
  const count = windowCount(state.plan);
  // A resumed run starts with the pages its current window had already spilled (lines a crash
  // left beyond what the checkpoint counts are dropped here, before anything is appended).
  let pending: string[] = await deps.checkpoint.readPending();

  for (let index = state.windowIndex; index < count; index += 1) {
    const window = windowAt(state.plan, index);
    // Regions page concurrently (each has its own rate limit); a failure stops the run once all
    // regions have settled, so no request is left running behind the caller's back.
    const stop = { requested: false };
    const settled = await Promise.allSettled(
      state.plan.regions.map(async (region) => {
        try {
          for (const source of state.plan.sources) {
            const lines = await fetchSource(region, source, window, deps, state.cursors, stop);
            // A loop, not push(...lines): a busy window can hold more lines than a call has arguments.
            for (const line of lines) pending.push(line);
          }
        } catch (error) {
          stop.requested = true;
          throw error;
        }
      }),
    );
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;

    const last = index === count - 1;
    const { events, problems } = eventsOfWindow(pending, window, last);
    await handle(window, events, problems);

    state.windowIndex = index + 1;
    state.cursors = {};
    state.pendingLines = 0;
    state.complete = last;
    pending = [];
    await deps.checkpoint.save();
    await deps.checkpoint.clearPending();
  }
  if (!state.complete) {
    state.complete = true;
    await deps.checkpoint.save();
  }
}

/** Pages one (region, source) through one window; returns the new pages' events as spill lines. */
async function fetchSource(
  region: string,
  source: string,
  window: LookupWindow,
  deps: LookupEventsDeps,
  cursors: Record<string, LookupCursor>,
  stop: { readonly requested: boolean },
): Promise<string[]> {
  const key = cursorKey(region, source);
  const cursor = (cursors[key] ??= { done: false, pages: 0 });
  const collected: string[] = [];
  const client = deps.clientFor(region);
  let resumedToken = cursor.nextToken !== undefined;
  while (!cursor.done && !stop.requested) {
    let page: LookupEventsCommandOutput;
    try {
      page = await withRetries(
        async () => {
          await deps.limiter.take(`${deps.account ?? 'default'} ${region}`);
          deps.onRequest?.(region, source);
          return client.send(
            new LookupEventsCommand({
              LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: source }],
              StartTime: new Date(window.start),
              EndTime: new Date(window.end),
              MaxResults: LOOKUP_PAGE_SIZE,
              ...(cursor.nextToken !== undefined ? { NextToken: cursor.nextToken } : {}),
            }),
          );
        },
        {
          clock: deps.clock,
          ...(deps.random ? { random: deps.random } : {}),
          onRetry: (_error, _attempt, delay) => deps.onThrottled?.(region, source, delay),
        },
      );
    } catch (error) {
      // A token saved by an interrupted run may have expired: page the window again from its start
      // (events already spilled are dropped as repeats when the window is assembled).
      if (resumedToken && (error as Error).name === 'InvalidNextTokenException') {
        resumedToken = false;
        delete cursor.nextToken;
        continue;
      }
      throw new Error(`LookupEvents in ${region} for ${source}: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
    }
    resumedToken = false;
    const lines = keptLines(page, `LookupEvents ${region} ${source} ${window.start}..${window.end}`, deps);
    await deps.checkpoint.appendPending(lines);
    collected.push(...lines);
    cursor.pages += 1;
    if (page.NextToken) cursor.nextToken = page.NextToken;
    else {
      delete cursor.nextToken;
      cursor.done = true;
    }
    await deps.checkpoint.save();
  }
  return collected;
}

/** A page's events as spill lines (lookup-events Event JSON), without those `keep` turns away. */
function keptLines(page: LookupEventsCommandOutput, label: string, deps: LookupEventsDeps): string[] {
  const lines: string[] = [];
  let dropped = 0;
  for (const event of page.Events ?? []) {
    const line = JSON.stringify({ EventId: event.EventId, EventName: event.EventName, EventSource: event.EventSource, CloudTrailEvent: event.CloudTrailEvent });
    if (!deps.keep) {
      lines.push(line);
      continue;
    }
    const parsed = normaliseContent(label, line);
    parsed.problems.forEach((problem) => deps.onProblem?.(problem));
    const envelope = parsed.events[0];
    if (envelope && deps.keep(envelope)) lines.push(line);
    else if (envelope) dropped += 1;
  }
  if (dropped > 0) deps.onDropped?.(dropped);
  return lines;
}

/**
 * The window's events, deduplicated by eventID and sorted by event time (the normaliser does both
 * for lookup-events pages), keeping only those inside the window: LookupEvents bounds are
 * inclusive at both ends, so an event on a boundary belongs to the later window only.
 */
function eventsOfWindow(lines: readonly string[], window: LookupWindow, last: boolean): { events: EventBridgeEvent[]; problems: InputProblem[] } {
  if (lines.length === 0) return { events: [], problems: [] };
  const label = `LookupEvents ${window.start}..${window.end}`;
  const parsed = normaliseContent(label, `{"Events":[${lines.join(',')}]}`);
  const startMs = Date.parse(window.start);
  const endMs = Date.parse(window.end);
  const events = parsed.events.filter((event) => {
    const at = Date.parse(eventTimeOf(event));
    return at >= startMs && (at < endMs || (last && at === endMs));
  });
  return { events, problems: parsed.problems };
}
