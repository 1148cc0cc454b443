/**
 * The policy layer: what configuration does to a use case's observations. Mode, severity override,
 * exclusions and suppressions live here, so tuning a noisy use case never touches its code.
 */
import type { BuildwatchConfig, UseCaseSettings } from '../config/config.js';
import { watchedMemberAccounts } from '../config/organization.js';
import type { FindingMode, Mode, Principal, Severity } from './model.js';
import type { PipelineEvent } from './pipeline-event.js';
import { principalMatches } from './principal.js';
import type { ResolvedMetadata } from './use-case.js';

export interface EffectivePolicy {
  readonly mode: Mode;
  readonly severityOverride?: Severity;
  readonly learningDays: number;
  readonly forgetAfterDays: number;
  readonly excludePrincipals: readonly string[];
  /** 0: no windowed dedup. */
  readonly dedupWindowMinutes: number;
  /** 0: no staging. */
  readonly stagingDays: number;
}

const NO_SETTINGS: UseCaseSettings = { excludePrincipals: [], options: {} };

export function policyFor(metadata: ResolvedMetadata, config: BuildwatchConfig): EffectivePolicy {
  const settings = config.useCases[metadata.id] ?? NO_SETTINGS;
  return {
    mode: settings.mode ?? metadata.defaultMode,
    ...(settings.severity ? { severityOverride: settings.severity } : {}),
    learningDays: settings.learningDays ?? config.defaults.learningDays,
    forgetAfterDays: settings.forgetAfterDays ?? config.defaults.forgetAfterDays,
    excludePrincipals: settings.excludePrincipals,
    dedupWindowMinutes: settings.dedupWindowMinutes ?? metadata.dedupWindowMinutes ?? config.defaults.dedupWindowMinutes,
    // The monitor's health checks are never staged: the heartbeat needs the canary's alerts at once.
    stagingDays: metadata.answers === 'monitor.health' ? 0 : (settings.stagingDays ?? config.defaults.stagingDays),
  };
}

/** The end (ISO, exclusive) of a use case's staging days, counted from when it started evaluating. */
export function stagingEnds(enabledSince: string, stagingDays: number): string {
  return new Date(Date.parse(enabledSince) + stagingDays * 86_400_000).toISOString();
}

/** Why an event is not evaluated at all, or undefined when it is. */
export function exclusionReason(metadata: ResolvedMetadata, policy: EffectivePolicy, event: PipelineEvent): string | undefined {
  if (policy.mode === 'off') return 'use case is off';
  if (!event.succeeded && !metadata.includeFailedCalls) return `failed call (${event.cloudTrail?.errorCode ?? 'error'})`;
  if (event.principal?.isAwsService && !metadata.includeAwsServiceCalls) return `AWS service principal (${event.principal.key})`;
  const principal = event.principal;
  if (principal && policy.excludePrincipals.some((entry) => principalMatches(entry, principal))) return 'principal excluded by configuration';
  return undefined;
}

/**
 * In an organisation deployment, the copy of a cross-account call that the resource owner's trail
 * logs (userIdentity AWSAccount: the caller's account and principal id, no ARN) when the caller is an
 * account the monitor watches: that account's trail logs the same call with the full identity, and
 * that copy is the one judged (otherwise every such call would be judged twice, the second time under
 * a principal key without the role's name).
 */
export function ownerCopyReason(config: BuildwatchConfig, event: PipelineEvent): string | undefined {
  const identity = event.cloudTrail?.userIdentity;
  if (identity?.type !== 'AWSAccount' || !identity.accountId || !config.organization) return undefined;
  if (!watchedMemberAccounts(config).has(identity.accountId)) return undefined;
  return `the resource owner's copy of a call by watched account ${identity.accountId} (its own trail's copy is judged)`;
}

/** CI/CD principals named in the configuration: known contributors by definition. */
export function isAutomationPrincipal(config: BuildwatchConfig, principal: Principal | undefined): boolean {
  return Boolean(principal && config.automationPrincipals.some((entry) => principalMatches(entry, principal)));
}

/** The configured suppression that silences this finding at its event time, if any. */
export function activeSuppression(
  config: BuildwatchConfig,
  useCase: string,
  principal: Principal | undefined,
  resource: string | undefined,
  eventTime: string,
): BuildwatchConfig['suppressions'][number] | undefined {
  const day = eventTime.slice(0, 10);
  return config.suppressions.find(
    (suppression) =>
      (suppression.useCase === useCase || suppression.useCase === '*') &&
      suppression.expires >= day &&
      (!suppression.principal || (principal !== undefined && principalMatches(suppression.principal, principal))) &&
      (!suppression.resource || globMatches(suppression.resource, resource)),
  );
}

function globMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

export function findingMode(mode: Mode, attestation: boolean | undefined): FindingMode {
  return attestation || mode === 'attest' ? 'attest' : 'alert';
}

/**
 * Suppressions whose expiry date has passed at `today` (yyyy-mm-dd): they no longer apply to events
 * after that date, which usually means a migration or change window ended, or was forgotten.
 */
export function expiredSuppressions(config: BuildwatchConfig, today: string): BuildwatchConfig['suppressions'] {
  return config.suppressions.filter((suppression) => suppression.expires < today);
}

/** The team that owns a resource (a repository, build project or package name, or an ARN ending in one). */
export function teamFor(config: BuildwatchConfig, resource: string | undefined, account?: string): string | undefined {
  const teams = Object.entries(config.routing.teams);
  if (resource) {
    const name = resource.split(/[:/]/).pop() ?? resource;
    for (const [team, owned] of teams) {
      const all = [...owned.repositories, ...owned.buildProjects, ...owned.packages];
      if (all.includes(resource) || all.includes(name)) return team;
    }
  }
  // Organisation deployments: a team owning the account gets what no team claims by resource.
  if (account) return teams.find(([, owned]) => owned.accounts.includes(account))?.[0];
  return undefined;
}
