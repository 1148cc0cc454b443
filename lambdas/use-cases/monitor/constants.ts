/**
 * The synthetic canary: an EventBridge Scheduler schedule puts this event on the default bus every
 * hour; it travels rule → queue → detect → findings → notify → alerts topic like any pipeline event,
 * and the heartbeat checks that it came out at the end.
 */

export const CANARY_SOURCE = 'buildwatch.canary';
export const CANARY_DETAIL_TYPE = 'Buildwatch Canary';
/** How often the schedule sends one. */
export const CANARY_INTERVAL_MINUTES = 60;

/** The use case that turns a canary into a finding, and the attribute value its alerts carry on SNS. */
export const CANARY_USE_CASE = 'monitor.canary';
/** The use case whose options tune the heartbeat, and whose id its health findings carry. */
export const HEARTBEAT_USE_CASE = 'monitor.heartbeat';

/** The tag the heartbeat's CloudTrail probe sets (a management write that CloudTrail relays to EventBridge). */
export const PROBE_TAG = 'buildwatch-probe';

/**
 * The principal of the findings the heartbeat writes itself. It publishes them straight to the alerts
 * topic (the path it reports on may be broken), so the notifier's stream filter skips them.
 */
export const HEARTBEAT_PRINCIPAL = 'buildwatch heartbeat';

/** Environment variables of the heartbeat Lambda (besides the shared ones in lambdas/store/schema.ts). */
export const HEARTBEAT_ENV = {
  /** The queue subscribed to the alerts topic for canary alerts; the probe tags it too. */
  receiptsQueueUrl: 'CANARY_RECEIPTS_QUEUE_URL',
} as const;

/**
 * Organisation deployments: every member stack's scheduled rule `<prefix>member-heartbeat` sends a
 * `Scheduled Event` (source aws.events) from its account and region to the central bus; the
 * monitor.heartbeat rule routes it to the detector, which records it as that member's sign of life.
 */
export const MEMBER_HEARTBEAT_RULE_SUFFIX = 'member-heartbeat';
