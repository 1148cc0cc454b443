/**
 * Items as a DynamoDB round trip would give them back (the document client's marshalling with
 * removeUndefinedValues: undefined and functions dropped from maps and lists), copied once on write
 * and frozen, so readers share them without copies and nobody can change a stored item in place.
 * Map keys from events (`__proto__`, `constructor`, '') stay own data properties.
 */
import { setOwn } from '../../engine/own-keys.js';

/** Every object and list this module froze: written again (a state read back and stored), it is kept as is. */
const storedObjects = new WeakSet<object>();

export function storedCopy<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (storedObjects.has(value)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) if (item !== undefined && typeof item !== 'function') out.push(copy(item));
    storedObjects.add(out);
    return Object.freeze(out);
  }
  if (ArrayBuffer.isView(value) || value instanceof Set) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function') continue;
    if (key === '__proto__') setOwn(out, key, copy(item));
    else out[key] = copy(item);
  }
  storedObjects.add(out);
  return Object.freeze(out);
}
