/**
 * The account and region an event is about, and how organisation deployments key state by them.
 *
 * The account is the owner of the thing acted on, never the caller's: a cross-account call reaches
 * EventBridge as one copy per account (the caller's, the resource owner's, for CodeArtifact also the
 * domain owner's; EVENTS.md 2), and all copies must land on the same state. So, in order:
 * the one account the record's `resources` name, the CodeArtifact `domainOwner` parameter, the
 * account that received the copy (`recipientAccountId`), the envelope's `account`. Native events name
 * the account they happened in (`account`). `userIdentity.accountId` is who acted: the principal.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { ACCOUNT_ID } from '../config/config.js';
import { stringAt, type PipelineEvent } from './pipeline-event.js';

export interface EventLocation {
  readonly account?: string;
  readonly region?: string;
}

function resourceOwner(event: PipelineEvent): string | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const owners = new Set((record.resources ?? []).map((resource) => resource.accountId).filter((id): id is string => typeof id === 'string' && ACCOUNT_ID.test(id)));
  // Several owners (a cross-account grant): no single one; the recipient decides below.
  if (owners.size === 1) return [...owners][0];
  const domainOwner = stringAt(record.requestParameters, 'domainOwner');
  return domainOwner && ACCOUNT_ID.test(domainOwner) ? domainOwner : undefined;
}

export function eventLocation(event: PipelineEvent): EventLocation {
  const record = event.cloudTrail;
  const account = resourceOwner(event) ?? (record?.recipientAccountId || undefined) ?? (event.envelope.account || undefined);
  const region = (record?.awsRegion || undefined) ?? (event.envelope.region || undefined);
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

/** Organisation mode: keys of state, dedup windows and correlations are kept per account and region. */
export function isOrganization(config: BuildwatchConfig): boolean {
  return config.organization !== undefined;
}

/**
 * `<account>/<region>/<key>` in organisation mode (two accounts may both have a `payments-service`
 * repository); the key itself otherwise, so single-account tables keep their items byte for byte.
 */
export function locatedKey(config: BuildwatchConfig, location: EventLocation, key: string): string {
  if (!isOrganization(config)) return key;
  return `${location.account ?? 'unknown-account'}/${location.region ?? 'unknown-region'}/${key}`;
}

/** The key without its `<account>/<region>/` prefix (organisation mode), as the use case made it. */
export function unlocatedKey(config: BuildwatchConfig, key: string): string {
  if (!isOrganization(config)) return key;
  const parts = key.split('/');
  return parts.length >= 3 ? parts.slice(2).join('/') : key;
}
