/**
 * build.signing-key-first-user: a principal that never signed with the pipeline's signing key (or
 * Signer profile) before did so, after the key's learning period. Whoever can sign can make
 * malware look like a release. KMS `Sign` is a read-only CloudTrail event, which EventBridge
 * delivers only to rules in the state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (readOnlyEvents).
 * The scope is the key's id, whichever form (ARN, id, alias) the caller used; the build role's
 * per-build sessions collapse into one principal, and automation principals are recorded, never reported.
 */
import { defineUseCase, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { keyLabel, kmsIdentifiers, namesConfiguredKey, signerProfileName, signingTargets } from '../signing.js';

function sightings(event: PipelineEvent, ctx: UseCaseContext): Sighting[] {
  const record = event.cloudTrail;
  if (!record || !event.principal) return [];
  const targets = signingTargets(ctx.config);
  if (record.eventSource === 'kms.amazonaws.com') {
    const ids = kmsIdentifiers(event);
    if (!namesConfiguredKey(ids, targets)) return [];
    // The key id is stable across the forms a caller may use; without one, the alias it was named by.
    const scope = ids.keyIds[0] ? `kms-key/${ids.keyIds[0]}` : `kms-alias/${ids.aliases[0] ?? 'unknown'}`;
    return [{ scope, value: event.principal.key, resource: ids.keyArn ?? keyLabel(ids) }];
  }
  const profile = signerProfileName(stringAt(record.requestParameters, 'profileName'));
  if (!profile || !targets.profiles.has(profile)) return [];
  return [{ scope: `signer-profile/${profile}`, value: event.principal.key, resource: `signer-profile/${profile}` }];
}

export default defineUseCase({
  metadata: {
    id: 'build.signing-key-first-user',
    answers: 'build.signing-key-change',
    title: 'New principal signed with the pipeline signing key',
    stage: 'build',
    description:
      'First-seen signing key × principal: KMS Sign with a key named in pipeline.signing (a read-only event, so the rule receives all management events), and Signer StartSigningJob/SignPayload with a listed profile, by a principal that never signed with it before, after the learning period. Automation principals (the build role) are learned, never reported.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1553.002', 'T1078.004'],
    falsePositives: [
      'A new build or release role: add it to automationPrincipals.',
      'An engineer signing by hand during an incident: confirm and let the baseline learn it.',
    ],
    runbook:
      'Ask who the principal is and what it signed (the CloudTrail record has the message type and algorithm; the signature itself is not logged). If unknown: revoke its access to the key (key policy, grants), rotate its credentials, and distrust artifacts signed by it.',
    references: ['https://docs.aws.amazon.com/kms/latest/developerguide/ct-sign.html', 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html'],
    readOnlyEvents: true,
  },
  pattern: {
    $or: [
      {
        source: ['aws.kms'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['kms.amazonaws.com'], eventName: ['Sign'] },
      },
      {
        source: ['aws.signer'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['signer.amazonaws.com'], eventName: ['StartSigningJob', 'SignPayload'] },
      },
    ],
  },
  logic: {
    kind: 'firstSeen',
    sightings,
    describe: ({ sighting, scopeWatchedSince, knownValues }, event) => ({
      resource: sighting.resource ?? sighting.scope,
      summary: `${event.principal?.arn ?? sighting.value} signed with ${sighting.resource ?? sighting.scope} for the first time (${knownValues} known signer${knownValues === 1 ? '' : 's'}, watched since ${scopeWatchedSince.slice(0, 10)})`,
      evidence: {
        key: sighting.scope,
        principal: sighting.value,
        principalType: event.principal?.type,
        principalAccount: event.principal?.accountId ?? null,
        knownSigners: knownValues,
        watchedSince: scopeWatchedSince,
        eventName: event.cloudTrail?.eventName,
        signingAlgorithm: stringAt(event.cloudTrail?.requestParameters, 'signingAlgorithm') ?? null,
        messageType: stringAt(event.cloudTrail?.requestParameters, 'messageType') ?? null,
      },
    }),
  },
});
