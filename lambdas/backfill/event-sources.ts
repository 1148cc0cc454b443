/**
 * Which CloudTrail event sources (`codecommit.amazonaws.com`, …) the registered use cases watch,
 * read from their EventBridge patterns. LookupEvents takes one lookup attribute per request, so a
 * backfill asks once per (region, event source) instead of reading the whole account's history.
 *
 * A pattern is expanded into its `$or` branches (at any depth); each branch that a CloudTrail event
 * could match contributes its `detail.eventSource` literals, or, when it names no event source, the
 * source implied by `source: ["aws.<service>"]`. Branches only native events can match (e.g.
 * `CodeCommit Repository State Change`) contribute nothing: CloudTrail does not hold them.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { CLOUDTRAIL_DETAIL_TYPES } from '../engine/events.js';
import type { EventPattern } from '../engine/event-pattern.js';
import { policyFor } from '../engine/policy.js';
import type { UseCase } from '../engine/use-case.js';

type PatternObject = { readonly [key: string]: unknown };

const CLOUDTRAIL_DETAIL_TYPE_NAMES = new Set([
  ...Object.values(CLOUDTRAIL_DETAIL_TYPES),
  'AWS Console Signin via CloudTrail',
  'AWS Insight via CloudTrail',
  'AWS Network Activity Event via CloudTrail',
]);

function isObject(value: unknown): value is PatternObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Mirrors the matcher: `$or` is the OR primitive only as an array of two or more objects. */
function isOrBranches(value: unknown): value is readonly PatternObject[] {
  return Array.isArray(value) && value.length >= 2 && value.every(isObject);
}

/**
 * The `$or`-free alternatives of a pattern: a pattern with `$or` at some level is the union of the
 * patterns obtained by replacing that `$or` with each of its branches (merged into the level).
 */
export function expandOr(pattern: PatternObject): PatternObject[] {
  let alternatives: PatternObject[] = [{}];
  for (const [key, spec] of Object.entries(pattern)) {
    let options: PatternObject[];
    if (key === '$or' && isOrBranches(spec)) options = spec.flatMap((branch) => expandOr(branch));
    else if (isObject(spec)) options = expandOr(spec).map((nested) => ({ [key]: nested }));
    else options = [{ [key]: spec }];
    alternatives = alternatives.flatMap((partial) => options.map((option) => mergePatterns(partial, option)));
  }
  return alternatives;
}

function mergePatterns(a: PatternObject, b: PatternObject): PatternObject {
  const merged: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = merged[key];
    merged[key] = isObject(existing) && isObject(value) ? mergePatterns(existing, value) : value;
  }
  return merged;
}

/** String literals of a leaf; operators (prefix, wildcard…) cannot be enumerated and are skipped. */
function literals(leaf: unknown): string[] | undefined {
  if (!Array.isArray(leaf)) return undefined;
  return leaf.filter((value): value is string => typeof value === 'string');
}

/** The CloudTrail event sources one pattern can match (empty when it matches only native events). */
export function eventSourcesOfPattern(pattern: EventPattern): string[] {
  const found = new Set<string>();
  for (const branch of expandOr(pattern)) {
    const detailTypes = literals(branch['detail-type']);
    // A branch that names detail-types but no CloudTrail one only matches native events.
    if (detailTypes && Array.isArray(branch['detail-type']) && !detailTypes.some((type) => CLOUDTRAIL_DETAIL_TYPE_NAMES.has(type))) continue;
    const detail = isObject(branch['detail']) ? branch['detail'] : {};
    const named = literals(detail['eventSource']);
    if (named && named.length > 0) {
      for (const source of named) found.add(source);
      continue;
    }
    for (const source of literals(branch['source']) ?? []) {
      if (source.startsWith('aws.')) found.add(`${source.slice(4)}.amazonaws.com`);
    }
  }
  return [...found].sort();
}

/** The event sources of every use case that is not switched off, sorted and without repeats. */
export function eventSourcesOf(useCases: readonly UseCase[], config?: BuildwatchConfig): string[] {
  const found = new Set<string>();
  for (const useCase of useCases) {
    if (config && policyFor(useCase.metadata, config).mode === 'off') continue;
    for (const source of eventSourcesOfPattern(useCase.pattern)) found.add(source);
  }
  return [...found].sort();
}
