/**
 * Look-ups across an organisation (issue #16): an event of a member account is looked up in that
 * account and region, through the read-only role its member stack creates (assumed with the
 * organisation's external id); the central account's own events use the function's own role. The
 * organisation's accounts come from Organizations ListAccounts (the central account must be the
 * management account or a delegated administrator). Like every look-up, nothing here throws: a role
 * that cannot be assumed (AccessDenied, no such role) makes the look-up `unavailable`, with the reason.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { paginateListAccounts, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { createAwsLookups, type AwsLookupClients } from './aws-lookups.js';
import type { LookupResult, Lookups, OrganizationAccountInfo } from './lookups.js';

/** Temporary credentials, as the SDK clients' `credentials` option takes them. */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

export interface OrganizationLookupOptions {
  /** The account the function runs in: its events are looked up with the function's own role. */
  readonly centralAccount: string;
  readonly centralRegion: string;
  /** The member look-up role's name (memberLookupRoleName) and the external id to present (lookupExternalId). */
  readonly roleName: string;
  readonly externalId: string;
  readonly partition?: string;
  readonly sts: STSClient;
  /** SDK clients for a region, signed with `credentials` (absent: the function's own role). */
  readonly clientsFor: (region: string, credentials?: AwsCredentialIdentityProvider) => AwsLookupClients;
  /** More look-ups for one account and region (EC2's), or a wrapper (a cache) around them. */
  readonly extend?: (lookups: Lookups, region: string, credentials?: AwsCredentialIdentityProvider) => Lookups;
  /** For ListAccounts; without it the organisation's accounts are unavailable (configuration still names some). */
  readonly organizations?: OrganizationsClient;
  readonly clock?: () => Date;
}

/** Credentials are renewed this long before they expire, so no call is signed with nearly dead ones. */
const RENEW_BEFORE_MS = 5 * 60_000;
/** The organisation's accounts change rarely; asked again after this long. */
const ACCOUNTS_TTL_MS = 60 * 60_000;
/** The longest ListAccounts walk (20 accounts a page): a loop guard, far above any organisation. */
const MAX_ACCOUNT_PAGES = 1000;

export class AssumeRoleError extends Error {
  constructor(name: string, message: string) {
    super(message);
    // Keeps AWS's error name (AccessDenied, …) so the reason and metrics say what went wrong.
    this.name = name;
  }
}

/** One member account's credentials: assumed once, shared by its regions, renewed near expiry. */
function memberCredentials(options: OrganizationLookupOptions, account: string): AwsCredentialIdentityProvider {
  const roleArn = `arn:${options.partition ?? 'aws'}:iam::${account}:role/${options.roleName}`;
  const now = (): number => (options.clock?.() ?? new Date()).getTime();
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    try {
      const output = await options.sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'buildwatch-lookup', ExternalId: options.externalId, DurationSeconds: 3600 }),
      );
      const c = output.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new AssumeRoleError('AssumeRoleFailed', `assuming ${roleArn}: STS returned no credentials`);
      current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), ...(c.Expiration ? { expiration: c.Expiration } : {}) };
      return current;
    } catch (error) {
      if (error instanceof AssumeRoleError) throw error;
      const name = error instanceof Error ? error.name : 'AssumeRoleFailed';
      const message = error instanceof Error ? error.message : String(error);
      throw new AssumeRoleError(name, `assuming ${roleArn}: ${message}`);
    } finally {
      pending = undefined;
    }
  };
  return async () => {
    if (current && (!current.expiration || current.expiration.getTime() - now() > RENEW_BEFORE_MS)) return current;
    // One AssumeRole for concurrent callers; a failure is not kept (the next look-up tries again).
    pending ??= assume();
    return pending;
  };
}

/**
 * The function's own look-ups (central account and region), whose `inAccount` gives each member
 * account and region its own, cached: clients per account and region, credentials per account.
 */
export function createOrganizationLookups(options: OrganizationLookupOptions): Lookups {
  const byPlace = new Map<string, Lookups>();
  const credentials = new Map<string, AwsCredentialIdentityProvider>();
  const now = (): number => (options.clock?.() ?? new Date()).getTime();
  let accounts: { readonly at: number; readonly value: readonly OrganizationAccountInfo[] } | undefined;

  const organizationAccounts = async (): Promise<LookupResult<readonly OrganizationAccountInfo[]>> => {
    if (accounts && now() - accounts.at < ACCOUNTS_TTL_MS) return { status: 'found', value: accounts.value };
    if (!options.organizations) return { status: 'unavailable', reason: 'no Organizations client' };
    try {
      const found: OrganizationAccountInfo[] = [];
      let pages = 0;
      for await (const page of paginateListAccounts({ client: options.organizations }, {})) {
        pages += 1;
        if (pages > MAX_ACCOUNT_PAGES) return { status: 'unavailable', reason: `ListAccounts returned more than ${MAX_ACCOUNT_PAGES} pages` };
        for (const account of page.Accounts ?? []) {
          if (!account.Id) continue;
          const status = account.State ?? account.Status;
          found.push({ id: account.Id, ...(account.Name ? { name: account.Name } : {}), ...(status ? { status } : {}) });
        }
      }
      accounts = { at: now(), value: found };
      return { status: 'found', value: found };
    } catch (error) {
      return { status: 'unavailable', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  };

  const place = (account: string, region: string): Lookups => {
    const key = `${account}/${region}`;
    let lookups = byPlace.get(key);
    if (!lookups) {
      let provider: AwsCredentialIdentityProvider | undefined;
      if (account !== options.centralAccount) {
        provider = credentials.get(account);
        if (!provider) {
          provider = memberCredentials(options, account);
          credentials.set(account, provider);
        }
      }
      const base: Lookups = { ...createAwsLookups(options.clientsFor(region, provider)), organizationAccounts };
      lookups = options.extend ? options.extend(base, region, provider) : base;
      byPlace.set(key, lookups);
    }
    return lookups;
  };

  const own = place(options.centralAccount, options.centralRegion);
  return { ...own, inAccount: place };
}
