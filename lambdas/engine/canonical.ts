/** Canonical JSON (keys sorted at every level) and the content hash of ledger records. */
import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted (by UTF-16 code units) at every level; undefined object members are
 * left out and undefined array items written as null. Built by concatenation (it runs for every
 * finding written): no per-level arrays of entries.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value, undefined);
}

function canonical(value: unknown, skipKey: string | undefined): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) out += ',';
      // A hole stays empty, as Array.prototype.join writes it.
      if (index in value) {
        const item: unknown = value[index];
        out += canonical(item === undefined ? null : item, undefined);
      }
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares strings by UTF-16 code units, as `a < b` does.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    if (key === skipKey) continue;
    const item = record[key];
    if (item === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonical(item, undefined)}`;
    first = false;
  }
  return `${out}}`;
}

/** sha256 of a record's canonical JSON without its own `contentHash`: any later edit changes it. */
export function contentHashOf(record: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonical(record, 'contentHash')).digest('hex');
}
