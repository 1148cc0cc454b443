/**
 * Local routing: which use cases' EventBridge rules would receive an event. Used by replay and tests;
 * in the cloud EventBridge does this and tells the Lambda the use case id.
 */
import { matchesPattern } from './event-pattern.js';
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
  return useCases.filter((useCase) => deliveredTo(useCase, event));
}
