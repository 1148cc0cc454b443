/**
 * The stacks one configuration makes. Without `organization`: the Buildwatch stack, exactly as for a
 * single account. With it: the central stack (the same stack plus the central bus, in the central
 * account and region), the member stack (`cdk deploy` in accounts outside the StackSet's reach) and,
 * when organisational units are configured, the StackSet stack (in the StackSets administrator).
 */
import type { App } from 'aws-cdk-lib';
import type { BuildwatchConfig } from '../lambdas/config/config.js';
import type { UseCase } from '../lambdas/engine/use-case.js';
import { BuildwatchStack, type BuildwatchStackProps } from './buildwatch-stack.js';
import { BuildwatchMemberStack } from './member-stack.js';
import { BuildwatchMemberStackSet, memberSynthesizer, memberTemplateBody, stackSetAdministrator } from './organization/member-stack-set.js';

export interface BuildwatchStacks {
  readonly central: BuildwatchStack;
  readonly member?: BuildwatchMemberStack;
  readonly stackSet?: BuildwatchMemberStackSet;
}

export interface BuildwatchStacksOptions {
  readonly config: BuildwatchConfig;
  readonly useCases: readonly UseCase[];
  /** The central (or only) stack's name; the others append Member and MemberStackSet. */
  readonly stackName: string;
  readonly entries?: BuildwatchStackProps['entries'];
  /** Context for the app that synthesizes the StackSet's member template (default: the CLI's). */
  readonly memberTemplateContext?: Record<string, unknown>;
}

export function addBuildwatchStacks(app: App, options: BuildwatchStacksOptions): BuildwatchStacks {
  const { config, useCases, stackName } = options;
  const org = config.organization;
  const entries = options.entries ? { entries: options.entries } : {};
  if (!org) return { central: new BuildwatchStack(app, stackName, { config, useCases, ...entries }) };

  const central = new BuildwatchStack(app, stackName, { config, useCases, ...entries, env: { account: org.central.account, region: org.central.region } });
  // Environment-agnostic: `cdk deploy` with each member account's credentials, in each region.
  const member = new BuildwatchMemberStack(app, `${stackName}Member`, { config, useCases, synthesizer: memberSynthesizer() });
  if (org.members.organizationalUnits.length === 0) return { central, member };
  const stackSet = new BuildwatchMemberStackSet(app, `${stackName}MemberStackSet`, {
    config,
    templateBody: memberTemplateBody(config, useCases, options.memberTemplateContext),
    env: { account: stackSetAdministrator(org), region: org.central.region },
  });
  return { central, member, stackSet };
}
