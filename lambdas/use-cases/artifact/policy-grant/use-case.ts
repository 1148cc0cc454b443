/**
 * artifact.policy-grant: a CodeArtifact domain or repository permission policy grants access to an
 * account it never granted before, or to everyone (`*` without a condition that restricts it to an
 * organisation or account). The policy document is a JSON string in the request (EVENTS.md 5.2);
 * its Allow grants are kept as state per domain/repository, so re-putting the same policy is quiet
 * and only new grants are judged. The first policy seen is compared with "no grants", since a
 * repository without a policy grants nothing beyond its own account's IAM.
 */
import * as z from 'zod';
import { ownValue, setOwn } from '../../../engine/own-keys.js';
import type { Severity } from '../../../engine/model.js';
import { maxSeverity } from '../../../engine/model.js';
import { isRecord, stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { trustedAccountsOf } from '../../organization-membership.js';
import { callTarget } from '../codeartifact.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Accounts that may be granted without an alert (the organisation's consumer accounts). */
  trustedAccounts: z.array(z.string().regex(/^\d{12}$/, '12-digit account id')).default([]),
}));

/** Condition keys that pin a `*` principal to an organisation, account or principal. */
const RESTRICTING_KEYS = new Set(
  ['aws:PrincipalOrgID', 'aws:PrincipalOrgPaths', 'aws:PrincipalAccount', 'aws:PrincipalArn', 'aws:SourceAccount', 'aws:SourceArn', 'aws:SourceOrgID', 'aws:SourceOrgPaths', 'aws:userid', 'aws:username'].map((key) => key.toLowerCase()),
);

const grantsSchema = builtOnFirstUse(() => z.record(z.string(), z.object({ actions: z.array(z.string()), restricted: z.boolean() })));
type Grant = z.infer<typeof grantsSchema>[string];

