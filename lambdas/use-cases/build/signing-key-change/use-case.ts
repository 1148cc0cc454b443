/**
 * build.signing-key-change: the keys and certificates the pipeline signs with (those named in
 * `pipeline.signing`) were changed: KMS key policy, grants, aliases, state, key material, rotation;
 * Signer profiles and their permissions; ACM certificates deleted or exported (re-imports: see
 * build.signing-certificate-change); and the
 * native KMS events for deletion and expired key material. Automatic rotation is not a change.
 *
 * Matching: see signing.ts (a configured alias matches an event that names only the key's ARN when
 * the configuration lists the key too). Keys, profiles and certificates that are not the pipeline's
 * are ignored, or reported low with the option `unlisted: "low"`. Changes through infrastructure as
 * code are lowered, except deletions, exports and exposure to everyone or other accounts.
 */
import { textOf } from '../../../engine/own-keys.js';
import * as z from 'zod';
import type { Severity } from '../../../engine/model.js';
import { stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { principalFromArn } from '../../../engine/principal.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';
import { refusedSummary } from '../phrasing.js';
import { accountOfPrincipal, policyExposure } from '../policy-principals.js';
import { trustedAccountsOf } from '../../organization-membership.js';
import {
  aliasResourceKeyIds,
  aliasTargetOf,
  certificateArnOf,
  keyLabel,
  kmsIdentifiers,
  isListedAliasTarget,
  kmsRefOf,
  namesConfiguredKey,
  principalText,
  signerProfileName,
  signingTargets,
  type KmsIdentifiers,
  type SigningTargets,
} from '../signing.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  ...infrastructureAsCodeOptions,
  /** Keys, Signer profiles and certificates the configuration does not list: ignored, or reported low. */
  unlisted: z.enum(['ignore', 'low']).default('ignore'),
  /** Accounts that may appear in key policies, grants and profile permissions (besides the owner's and, in an organisation deployment, the organisation's configured accounts). */
  trustedAccounts: z.array(z.string().regex(/^\d{12}$/, '12-digit account id')).default([]),
}));
type Options = z.output<typeof optionsSchema>;

/** What a use-case-independent handler found: graded, described, and how IaC may treat it. */
interface Change {
  readonly severity: Severity;
  readonly title: string;
  /** Past-tense predicate: "disabled signing key alias/release-signing". */
  readonly what: string;
  readonly resource: string;
  /** Deletions, exports and exposure to others keep their severity through infrastructure as code. */
  readonly keepsSeverity?: boolean;
  readonly incidentKey?: string;
  readonly evidence?: Record<string, unknown>;
  /** False when the resource is not the pipeline's (reported only with unlisted: low). */
  readonly listed: boolean;
  /** Something that happened to the key (deletion, expiry), not an act of the event's principal. */
  readonly happened?: boolean;
}

/** `trusted`: the configured trusted accounts and the organisation's own (trustedAccountsOf). */
function accountOutside(principal: string | undefined, owner: string | undefined, trusted: ReadonlySet<string>): boolean {
  const account = principal ? accountOfPrincipal(principal) : undefined;
  return account === '*' || (account !== undefined && account !== owner && !trusted.has(account));
}

