/**
 * A Buildwatch alert as an AWS Security Finding Format (ASFF) document for Security Hub's
 * BatchImportFindings. Every string taken from a finding is redacted, stripped of control and
 * invisible characters and cut to the field's ASFF limit, so a finding stays far below the 240 KB
 * Security Hub accepts whatever the event said.
 */
import type { AwsSecurityFinding, Partition, Resource, SeverityLabel } from '@aws-sdk/client-securityhub';
import { QUESTIONS, type Finding, type QuestionId, type Severity } from '../engine/model.js';
import { redactText } from '../engine/redact.js';
import { consoleLink } from './console-links.js';
import { sanitizeLine } from './format.js';

/** Security Hub rejects a finding above 240 KB. */
export const ASFF_MAX_BYTES = 240 * 1024;
export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** ASFF field limits (API reference): Title 256, Description 1024, Recommendation.Text 512, ProductFields values 2048. */
const LIMITS = { title: 256, description: 1024, recommendation: 512, productField: 2048, resourceId: 512, id: 512 } as const;

const SEVERITY_LABELS: Readonly<Record<Severity, SeverityLabel>> = {
  info: 'INFORMATIONAL',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  critical: 'CRITICAL',
};

/**
 * Where each question sits in the ASFF Types taxonomy (namespace/category): the ATT&CK tactic for the
 * behaviours, a configuration check for the SBOM, library and monitor-health questions.
 */
const TYPE_CATEGORIES: Readonly<Record<QuestionId, string>> = {
  'source.new-contributor': 'TTPs/Initial Access',
  'source.no-mfa': 'TTPs/Initial Access',
  'source.review-bypass': 'TTPs/Defense Evasion',
  'source.protection-change': 'TTPs/Defense Evasion',
  'dependencies.sbom': 'Software and Configuration Checks/Industry and Regulatory Standards',
  'dependencies.library-change': 'Software and Configuration Checks/Vulnerabilities',
  'build.server-change': 'TTPs/Persistence',
  'build.signing-key-change': 'TTPs/Defense Evasion',
  'artifact.hash-mismatch': 'TTPs/Initial Access',
  'artifact.new-accessor': 'TTPs/Collection',
  'monitor.tamper': 'TTPs/Defense Evasion',
  'monitor.health': 'Software and Configuration Checks/AWS Security Best Practices',
};

const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;
const ACCOUNT = /^\d{12}$/;

const AWS_PARTITIONS: ReadonlySet<string> = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-us-iso', 'aws-us-iso-b']);

function partitionOf(value: string | undefined, fallback?: Partition): Partition {
  if (value !== undefined && AWS_PARTITIONS.has(value)) return value as Partition;
  if (fallback === undefined) throw new Error(`unknown AWS partition ${JSON.stringify(String(value).slice(0, 40))}`);
  return fallback;
}

export interface ProductArn {
  readonly arn: string;
  readonly partition: Partition;
  readonly region: string;
  readonly account: string;
}

/** The account's default product: `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
export function parseProductArn(arn: string): ProductArn {
  const match = /^arn:(aws[a-z-]*):securityhub:([a-z0-9-]+):(\d{12}):product\/(\d{12})\/default$/.exec(arn);
  if (!match || match[3] !== match[4]) throw new Error(`not an account's default Security Hub product ARN: ${JSON.stringify(arn.slice(0, 200))}`);
  return { arn, partition: partitionOf(match[1]), region: match[2]!, account: match[3]! };
}

export function productArnFor(partition: string, region: string, account: string): string {
  return `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`;
}

export interface AsffContext {
  readonly product: ProductArn;
  /** The use case's ATT&CK technique ids (metadata.mitre). */
  readonly mitre?: readonly string[];
}

/** Redacted, safe to show, and at most `max` characters (ASFF counts characters). */
function text(value: string | undefined, max: number): string {
  return sanitizeLine(redactText(value ?? ''), max);
}

export function asffSeverity(severity: Severity): SeverityLabel {
  return SEVERITY_LABELS[severity];
}

/**
 * ATT&CK techniques the use cases name, by the tactic that has an ASFF TTPs category. Techniques of
 * tactics ASFF has no TTPs category for (Impact, Exfiltration, Resource Development) take their
 * question's category.
 */
const TECHNIQUE_TACTICS: ReadonlyMap<string, string> = new Map([
  ['T1059', 'TTPs/Execution'],
  ['T1609', 'TTPs/Execution'],
  ['T1078', 'TTPs/Initial Access'],
  ['T1195', 'TTPs/Initial Access'],
  ['T1098', 'TTPs/Persistence'],
  ['T1525', 'TTPs/Persistence'],
  ['T1554', 'TTPs/Persistence'],
  ['T1070', 'TTPs/Defense Evasion'],
  ['T1222', 'TTPs/Defense Evasion'],
  ['T1553', 'TTPs/Defense Evasion'],
  ['T1562', 'TTPs/Defense Evasion'],
  ['T1578', 'TTPs/Defense Evasion'],
  ['T1580', 'TTPs/Discovery'],
  ['T1530', 'TTPs/Collection'],
]);

