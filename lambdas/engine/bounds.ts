/**
 * Bounds on what is stored: DynamoDB refuses an item over 400 KB, and a finding that cannot be
 * written is an alert lost. Event strings have no useful upper bound (a 5 MB user agent, a 200 KB
 * request parameter), so every stored string is cut to a bound, and an item that is still too large
 * as a whole is cut harder. Cuts are deterministic (same input, same output), keep the start of the
 * text and say how long it was and what it hashed to, so a cut value still compares and identifies.
 */
import { createHash } from 'node:crypto';
import { setOwn } from './own-keys.js';
import { redactText } from './redact.js';

/** DynamoDB's item limit is 400 KB; JSON is a conservative estimate of its size, this leaves margin. */
export const MAX_ITEM_BYTES = 350 * 1024;
/** Strings longer than this are cut wherever they are stored (evidence and state included). */
export const MAX_STORED_STRING = 16 * 1024;
/** Map keys longer than this are cut too (DynamoDB allows 64 KB names; nobody needs a 1 KB tag key). */
const MAX_KEY = 1024;
/** Successively harder per-string bounds for an item that is still too large. */
const TIGHTER = [4096, 1024, 256, 64] as const;
/** Arrays longer than this keep their head and a note, when an item must shrink. */
const MAX_ITEMS_WHEN_SHRINKING = 200;

/** `text` when short enough; else its start, "…", and a note with the original length and hash. */
export function boundText(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const note = `…[cut from ${text.length} chars, sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}]`;
  let head = text.slice(0, Math.max(0, maxLength - note.length));
  // Never end on half a surrogate pair: DynamoDB and SNS want valid UTF-8.
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}${note}`;
}

/**
 * A number DynamoDB (and the SDK's marshaller) accepts as is: safe integers, and others within
 * DynamoDB's range. Anything else from an event (2^60, 1e-300, NaN) is kept as its text instead of
 * failing the write.
 */
export function storableNumber(value: number): number | string | null {
  if (!Number.isFinite(value)) return null;
  if (Number.isInteger(value)) return Number.isSafeInteger(value) ? value : String(value);
  const magnitude = Math.abs(value);
  return magnitude >= 1e-128 && magnitude <= 1e125 ? value : String(value);
}

/**
 * Every string (and map key) in JSON-like data cut to `maxLength`, numbers made storable
 * (storableNumber); other values kept; cycles cut.
 */
export function boundStrings<T>(value: T, maxLength: number = MAX_STORED_STRING, maxItems = Infinity): T {
  return walk(value, maxLength, maxItems, new Set()) as T;
}

/**
 * State as stored (drift snapshots): every string value with secret-looking text masked
 * (redactText: idempotent, so stored state compares equal to itself) and bounded.
 */
export function storableState<T>(value: T): T {
  return walk(value, MAX_STORED_STRING, Infinity, new Set(), redactText) as T;
}

function walk(value: unknown, maxLength: number, maxItems: number, ancestors: Set<object>, mask: (text: string) => string = (text) => text): unknown {
  if (typeof value === 'string') return boundText(mask(value), maxLength);
  if (typeof value === 'number') return storableNumber(value);
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) return '[Circular]';
  // Binary values (Uint8Array, Buffer) and Sets are left to DynamoDB: we do not store them from events.
  if (ArrayBuffer.isView(value) || value instanceof Set) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const kept = value.length > maxItems ? [...value.slice(0, maxItems), `…[${value.length - maxItems} more items cut]`] : value;
      return kept.map((item: unknown) => walk(item, maxLength, maxItems, ancestors, mask));
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      setOwn(out, boundText(key, Math.min(maxLength, MAX_KEY)), walk((value as Record<string, unknown>)[key], maxLength, maxItems, ancestors, mask));
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** An upper estimate of an item's DynamoDB size: its JSON in UTF-8 (names, quotes and all). */
export function itemBytes(item: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(item) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Whether `item` fits `maxBytes` as itemBytes measures it (told cheaply when it is far below). */
export function fitsItem(item: unknown, maxBytes: number = MAX_ITEM_BYTES): boolean {
  return surelyWithin(item, maxBytes) || itemBytes(item) <= maxBytes;
}

/**
 * True when `value`'s JSON surely takes at most `maxBytes` in UTF-8, told without writing it: every
 * UTF-16 unit of a string takes at most 6 bytes (`\u001f`), a number at most 25 characters. Plain
 * data only (arrays, plain objects, strings, numbers, booleans, null); anything else (toJSON, a
 * cycle, a bigint, binary) answers false, and itemBytes decides. Most items are far below the limit.
 */
function surelyWithin(value: unknown, maxBytes: number): boolean {
  return boundedSize(value, maxBytes, 0) <= maxBytes;
}

/** An upper bound of the JSON size of `value`, or Infinity once past `budget` or not plain data. */
function boundedSize(value: unknown, budget: number, depth: number): number {
  switch (typeof value) {
    case 'string':
      return value.length * 6 + 2;
    case 'number':
      return 25;
    case 'boolean':
      return 5;
    case 'undefined':
      // Left out of objects, `null` in arrays.
      return 4;
    case 'object':
      break;
    default:
      return Number.POSITIVE_INFINITY;
  }
  if (value === null) return 4;
  if (depth > 32) return Number.POSITIVE_INFINITY;
  let size = 2;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      size += boundedSize(value[index], budget - size, depth + 1) + 1;
      if (size > budget) return Number.POSITIVE_INFINITY;
    }
    return size;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return Number.POSITIVE_INFINITY;
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (key === 'toJSON' && typeof member === 'function') return Number.POSITIVE_INFINITY;
    size += key.length * 6 + 4 + boundedSize(member, budget - size, depth + 1);
    if (size > budget) return Number.POSITIVE_INFINITY;
  }
  return size;
}

/**
 * The item itself when it fits `maxBytes`; otherwise the same item with every attribute except
 * `keep` (its keys) bounded harder and harder until it does. The last resort replaces each
 * remaining large attribute with a note, so a write never fails for size.
 */
export function fitItem<T extends Record<string, unknown>>(item: T, keep: readonly string[], maxBytes: number = MAX_ITEM_BYTES): T {
  if (fitsItem(item, maxBytes)) return item;
  const split = (): [Record<string, unknown>, Record<string, unknown>] => {
    const kept: Record<string, unknown> = {};
    const rest: Record<string, unknown> = {};
    for (const key of Object.keys(item)) setOwn(keep.includes(key) ? kept : rest, key, item[key]);
    return [kept, rest];
  };
  const [kept, rest] = split();
  for (const limit of TIGHTER) {
    const candidate = { ...kept, ...boundStrings(rest, limit, MAX_ITEMS_WHEN_SHRINKING) } as T;
    if (itemBytes(candidate) <= maxBytes) return candidate;
  }
  const last: Record<string, unknown> = { ...kept };
  const share = Math.floor(maxBytes / Math.max(1, Object.keys(rest).length + 1));
  for (const [key, value] of Object.entries(rest)) {
    const bounded = boundStrings(value, 64, 20);
    const size = itemBytes(bounded);
    setOwn(last, key, size <= share ? bounded : `[cut: ${size} bytes would not fit a DynamoDB item]`);
  }
  return last as T;
}

/** Key attributes stop at 2048 (partition) and 1024 (sort) bytes: a longer part becomes its head and hash. */
export function keyPart(text: string, maxBytes = 512): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 32);
  let head = text.slice(0, Math.floor(maxBytes / 4));
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}…#sha256:${hash}`;
}