function keyChange(event: PipelineEvent, ids: KmsIdentifiers, targets: SigningTargets, trusted: ReadonlySet<string>, ctx: UseCaseContext): Change | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const listed = namesConfiguredKey(ids, targets);
  const key = keyLabel(ids);
  const resource = ids.keyArn ?? key;
  const owner = ids.keyAccount ?? record.recipientAccountId;
  const base = { resource, listed };
  switch (record.eventName) {
    case 'PutKeyPolicy': {
      const exposure = policyExposure(params['policy'], owner, [...trusted]);
      const lockout = params['bypassPolicyLockoutSafetyCheck'] === true ? ' (policy lockout safety check bypassed)' : '';
      const evidence = { publicStatements: exposure.publicStatements, externalAccounts: exposure.externalAccounts, bypassPolicyLockoutSafetyCheck: params['bypassPolicyLockoutSafetyCheck'] ?? null };
      if (exposure.publicStatements.length > 0) {
        return { ...base, severity: 'critical', title: 'Signing key policy opened to everyone', what: `changed the key policy of signing key ${key}: any principal allowed (statements ${exposure.publicStatements.join(', ')})${lockout}`, keepsSeverity: true, evidence };
      }
      if (exposure.externalAccounts.length > 0) {
        return { ...base, severity: 'critical', title: 'Signing key policy grants another account', what: `changed the key policy of signing key ${key}: accounts ${exposure.externalAccounts.join(', ')} allowed${lockout}`, keepsSeverity: true, evidence };
      }
      return { ...base, severity: 'high', title: 'Signing key policy changed', what: `changed the key policy of signing key ${key}${exposure.unreadable ? ' (the policy could not be read)' : ''}${lockout}`, evidence };
    }
    case 'CreateGrant': {
      const grantee = principalText(params['granteePrincipal']);
      const operations = Array.isArray(params['operations']) ? params['operations'].map(textOf) : [];
      const signs = operations.some((op) => op === 'Sign' || op === 'CreateGrant');
      const evidence = { grantee: grantee ?? null, operations, grantId: stringAt(record.responseElements, 'grantId') ?? null };
      if (accountOutside(grantee, owner, trusted)) {
        return { ...base, severity: 'critical', title: 'Signing key granted to another account', what: `granted ${operations.join(', ')} on signing key ${key} to ${grantee}`, keepsSeverity: true, evidence };
      }
      const automation = grantee !== undefined && isAutomationPrincipal(ctx.config, principalFromArn(grantee));
      return { ...base, severity: signs && !automation ? 'high' : 'low', title: 'Signing key granted', what: `granted ${operations.join(', ')} on signing key ${key} to ${grantee ?? 'an unnamed grantee'}`, evidence };
    }
    case 'DisableKey':
      return { ...base, severity: 'high', title: 'Signing key disabled', what: `disabled signing key ${key}` };
    case 'ScheduleKeyDeletion':
      return { ...base, severity: 'critical', title: 'Signing key scheduled for deletion', what: `scheduled signing key ${key} for deletion in ${textOf(params['pendingWindowInDays'] ?? 30)} days`, keepsSeverity: true, evidence: { deletionDate: stringAt(record.responseElements, 'deletionDate') ?? null } };
    case 'ImportKeyMaterial':
      return { ...base, severity: 'high', title: 'Signing key material imported', what: `imported new key material into signing key ${key}`, evidence: { expirationModel: params['expirationModel'] ?? null, validTo: params['validTo'] ?? null } };
    case 'DeleteImportedKeyMaterial':
      return { ...base, severity: 'high', title: 'Signing key material deleted', what: `deleted the imported key material of signing key ${key}` };
    case 'DisableKeyRotation':
      return { ...base, severity: 'medium', title: 'Signing key rotation disabled', what: `disabled rotation of signing key ${key}` };
    case 'ReplicateKey':
      return { ...base, severity: 'medium', title: 'Signing key replicated', what: `replicated signing key ${key} to ${(textOf(params['replicaRegion']) || 'another region')}`, evidence: { replicaRegion: params['replicaRegion'] ?? null } };
    case 'DeleteKey':
      return { ...base, severity: 'critical', title: 'Signing key deleted', what: `signing key ${key} was deleted`, keepsSeverity: true, happened: true, incidentKey: `kms-deletion|${ids.keyIds[0] ?? key}` };
    case 'DeleteExpiredKeyMaterial':
      return { ...base, severity: 'high', title: 'Signing key material expired', what: `the imported key material of signing key ${key} expired and was deleted`, keepsSeverity: true, happened: true, incidentKey: `kms-material-expired|${ids.keyIds[0] ?? key}` };
    default:
      return undefined;
  }
}

