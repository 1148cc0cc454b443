/**
 * build.signing-certificate-change: an ACM certificate named in `pipeline.signing.certificates` was
 * re-imported. Imported certificates are renewed by re-importing over the same ARN, so a re-import
 * is routine; what decides is what changed. The certificate's last known facts (subject, issuer, key
 * algorithm, validity, fingerprint) are a drift snapshot kept by every ImportCertificate, first
 * import included; each re-import is judged against it:
 * - subject or issuer changed → critical; key algorithm changed, or expiry moved backwards (an older
 *   certificate put back) → high;
 * - a renewal (same subject, issuer and key algorithm, later expiry) → low, or an attestation when
 *   made by an automation principal or infrastructure as code; the same certificate again → attestation;
 * - no earlier state known (first re-import seen, or the snapshot is newer than the event): the
 *   certificate alone is judged: expired → high; not freshly issued → medium; fresh → low/attestation
 *   by automation, medium by a person (nothing says the subject is unchanged);
 * - the record does not carry the certificate → high, medium by automation (what changed is unknown).
 */
import * as z from 'zod';
import { severityRank, severitySchema, type Severity } from '../../../engine/model.js';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { certificateFacts, type CertificateFacts } from '../certificate.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';
import { signingTargets } from '../signing.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  ...infrastructureAsCodeOptions,
  /** Certificates the configuration does not list: ignored, or reported low. */
  unlisted: z.enum(['ignore', 'low']).default('ignore'),
  /** A renewal by a person (not automation or infrastructure as code). */
  renewalSeverity: severitySchema.default('low'),
  /** A certificate whose validity began longer ago than this is not freshly issued. */
  freshDays: z.number().int().min(1).max(365).default(30),
}));
type Options = z.output<typeof optionsSchema>;

const FACT_FIELDS = ['subject', 'issuer', 'keyAlgorithm', 'notBefore', 'notAfter', 'serialNumber', 'fingerprint256'] as const;

function certificateArnOfImport(event: PipelineEvent): { arn: string; reimport: boolean } | undefined {
  const record = event.cloudTrail;
  const requested = stringAt(record?.requestParameters, 'certificateArn');
  if (requested) return { arn: requested, reimport: true };
  const created = stringAt(record?.responseElements, 'certificateArn');
  return created ? { arn: created, reimport: false } : undefined;
}

function report(event: PipelineEvent, ctx: UseCaseContext): StateReport | undefined {
  const record = event.cloudTrail;
  if (!record || record.eventName !== 'ImportCertificate' || !event.succeeded) return undefined;
  const target = certificateArnOfImport(event);
  if (!target) return undefined;
  const listed = signingTargets(ctx.config).certificates.has(target.arn);
  if (!listed && optionsOf(optionsSchema, ctx).unlisted === 'ignore') return undefined;
  const facts = certificateFacts(record.requestParameters?.['certificate']);
  // The import's event id makes every import a change, so identical re-imports are judged too.
  const state: JsonObject = { reimport: target.reimport, importEventId: event.id, content: facts ? 'known' : 'unknown', ...(facts ?? {}) };
  return { key: `acm:${target.arn}`, resource: target.arn, state, partial: false };
}

/** A re-import with nothing stored yet starts from the empty state, so it is judged; a first import is the baseline. */
async function initialState(stateReport: StateReport): Promise<JsonObject | undefined> {
  return stateReport.state['reimport'] === true ? {} : undefined;
}

function factsOf(state: JsonObject): CertificateFacts | undefined {
  if (state['content'] !== 'known') return undefined;
  const values = FACT_FIELDS.map((field) => state[field]);
  if (!values.every((v): v is string => typeof v === 'string')) return undefined;
  const [subject, issuer, keyAlgorithm, notBefore, notAfter, serialNumber, fingerprint256] = values as [string, string, string, string, string, string, string];
  return { subject, issuer, keyAlgorithm, notBefore, notAfter, serialNumber, fingerprint256 };
}

interface Verdict {
  readonly severity: Severity;
  readonly title: string;
  /** What the re-import did, after "re-imported <certificate>: ". */
  readonly what: string;
  readonly attestation?: boolean;
  readonly changes: readonly string[];
}

function compared(before: CertificateFacts, after: CertificateFacts, byAutomation: boolean, options: Options): Verdict {
  if (before.fingerprint256 === after.fingerprint256) {
    return { severity: 'info', title: 'Signing certificate re-imported unchanged', what: 'the same certificate again', attestation: true, changes: [] };
  }
  const changes: string[] = [];
  let severity: Severity = 'info';
  const raise = (to: Severity, change: string): void => {
    changes.push(change);
    if (severityRank(to) > severityRank(severity)) severity = to;
  };
  if (before.subject !== after.subject) raise('critical', `subject ${before.subject} → ${after.subject}`);
  if (before.issuer !== after.issuer) raise('critical', `issuer ${before.issuer} → ${after.issuer}`);
  if (before.keyAlgorithm !== after.keyAlgorithm) raise('high', `key algorithm ${before.keyAlgorithm} → ${after.keyAlgorithm}`);
  if (after.notAfter < before.notAfter) raise('high', `expiry moved backwards ${before.notAfter.slice(0, 10)} → ${after.notAfter.slice(0, 10)} (an older certificate)`);
  if (changes.length > 0) {
    return { severity, title: 'Signing certificate replaced by a different certificate', what: `a different certificate: ${changes.join('; ')}`, changes };
  }
  const renewal = `a renewal (same subject, issuer and key algorithm; expiry ${before.notAfter.slice(0, 10)} → ${after.notAfter.slice(0, 10)})`;
  return byAutomation
    ? { severity: 'info', title: 'Signing certificate renewed', what: renewal, attestation: true, changes: [] }
    : { severity: options.renewalSeverity, title: 'Signing certificate renewed', what: renewal, changes: [] };
}

