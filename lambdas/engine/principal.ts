/**
 * Who acted, as one stable key per human or workload (EVENTS.md 1.3).
 *
 * - AssumedRole: the STS session ARN `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, so two humans
 *   behind one SSO permission set stay two principals. Session names that are machine-generated
 *   (uuids, long hex, digits, botocore-session-N, i-0abc…) would make every CI run "new", so they
 *   collapse to `…/<role>/*`.
 * - IAMUser, Root, FederatedUser: the ARN.
 * - IdentityCenterUser: `<identityStoreArn>/<userId>` (it has no ARN).
 * - AWSService: `service:<invokedBy>`.
 * - AWSAccount (the resource owner's copy of a cross-account call: the caller's account and principal
 *   id, no ARN): `AWSAccount:<account>:<principal id>`, a role session's machine-generated name
 *   collapsed to `*` as for AssumedRole, so every build of another account is one principal, not a new one.
 * Native events carry only an ARN (`callerUserArn`); principalFromArn gives the same key for it.
 */
import type { Principal } from './model.js';
import type { UserIdentity } from './events.js';

const MACHINE_SESSION = [
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^(?=.*\d)[0-9a-f]{16,}$/i,
  /^\d{6,}$/,
  /^botocore-session-\d+$/,
  /^i-[0-9a-f]{8,17}$/,
  /^(AWSCodeBuild|codepipeline|AWSCloudFormation|aws-go-sdk|aws-sdk-js|awslambda)[-_].*$/i,
  // A name and a run or time number: github-actions-<run id>, GitHubActions-<run id>-<attempt>,
  // aws-sdk-java-<ms>, aws-dotnet-sdk-session-<ticks>, ci-1718000000123.
  /^[A-Za-z][A-Za-z_-]*?-?\d{8,}(-\d{1,4})?$/,
  // Anything ending in a uuid: EKS Pod Identity's eks-<cluster>-<pod>-<uuid>, tools' <name>-<uuid>.
  /-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
];

/** True for session names that identify a run, not a person. */
export function isMachineSessionName(session: string): boolean {
  return MACHINE_SESSION.some((pattern) => pattern.test(session));
}

const STS_ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const ACCOUNT_IN_ARN = /^arn:[a-z-]+:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):/;

function mfaOf(value: string | boolean | undefined): Principal['mfa'] {
  if (value === true || value === 'true') return 'true';
  if (value === false || value === 'false') return 'false';
  return 'unknown';
}

/** The principal behind an ARN alone (native events' `callerUserArn`). */
export function principalFromArn(arn: string): Principal {
  const accountId = ACCOUNT_IN_ARN.exec(arn)?.[1];
  const assumed = STS_ASSUMED_ROLE.exec(arn);
  if (assumed) {
    const [, partition, account, role, session] = assumed as unknown as [string, string, string, string, string];
    return {
      key: assumedRoleKey(partition, account, role, session),
      type: 'AssumedRole',
      accountId: account,
      arn,
      isAwsService: false,
      mfa: 'unknown',
    };
  }
  const type = /:root$/.test(arn) ? 'Root' : /:user\//.test(arn) ? 'IAMUser' : /:federated-user\//.test(arn) ? 'FederatedUser' : 'Unknown';
  // An IAM user has no session, so IAM never sees MFA for its Git credentials or SSH keys.
  return { key: arn, type, ...(accountId ? { accountId } : {}), arn, isAwsService: false, mfa: type === 'IAMUser' ? 'impossible' : 'unknown' };
}

function assumedRoleKey(partition: string, account: string, role: string, session: string): string {
  const sessionPart = isMachineSessionName(session) ? '*' : session;
  return `arn:${partition}:sts::${account}:assumed-role/${role}/${sessionPart}`;
}

/** The principal of a CloudTrail record's userIdentity. */
export function principalFromIdentity(identity: UserIdentity | undefined): Principal {
  if (!identity) return { key: 'unknown', type: 'Unknown', isAwsService: false, mfa: 'unknown' };
  const type = identity.type ?? 'Unknown';
  const accountId = identity.accountId;
  const base = { type, ...(accountId ? { accountId } : {}), ...(identity.arn ? { arn: identity.arn } : {}) };
  const mfa = mfaOf(identity.sessionContext?.attributes?.mfaAuthenticated);

  switch (type) {
    case 'AWSService':
      return { ...base, key: `service:${identity.invokedBy ?? 'unknown'}`, isAwsService: true, mfa: 'unknown' };
    case 'AssumedRole': {
      const issuer = identity.sessionContext?.sessionIssuer?.arn;
      const issued = issuer ? { issuerArn: issuer } : {};
      if (identity.arn) return { ...principalFromArn(identity.arn), ...base, ...issued, mfa };
      const session = identity.principalId?.split(':')[1];
      return { ...base, ...issued, key: issuer ? `${issuer}/${session ?? '*'}` : identity.principalId ?? 'unknown', isAwsService: false, mfa };
    }
    case 'IdentityCenterUser': {
      const store = identity.onBehalfOf?.identityStoreArn;
      const user = identity.onBehalfOf?.userId;
      return { ...base, key: store && user ? `${store}/${user}` : `identity-center:${user ?? identity.principalId ?? 'unknown'}`, isAwsService: false, mfa: 'unknown' };
    }
    case 'AWSAccount':
      return { ...base, key: crossAccountKey(accountId, identity.principalId), isAwsService: false, mfa: 'unknown' };
    case 'IAMUser':
      return { ...base, key: identity.arn ?? `iam-user:${accountId ?? ''}:${identity.userName ?? identity.principalId ?? 'unknown'}`, isAwsService: false, mfa: 'impossible' };
    default:
      return {
        ...base,
        key: identity.arn ?? (identity.userName ? `${type}:${identity.userName}` : identity.principalId ? `${type}:${identity.principalId}` : type),
        isAwsService: false,
        mfa,
      };
  }
}