/**
 * One Type per ATT&CK technique (`TTPs/Defense Evasion/T1562.008`), under its tactic; a configuration
 * check question also keeps its own Software and Configuration Checks type. At most 50 (ASFF).
 */
export function asffTypes(answers: QuestionId, mitre: readonly string[] = []): string[] {
  const category = TYPE_CATEGORIES[answers];
  const types = new Set<string>();
  if (category.startsWith('Software and Configuration Checks/')) types.add(category);
  for (const id of mitre) {
    if (!ATTACK_ID.test(id)) continue;
    types.add(`${TECHNIQUE_TACTICS.get(id.slice(0, 5)) ?? category}/${id}`);
  }
  if (types.size === 0) types.add(category);
  return [...types].slice(0, 50);
}

/** The resource acted on, typed when ASFF has a type for it; CodeCommit, CodeArtifact and bare names are `Other`. */
export function asffResource(finding: Pick<Finding, 'resource' | 'region' | 'account'>, product: ProductArn): Resource {
  const value = finding.resource ? text(finding.resource, LIMITS.resourceId) : '';
  const region = finding.region && /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/.test(finding.region) ? finding.region : product.region;
  if (!value) {
    const account = finding.account && ACCOUNT.test(finding.account) ? finding.account : product.account;
    return { Type: 'Other', Id: `AWS::::Account:${account}`, Partition: product.partition, Region: region };
  }
  const arn = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$/.exec(value);
  if (!arn) return { Type: 'Other', Id: value, Partition: product.partition, Region: region };
  const [, partition, service, arnRegion, , resource] = arn as unknown as [string, string, string, string, string, string];
  const base = { Id: value, Partition: partitionOf(partition, product.partition), Region: arnRegion || region };
  if (service === 'codebuild' && resource.startsWith('project/')) return { Type: 'AwsCodeBuildProject', ...base };
  if (service === 'kms' && resource.startsWith('key/')) return { Type: 'AwsKmsKey', ...base };
  if (service === 'ecr' && resource.startsWith('repository/')) return { Type: 'AwsEcrRepository', ...base };
  return { Type: 'Other', ...base };
}

/** Latest of two ISO timestamps (either may be missing or unparseable). */
function latest(...times: Array<string | undefined>): string {
  const valid = times.filter((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)));
  const max = Math.max(...valid.map((t) => Date.parse(t)));
  return new Date(Number.isFinite(max) ? max : 0).toISOString();
}

function iso(time: string | undefined): string {
  return latest(time);
}

/**
 * Security Hub ignores an update whose UpdatedAt is before the stored one. The occurrence count is
 * the finding's version (the store only ever raises it), so UpdatedAt is the first recording plus one
 * millisecond per repeat: each repeat lands, a stale copy delivered late never overwrites a newer count.
 */
export function asffUpdatedAt(finding: Pick<Finding, 'eventTime' | 'recordedAt' | 'occurrences'>): string {
  const base = Date.parse(latest(finding.eventTime, finding.recordedAt));
  const repeats = Math.max(0, Math.floor(finding.occurrences ?? 1) - 1);
  return new Date(base + repeats).toISOString();
}

/**
 * The finding in ASFF. `Id` is the finding id, so a redelivery or a dedup-window repeat updates the
 * Security Hub finding (count in ProductFields, LastObservedAt from the latest occurrence).
 */
export function toAsff(finding: Finding, context: AsffContext): AwsSecurityFinding {
  const { product } = context;
  const label = asffSeverity(finding.severity);
  const createdAt = iso(finding.eventTime);
  const lastObservedAt = latest(finding.eventTime, finding.lastSeen);
  const link = consoleLink(finding);
  const productFields: Record<string, string> = {
    'buildwatch/QuestionId': finding.answers,
    'buildwatch/QuestionText': QUESTIONS[finding.answers],
    'buildwatch/UseCase': text(finding.useCase, 200),
    'buildwatch/Stage': finding.stage,
    'buildwatch/Team': text(finding.team ?? 'unassigned', 200),
    'buildwatch/Principal': text(finding.principal, LIMITS.productField),
    'buildwatch/EventId': text(finding.eventId, 200),
    'buildwatch/Occurrences': String(finding.occurrences ?? 1),
  };
  if (finding.sourceIp) productFields['buildwatch/SourceIp'] = text(finding.sourceIp, 100);
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: text(`buildwatch/${finding.id}`, LIMITS.id),
    ProductArn: product.arn,
    GeneratorId: text(`buildwatch/${finding.useCase}`, LIMITS.id),
    AwsAccountId: product.account,
    Types: asffTypes(finding.answers, context.mitre),
    FirstObservedAt: createdAt,
    LastObservedAt: lastObservedAt,
    CreatedAt: createdAt,
    UpdatedAt: asffUpdatedAt(finding),
    FindingProviderFields: { Severity: { Label: label, Original: finding.severity }, Types: asffTypes(finding.answers, context.mitre) },
    Title: text(finding.title, LIMITS.title),
    Description: text(finding.summary, LIMITS.description),
    Remediation: { Recommendation: { Text: text(finding.runbook, LIMITS.recommendation) } },
    ...(link ? { SourceUrl: link } : {}),
    ProductFields: productFields,
    Resources: [asffResource(finding, product)],
    RecordState: 'ACTIVE',
  };
}
