/**
 * Diffs and merges of normalised JSON state, for drift use cases. Keys come from events (tag keys,
 * variable names), so every read is of own properties and every write defines one.
 */
import { ownValue, setOwn } from './own-keys.js';
import type { DiffEntry, JsonObject, JsonValue } from './use-case.js';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges a partial update into known state: objects merge key by key, anything else replaces. */
export function mergeState(base: JsonObject, update: JsonObject): JsonObject {
  const merged: JsonObject = {};
  for (const [key, value] of Object.entries(base)) setOwn(merged, key, value);
  for (const [key, value] of Object.entries(update)) {
    const current = ownValue(merged, key);
    setOwn(merged, key, isObject(current) && isObject(value) ? mergeState(current, value) : value);
  }
  return merged;
}

/** Leaf-level differences; arrays compare as whole values (their order is meaningful in AWS APIs). */
export function diffState(before: JsonObject, after: JsonObject, prefix = ''): DiffEntry[] {
  const entries: DiffEntry[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const path = prefix ? `${prefix}.${key}` : key;
    const a = ownValue(before, key);
    const b = ownValue(after, key);
    if (isObject(a) && isObject(b)) {
      entries.push(...diffState(a, b, path));
    } else if (a === undefined && b !== undefined) {
      entries.push({ path, change: 'added', after: b });
    } else if (a !== undefined && b === undefined) {
      entries.push({ path, change: 'removed', before: a });
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      entries.push({ path, change: 'changed', before: a ?? null, after: b ?? null });
    }
  }
  return entries;
}
