/**
 * monitor.rule-tamper: Buildwatch's own EventBridge rules (one per use case, the direct tamper-alert
 * rules, the heartbeat schedule) and its EventBridge Scheduler canary disabled, deleted, re-pointed or
 * redefined. A disabled rule is a use case that silently stops seeing events (EVENTS.md 7).
 */
import { textOf } from '../../../engine/own-keys.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { accountsAgree, isOwn, parseArn, refOf, type Ownership, type ResourceRef } from '../own-resources.js';
import { ownershipOf, tamperObservation, tamperOptionsSchema, type TamperChange } from '../tamper.js';

/** Buildwatch's rules live on the default bus; a rule of the same name on another bus is someone else's. */
function onDefaultBus(params: Record<string, unknown>): boolean {
  const bus = stringAt(params, 'eventBusName');
  return bus === undefined || bus === 'default' || /:event-bus\/default$/.test(bus);
}

/** A rule name as EventBridge's API takes it (a name, or a rule ARN on the default bus). */
function ruleRef(value: string | undefined): ResourceRef | undefined {
  const ref = refOf(value);
  if (!ref || !value?.startsWith('arn:')) return ref;
  // arn:…:rule/NAME is the default bus; arn:…:rule/BUS/NAME is another one.
  const resource = parseArn(value)?.resource ?? '';
  return resource.split('/').length === 2 ? ref : undefined;
}

/** A target ARN that is the monitor's own (its queues, topics, functions, or the default bus for the canary). */
function ownTarget(arn: string, event: PipelineEvent, ownership: Ownership): boolean {
  const parsed = parseArn(arn);
  if (parsed?.service === 'events' && parsed.resource === 'event-bus/default') return accountsAgree(parsed.account, event, ownership.account);
  return isOwn(refOf(arn), event, ownership);
}

function targetsOf(params: Record<string, unknown>): Array<{ id: string; arn: string }> {
  const targets = valueAt(params, 'targets');
  if (!Array.isArray(targets)) return [];
  return targets.filter(isRecord).map((t) => ({ id: textOf(t['id'] ?? t['Id']), arn: textOf(t['arn'] ?? t['Arn']) }));
}

function ruleChange(event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  if (!record || !onDefaultBus(params)) return undefined;
  const name = record.eventName;
  const ref = ruleRef(stringAt(params, name === 'PutTargets' || name === 'RemoveTargets' ? 'rule' : 'name'));
  if (!ref || !isOwn(ref, event, ownership)) return undefined;
  const rule = ref.name;
  switch (name) {
    case 'DisableRule':
      return { severity: 'critical', title: "Buildwatch's event rule disabled", action: `disabled rule ${rule}: the events it routes no longer reach Buildwatch`, resource: rule };
    case 'DeleteRule':
      return { severity: 'critical', title: "Buildwatch's event rule deleted", action: `deleted rule ${rule}: the events it routed no longer reach Buildwatch`, resource: rule };
    case 'RemoveTargets': {
      const ids = Array.isArray(params['ids']) ? params['ids'].map(textOf) : [];
      return { severity: 'critical', title: "Buildwatch's event rule lost its targets", action: `removed target${ids.length === 1 ? '' : 's'} ${ids.join(', ') || '(unnamed)'} from rule ${rule}: matching events go nowhere`, resource: rule, evidence: { removedTargets: ids } };
    }
    case 'PutRule': {
      const state = stringAt(params, 'state');
      if (state === 'DISABLED') return { severity: 'critical', title: "Buildwatch's event rule disabled", action: `redefined rule ${rule} as DISABLED: the events it routes no longer reach Buildwatch`, resource: rule, evidence: { eventPattern: parsedPattern(params) } };
      const what = [params['eventPattern'] !== undefined ? 'event pattern' : '', params['scheduleExpression'] !== undefined ? 'schedule' : '', state ? `state ${state}` : ''].filter(Boolean);
      return { severity: 'high', title: "Buildwatch's event rule redefined", action: `redefined rule ${rule} outside a deployment (${what.join(', ') || 'no pattern given'}): it may no longer match what the use case needs`, resource: rule, evidence: { eventPattern: parsedPattern(params), scheduleExpression: params['scheduleExpression'] ?? null } };
    }
    case 'PutTargets': {
      const targets = targetsOf(params);
      const foreign = targets.filter((t) => !ownTarget(t.arn, event, ownership));
      if (foreign.length > 0) {
        return { severity: 'critical', title: "Buildwatch's event rule redirected", action: `pointed rule ${rule} at ${foreign.map((t) => t.arn).join(', ')}, which ${foreign.length === 1 ? 'is' : 'are'} not Buildwatch's`, resource: rule, evidence: { targets } };
      }
      return { severity: 'high', title: "Buildwatch's event rule targets changed", action: `changed the targets of rule ${rule} outside a deployment (${targets.map((t) => t.id).join(', ')}): their input may no longer be what the detector expects`, resource: rule, evidence: { targets } };
    }
    default:
      return undefined;
  }
}