/** `AWSAccount:<account>:<role id>:<session or *>` (a role session), `AWSAccount:<account>:<user id>` otherwise. */
function crossAccountKey(accountId: string | undefined, principalId: string | undefined): string {
  const [id, session] = splitOnce(principalId ?? 'unknown', ':');
  const sessionPart = session === undefined ? '' : `:${isMachineSessionName(session) ? '*' : session}`;
  return `AWSAccount:${accountId ?? 'unknown'}:${id}${sessionPart}`;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/**
 * The role session name of a CloudTrail identity: an assumed role's (from its ARN or principal id),
 * or that of the resource owner's copy of a cross-account call (`AROA…:<session>`). Undefined otherwise.
 */
export function sessionNameOf(identity: UserIdentity | undefined): string | undefined {
  if (!identity || (identity.type !== 'AssumedRole' && identity.type !== 'AWSAccount')) return undefined;
  const fromArn = identity.arn ? STS_ASSUMED_ROLE.exec(identity.arn)?.[4] : undefined;
  return fromArn ?? splitOnce(identity.principalId ?? '', ':')[1];
}

/** The role ARN behind an assumed-role key or ARN, for matching configured automation roles. */
export function roleArnOf(principal: Principal): string | undefined {
  // Asked for every configured entry an event's principal is matched against: once per principal.
  let role = roleArns.get(principal);
  if (role === undefined) {
    const assumed = STS_ASSUMED_ROLE.exec(principal.arn ?? principal.key);
    role = assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : null;
    roleArns.set(principal, role);
  }
  return role ?? undefined;
}
/** Principals are read-only values (one per event): their role ARN, or null for none. */
const roleArns = new WeakMap<Principal, string | null>();

/**
 * Does a configured entry (an ARN, an ARN glob with *, or a principal key) name this principal?
 * A role ARN names every session of that role (path-insensitive, since STS ARNs drop the path).
 */
export function principalMatches(entry: string, principal: Principal): boolean {
  const { roleSuffix, wildcard } = compiledEntry(entry);
  const role = roleArnOf(principal);
  if (roleSuffix && role && role.endsWith(roleSuffix)) return true;
  const { key, arn, issuerArn } = principal;
  // The issuer's ARN keeps the role's path (service-role/, aws-reserved/sso.amazonaws.com/…), which STS ARNs drop.
  if (wildcard) return matchesGlob(wildcard, key) || matchesGlob(wildcard, arn) || matchesGlob(wildcard, role) || matchesGlob(wildcard, issuerArn);
  return (Boolean(key) && key === entry) || (Boolean(arn) && arn === entry) || (Boolean(role) && role === entry) || (Boolean(issuerArn) && issuerArn === entry);
}

function matchesGlob(glob: RegExp, name: string | undefined): boolean {
  return name !== undefined && name !== '' && glob.test(name);
}

interface CompiledEntry {
  /** A role ARN entry: the end of the role ARN of every session of that role. */
  readonly roleSuffix?: string;
  /** A glob entry as an anchored regular expression. */
  readonly wildcard?: RegExp;
}

/** Configured entries are matched for every event: each is read once (a few, from the configuration). */
const compiledEntries = new Map<string, CompiledEntry>();

function compiledEntry(entry: string): CompiledEntry {
  let compiled = compiledEntries.get(entry);
  if (!compiled) {
    const roleEntry = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(entry);
    compiled = {
      ...(roleEntry ? { roleSuffix: `:${roleEntry[1]}:role/${roleEntry[2]}` } : {}),
      ...(entry.includes('*') ? { wildcard: new RegExp(`^${entry.split('*').map(escapeRegex).join('.*')}$`) } : {}),
    };
    if (compiledEntries.size >= 10_000) compiledEntries.clear();
    compiledEntries.set(entry, compiled);
  }
  return compiled;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
