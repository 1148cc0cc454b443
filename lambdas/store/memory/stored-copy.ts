/**
 * Items as a DynamoDB round trip would give them back (the document client's marshalling with
 * removeUndefinedValues: undefined and functions dropped from maps and lists), copied once on write
 * and frozen, so readers share them without copies and nobody can change a stored item in place.
 * Map keys from events (`__proto__`, `constructor`, '') stay own data properties.
 */
import { setOwn } from '../../engine/own-keys.js';

/** Every object and list this module froze: written again (a state read back and stored), it is kept as is. */
const storedObjects = new WeakSet<object>();

/** Copies of the objects met so far in one write (items that share parts share their copies). */
export type CopyMemo = Map<object, unknown>;

export function storedCopy<T>(value: T, memo?: CopyMemo): T {
  return copy(value, memo) as T;
}

/**
 * An item the store itself has just built, and nobody else holds: frozen as it is (its own
 * undefined and function members dropped), only what it refers to is copied. Saves the copy of the
 * item itself on every write.
 */
export function storedInPlace<T extends Record<string, unknown>>(item: T, memo?: CopyMemo): T {
  if (storedObjects.has(item)) return item;
  // Frozen elsewhere: it cannot be taken over, so it is copied.
  if (Object.isFrozen(item)) return copy(item, memo) as T;
  for (const key of Object.keys(item)) {
    const value = item[key];
    if (value === undefined || typeof value === 'function') delete item[key];
    else if (typeof value === 'object' && value !== null) (item as Record<string, unknown>)[key] = copy(value, memo);
  }
  storedObjects.add(item);
  return Object.freeze(item);
}

function copy(value: unknown, memo: CopyMemo | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (storedObjects.has(value)) return value;
  const known = memo?.get(value);
  if (known !== undefined) return known;
  let out: unknown;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (const item of value) if (item !== undefined && typeof item !== 'function') list.push(copy(item, memo));
    out = list;
  } else if (ArrayBuffer.isView(value) || value instanceof Set) {
    return value;
  } else {
    const object: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined || typeof item === 'function') continue;
      if (key === '__proto__') setOwn(object, key, copy(item, memo));
      else object[key] = copy(item, memo);
    }
    out = object;
  }
  storedObjects.add(out as object);
  Object.freeze(out);
  memo?.set(value, out);
  return out;
}
