/**
 * Table layouts shared by the stores, the local table bootstrap and the CDK constructs, so the
 * cloud tables and the embedded ones cannot drift apart.
 */

/** state table: baselines, scope metadata, drift snapshots, build records. */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds (a number: TTL ignores strings). Also checked on read, as TTL deletes up to 48 h late. */
  ttlAttribute: 'expiresAt',
} as const;

/** findings table: the ledger. One item per finding; the id makes a repeat delivery a no-op. */
export const FINDINGS_TABLE = {
  partitionKey: 'id',
  /**
   * The by-day index, KEYS_ONLY: each ledger write costs one small index write; readers fetch the
   * items with BatchGetItem (lambdas/store/day-index.ts).
   */
  byDayIndex: 'byDayKeys',
  /**
   * The index of earlier versions (same keys, projection ALL). Kept by a deployed stack only with
   * config `ledger.keepLegacyDayIndex` (the first of the two upgrade deploys); old `--keep` stores
   * have only it. Readers fall back to it while byDayKeys is missing or backfilling.
   */
  legacyByDayIndex: 'byDay',
  byDayPartitionKey: 'day',
  byDaySortKey: 'eventTime',
} as const;

/** Environment variables the Lambdas read (set by the stack). */
export const ENV = {
  stateTable: 'STATE_TABLE_NAME',
  findingsTable: 'FINDINGS_TABLE_NAME',
  alertsTopicArn: 'ALERTS_TOPIC_ARN',
  /** The account's default Security Hub product ARN, set only with routing.securityHub (notify Lambda). */
  securityHubProductArn: 'SECURITY_HUB_PRODUCT_ARN',
  /** JSON: route key (`security`, `team-<name>`) → chat topic ARN (notify Lambda). */
  chatTopicArns: 'CHAT_TOPIC_ARNS',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
} as const;
