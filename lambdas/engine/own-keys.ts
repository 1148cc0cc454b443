/**
 * Reading and writing objects keyed by strings that come from events (tags, variable names, policy
 * statements, component names). Plain `obj[key]` reads inherited members for keys like `constructor`
 * or `toString` and `obj[key] = v` changes the prototype for `__proto__`; these helpers treat every
 * key as data.
 */

/** The object's own value at `key`, never an inherited one. */
export function ownValue<V>(obj: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets `key` as an own, enumerable data property (`__proto__` included). */
export function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  // Only `__proto__` is an accessor on Object.prototype: every other key is assigned (much cheaper).
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** An object built from entries with every key as data (later entries win). */
export function fromEntriesSafe<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of entries) setOwn(out, key, value);
  return out;
}

/**
 * Event data as text, for values that should be strings but may be anything: `String(x)` throws for
 * objects whose `toString` is data (`{"toString": 1}`) or that have no prototype.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '[unreadable]';
  }
}
