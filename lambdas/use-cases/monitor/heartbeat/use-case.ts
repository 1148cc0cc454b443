/**
 * monitor.heartbeat: has the monitor gone blind? Most of its findings come from the scheduled
 * heartbeat Lambda (lambdas/handlers/heartbeat.ts, judged by ../health.ts), not from an event: no
 * CloudTrail event processed for too long, no canary through the whole path, messages on the
 * dead-letter queue. Through its rule it also reports Buildwatch's own CloudWatch alarms entering
 * ALARM (Lambda errors and throttles, SNS delivery failures, backlog), and routes the heartbeat's
 * CloudTrail probe (a TagQueue call) to the detector, which records it like any CloudTrail event, so a
 * quiet account still shows a live trail. In an organisation it routes each member stack's scheduled
 * heartbeat too: any event from a member account and region is its sign of life, and the heartbeat
 * reports each member account × region that falls silent.
 */
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { MEMBER_HEARTBEAT_RULE_SUFFIX } from '../constants.js';
import { heartbeatOptionsSchema } from '../health.js';
import { accountsAgree, parseArn } from '../own-resources.js';

const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';
/** Alarms that mean events are lost or alerts unsent, rather than slowed down. */
const LOSS_ALARMS = /dead-letter|errors|failed|missing/;

function alarmObservation(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const name = stringAt(event.detail, 'alarmName');
  const prefix = ctx.config.monitor.resourcePrefix;
  if (!name?.startsWith(prefix) || stringAt(event.detail, 'state', 'value') !== 'ALARM') return undefined;
  const alarmArn = event.envelope.resources.find((arn) => arn.includes(':alarm:'));
  if (!accountsAgree(alarmArn ? parseArn(alarmArn)?.account : undefined, event, undefined)) return undefined;
  const since = stringAt(event.detail, 'state', 'timestamp') ?? event.time;
  const reason = stringAt(event.detail, 'state', 'reason') ?? 'no reason given';
  const description = stringAt(event.detail, 'configuration', 'description');
  return {
    severity: LOSS_ALARMS.test(name.slice(prefix.length)) ? 'high' : 'medium',
    title: "Buildwatch's health alarm fired",
    summary: `Health alarm ${name} entered ALARM${description ? `: ${description}` : ''} (${reason})`,
    resource: name,
    dedupKey: `${name}|${since}`,
    evidence: { alarmName: name, state: event.detail['state'] ?? null, previousState: event.detail['previousState'] ?? null },
  };
}

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  // Validates the options with the rest of the configuration (the heartbeat Lambda reads them).
  optionsOf(heartbeatOptionsSchema, ctx);
  // The probe proves liveness by arriving (the detect handler records it): nothing to report.
  return event.detailType === ALARM_DETAIL_TYPE ? alarmObservation(event, ctx) : undefined;
}

export default defineUseCase({
  metadata: {
    id: 'monitor.heartbeat',
    answers: 'monitor.health',
    title: 'Monitor gone blind: no events, no canary, dead letters or failing parts',
    stage: 'monitor',
    description:
      "A scheduled heartbeat (every 15 minutes) alerts when no CloudTrail event has been processed for options.maxSilenceMinutes (default 120; the heartbeat tags a queue every run so CloudTrail always has something to relay), when no hourly canary has come through the whole path for options.canaryMaxAgeMinutes (default 150), when the dead-letter queue holds options.deadLetterThreshold messages (default 1), and in an organisation deployment when a member account and region (each configured member account in each member region, and every account once heard from) sends nothing, not even its scheduled heartbeat, for options.maxSilenceMinutes; these alerts are written to the findings table and published straight to the alerts topic, so they do not depend on the path they report on. Buildwatch's own CloudWatch alarms entering ALARM (function errors, SNS delivery failures: high; throttles, backlog: medium) are reported too.",
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1562.008', 'T1562.001'],
    falsePositives: [
      'CloudTrail delivery delays beyond the silence limit (documented as usually about 5 minutes, occasionally much longer): raise maxSilenceMinutes.',
      'A region-wide EventBridge or Lambda incident.',
    ],
    runbook:
      'Silence: check the trails (GetTrailStatus IsLogging, GetEventSelectors), the rules named <prefix>* (enabled, with targets) and the detect function. Canary missing: the summary says whether canaries stop before or after the detector; check the schedule <prefix>canary, the detect queue, the findings stream and the notify function. Dead-letter messages: read their reason attributes, fix, redrive. A health alarm: read the function logs or SNS delivery logs it names. Then replay CloudTrail for the blind window with `buildwatch replay`.',
    references: ['https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html', 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html'],
  },
  pattern: {
    $or: [
      { source: ['aws.cloudwatch'], 'detail-type': [ALARM_DETAIL_TYPE], detail: { state: { value: ['ALARM'] } } },
      { 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventSource: ['sqs.amazonaws.com'], eventName: ['TagQueue'] } },
      // Organisation deployments: a member stack's heartbeat (its scheduled rule's event).
      { source: ['aws.events'], 'detail-type': ['Scheduled Event'], resources: [{ suffix: MEMBER_HEARTBEAT_RULE_SUFFIX }] },
    ],
  },
  logic: { kind: 'match', evaluate: observe },
  optionsSchema: heartbeatOptionsSchema,
});
