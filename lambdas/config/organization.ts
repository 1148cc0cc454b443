/**
 * Names the central and member stacks agree on (one place, so the detect function assumes exactly the
 * role the member stack creates, and member rules target exactly the bus the central stack creates).
 */
import type { BuildwatchConfig, OrganizationAccount, PipelineConfig } from './config.js';

/** The central stack's event bus, which member accounts' forwarding rules target. */
export function centralBusName(resourcePrefix: string): string {
  return `${resourcePrefix}central`;
}

/** The read-only look-up role every member stack creates, assumed by the central detect function. */
export function memberLookupRoleName(resourcePrefix: string): string {
  return `${resourcePrefix}member-lookup`;
}

/** The central detect function's role name (fixed, so member trust policies can name it before it exists). */
export function centralDetectRoleName(resourcePrefix: string): string {
  return `${resourcePrefix}central-detect`;
}

/** The central correlation sweep's role name: its deferred judgements make look-ups in member accounts too. */
export function centralSweepRoleName(resourcePrefix: string): string {
  return `${resourcePrefix}central-sweep`;
}

/** The external id the detect function presents when assuming a member's look-up role. */
export function lookupExternalId(organizationId: string): string {
  return `buildwatch-${organizationId}`;
}

/** The configured account, if the organisation names it. */
export function organizationAccount(config: BuildwatchConfig, accountId: string | undefined): OrganizationAccount | undefined {
  if (!accountId) return undefined;
  return config.organization?.accounts.find((account) => account.id === accountId);
}

/** The pipeline that applies to an event of `accountId`: the account's own, else the top-level one. */
export function pipelineFor(config: BuildwatchConfig, accountId: string | undefined): PipelineConfig {
  return organizationAccount(config, accountId)?.pipeline ?? config.pipeline;
}

/**
 * Accounts whose own CloudTrail events reach the monitor in an organisation deployment: the member
 * targets the configuration lists and the accounts it names with a pipeline. (Accounts reached only
 * through an organisational unit are not known here without a look-up.)
 */
export function watchedMemberAccounts(config: BuildwatchConfig): ReadonlySet<string> {
  const org = config.organization;
  return new Set(org ? [...org.members.accounts, ...org.accounts.map((account) => account.id)] : []);
}
