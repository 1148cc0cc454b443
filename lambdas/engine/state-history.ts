/**
 * Drift state in event time. Each key keeps a change log (one item per event, with the state right
 * after it) and a head (the newest known state). An event is judged against the state at its own
 * time, whenever it is delivered; a late event never overwrites what newer changes set: it only
 * fills in the paths that no newer change touched.
 */
import type { StateChange } from '../store/state-store.js';
import type { JsonObject, JsonValue } from './use-case.js';

/** The last known state of a thing at some time, and where it came from. */
export interface KnownState {
  readonly state: JsonObject;
  /** Event time of the change it reflects. */
  readonly at: string;
  readonly eventId: string;
  /** A look-up baseline (the state just before `eventId`), not an event's own report. */
  readonly fromLookUp: boolean;
}

export function knownStateOf(change: StateChange): KnownState {
  return { state: change.after, at: change.at, eventId: change.eventId, fromLookUp: change.kind === 'baseline' };
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(node: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Whether a report sets `path` (itself, or a leaf above it that replaces the whole subtree). */
function touches(change: StateChange, path: readonly string[]): boolean {
  if (!change.partial || !change.report) return true;
  let node: JsonValue | undefined = change.report;
  for (const step of path) {
    if (!isObject(node)) return true;
    if (!Object.hasOwn(node, step)) return false;
    node = node[step];
  }
  return true;
}

function valueAt(state: JsonObject, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = state;
  for (const step of path) {
    if (!isObject(node)) return undefined;
    node = own(node, step);
  }
  return node;
}

/** A copy of `state` with `path` set to `value` (removed when undefined); keys defined, never assigned, so any key is data. */
function withValue(state: JsonObject, path: readonly string[], value: JsonValue | undefined): JsonObject {
  const [step, ...rest] = path;
  if (step === undefined) return state;
  const copy: JsonObject = { ...state };
  const child = own(state, step);
  const next = rest.length === 0 ? value : withValue(isObject(child) ? child : {}, rest, value);
  if (next === undefined) delete copy[step];
  else Object.defineProperty(copy, step, { value: next, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Leaf paths (arrays are leaves) whose values differ; as arrays, since keys may hold dots. */
function changedPaths(before: JsonObject, after: JsonObject, prefix: readonly string[] = []): string[][] {
  const paths: string[][] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = own(before, key);
    const b = own(after, key);
    if (isObject(a) && isObject(b)) paths.push(...changedPaths(a, b, [...prefix, key]));
    else if (JSON.stringify(a) !== JSON.stringify(b)) paths.push([...prefix, key]);
  }
  return paths;
}

/**
 * The head after a late event: each path the event changed (before → after) is applied only when
 * none of the newer changes touched it, so newer values always win and nothing the late event
 * changed is lost. Newer changes are given oldest first.
 */
export function applyLateChange(head: JsonObject, before: JsonObject, after: JsonObject, newer: readonly StateChange[]): JsonObject {
  let state = head;
  for (const path of changedPaths(before, after)) {
    if (newer.some((change) => touches(change, path))) continue;
    state = withValue(state, path, valueAt(after, path));
  }
  return state;
}