function aliasChange(event: PipelineEvent, ids: KmsIdentifiers, targets: SigningTargets): Change | undefined {
  const record = event.cloudTrail;
  const alias = stringAt(record?.requestParameters, 'aliasName');
  if (!record || !alias) return undefined;
  const aliasRef = kmsRefOf(alias);
  const aliasListed = aliasRef?.kind === 'alias' && targets.aliases.has(aliasRef.name);
  if (record.eventName === 'DeleteAlias') {
    // The resources name the key the alias pointed at: deleting any alias of a signing key counts.
    const pointedAtListedKey = aliasResourceKeyIds(event).some((id) => targets.keyIds.has(id));
    const key = ids.keyArn ?? ids.keyIds[0] ?? 'an unknown key';
    return { resource: alias, listed: aliasListed || pointedAtListedKey, severity: 'critical', title: 'Signing key alias deleted', what: `deleted alias ${alias} of signing key ${key}`, keepsSeverity: true };
  }
  // The new target is the request's targetKeyId, never a key the resources name (that can be the old one).
  const target = aliasTargetOf(event);
  const toListedKey = isListedAliasTarget(target, targets);
  const evidence = { targetKeyId: stringAt(record.requestParameters, 'targetKeyId') ?? null, targetListed: toListedKey, keysNamedInResources: aliasResourceKeyIds(event) };
  switch (record.eventName) {
    case 'UpdateAlias':
      if (!aliasListed) return { resource: alias, listed: false, severity: 'critical', title: 'Signing key alias re-pointed', what: `re-pointed alias ${alias} to key ${target.label}`, evidence };
      return toListedKey
        ? { resource: alias, listed: true, severity: 'low', title: 'Signing key alias re-pointed to a listed key', what: `re-pointed signing key alias ${alias} to key ${target.label}, which the configuration lists`, evidence }
        : { resource: alias, listed: true, severity: 'critical', title: 'Signing key alias re-pointed to an unlisted key', what: `re-pointed signing key alias ${alias} to key ${target.label}, which is not a listed signing key`, keepsSeverity: true, evidence };
    case 'CreateAlias':
      // A signing alias that comes back pointing at another key is a re-pointing in two steps.
      if (!aliasListed || toListedKey) return undefined;
      return { resource: alias, listed: true, severity: 'critical', title: 'Signing key alias created for an unlisted key', what: `created signing key alias ${alias} pointing at key ${target.label}, which is not a listed signing key`, keepsSeverity: true, evidence };
    default:
      return undefined;
  }
}

function nativeKeyChange(event: PipelineEvent, ids: KmsIdentifiers, targets: SigningTargets): Change | undefined {
  const listed = namesConfiguredKey(ids, targets);
  const key = keyLabel(ids);
  const resource = ids.keyArn ?? key;
  switch (event.detailType) {
    case 'KMS CMK Deletion':
      return { resource, listed, severity: 'critical', title: 'Signing key deleted', what: `signing key ${key} was deleted`, keepsSeverity: true, happened: true, incidentKey: `kms-deletion|${ids.keyIds[0] ?? key}` };
    case 'KMS Imported Key Material Expiration':
      return { resource, listed, severity: 'high', title: 'Signing key material expired', what: `the imported key material of signing key ${key} expired and was deleted`, keepsSeverity: true, happened: true, incidentKey: `kms-material-expired|${ids.keyIds[0] ?? key}` };
    default:
      // KMS CMK Rotation: rotation is routine, not a change of the signing key's trust.
      return undefined;
  }
}

