/**
 * Cost per million events of the cloud path (issue #15, goal 6), from measured DynamoDB calls and the
 * published on-demand prices below. What is not measured is stated as an assumption next to its figure.
 */
import { DETECT_BATCH_SIZE } from '../lib/constructs/detector.js';

/**
 * Published prices, US East (N. Virginia), USD, read December 2026; other regions differ by up to ~25%.
 * - DynamoDB on-demand (since the November 2024 reduction): $0.625 per million write request units,
 *   $0.125 per million read request units. https://aws.amazon.com/dynamodb/pricing/on-demand/
 * - SQS standard queues: $0.40 per million requests (each 64 KB chunk a request), first 1M a month free.
 *   https://aws.amazon.com/sqs/pricing/
 * - Lambda on Arm: $0.20 per million requests, $0.0000133334 per GB-second (first 7.5 billion GB-s a
 *   month). https://aws.amazon.com/lambda/pricing/
 * - EventBridge: AWS service events on the default bus are free; custom and cross-account events
 *   $1.00 per million. https://aws.amazon.com/eventbridge/pricing/
 */
export const PRICES = {
  region: 'us-east-1',
  dynamoWriteRequestUnitPerMillion: 0.625,
  dynamoReadRequestUnitPerMillion: 0.125,
  sqsRequestPerMillion: 0.4,
  lambdaRequestPerMillion: 0.2,
  lambdaArmGbSecond: 0.0000133334,
  eventBridgeCrossAccountEventPerMillion: 1.0,
} as const;

/** Stated assumptions for what the bench does not measure. */
export const ASSUMPTIONS = {
  /** Lambda duration: a DynamoDB round trip in region (single-digit ms) per call, plus compute per event. */
  lambdaMsPerDynamoCall: 5,
  lambdaComputeMsPerEvent: 1,
  /** The detect function's memory (lib/constructs/detector.ts). */
  lambdaMemoryGb: 0.5,
  /** Full SQS batches (DETECT_BATCH_SIZE); at low rates the 5 s batching window gives smaller ones. */
  eventsPerBatch: DETECT_BATCH_SIZE,
} as const;

/** What the cloud path measured, per event (bench/cloud-path.ts). */
export interface MeasuredDynamo {
  readonly callsPerEvent: number;
  /** Request units from the consumed capacity of each call (the byDayKeys index's entries and refused writes added; see cloud-path.ts). */
  readonly readUnitsPerEvent: number;
  readonly writeUnitsPerEvent: number;
}

export interface CostLine {
  readonly item: string;
  readonly usdPerMillionEvents: number;
  readonly basis: string;
}

/** Cost lines per million events for the measured DynamoDB figures. */
export function costPerMillionEvents(dynamo: MeasuredDynamo): CostLine[] {
  const { callsPerEvent: dynamoCallsPerEvent, readUnitsPerEvent, writeUnitsPerEvent } = dynamo;
  const batchesPerEvent = 1 / ASSUMPTIONS.eventsPerBatch;
  const lambdaSecondsPerEvent = (dynamoCallsPerEvent * ASSUMPTIONS.lambdaMsPerDynamoCall + ASSUMPTIONS.lambdaComputeMsPerEvent) / 1000;
  return [
    {
      item: 'DynamoDB',
      usdPerMillionEvents: writeUnitsPerEvent * PRICES.dynamoWriteRequestUnitPerMillion + readUnitsPerEvent * PRICES.dynamoReadRequestUnitPerMillion,
      basis: `${writeUnitsPerEvent.toFixed(4)} WRU x $${PRICES.dynamoWriteRequestUnitPerMillion}/M + ${readUnitsPerEvent.toFixed(4)} RRU x $${PRICES.dynamoReadRequestUnitPerMillion}/M per event (measured, ${dynamoCallsPerEvent.toFixed(4)} calls)`,
    },
    {
      item: 'SQS',
      usdPerMillionEvents: (1 + 2 * batchesPerEvent) * PRICES.sqsRequestPerMillion,
      basis: `1 SendMessage per event + ReceiveMessage and DeleteMessageBatch per batch of ${ASSUMPTIONS.eventsPerBatch}, x $${PRICES.sqsRequestPerMillion}/M`,
    },
    {
      item: 'Lambda requests',
      usdPerMillionEvents: batchesPerEvent * PRICES.lambdaRequestPerMillion,
      basis: `1 invocation per batch of ${ASSUMPTIONS.eventsPerBatch}, x $${PRICES.lambdaRequestPerMillion}/M`,
    },
    {
      item: 'Lambda duration',
      usdPerMillionEvents: lambdaSecondsPerEvent * ASSUMPTIONS.lambdaMemoryGb * PRICES.lambdaArmGbSecond * 1e6,
      basis: `(${ASSUMPTIONS.lambdaMsPerDynamoCall} ms per call + ${ASSUMPTIONS.lambdaComputeMsPerEvent} ms) per event x ${ASSUMPTIONS.lambdaMemoryGb} GB x $${PRICES.lambdaArmGbSecond}/GB-s (assumed durations)`,
    },
  ];
}

/** Added when member accounts send their events to a central bus (cross-account events). */
export const ORGANISATION_LINE: CostLine = {
  item: 'EventBridge (organisation)',
  usdPerMillionEvents: PRICES.eventBridgeCrossAccountEventPerMillion,
  basis: `cross-account events to the central bus, $${PRICES.eventBridgeCrossAccountEventPerMillion}/M; a single account's AWS service events are free`,
};