function alone(after: CertificateFacts, at: string, byAutomation: boolean, options: Options): Verdict {
  if (after.notAfter < at) {
    return { severity: 'high', title: 'Expired signing certificate imported', what: `a certificate that expired on ${after.notAfter.slice(0, 10)} (no earlier state known)`, changes: ['expired'] };
  }
  const freshSince = new Date(Date.parse(at) - options.freshDays * 86_400_000).toISOString();
  if (after.notBefore < freshSince) {
    return { severity: 'medium', title: 'Signing certificate re-imported with an older certificate', what: `a certificate valid since ${after.notBefore.slice(0, 10)}, not freshly issued (no earlier state known)`, changes: ['not freshly issued'] };
  }
  const what = `a freshly issued certificate for ${after.subject} from ${after.issuer}, valid until ${after.notAfter.slice(0, 10)} (no earlier state known to compare)`;
  return byAutomation ? { severity: 'low', title: 'Signing certificate re-imported', what, changes: [] } : { severity: 'medium', title: 'Signing certificate re-imported', what, changes: [] };
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  if (facts.after['reimport'] !== true) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const arn = facts.report.resource ?? facts.report.key;
  const listed = signingTargets(ctx.config).certificates.has(arn);
  const iac = viaInfrastructureAsCode(event, options);
  const byAutomation = iac || isAutomationPrincipal(ctx.config, event.principal);
  const after = factsOf(facts.after);
  // A snapshot newer than this event is not the state before it (out-of-order delivery, replays).
  const beforeIsEarlier = facts.since === 'look-up' || facts.since <= event.time;
  const before = beforeIsEarlier ? factsOf(facts.before) : undefined;
  const verdict: Verdict = !after
    ? { severity: byAutomation ? 'medium' : 'high', title: 'Signing certificate re-imported', what: 'the record does not carry the certificate, so what changed is unknown', changes: ['unknown'] }
    : before
      ? compared(before, after, byAutomation, options)
      : alone(after, event.time, byAutomation, options);
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const severity: Severity = listed ? verdict.severity : verdict.severity === 'info' ? 'info' : 'low';
  return {
    resource: arn,
    severity,
    title: listed ? verdict.title : `${verdict.title.replace(/^Signing c/, 'C')} (not the pipeline's)`,
    summary: `${who} re-imported ${listed ? 'signing certificate' : 'certificate'} ${arn}: ${verdict.what}${iac ? ' (through infrastructure as code)' : ''}`,
    ...(verdict.attestation ? { attestation: true } : {}),
    evidence: {
      eventName: 'ImportCertificate',
      listed,
      viaInfrastructureAsCode: iac,
      byAutomation,
      earlierStateKnown: before !== undefined,
      earlierStateAsOf: before ? facts.since : null,
      changes: [...verdict.changes],
      before: before ? { ...before } : null,
      after: after ? { ...after } : null,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.signing-certificate-change',
    answers: 'build.signing-key-change',
    title: 'Signing certificate re-imported with different content',
    stage: 'build',
    description:
      'Keeps the last known facts of each ACM certificate named in pipeline.signing (subject, issuer, key algorithm, validity, fingerprint, read from the ImportCertificate record) and judges each re-import against them: a changed subject or issuer is critical; a changed key algorithm or an expiry moved backwards is high; a renewal is low (an attestation by automation or infrastructure as code). With no earlier state, the certificate alone is judged (expired: high; not freshly issued or by a person: medium). A record without the certificate is high (medium by automation).',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 1,
    mitre: ['T1553.002', 'T1588.004'],
    falsePositives: [
      'A renewal that also moved to another CA or key type: expected on a planned migration; confirm with the certificate owner.',
      'A renewal by hand is low; automate renewals with a role listed in automationPrincipals to make them attestations.',
    ],
    runbook:
      'Compare the new certificate (subject, issuer, key, validity) with the one the team expects. If unexpected: re-import the right certificate over the same ARN, revoke the unexpected one with its CA, and treat artifacts signed since the re-import as untrusted until re-verified.',
    references: [
      'https://docs.aws.amazon.com/acm/latest/userguide/import-reimport.html',
      'https://docs.aws.amazon.com/acm/latest/userguide/acm-supported-actions-in-cloudtrail.html',
    ],
  },
  pattern: {
    source: ['aws.acm'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['acm.amazonaws.com'], eventName: ['ImportCertificate'] },
  },
  optionsSchema,
  logic: { kind: 'drift', report, initialState, assess },
});