function signerChange(event: PipelineEvent, targets: SigningTargets, trusted: ReadonlySet<string>): Change | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const profile = signerProfileName(stringAt(params, 'profileName'));
  const listed = profile !== undefined && targets.profiles.has(profile);
  const base = { resource: profile ? `signer-profile/${profile}` : 'signer-profile', listed };
  switch (record.eventName) {
    case 'PutSigningProfile':
      return { ...base, severity: 'high', title: 'Signing profile replaced', what: `put signing profile ${profile} (signing material ${stringAt(params, 'signingMaterial', 'certificateArn') ?? 'unchanged'})`, evidence: { platformId: params['platformId'] ?? null, signingMaterial: params['signingMaterial'] ?? null } };
    case 'CancelSigningProfile':
      return { ...base, severity: 'high', title: 'Signing profile cancelled', what: `cancelled signing profile ${profile}`, keepsSeverity: true };
    case 'RevokeSigningProfile':
      return { ...base, severity: 'critical', title: 'Signing profile revoked', what: `revoked signing profile ${profile} version ${(textOf(params['profileVersion']) || '?')} effective ${(textOf(params['effectiveTime']) || 'now')}`, keepsSeverity: true, evidence: { reason: params['reason'] ?? null } };
    case 'AddProfilePermission': {
      const principal = principalText(params['principal']);
      const outside = accountOutside(principal, record.recipientAccountId, trusted);
      return { ...base, severity: outside ? 'critical' : 'high', title: 'Signing profile permission added', what: `allowed ${principal ?? 'a principal'} ${(textOf(params['action']) || 'access')} on signing profile ${profile}`, keepsSeverity: outside, evidence: { principal: principal ?? null, action: params['action'] ?? null, statementId: params['statementId'] ?? null } };
    }
    case 'RemoveProfilePermission':
      return { ...base, severity: 'medium', title: 'Signing profile permission removed', what: `removed permission ${textOf(params['statementId'])} from signing profile ${profile}` };
    case 'RevokeSignature': {
      // The request names the signing job, not its profile: any revocation counts once profiles are listed.
      const job = stringAt(params, 'jobId') ?? 'unknown job';
      return { resource: `signing-job/${job}`, listed: targets.profiles.size > 0, severity: 'high', title: 'Signature revoked', what: `revoked the signature of signing job ${job}`, keepsSeverity: true, evidence: { jobOwner: params['jobOwner'] ?? null, reason: params['reason'] ?? null } };
    }
    default:
      return undefined;
  }
}

function certificateChange(event: PipelineEvent, targets: SigningTargets): Change | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  // ImportCertificate (renewal by re-import) is judged on what changed by build.signing-certificate-change.
  const arn = certificateArnOf(event);
  if (!arn) return undefined;
  const listed = targets.certificates.has(arn);
  switch (record.eventName) {
    case 'DeleteCertificate':
      return { resource: arn, listed, severity: 'high', title: 'Signing certificate deleted', what: `deleted signing certificate ${arn}`, keepsSeverity: true };
    case 'ExportCertificate':
      return { resource: arn, listed, severity: 'critical', title: 'Signing certificate exported', what: `exported signing certificate ${arn} with its private key`, keepsSeverity: true };
    default:
      return undefined;
  }
}

function changeOf(event: PipelineEvent, targets: SigningTargets, options: Options, ctx: UseCaseContext): Change | undefined {
  const record = event.cloudTrail;
  if (!record) return event.source === 'aws.kms' ? nativeKeyChange(event, kmsIdentifiers(event), targets) : undefined;
  // AWS services act on keys all the time; only their deletion service events are changes.
  if (event.principal?.isAwsService && record.eventType !== 'AwsServiceEvent') return undefined;
  const trusted = trustedAccountsOf(ctx.config, options.trustedAccounts);
  switch (record.eventSource) {
    case 'kms.amazonaws.com': {
      const ids = kmsIdentifiers(event);
      return /Alias$/.test(record.eventName) ? aliasChange(event, ids, targets) : keyChange(event, ids, targets, trusted, ctx);
    }
    case 'signer.amazonaws.com':
      return signerChange(event, targets, trusted);
    case 'acm.amazonaws.com':
      return certificateChange(event, targets);
    default:
      return undefined;
  }
}

