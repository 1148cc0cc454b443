/**
 * Changes made by the team's infrastructure as code (CloudFormation, CDK) are reviewed in source
 * control, so build-stage use cases rate them low by default. How IaC is recognised and how low it
 * rates are per-use-case options (`useCases.<id>.options`).
 */
import * as z from 'zod';
import { severitySchema, type Severity } from '../../engine/model.js';
import type { PipelineEvent } from '../../engine/pipeline-event.js';
import { principalMatches } from '../../engine/principal.js';

const CLOUDFORMATION = 'cloudformation.amazonaws.com';

/** The options every build-stage use case that honours IaC accepts. */
export const infrastructureAsCodeOptions = {
  /** Severity of a change made through CloudFormation/CDK (instead of the change's own severity). */
  infrastructureAsCodeSeverity: severitySchema.default('low'),
  /** Principals (ARN, ARN glob with *, or principal key) that are IaC, besides CloudFormation itself: CDK's deployment roles by default. */
  infrastructureAsCodePrincipals: z.array(z.string().min(1)).default(['arn:aws:iam::*:role/cdk-*-cfn-exec-role-*']),
};

export interface InfrastructureAsCodeSettings {
  readonly infrastructureAsCodeSeverity: Severity;
  readonly infrastructureAsCodePrincipals: readonly string[];
}

/** CloudFormation acting for the caller (invokedBy, user agent or source address), or a configured IaC principal. */
export function viaInfrastructureAsCode(event: PipelineEvent, settings: InfrastructureAsCodeSettings): boolean {
  const record = event.cloudTrail;
  if (!record) return false;
  if (record.userIdentity?.invokedBy === CLOUDFORMATION || record.userAgent === CLOUDFORMATION || record.sourceIPAddress === CLOUDFORMATION) return true;
  const principal = event.principal;
  return principal !== undefined && settings.infrastructureAsCodePrincipals.some((entry) => principalMatches(entry, principal));
}
