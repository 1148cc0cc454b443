/**
 * monitor.canary: the hourly synthetic event came through rule, queue and detector. Its finding is an
 * info-level alert so that the notifier publishes it too; the stack subscribes a receipts queue to the
 * alerts topic (filtered on useCase = monitor.canary) and the heartbeat reads it, which proves the
 * whole path up to SNS. Human subscriptions should filter it out (see the runbook).
 */
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type Observation } from '../../../engine/use-case.js';
import { CANARY_DETAIL_TYPE, CANARY_SOURCE } from '../constants.js';

function observe(event: PipelineEvent): Observation {
  const scheduled = stringAt(event.detail, 'scheduledTime') ?? event.envelope.time;
  const execution = stringAt(event.detail, 'executionId') ?? event.id;
  return {
    severity: 'info',
    title: 'Monitor canary came through',
    summary: `Canary ${execution} (scheduled ${scheduled}) reached the detector`,
    resource: 'buildwatch canary',
    dedupKey: `canary|${execution}`,
    evidence: { scheduledTime: scheduled, executionId: execution, schedule: stringAt(event.detail, 'schedule') ?? null },
  };
}

export default defineUseCase({
  metadata: {
    id: 'monitor.canary',
    answers: 'monitor.health',
    title: 'Monitor canary came through the detection path',
    stage: 'monitor',
    description:
      'An EventBridge Scheduler schedule puts a `buildwatch.canary` event on the default bus every hour. Each one becomes an info-level alert, so it travels the whole path (rule, queue, detect Lambda, findings table, stream, notify Lambda, alerts topic); the heartbeat alerts when none has come out for too long.',
    severity: 'info',
    defaultMode: 'alert',
    riskReduction: 3,
    effort: 1,
    mitre: ['T1562.001'],
    falsePositives: ['Not a detection: each canary is expected. Filter it out of human subscriptions: {"useCase": [{"anything-but": ["monitor.canary"]}]}.'],
    runbook:
      'Nothing to do for a canary itself. Subscriptions for people should filter it out with the SNS filter policy {"useCase": [{"anything-but": ["monitor.canary"]}]} (or accept only the severities they want). If canaries stop, the heartbeat raises a monitor.heartbeat alert.',
    references: ['https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html'],
  },
  pattern: {
    source: [CANARY_SOURCE],
    'detail-type': [CANARY_DETAIL_TYPE],
  },
  logic: { kind: 'match', evaluate: observe },
});
