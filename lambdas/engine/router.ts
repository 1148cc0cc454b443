/**
 * Local routing: which use cases' EventBridge rules would receive an event. Used by replay and tests;
 * in the cloud EventBridge does this and tells the Lambda the use case id.
 */
import { matchesPattern, type EventPattern } from './event-pattern.js';
import { cloudTrailRecordOf, type EventBridgeEvent } from './events.js';
import type { UseCase } from './use-case.js';

/**
 * EventBridge withholds read-only CloudTrail management events from rules unless their state is
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (EVENTS.md 2); replay must behave the same.
 */
export function deliveredTo(useCase: UseCase, event: EventBridgeEvent): boolean {
  const record = cloudTrailRecordOf(event);
  if (record?.readOnly === true && record.managementEvent !== false && !useCase.metadata.readOnlyEvents) return false;
  return matchesPattern(useCase.pattern, event);
}

export function route(useCases: readonly UseCase[], event: EventBridgeEvent): UseCase[] {
  const eventSource = event.detail['eventSource'];
  return useCases.filter((useCase) => {
    // Most patterns name the source and event source they take: a set look-up rules the rest out
    // before the full match (routing runs for every use case and event).
    const { sources, eventSources } = literalsOf(useCase.pattern);
    if (sources && !sources.has(event.source)) return false;
    if (eventSources && typeof eventSource === 'string' && !eventSources.has(eventSource)) return false;
    return deliveredTo(useCase, event);
  });
}

interface PatternLiterals {
  /** Values `source` must have for the pattern to match (undefined: no such bound). */
  readonly sources: ReadonlySet<string> | undefined;
  /** Values a string `detail.eventSource` must have. */
  readonly eventSources: ReadonlySet<string> | undefined;
}

const literalsByPattern = new WeakMap<EventPattern, PatternLiterals>();

function literalsOf(pattern: EventPattern): PatternLiterals {
  let literals = literalsByPattern.get(pattern);
  if (!literals) {
    literals = { sources: requiredValues(pattern, ['source']), eventSources: requiredValues(pattern, ['detail', 'eventSource']) };
    literalsByPattern.set(pattern, literals);
  }
  return literals;
}

/**
 * The string values the field at `path` must hold for `pattern` to match a string there: its leaf
 * when the leaf is only string literals, the union over `$or` branches when each branch bounds it.
 * Undefined whenever a match could happen otherwise (operators, other types, an unbounded branch).
 */
function requiredValues(pattern: EventPattern, path: readonly string[]): Set<string> | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return undefined;
  const direct = Object.hasOwn(pattern, head) ? pattern[head] : undefined;
  if (direct !== undefined) {
    if (rest.length === 0) {
      return Array.isArray(direct) && direct.length > 0 && direct.every((value) => typeof value === 'string') ? new Set(direct as string[]) : undefined;
    }
    if (!Array.isArray(direct)) {
      const nested = requiredValues(direct as EventPattern, rest);
      if (nested) return nested;
    }
  }
  const branches = Object.hasOwn(pattern, '$or') ? pattern['$or'] : undefined;
  if (!Array.isArray(branches) || branches.length === 0) return undefined;
  const union = new Set<string>();
  for (const branch of branches as readonly EventPattern[]) {
    const values = requiredValues(branch, path);
    if (!values) return undefined;
    for (const value of values) union.add(value);
  }
  return union;
}