function evaluate(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const options = optionsOf(optionsSchema, ctx);
  const change = changeOf(event, signingTargets(ctx.config), options, ctx);
  if (!change || (!change.listed && options.unlisted === 'ignore')) return undefined;
  const who = change.happened ? undefined : event.principal?.arn ?? event.principal?.key;
  const record = event.cloudTrail;
  const iac = viaInfrastructureAsCode(event, options);
  const evidence = { eventName: record?.eventName ?? event.detailType, resource: change.resource, listed: change.listed, viaInfrastructureAsCode: iac, ...(change.evidence ?? {}) };
  const what = change.listed ? change.what : change.what.replace(/signing (key|profile|certificate)/g, '$1');
  const base = { resource: change.resource, dedupKey: `${change.resource}|${record?.eventName ?? event.detailType}`, ...(change.incidentKey && event.succeeded ? { incidentKey: change.incidentKey } : {}) };
  if (!event.succeeded) {
    if (!change.listed) return undefined;
    return { ...base, severity: 'low', title: `Refused: ${change.title.toLowerCase()}`, summary: refusedSummary(who ?? 'unknown principal', what, record?.errorCode), evidence: { ...evidence, errorCode: record?.errorCode } };
  }
  const severity: Severity = !change.listed ? 'low' : iac && !change.keepsSeverity ? options.infrastructureAsCodeSeverity : change.severity;
  return {
    ...base,
    severity,
    title: change.listed ? change.title : `${change.title.replace(/^Signing (\w)/, (_m, c: string) => c.toUpperCase())} (not the pipeline's)`,
    summary: `${who ? `${who} ` : ''}${what}${iac ? ' (through infrastructure as code)' : ''}`,
    evidence,
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.signing-key-change',
    answers: 'build.signing-key-change',
    title: 'Signing key or certificate changed',
    stage: 'build',
    description:
      'Changes to the KMS keys, Signer profiles and ACM certificates named in pipeline.signing: a key policy that lets in everyone or another account, a signing alias re-pointed to or re-created for a key the configuration does not list (the targetKeyId of the request), or deleted, key deletion scheduled or done, a certificate exported, a profile revoked (critical); a policy change, a grant for Sign, a disabled key, new or deleted key material, a certificate deleted, a profile put, cancelled or shared, a signature revoked (high); rotation disabled, a profile permission removed (medium). Automatic rotation is not reported.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 2,
    mitre: ['T1553.002', 'T1588.003', 'T1485'],
    falsePositives: [
      'Planned key or certificate rotation by hand; prefer infrastructure as code, which is rated low (deletions and exports excepted).',
      'A release role added to the key policy: expected, but review that it is the right role.',
    ],
    runbook:
      'Confirm the change with the key owner. For an unexpected change: undo it (restore the key policy, cancel the key deletion, point the alias back), revoke grants and profile permissions that were added, and treat artifacts signed since the change as untrusted until re-verified.',
    references: [
      'https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html',
      'https://docs.aws.amazon.com/kms/latest/developerguide/kms-events.html',
      'https://docs.aws.amazon.com/signer/latest/developerguide/cloudtrail.html',
    ],
    includeFailedCalls: true,
    includeAwsServiceCalls: true,
  },
  pattern: {
    $or: [
      {
        source: ['aws.kms'],
        'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: [
            'PutKeyPolicy',
            'CreateGrant',
            'CreateAlias',
            'UpdateAlias',
            'DeleteAlias',
            'DisableKey',
            'ScheduleKeyDeletion',
            'ImportKeyMaterial',
            'DeleteImportedKeyMaterial',
            'DisableKeyRotation',
            'ReplicateKey',
            'DeleteKey',
            'DeleteExpiredKeyMaterial',
          ],
        },
      },
      { source: ['aws.kms'], 'detail-type': ['KMS CMK Deletion', 'KMS Imported Key Material Expiration'] },
      {
        source: ['aws.signer'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['signer.amazonaws.com'],
          eventName: ['PutSigningProfile', 'CancelSigningProfile', 'RevokeSigningProfile', 'RevokeSignature', 'AddProfilePermission', 'RemoveProfilePermission'],
        },
      },
      {
        source: ['aws.acm'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['acm.amazonaws.com'], eventName: ['DeleteCertificate', 'ExportCertificate'] },
      },
    ],
  },
  optionsSchema,
  logic: { kind: 'match', evaluate },
});
