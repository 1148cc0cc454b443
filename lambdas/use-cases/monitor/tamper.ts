/**
 * What the monitor's self-protection use cases share: their options, how a deployment by the stack's
 * own CloudFormation is recognised, and how an observed change becomes an observation (a refused
 * attempt is medium; a deployment is a low attestation, or nothing).
 */
import * as z from 'zod';
import { failureOutcome } from '../../engine/failure.js';
import type { Severity } from '../../engine/model.js';
import type { PipelineEvent } from '../../engine/pipeline-event.js';
import { builtOnFirstUse, type Observation, type UseCaseContext } from '../../engine/use-case.js';
import type { Ownership } from './own-resources.js';

export const tamperOptionsShape = {
  /** The monitor's account (the stack passes it). Events recorded in another account are not about the monitor. */
  account: z.string().regex(/^\d{12}$/, '12-digit AWS account id').optional(),
  /**
   * Changes made by a CloudFormation deployment (the stack updating itself): `attest` records a low
   * attestation, `ignore` records nothing, `alert` sends a low alert.
   */
  deployments: z.enum(['attest', 'ignore', 'alert']).default('attest'),
};
export const tamperOptionsSchema = builtOnFirstUse(() => z.strictObject(tamperOptionsShape));
export type TamperOptions = z.output<typeof tamperOptionsSchema>;

const CLOUDFORMATION = 'cloudformation.amazonaws.com';
/** The CDK bootstrap's CloudFormation execution role: only CloudFormation can assume it. */
const CDK_EXEC_ROLE = /:(?:role|assumed-role)\/cdk-[a-z0-9]+-cfn-exec-role-/;

/** A call CloudFormation made while deploying a stack (EVENTS.md 1.2: source IP / user agent name the service). */
export function isCloudFormationDeployment(event: PipelineEvent): boolean {
  const record = event.cloudTrail;
  if (!record) return false;
  const identity = record.userIdentity;
  if (identity?.invokedBy === CLOUDFORMATION || record.userAgent === CLOUDFORMATION || record.sourceIPAddress === CLOUDFORMATION) return true;
  const arns = [identity?.arn, identity?.sessionContext?.sessionIssuer?.arn].filter((arn): arn is string => typeof arn === 'string');
  return arns.some((arn) => CDK_EXEC_ROLE.test(arn));
}

export function ownershipOf(ctx: UseCaseContext, options: { account?: string | undefined }): Ownership {
  return { prefix: ctx.config.monitor.resourcePrefix, ...(options.account ? { account: options.account } : {}) };
}

export function who(event: PipelineEvent): string {
  return event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
}

/** Lambda's CloudTrail names carry API versions (UpdateFunctionCode20150331v2): the operation without it. */
export function baseEventName(eventName: string): string {
  return eventName.replace(/\d{8}(v\d+)?$/, '');
}

export interface TamperChange {
  readonly severity: Severity;
  readonly title: string;
  /** What was done, as a verb phrase: "disabled rule buildwatch-x (…)". */
  readonly action: string;
  readonly resource: string;
  readonly evidence?: Record<string, unknown>;
}

/** The observation for a change to the monitor's own resources, after failure and deployment handling. */
export function tamperObservation(event: PipelineEvent, options: TamperOptions, change: TamperChange): Observation | undefined {
  const record = event.cloudTrail;
  const eventName = record?.eventName ?? event.detailType;
  const evidence = {
    eventName,
    resource: change.resource,
    requestParameters: record?.requestParameters ?? null,
    ...(record?.responseElements ? { responseElements: record.responseElements } : {}),
    ...change.evidence,
  };
  const base = { resource: change.resource, dedupKey: `${change.resource}|${eventName}` };
  // The stack deploying itself (even a refused call of a failing deployment) is expected.
  if (isCloudFormationDeployment(event)) {
    if (options.deployments === 'ignore') return undefined;
    return {
      ...base,
      severity: 'low',
      title: `Deployment changed the monitor: ${change.title}`,
      summary: `CloudFormation (${who(event)}) ${change.action}`,
      evidence: { ...evidence, viaCloudFormation: true },
      ...(options.deployments === 'attest' ? { attestation: true } : {}),
    };
  }
  if (!event.succeeded) {
    return {
      ...base,
      severity: 'medium',
      title: `Failed attempt: ${change.title}`,
      summary: `${who(event)} tried and ${failureOutcome(record?.errorCode)}: ${change.action}`,
      evidence: { ...evidence, errorCode: record?.errorCode, errorMessage: record?.errorMessage, intendedSeverity: change.severity },
    };
  }
  return { ...base, severity: change.severity, title: change.title, summary: `${who(event)} ${change.action}`, evidence };
}
