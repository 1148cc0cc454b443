/**
 * Who a resource policy (a KMS key policy, a CodeBuild resource policy) lets in, reduced to what
 * matters for the pipeline: everyone (`*` without an account or organisation condition) and the
 * accounts other than the owner's. CloudTrail logs the policy as a JSON string, so parse it first.
 */
import { textOf } from '../../engine/own-keys.js';
import { isRecord } from '../../engine/pipeline-event.js';

export interface PolicyExposure {
  /** Statement ids (or indexes) that allow any principal without an account or organisation condition. */
  readonly publicStatements: string[];
  /** Accounts other than the owner's (and the trusted ones) named by Allow statements. */
  readonly externalAccounts: string[];
  /** The policy text could not be read as a policy: the caller decides how to rate that. */
  readonly unreadable: boolean;
}

const ACCOUNT_ARN = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/;
/** Conditions that pin a `*` principal to accounts or an organisation (case-insensitive keys). */
const ACCOUNT_CONDITIONS = new Set(['kms:calleraccount', 'aws:principalaccount', 'aws:sourceaccount', 'aws:resourceaccount']);
const ORG_CONDITIONS = new Set(['aws:principalorgid', 'aws:principalorgpaths', 'aws:sourceorgid', 'aws:sourceorgpaths']);
const ARN_CONDITIONS = new Set(['aws:principalarn', 'aws:sourcearn', 'aws:sourceowner']);

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** The 12-digit account an AWS principal names, `*` for everyone, undefined for anything else. */
export function accountOfPrincipal(principal: string): string | undefined {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return principal;
  return ACCOUNT_ARN.exec(principal)?.[1];
}

/** Accounts a condition block restricts the principal to; undefined when it does not restrict by account. */
function conditionAccounts(condition: unknown): { accounts: string[]; organisation: boolean } | undefined {
  if (!isRecord(condition)) return undefined;
  const accounts: string[] = [];
  let organisation = false;
  let restricted = false;
  for (const [operator, block] of Object.entries(condition)) {
    // Negated operators (StringNotEquals…) and IfExists variants exclude rather than restrict.
    if (/not/i.test(operator) || /ifexists$/i.test(operator) || !isRecord(block)) continue;
    for (const [key, values] of Object.entries(block)) {
      const k = key.toLowerCase();
      if (ACCOUNT_CONDITIONS.has(k)) {
        restricted = true;
        accounts.push(...list(values).map(textOf));
      } else if (ARN_CONDITIONS.has(k)) {
        const found = list(values).map((v) => accountOfPrincipal(textOf(v)) ?? /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/.exec(textOf(v))?.[1]);
        if (found.every((a) => a !== undefined && a !== '*')) {
          restricted = true;
          accounts.push(...(found as string[]));
        }
      } else if (ORG_CONDITIONS.has(k)) {
        restricted = true;
        organisation = true;
      }
    }
  }
  return restricted ? { accounts, organisation } : undefined;
}

/** Reads a policy (JSON text or an object) and reports public statements and outside accounts. */
export function policyExposure(policy: unknown, ownerAccount: string | undefined, trustedAccounts: readonly string[] = []): PolicyExposure {
  let document: unknown = policy;
  if (typeof policy === 'string') {
    try {
      document = JSON.parse(policy) as unknown;
    } catch {
      return { publicStatements: [], externalAccounts: [], unreadable: true };
    }
  }
  if (!isRecord(document)) return { publicStatements: [], externalAccounts: [], unreadable: true };
  const trusted = new Set([...(ownerAccount ? [ownerAccount] : []), ...trustedAccounts]);
  const publicStatements: string[] = [];
  const external = new Set<string>();
  list(document['Statement']).forEach((statement, index) => {
    if (!isRecord(statement) || statement['Effect'] !== 'Allow') return;
    const sid = typeof statement['Sid'] === 'string' && statement['Sid'] !== '' ? statement['Sid'] : `#${index}`;
    // Allow with NotPrincipal lets in everyone but the named ones.
    if (statement['NotPrincipal'] !== undefined) {
      publicStatements.push(sid);
      return;
    }
    const principal = statement['Principal'];
    const aws = principal === '*' ? ['*'] : isRecord(principal) ? list(principal['AWS']).map(textOf) : [];
    const restriction = conditionAccounts(statement['Condition']);
    for (const entry of aws) {
      const account = accountOfPrincipal(entry);
      if (account === '*') {
        if (!restriction) publicStatements.push(sid);
        else for (const a of restriction.accounts) if (!trusted.has(a)) external.add(a);
      } else if (account && !trusted.has(account)) {
        external.add(account);
      }
    }
  });
  return { publicStatements: [...new Set(publicStatements)], externalAccounts: [...external].sort(), unreadable: false };
}
