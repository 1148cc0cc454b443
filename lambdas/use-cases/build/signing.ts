/**
 * The pipeline's signing material as the configuration names it (`pipeline.signing`): KMS keys by
 * ARN, key id or alias, Signer profiles by name or ARN, ACM certificates by ARN; and the same
 * identifiers read out of KMS, Signer and ACM events.
 *
 * Alias ↔ key: an event that names a key only by its ARN or id matches a configured alias only when
 * the configuration lists that key too (or the event also names the alias, as Sign with an alias and
 * alias operations do). Administrative KMS calls (PutKeyPolicy, DisableKey, ScheduleKeyDeletion…)
 * accept only key ids and ARNs, so list the key, not just its alias.
 */
import type { BuildwatchConfig } from '../../config/config.js';
import { isRecord, stringAt, type PipelineEvent } from '../../engine/pipeline-event.js';

export type KmsRef = { readonly kind: 'key'; readonly id: string } | { readonly kind: 'alias'; readonly name: string };

const KEY_ARN = /^arn:aws[a-z-]*:kms:[^:]*:\d{12}:key\/(.+)$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:[^:]*:\d{12}:(alias\/.+)$/;

/** A key id, key ARN, alias name or alias ARN, reduced to what identifies it across regions and forms. */
export function kmsRefOf(value: string): KmsRef | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  const keyArn = KEY_ARN.exec(text);
  if (keyArn) return { kind: 'key', id: (keyArn[1] as string).toLowerCase() };
  const aliasArn = ALIAS_ARN.exec(text);
  if (aliasArn) return { kind: 'alias', name: aliasArn[1] as string };
  if (text.startsWith('alias/')) return { kind: 'alias', name: text };
  if (text.startsWith('arn:')) return undefined;
  return { kind: 'key', id: text.toLowerCase() };
}

export interface SigningTargets {
  readonly keyIds: ReadonlySet<string>;
  readonly aliases: ReadonlySet<string>;
  readonly profiles: ReadonlySet<string>;
  readonly certificates: ReadonlySet<string>;
}

export function signingTargets(config: BuildwatchConfig): SigningTargets {
  const keyIds = new Set<string>();
  const aliases = new Set<string>();
  for (const entry of config.pipeline.signing.kmsKeys) {
    const ref = kmsRefOf(entry);
    if (ref?.kind === 'key') keyIds.add(ref.id);
    else if (ref?.kind === 'alias') aliases.add(ref.name);
  }
  return {
    keyIds,
    aliases,
    profiles: new Set(config.pipeline.signing.signerProfiles.map((p) => signerProfileName(p) ?? p)),
    certificates: new Set(config.pipeline.signing.certificates),
  };
}

export function hasSigningTargets(targets: SigningTargets): boolean {
  return targets.keyIds.size + targets.aliases.size + targets.profiles.size + targets.certificates.size > 0;
}

/** `arn:aws:signer:<region>:<account>:/signing-profiles/<name>[/<version>]` or a bare name → the name. */
export function signerProfileName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const arn = /^arn:aws[a-z-]*:signer:[^:]*:\d{12}:\/signing-profiles\/([^/]+)/.exec(value);
  if (arn) return arn[1];
  return value.startsWith('arn:') ? undefined : value;
}

/** The KMS identifiers an event names: request, response, additional data, resources, native detail. */
export interface KmsIdentifiers {
  readonly keyIds: string[];
  readonly aliases: string[];
  /** A key ARN when the event gives one (the best resource name for a finding). */
  readonly keyArn?: string;
  /** The account that owns the key, when an ARN says so. */
  readonly keyAccount?: string;
}

