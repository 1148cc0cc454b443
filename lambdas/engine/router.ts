/**
 * Local routing: which use cases' EventBridge rules would receive an event. Used by replay and tests;
 * in the cloud EventBridge does this and tells the Lambda the use case id.
 */
import { compilePattern, matchesPattern, type EventPattern } from './event-pattern.js';
import { cloudTrailRecordOf, type EventBridgeEvent } from './events.js';
import type { UseCase } from './use-case.js';

/**
 * EventBridge withholds read-only CloudTrail management events from rules unless their state is
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (EVENTS.md 2); replay must behave the same.
 */
export function deliveredTo(useCase: UseCase, event: EventBridgeEvent): boolean {
  if (withheld(cloudTrailRecordOf(event)) && !useCase.metadata.readOnlyEvents) return false;
  return matchesPattern(useCase.pattern, event);
}

export function route(useCases: readonly UseCase[], event: EventBridgeEvent): UseCase[] {
  const eventSource = event.detail['eventSource'];
  const detailType = event['detail-type'];
  const routed: UseCase[] = [];
  let record: ReturnType<typeof cloudTrailRecordOf> | null = null;
  // Most patterns name the source, detail type and event source they take: the use cases that can
  // take the event's source are listed once per source, set look-ups rule most of the rest out
  // before the full match (routing runs for every use case and event).
  for (const { useCase, detailTypes, eventSources, matches } of candidatesFor(routingTable(useCases), event.source)) {
    if (detailTypes && !detailTypes.has(detailType)) continue;
    if (eventSources && typeof eventSource === 'string' && !eventSources.has(eventSource)) continue;
    // deliveredTo, with the record looked up once per event and the pattern compiled once.
    if (record === null) record = cloudTrailRecordOf(event);
    if (withheld(record) && !useCase.metadata.readOnlyEvents) continue;
    if (matches(event)) routed.push(useCase);
  }
  return routed;
}

/** Read-only management events, which rules receive only when they ask for them. */
function withheld(record: ReturnType<typeof cloudTrailRecordOf>): boolean {
  return record?.readOnly === true && record.managementEvent !== false;
}

interface PatternBounds {
  readonly useCase: UseCase;
  /** Values `source` must have for the pattern to match (undefined: no such bound). */
  readonly sources: ReadonlySet<string> | undefined;
  readonly detailTypes: ReadonlySet<string> | undefined;
  /** Values a string `detail.eventSource` must have. */
  readonly eventSources: ReadonlySet<string> | undefined;
  /** The use case's pattern, compiled. */
  readonly matches: (event: unknown) => boolean;
}

interface RoutingTable {
  readonly bounds: readonly PatternBounds[];
  /** By event source: the bounds whose pattern can take it, in the use cases' order. */
  readonly bySource: Map<string, readonly PatternBounds[]>;
}

/** Sources listed per table: events name a few; more (hostile input) are filtered each time. */
const MAX_SOURCES = 1_000;
const tables = new WeakMap<readonly UseCase[], RoutingTable>();

function routingTable(useCases: readonly UseCase[]): RoutingTable {
  let table = tables.get(useCases);
  // A list changed in place since (tests build theirs) is bounded afresh.
  if (!table || !sameUseCases(table.bounds, useCases)) {
    table = {
      bounds: useCases.map((useCase) => ({
        useCase,
        sources: requiredValues(useCase.pattern, ['source']),
        detailTypes: requiredValues(useCase.pattern, ['detail-type']),
        eventSources: requiredValues(useCase.pattern, ['detail', 'eventSource']),
        matches: compilePattern(useCase.pattern),
      })),
      bySource: new Map(),
    };
    tables.set(useCases, table);
  }
  return table;
}

function sameUseCases(bounds: readonly PatternBounds[], useCases: readonly UseCase[]): boolean {
  if (bounds.length !== useCases.length) return false;
  for (let index = 0; index < bounds.length; index += 1) if (bounds[index]?.useCase !== useCases[index]) return false;
  return true;
}

function candidatesFor(table: RoutingTable, source: string): readonly PatternBounds[] {
  let candidates = table.bySource.get(source);
  if (!candidates) {
    candidates = table.bounds.filter(({ sources }) => !sources || sources.has(source));
    if (table.bySource.size < MAX_SOURCES) table.bySource.set(source, candidates);
  }
  return candidates;
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
