/**
 * artifact.new-accessor: a principal, or a whole account, accesses a CodeArtifact domain or
 * repository for the first time. Signals: GetAuthorizationToken (domain level, a write event, so
 * always delivered), package reads (ReadFromRepository, GetPackageVersionAsset: read-only, so the rule
 * needs ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS) and PublishPackageVersion (repository level).
 * Each event is two sightings in its scope: the caller's account, then the principal. A repository
 * event also records the principal in the domain's scope (silently, listed before the repository
 * sighting), so a principal of the domain owner's account already known on the domain that reaches
 * another repository for the first time is told apart from a newcomer: by default it is a low
 * attestation (option `knownPrincipalNewRepository`), since every new developer × repository does it.
 *
 * CodeArtifact logs one call to up to three accounts' trails (caller, repository administrator,
 * domain owner). Scopes and values never use the receiving account, so every copy makes the same
 * sighting; one incident per domain, principal and day folds the copies, the token and the reads
 * that follow it, into one finding.
 */
import type { BuildwatchConfig } from '../../../config/config.js';
import * as z from 'zod';
import type { Severity } from '../../../engine/model.js';
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type FirstSeenFacts, type Observation, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import { membershipOf, type Membership } from '../../organization-membership.js';
import { callTarget } from '../codeartifact.js';

const ACCOUNT_PREFIX = 'account:';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /**
   * A principal of the domain owner's account, already known on the domain, reading or publishing to
   * a repository of it for the first time: a low attestation (default), a low alert, or medium.
   */
  knownPrincipalNewRepository: z.enum(['attest', 'low', 'medium']).default('attest'),
}));

/** Whether the configuration watches this domain (no configured artifacts watches every domain). */
function isWatchedDomain(config: BuildwatchConfig, domain: string): boolean {
  return config.pipeline.artifacts.length === 0 || config.pipeline.artifacts.some((entry) => entry.domain === domain);
}

/** The account that made the call (the principal's, else the identity's accountId). */
function callerAccount(event: PipelineEvent): string | undefined {
  return event.principal?.accountId ?? event.cloudTrail?.userIdentity?.accountId;
}

function sightings(event: PipelineEvent, ctx: { config: BuildwatchConfig }): Sighting[] {
  const target = callTarget(event);
  const principal = event.principal;
  if (!target.domain || !target.domainOwner || !principal || !isWatchedDomain(ctx.config, target.domain)) return [];
  const domainScope = `${target.domainOwner}/${target.domain}`;
  // A token is for the whole domain; reads and publishes name their repository.
  const scope = event.cloudTrail?.eventName === 'GetAuthorizationToken' || !target.repository ? domainScope : `${domainScope}/${target.repository}`;
  const resource = scope.slice(target.domainOwner.length + 1);
  const account = callerAccount(event);
  const accountSighting = account ? [{ scope, value: `${ACCOUNT_PREFIX}${account}`, resource }] : [];
  // Before the repository sighting: whether the principal was already known on the domain.
  const domainMembership = scope === domainScope ? [] : [{ scope: domainScope, value: principal.key, resource: target.domain, expected: true }];
  return [...accountSighting, ...domainMembership, { scope, value: principal.key, resource }];
}

/** A principal sighting in a repository scope whose principal was already known on the domain. */
function knownOnDomain(sighting: Sighting, newEarlierInEvent: readonly Sighting[], domainScope: string): boolean {
  if (sighting.value.startsWith(ACCOUNT_PREFIX) || sighting.scope === domainScope) return false;
  return !newEarlierInEvent.some((earlier) => earlier.scope === domainScope && earlier.value === sighting.value);
}

/**
 * Another account, in an organisation deployment: one of ours (medium: a sibling account's pipeline)
 * or outside the organisation (critical: a stranger reached the pipeline's packages). When neither
 * configuration nor ListAccounts can tell, or outside an organisation: high, as before.
 */
function crossAccountVerdict(membership: Membership, account: string): { severity: Severity; title: string; whose: string; evidence: Record<string, unknown> } {
  switch (membership.status) {
    case 'member':
      return {
        severity: 'medium',
        title: 'Another account of the organisation accessed the artifact repository for the first time',
        whose: membership.name ? `${membership.name} (${account}) of the organisation` : `${account} of the organisation`,
        evidence: { organizationMember: true, membershipSource: membership.source, ...(membership.name ? { accountName: membership.name } : {}) },
      };
    case 'outside':
      return {
        severity: 'critical',
        title: 'An account outside the organisation accessed the artifact repository',
        whose: `${account} outside the organisation`,
        evidence: { organizationMember: false, membershipSource: membership.source },
      };
    case 'unknown':
      return { severity: 'high', title: 'Another account accessed the artifact repository for the first time', whose: account, evidence: { organizationMember: 'unknown', membershipReason: membership.reason } };
  }
}