/** Grants as kept in the state (a snapshot written by this use case; anything else counts as none). */
function storedGrants(value: unknown): Record<string, Grant> {
  const parsed = grantsSchema.safeParse(value);
  return parsed.success ? parsed.data : {};
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** `*`, an account id, or the ARN given; AWS principals only (services have no account). */
function principalsOf(statement: Record<string, unknown>): string[] {
  if (statement['NotPrincipal'] !== undefined) return ['*'];
  const principal = statement['Principal'];
  if (principal === '*') return ['*'];
  if (!isRecord(principal)) return [];
  return asList(principal['AWS']).filter((p): p is string => typeof p === 'string');
}

function restricts(condition: unknown): boolean {
  if (!isRecord(condition)) return false;
  return Object.values(condition).some((clauses) => isRecord(clauses) && Object.keys(clauses).some((key) => RESTRICTING_KEYS.has(key.toLowerCase())));
}

/** The Allow grants of a policy document, by principal. Undefined when the document is unreadable. */
export function grantsOf(document: string | undefined): Record<string, Grant> | undefined {
  if (document === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const grants: Record<string, Grant> = {};
  for (const statement of asList(parsed['Statement']).filter(isRecord)) {
    if (statement['Effect'] !== 'Allow') continue;
    const actions = asList(statement['Action']).filter((a): a is string => typeof a === 'string');
    const restricted = restricts(statement['Condition']);
    for (const principal of principalsOf(statement)) {
      const known = ownValue(grants, principal);
      setOwn(grants, principal, {
        actions: [...new Set([...(known?.actions ?? []), ...actions])].sort(),
        // One unrestricted statement is enough to open it.
        restricted: (known?.restricted ?? true) && restricted,
      });
    }
  }
  return grants;
}

/** The account a principal entry names: `123456789012` or an ARN in that account. */
function accountOf(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1];
}

const POLICY_EVENTS = new Set(['PutRepositoryPermissionsPolicy', 'PutDomainPermissionsPolicy', 'DeleteRepositoryPermissionsPolicy', 'DeleteDomainPermissionsPolicy']);

function report(event: PipelineEvent): StateReport | undefined {
  const record = event.cloudTrail;
  if (!record || !POLICY_EVENTS.has(record.eventName)) return undefined;
  const target = callTarget(event);
  if (!target.domain || !target.domainOwner) return undefined;
  const repositoryLevel = record.eventName.includes('Repository');
  if (repositoryLevel && !target.repository) return undefined;
  const document = record.eventName.startsWith('Delete') ? undefined : stringAt(record.requestParameters, 'policyDocument');
  const grants = grantsOf(document);
  if (grants === undefined) return undefined;
  const where = repositoryLevel ? `${target.domain}/${target.repository}` : target.domain;
  return {
    key: `policy/${target.domainOwner}/${where}`,
    resource: where,
    state: { owner: target.domainOwner, grants: grants as unknown as JsonObject },
    partial: false,
  };
}

interface Judged {
  readonly principal: string;
  readonly severity: Severity | undefined;
  readonly why: string;
}

function judgeGrant(principal: string, grant: Grant, old: Grant | undefined, owner: string, trusted: ReadonlySet<string>): Judged {
  const judged = judgeNewGrant(principal, grant, owner, trusted);
  // Already granted and still as restricted: only more actions for someone known.
  if (old && !(old.restricted && !grant.restricted) && judged.severity !== undefined) {
    const added = grant.actions.filter((action) => !old.actions.includes(action));
    return { principal, severity: 'medium', why: `more actions (${added.join(', ')}) to ${judged.why}` };
  }
  return judged;
}

function judgeNewGrant(principal: string, grant: Grant, owner: string, trusted: ReadonlySet<string>): Judged {
  if (principal === '*') {
    return grant.restricted
      ? { principal, severity: undefined, why: 'everyone, restricted by a condition' }
      : { principal, severity: 'high', why: 'everyone (* without a restricting condition)' };
  }
  const account = accountOf(principal);
  if (!account) return { principal, severity: 'high', why: `an unrecognised principal ${principal}` };
  if (account === owner) return { principal, severity: undefined, why: 'the domain owner\'s account' };
  if (trusted.has(account)) return { principal, severity: undefined, why: `trusted account ${account}` };
  return { principal, severity: 'high', why: `account ${account}` };
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const trusted = trustedAccountsOf(ctx.config, optionsOf(optionsSchema, ctx).trustedAccounts);
  const owner = String(facts.after['owner'] ?? facts.before['owner'] ?? '');
  const before = storedGrants(facts.before['grants']);
  const after = storedGrants(facts.after['grants']);
  // New principals, and `*` that lost its restricting condition.
  const widened = Object.entries(after).filter(([principal, grant]) => {
    const old = ownValue(before, principal);
    return !old || (old.restricted && !grant.restricted) || grant.actions.some((action) => !old.actions.includes(action));
  });
  const removed = Object.keys(before).filter((principal) => !Object.hasOwn(after, principal));
  const judged = widened.map(([principal, grant]) => judgeGrant(principal, grant, ownValue(before, principal), owner, trusted));
  const alerting = judged.filter((j) => j.severity !== undefined);
  const severity = alerting.reduce<Severity>((max, j) => maxSeverity(max, j.severity as Severity), 'info');
  const where = facts.report.resource ?? facts.report.key;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const eventName = event.cloudTrail?.eventName ?? 'policy change';
  const firstSeen = facts.since === 'look-up';
  // An alert names only what it is about; an attestation names everything that changed.
  const shown = alerting.length > 0 ? alerting : judged;
  const changes = [
    ...shown.map((j) => `grants ${j.why}${/^\d{12}$|:root$|^\*$/.test(j.principal) ? '' : ` (${j.principal})`}`),
    ...(alerting.length > 0 ? [] : removed.map((principal) => `no longer grants ${principal}`)),
  ];
  return {
    resource: where,
    dedupKey: facts.report.key,
    severity,
    attestation: alerting.length === 0,
    title: alerting.length > 0 ? 'Artifact repository policy grants a new account or everyone' : 'Artifact repository policy changed',
    summary: `${who} ${eventName === 'DeleteRepositoryPermissionsPolicy' || eventName === 'DeleteDomainPermissionsPolicy' ? 'deleted' : 'set'} the permission policy of ${where}${changes.length > 0 ? `: ${changes.join('; ')}` : ''}${firstSeen ? ' (first policy seen for it)' : ''}`,
    evidence: {
      eventName,
      domainOwner: owner,
      granted: judged.map((j) => ({ principal: j.principal, why: j.why, alert: j.severity !== undefined })),
      removed,
      grantsBefore: before as unknown as JsonObject,
      grantsAfter: after as unknown as JsonObject,
      firstPolicySeen: firstSeen,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'artifact.policy-grant',
    answers: 'artifact.new-accessor',
    title: 'Artifact repository policy grants a new account or everyone',
    stage: 'artifact',
    description:
      'Parses CodeArtifact domain and repository permission policies (PutRepositoryPermissionsPolicy, PutDomainPermissionsPolicy) and keeps their Allow grants. A grant to an account never granted before (other than the domain owner, configured trusted accounts and the accounts an organisation configuration names), or to `*` without a condition restricting it to an organisation or account, is high; other changes are attestations.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 1,
    mitre: ['T1098', 'T1195.002'],
    falsePositives: ['A new consumer account of the organisation that the configuration does not name: list it in trustedAccounts, or restrict the grant with aws:PrincipalOrgID.'],
    runbook:
      'Confirm the grant with the repository\'s owners. If unexpected: restore the previous policy (evidence has the grants before and after), then review what the granted account did since (artifact.new-accessor, CloudTrail GetAuthorizationToken and ReadFromRepository from that account).',
    references: [
      'https://docs.aws.amazon.com/codeartifact/latest/ug/repo-policies.html',
      'https://docs.aws.amazon.com/codeartifact/latest/ug/domain-policies.html',
    ],
  },
  pattern: {
    source: ['aws.codeartifact'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codeartifact.amazonaws.com'], eventName: [...POLICY_EVENTS] },
  },
  logic: {
    kind: 'drift',
    report,
    // No policy seen yet: compare with no grants, so the first policy's grants are judged too.
    initialState: async (stateReport) => ({ owner: stateReport.state['owner'] ?? '', grants: {} }),
    assess,
  },
  optionsSchema,
});
