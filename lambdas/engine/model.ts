/** The shared vocabulary of Buildwatch: severities, modes, stages, questions and findings. */
import * as z from 'zod';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

/** Numeric rank, so severities can be compared and bumped. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** alert: notify now; attest: record evidence only; off: do not evaluate at all. */
export const modeSchema = z.enum(['alert', 'attest', 'off']);
export type Mode = z.infer<typeof modeSchema>;
export type FindingMode = Exclude<Mode, 'off'>;

export const STAGES = ['source', 'dependencies', 'build', 'artifact', 'monitor'] as const;
export const stageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof stageSchema>;

/** The stable monitoring questions (ARCHITECTURE.md). Ids never change meaning. */
export const QUESTIONS = {
  'source.new-contributor': 'Was a brand-new, unexpected contributor added to (or pushing to) a repository?',
  'source.no-mfa': 'Did a commit/push come from a principal not authenticated with MFA?',
  'source.review-bypass': 'Was code review bypassed or an approval rule weakened?',
  'source.protection-change': 'Was a repository protection (default branch, triggers, encryption, the repository itself) changed or removed?',
  'dependencies.sbom': 'Did this build produce a valid SBOM?',
  'dependencies.library-change': 'Did the quantity or quality of open-source libraries change significantly?',
  'build.server-change': 'Did anything about the build server/project change from its last known state?',
  'build.signing-key-change': 'Was the certificate or signing key used by the build modified?',
  'artifact.hash-mismatch': "Does the artifact repository's hash differ from the pipeline's output hash?",
  'artifact.new-accessor': 'Did a principal/account access the artifact repository that never did before?',
  'monitor.tamper': 'Was logging or the monitor itself tampered with?',
  'monitor.health': 'Has the monitor gone blind (no events, dead-letter queue filling, errors)?',
} as const;
export type QuestionId = keyof typeof QUESTIONS;
export const questionIdSchema = z.enum(Object.keys(QUESTIONS) as [QuestionId, ...QuestionId[]]);

/** Who acted, normalised across CloudTrail identity types and native events. */
export interface Principal {
  /** Stable key for baselines (see principal.ts for the rules). */
  readonly key: string;
  readonly type: string;
  readonly accountId?: string;
  /** The ARN as AWS printed it, when there is one. */
  readonly arn?: string;
  /** An assumed role's issuer as CloudTrail names it (sessionContext.sessionIssuer.arn: the role ARN with its path). */
  readonly issuerArn?: string;
  /** True for AWS services acting on their own (userIdentity.type AWSService). */
  readonly isAwsService: boolean;
  /** MFA as IAM saw it: the session says true/false; impossible for IAM users' Git credentials; unknown otherwise. */
  readonly mfa: 'true' | 'false' | 'impossible' | 'unknown';
}

/** Why an attestation is not an alert when the use case would have alerted. */
export type HeldBack = 'staging' | 'mode';

/** How many counted repeat ids a finding keeps (Finding.repeatIds; bounded: an item stays far under 400 KB). */
export const MAX_COUNTED_REPEATS = 100;

/** One stored finding or attestation: the unit of the findings ledger and of `replay --json`. */
export interface Finding {
  readonly id: string;
  readonly useCase: string;
  readonly answers: QuestionId;
  readonly stage: Stage;
  readonly severity: Severity;
  readonly mode: FindingMode;
  readonly title: string;
  readonly summary: string;
  readonly eventId: string;
  readonly eventTime: string;
  /** yyyy-mm-dd of eventTime: the partition of the by-day index. */
  readonly day: string;
  readonly principal: string;
  /** The account the event is about (EVENTS.md 2: the resource owner's, not the caller's). */
  readonly account?: string;
  /** Organisation deployments: the account's configured name ("tooling"), shown next to its id. */
  readonly accountName?: string;
  readonly region?: string;
  readonly resource?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly dedupKey: string;
  readonly evidence: Record<string, unknown>;
  readonly runbook: string;
  readonly team?: string;
  /**
   * The CloudTrail eventID when the event relayed a CloudTrail record (for a bare record it equals
   * `eventId`): alerts link to the record in the CloudTrail event history.
   */
  readonly cloudTrailEventId?: string;
  /**
   * Set on an attestation that would have been an alert: `staging` (the use case is in its staging
   * days) or `mode` (the configuration puts the use case in attest mode). `replay --what-if` shows them.
   */
  readonly heldBack?: HeldBack;
  /** With a dedup window: how many occurrences this finding stands for (set from the second one on). */
  readonly occurrences?: number;
  /**
   * With a dedup window: the ids of the repeats counted into `occurrences` (the latest
   * MAX_COUNTED_REPEATS), so a repeat delivered again, or a count retried after a lost answer, is
   * counted once.
   */
  readonly repeatIds?: readonly string[];
  /** With a dedup window: event time of the latest occurrence counted. */
  readonly lastSeen?: string;
  readonly recordedAt: string;
  /** sha256 of the canonical JSON of every other field (tamper evidence for auditors). */
  readonly contentHash: string;
}
