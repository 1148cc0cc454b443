/**
 * Whether an account belongs to the organisation Buildwatch watches: first what the configuration
 * names (its accounts, member accounts, central, management and delegated-admin accounts), then
 * Organizations ListAccounts through the look-ups. Outside an organisation deployment: unknown.
 */
import type { BuildwatchConfig } from '../config/config.js';
import type { Lookups } from '../lookups/lookups.js';

export type Membership =
  | { readonly status: 'member'; readonly name?: string; readonly source: 'configuration' | 'ListAccounts' }
  | { readonly status: 'outside'; readonly source: 'ListAccounts' }
  /** No organisation section, or ListAccounts could not be asked (with why). */
  | { readonly status: 'unknown'; readonly reason: string };

/** Every account the configuration names as the organisation's. */
export function configuredAccounts(config: BuildwatchConfig): Set<string> {
  const org = config.organization;
  if (!org) return new Set();
  return new Set([
    ...org.accounts.map((account) => account.id),
    ...org.members.accounts,
    org.central.account,
    org.managementAccount,
    ...(org.delegatedAdminAccount ? [org.delegatedAdminAccount] : []),
  ]);
}

/**
 * Accounts a grant to is not "another account": a use case's configured `trustedAccounts` and, in an
 * organisation deployment, the accounts the configuration names as the organisation's (a signing key
 * or repository shared with the tooling or workload accounts is the design, not an exposure).
 */
export function trustedAccountsOf(config: BuildwatchConfig, configured: readonly string[]): ReadonlySet<string> {
  return new Set([...configured, ...configuredAccounts(config)]);
}

export async function membershipOf(config: BuildwatchConfig, lookups: Lookups, account: string): Promise<Membership> {
  if (!config.organization) return { status: 'unknown', reason: 'not an organisation deployment' };
  if (configuredAccounts(config).has(account)) {
    const name = config.organization.accounts.find((entry) => entry.id === account)?.name;
    return { status: 'member', source: 'configuration', ...(name ? { name } : {}) };
  }
  const listed = lookups.organizationAccounts ? await lookups.organizationAccounts() : { status: 'unavailable' as const, reason: 'no ListAccounts look-up' };
  if (listed.status === 'found') {
    const found = listed.value.find((entry) => entry.id === account);
    return found ? { status: 'member', source: 'ListAccounts', ...(found.name ? { name: found.name } : {}) } : { status: 'outside', source: 'ListAccounts' };
  }
  return { status: 'unknown', reason: listed.status === 'missing' ? 'ListAccounts found nothing' : listed.reason };
}
