/**
 * Findings for repository changes (review bypass, protection changes). A refused call is an attempt:
 * worth knowing, never as loud as the change itself, so it is always low. A change CloudFormation
 * made on the caller's behalf went through a stack (reviewable as code), so it is one step lower.
 */
import { failureLabel, failureOutcome } from '../../engine/failure.js';
import { SEVERITIES, type Severity } from '../../engine/model.js';
import type { PipelineEvent } from '../../engine/pipeline-event.js';
import type { Observation } from '../../engine/use-case.js';
import { actorOf, cloudTrailIncident, viaCloudFormation } from './codecommit.js';

export interface Change {
  readonly severity: Severity;
  readonly title: string;
  /** Past tense, after the actor: "deleted approval rule template main-needs-two". */
  readonly did: string;
  /** Infinitive, after "tried to": "delete approval rule template main-needs-two". */
  readonly attempt: string;
  /** What the change means, after the action. */
  readonly detail?: string;
  readonly resource?: string;
  /** Defaults to the CloudTrail record (so EventBridge and S3 deliveries of it are one finding). */
  readonly incidentKey?: string;
  readonly evidence: Record<string, unknown>;
}

function oneStepLower(severity: Severity): Severity {
  return SEVERITIES[Math.max(1, SEVERITIES.indexOf(severity) - 1)] ?? 'low';
}

export function observationOf(change: Change, event: PipelineEvent): Observation {
  const who = actorOf(event);
  const record = event.cloudTrail;
  const base = {
    ...(change.resource ? { resource: change.resource } : {}),
    evidence: { ...change.evidence, ...(record ? { eventName: record.eventName } : {}) },
  };
  if (!event.succeeded) {
    const code = record?.errorCode ?? 'error';
    return {
      ...base,
      severity: 'low',
      title: `${failureLabel(record?.errorCode)} attempt: ${change.title}`,
      summary: `${who} tried to ${change.attempt} and ${failureOutcome(record?.errorCode)}`,
      incidentKey: change.incidentKey ?? cloudTrailIncident(event),
      evidence: { ...base.evidence, errorCode: code, errorMessage: record?.errorMessage ?? null },
    };
  }
  const stack = viaCloudFormation(event);
  return {
    ...base,
    severity: stack ? oneStepLower(change.severity) : change.severity,
    title: change.title,
    summary: `${who} ${change.did}${stack ? ' through CloudFormation' : ''}${change.detail ? `: ${change.detail}` : ''}`,
    incidentKey: change.incidentKey ?? cloudTrailIncident(event),
    evidence: { ...base.evidence, ...(stack ? { viaCloudFormation: true } : {}) },
  };
}
