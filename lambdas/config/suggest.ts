/**
 * "Did you mean …?" for configuration typos: the nearest valid name by edit distance, and the field
 * names a zod schema accepts at a path (so an unknown key can be matched against its siblings).
 */
import * as z from 'zod';

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `name` (case-insensitive), if it is close enough to be a typo: at most a
 * third of the name's length in edits (at least 1, at most 3). Ties go to the first candidate.
 */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** ` (did you mean "x"?)`, or '' when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = nearest(name, candidates);
  return match ? ` (did you mean "${match}"?)` : '';
}

/** The object keys `schema` accepts at `path` (through optional, default, arrays, records, unions); [] when it is not an object. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType[] = [schema];
  for (const segment of [...path, undefined]) {
    current = current.flatMap(unwrap);
    if (segment === undefined) break;
    current = current.flatMap((s): z.ZodType[] => {
      if (s instanceof z.ZodObject) {
        const field = (s.shape as Record<string, z.ZodType>)[String(segment)];
        return field ? [field] : [];
      }
      if (s instanceof z.ZodRecord) return [s.valueType as z.ZodType];
      if (s instanceof z.ZodArray && typeof segment === 'number') return [s.element as z.ZodType];
      return [];
    });
  }
  return [...new Set(current.flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape as object) : [])))];
}

/** The schemas a wrapper stands for (optional, nullable, default, prefault, lazy, pipe input, union members). */
function unwrap(schema: z.ZodType): z.ZodType[] {
  if (schema instanceof z.ZodLazy) return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    return unwrap(schema.unwrap() as z.ZodType);
  }
  if (schema instanceof z.ZodPipe) return unwrap(schema.in as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as readonly z.ZodType[]).flatMap(unwrap);
  return [schema];
}

/** A field path as people write it: `useCases["dependencies.sbom"].options.defaultLocations`, `routing.teams.payments.email[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      return /^[A-Za-z_$][\w$-]*$/.test(name) ? `${i === 0 ? '' : '.'}${name}` : `[${JSON.stringify(name)}]`;
    })
    .join('');
}

/** One line per zod issue: the field path (none for the root) and the message, with a suggestion for unknown keys. */
export function describeIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      message = issue.keys.map((key) => `unknown field "${key}"${didYouMean(key, known)}`).join(', ');
    }
    return path.length > 0 ? `${formatPath(path)}: ${message}` : message;
  });
}