export function kmsIdentifiers(event: PipelineEvent): KmsIdentifiers {
  const record = event.cloudTrail;
  const candidates: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value !== '') candidates.push(value);
  };
  if (record) {
    add(stringAt(record.requestParameters, 'keyId'));
    add(stringAt(record.requestParameters, 'targetKeyId'));
    add(stringAt(record.requestParameters, 'aliasName'));
    add(stringAt(record.responseElements, 'keyId'));
    add(stringAt(record.responseElements, 'keyMetadata', 'arn'));
    add(stringAt(record.additionalEventData, 'keyId'));
    for (const resource of record.resources ?? []) add(resource.ARN);
  } else {
    add(stringAt(event.detail, 'key-id'));
    for (const arn of event.envelope.resources) add(arn);
  }
  const keyIds = new Set<string>();
  const aliases = new Set<string>();
  let keyArn: string | undefined;
  for (const candidate of candidates) {
    const ref = kmsRefOf(candidate);
    if (ref?.kind === 'key') keyIds.add(ref.id);
    if (ref?.kind === 'alias') aliases.add(ref.name);
    if (!keyArn && KEY_ARN.test(candidate)) keyArn = candidate;
  }
  const keyAccount = keyArn ? /:(\d{12}):key\//.exec(keyArn)?.[1] : undefined;
  return { keyIds: [...keyIds], aliases: [...aliases], ...(keyArn ? { keyArn } : {}), ...(keyAccount ? { keyAccount } : {}) };
}

/** Whether the identifiers name a configured key (by id/ARN, or by a configured alias). */
export function namesConfiguredKey(ids: Pick<KmsIdentifiers, 'keyIds' | 'aliases'>, targets: SigningTargets): boolean {
  return ids.keyIds.some((id) => targets.keyIds.has(id)) || ids.aliases.some((alias) => targets.aliases.has(alias));
}

/**
 * The key an alias operation points the alias at: `requestParameters.targetKeyId` (CreateAlias,
 * UpdateAlias), a key id or key ARN. Only the request says which key is the new target: the
 * `resources` of a real UpdateAlias record can name the key the alias pointed at before, and
 * `responseElements.keyId` names "the affected key". The response is used only to spell a bare key
 * id as its ARN when both name the same key.
 */
export interface AliasTarget {
  readonly ref?: KmsRef;
  /** As the caller gave it (or its ARN), for summaries. */
  readonly label: string;
}

export function aliasTargetOf(event: PipelineEvent): AliasTarget {
  const record = event.cloudTrail;
  const given = stringAt(record?.requestParameters, 'targetKeyId');
  const ref = given ? kmsRefOf(given) : undefined;
  if (!given || !ref) return { label: 'an unknown key' };
  const responseKey = stringAt(record?.responseElements, 'keyId');
  const responseRef = responseKey ? kmsRefOf(responseKey) : undefined;
  const sameKey = ref.kind === 'key' && responseRef?.kind === 'key' && responseRef.id === ref.id && KEY_ARN.test(responseKey ?? '');
  return { ref, label: sameKey ? (responseKey as string) : given };
}

/** Whether an alias target is one of the configured signing keys (by id or ARN, or a configured alias). */
export function isListedAliasTarget(target: AliasTarget, targets: SigningTargets): boolean {
  if (target.ref?.kind === 'key') return targets.keyIds.has(target.ref.id);
  if (target.ref?.kind === 'alias') return targets.aliases.has(target.ref.name);
  return false;
}

/** The key ids an alias operation's `resources` name (for DeleteAlias: the key the alias pointed at). */
export function aliasResourceKeyIds(event: PipelineEvent): string[] {
  const ids = new Set<string>();
  for (const resource of event.cloudTrail?.resources ?? []) {
    const ref = resource.ARN ? kmsRefOf(resource.ARN) : undefined;
    if (ref?.kind === 'key') ids.add(ref.id);
  }
  return [...ids];
}

/** The readable name of a KMS key for summaries: a configured alias it goes by, else its ARN or id. */
export function keyLabel(ids: KmsIdentifiers): string {
  return ids.aliases[0] ?? ids.keyArn ?? ids.keyIds[0] ?? 'unknown key';
}

/** A grantee or permission principal, as a string, from a CloudTrail request. */
export function principalText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value)) return stringAt(value, 'AWS') ?? undefined;
  return undefined;
}

/** The ACM certificate ARN a request or response names. */
export function certificateArnOf(event: PipelineEvent): string | undefined {
  const record = event.cloudTrail;
  return (
    stringAt(record?.requestParameters, 'certificateArn') ??
    stringAt(record?.responseElements, 'certificateArn') ??
    record?.resources?.map((r) => r.ARN).find((arn): arn is string => Boolean(arn?.includes(':acm:')))
  );
}
