/**
 * Map keys from events (tag keys, variable names, policy statement fields) stored in DynamoDB. The
 * SDK's marshaller builds plain objects with `obj[key] = …` and tells maps from other objects by
 * `value.constructor.name`, so a key `__proto__` is silently lost (and changes a prototype on read),
 * `constructor` makes the write throw, and an empty key is rejected by DynamoDB. Such keys are stored
 * with a prefix, reversibly: decode(encode(x)) deep-equals x for any JSON value.
 */
import { setOwn } from '../engine/own-keys.js';

const PREFIX = '\u0000';
const RESERVED = new Set(['', '__proto__', 'constructor']);

function needsEscape(key: string): boolean {
  return RESERVED.has(key) || key.startsWith(PREFIX);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function mapKeys(value: unknown, rename: (key: string) => string, depth: number): unknown {
  // Deeper than DynamoDB allows (32 levels): left as is, DynamoDB refuses it with a clear error.
  if (depth > 40) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => mapKeys(item, rename, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, rename(key), mapKeys(value[key], rename, depth + 1));
  return out;
}

/** Before writing: keys the marshaller or DynamoDB cannot take get the prefix. */
export function escapeKeys<T>(value: T): T {
  return mapKeys(value, (key) => (needsEscape(key) ? `${PREFIX}${key}` : key), 0) as T;
}

/** After reading (document client output, stream images): the prefix comes off again. */
export function unescapeKeys<T>(value: T): T {
  return mapKeys(value, (key) => (key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key), 0) as T;
}