async function describe({ sighting, scopeWatchedSince, knownValues, newEarlierInEvent }: FirstSeenFacts, event: PipelineEvent, ctx: UseCaseContext): Promise<Observation> {
  const options = optionsOf(optionsSchema, ctx);
  const target = callTarget(event);
  const owner = target.domainOwner ?? '';
  const domainScope = `${owner}/${target.domain ?? ''}`;
  const account = callerAccount(event) ?? 'unknown';
  const crossAccount = account !== owner;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const newAccount = sighting.value.startsWith(ACCOUNT_PREFIX);
  const action = event.cloudTrail?.eventName ?? 'access';
  const where = sighting.resource ?? sighting.scope;
  const knownColleague = !crossAccount && knownOnDomain(sighting, newEarlierInEvent, domainScope);
  const incidentKey = `${owner}/${target.domain ?? ''}|${event.principal?.key ?? account}|${event.time.slice(0, 10)}`;
  // Only an organisation deployment can tell its own accounts from strangers; single-account keeps the old finding.
  const verdict = crossAccount && ctx.config.organization ? crossAccountVerdict(await membershipOf(ctx.config, ctx.lookups, account), account) : undefined;
  const evidence = {
    scope: sighting.scope,
    newValue: sighting.value,
    principal: event.principal?.key,
    principalType: event.principal?.type,
    callerAccount: account,
    domainOwner: owner,
    crossAccount,
    knownOnDomain: knownColleague,
    eventName: action,
    repository: target.repository,
    package: target.package,
    knownValues,
    watchedSince: scopeWatchedSince,
    ...verdict?.evidence,
  };
  if (knownColleague) {
    const severity: Severity = options.knownPrincipalNewRepository === 'medium' ? 'medium' : 'low';
    return {
      resource: where,
      severity,
      title: 'Known principal used another artifact repository for the first time',
      summary: `${who}, already known on domain ${target.domain ?? ''}, accessed repository ${target.repository ?? where} for the first time (${action}; ${knownValues} known accessors of the repository)`,
      // A newcomer's token and first reads of the day stay one finding (only a same-account
      // principal is ever "known on the domain", so no alert of another kind can fold into this).
      incidentKey,
      attestation: options.knownPrincipalNewRepository === 'attest',
      evidence,
    };
  }
  const whose = verdict?.whose ?? account;
  const summary = newAccount
    ? `account ${whose} accessed ${where} for the first time (${action} by ${who}; the domain belongs to ${owner})`
    : `${who} accessed ${where} for the first time (${action}${crossAccount ? `, from account ${whose}; the domain belongs to ${owner}` : ''}; ${knownValues} known accessors, watched since ${scopeWatchedSince.slice(0, 10)})`;
  return {
    resource: where,
    // Another account reaching into the pipeline's packages is worse than a new colleague.
    severity: verdict?.severity ?? (crossAccount ? 'high' : 'medium'),
    title: verdict?.title ?? (crossAccount ? 'Another account accessed the artifact repository for the first time' : 'New principal accessed the artifact repository'),
    summary,
    incidentKey,
    evidence,
  };
}

export default defineUseCase({
  metadata: {
    id: 'artifact.new-accessor',
    answers: 'artifact.new-accessor',
    title: 'New principal or account accessed the artifact repository',
    stage: 'artifact',
    description:
      'First-seen per CodeArtifact domain (authorization tokens) and repository (package reads and publishes), by principal and by account, after the learning period. A principal from another account than the domain owner is high; a new principal of the same account is medium; a principal of the same account already known on the domain, reaching another repository of it for the first time, is a low attestation (option knownPrincipalNewRepository: attest, low or medium).',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 3,
    effort: 2,
    mitre: ['T1078.004', 'T1530', 'T1195.002'],
    falsePositives: [
      'A new build project or consumer account: confirm with its owners and let the baseline learn it; add CI roles to automationPrincipals.',
      'A developer installing packages for the first time.',
    ],
    runbook:
      'Ask the principal\'s owner why it needed the repository. For another account, check the domain and repository permission policies (artifact.policy-grant) for who granted it. If unknown: revoke the principal\'s credentials, and review what it read or published (CloudTrail ReadFromRepository / PublishPackageVersion) since.',
    references: [
      'https://docs.aws.amazon.com/codeartifact/latest/ug/codeartifact-information-in-cloudtrail.html',
      'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html',
    ],
    // ReadFromRepository and GetPackageVersionAsset are read-only management events (EVENTS.md 2).
    readOnlyEvents: true,
  },
  pattern: {
    source: ['aws.codeartifact'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['codeartifact.amazonaws.com'],
      eventName: ['GetAuthorizationToken', 'ReadFromRepository', 'GetPackageVersionAsset', 'PublishPackageVersion'],
    },
  },
  optionsSchema,
  logic: { kind: 'firstSeen', sightings, describe },
});