function parsedPattern(params: Record<string, unknown>): unknown {
  const raw = params['eventPattern'];
  if (typeof raw !== 'string') return raw ?? null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function scheduleChange(event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const group = stringAt(params, 'groupName');
  // Buildwatch's canary schedule is in the default group.
  if (!record || (group !== undefined && group !== 'default')) return undefined;
  const ref = refOf(stringAt(params, 'name'));
  if (!ref || !isOwn(ref, event, ownership)) return undefined;
  const schedule = ref.name;
  if (record.eventName === 'DeleteSchedule') {
    return { severity: 'high', title: "Buildwatch's schedule deleted", action: `deleted schedule ${schedule}: the canary that proves the detection path works stops`, resource: schedule };
  }
  if (record.eventName === 'UpdateSchedule') {
    const state = stringAt(params, 'state');
    const target = stringAt(params, 'target', 'arn');
    const redirected = target !== undefined && !ownTarget(target, event, ownership);
    if (state === 'DISABLED' || redirected) {
      return { severity: 'high', title: "Buildwatch's schedule disabled or redirected", action: `${state === 'DISABLED' ? 'disabled' : `pointed at ${target}`} schedule ${schedule}: the canary stops coming through`, resource: schedule };
    }
    return { severity: 'medium', title: "Buildwatch's schedule changed", action: `changed schedule ${schedule} outside a deployment`, resource: schedule };
  }
  return undefined;
}

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const options = optionsOf(tamperOptionsSchema, ctx);
  const ownership = ownershipOf(ctx, options);
  const source = event.cloudTrail?.eventSource;
  const change = source === 'events.amazonaws.com' ? ruleChange(event, ownership) : source === 'scheduler.amazonaws.com' ? scheduleChange(event, ownership) : undefined;
  return change ? tamperObservation(event, options, change) : undefined;
}

export default defineUseCase({
  metadata: {
    id: 'monitor.rule-tamper',
    answers: 'monitor.tamper',
    title: "Buildwatch's event rules or schedules disabled, deleted or redirected",
    stage: 'monitor',
    description:
      "Detects DisableRule, DeleteRule, RemoveTargets, PutRule (disabled or redefined) and PutTargets (redirected) on the monitor's own EventBridge rules, and DeleteSchedule/UpdateSchedule on its canary schedule. A disabled rule is a use case that silently stops seeing events. Changes made by the stack's own CloudFormation deployment are recorded as low attestations.",
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 1,
    mitre: ['T1562.001', 'T1562.006'],
    falsePositives: [
      'An operator pausing a noisy use case by disabling its rule instead of setting its mode to off in the configuration.',
      'A manual redeploy outside CloudFormation (e.g. an emergency fix in the console).',
    ],
    runbook:
      'Re-enable or redeploy the rule (cdk deploy restores every rule, target and pattern). Find out who made the change and why; if it was not planned, treat the principal as compromised and review its other actions since the change: for that window Buildwatch saw nothing through this rule, so search CloudTrail event history for what the rule would have matched.',
    references: ['https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rules.html'],
    includeFailedCalls: true,
  },
  pattern: {
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['events.amazonaws.com', 'scheduler.amazonaws.com'],
      eventName: ['DisableRule', 'DeleteRule', 'RemoveTargets', 'PutRule', 'PutTargets', 'DeleteSchedule', 'UpdateSchedule'],
    },
  },
  logic: { kind: 'match', evaluate: observe },
  optionsSchema: tamperOptionsSchema,
});
