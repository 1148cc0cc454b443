/**
 * Export formats of ledger records: JSON Lines (as stored), CSV (spreadsheets), OCSF Detection
 * Finding (SIEMs, Security Lake) and in-toto Statement v1 (attestations). Each formatter turns one
 * record into one complete piece of output, so the exporter can stream with bounded memory.
 */
import type { Finding, Severity } from '../engine/model.js';
import { QUESTIONS } from '../engine/model.js';
import { safeJson, stripUnsafe } from '../notify/safe-text.js';

export const EXPORT_FORMATS = ['jsonl', 'csv', 'ocsf', 'intoto'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_KINDS = ['findings', 'attestations', 'all'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** findings: alert-mode records; attestations: attest-mode records. */
export function matchesKind(record: Pick<Finding, 'mode'>, kind: ExportKind): boolean {
  return kind === 'all' || (kind === 'findings' ? record.mode === 'alert' : record.mode === 'attest');
}

export interface Formatter {
  /** Written once before the first record (CSV's header row). */
  readonly header?: string;
  format(record: Finding): string;
}

/** What the OCSF mapping may know about a use case beyond the record (from the registry). */
export interface UseCaseInfo {
  readonly mitre?: readonly string[];
  readonly kind?: string;
}

export interface FormatOptions {
  readonly productVersion?: string;
  readonly useCaseInfo?: (useCase: string) => UseCaseInfo | undefined;
}

export function formatterFor(format: ExportFormat, options: FormatOptions = {}): Formatter {
  switch (format) {
    case 'jsonl':
      return { format: (record) => `${safeJson(orderedRecord(record))}\n` };
    case 'csv':
      return { header: csvLine(CSV_COLUMNS), format: (record) => csvLine(csvValues(record)) };
    case 'ocsf':
      return { format: (record) => `${safeJson(toOcsf(record, options))}\n` };
    case 'intoto':
      return { format: (record) => `${safeJson(toInTotoStatement(record))}\n` };
  }
}

/** The record's own fields in the model's order, then any others sorted, as stored (nothing dropped). */
const FIELD_ORDER: readonly (keyof Finding)[] = [
  'id', 'useCase', 'answers', 'stage', 'severity', 'mode', 'title', 'summary', 'eventId', 'eventTime', 'day',
  'principal', 'account', 'accountName', 'region', 'resource', 'sourceIp', 'userAgent', 'dedupKey', 'evidence', 'runbook', 'team',
  'recordedAt', 'contentHash',
];

export function orderedRecord(record: Finding): Record<string, unknown> {
  const source = record as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of FIELD_ORDER) if (source[key] !== undefined) out[key] = source[key];
  for (const key of Object.keys(source).sort()) if (!(key in out) && source[key] !== undefined) out[key] = source[key];
  return out;
}

// ---- CSV (RFC 4180) -------------------------------------------------------------------------

export const CSV_COLUMNS = [
  'id', 'day', 'eventTime', 'recordedAt', 'mode', 'severity', 'stage', 'useCase', 'answers', 'title', 'summary',
  'principal', 'account', 'accountName', 'region', 'resource', 'sourceIp', 'userAgent', 'team', 'eventId', 'dedupKey', 'runbook',
  'contentHash', 'evidence',
] as const;

function readable(text: string): string {
  return text.split(/\r\n|\n/).map(stripUnsafe).join('\n');
}

function csvValues(record: Finding): string[] {
  const source = record as unknown as Record<string, unknown>;
  return CSV_COLUMNS.map((column) => {
    const value = source[column];
    if (value === undefined || value === null) return '';
    // For reading: no control, bidi or invisible characters (line breaks in a cell stay, quoted).
    return readable(typeof value === 'string' ? value : JSON.stringify(value));
  });
}

/**
 * A cell a spreadsheet would read as a formula (starting with = + - @, also after leading spaces,
 * tabs or line breaks that some applications strip first, or with a full-width ＝ ＋ － ＠ that some
 * normalise) gets a leading apostrophe (OWASP's CSV-injection advice).
 * Export JSON Lines to verify content hashes: CSV is for reading.
 */
export function csvCell(value: string): string {
  // Spreadsheets skip leading blanks and line breaks before reading a formula: look past them.
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const FORMULA_START = /^[\s\u0000-\u001f]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r]/;

/** One CSV record, CRLF-terminated as RFC 4180 says. */
export function csvLine(values: readonly string[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

// ---- OCSF Detection Finding (class 2004) -------------------------------------------------------

export const OCSF_VERSION = '1.1.0';
const DETECTION_FINDING = 2004;
const CREATE = 1;

const OCSF_SEVERITY: Record<Severity, { id: number; name: string }> = {
  info: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

/** OCSF analytic type: a stateless rule, or a behavioural one (first sighting, drift from a baseline). */
function analyticType(kind: string | undefined): { type_id: number; type: string } {
  return kind === 'firstSeen' || kind === 'drift' ? { type_id: 2, type: 'Behavioral' } : { type_id: 1, type: 'Rule' };
}

const epochMs = (time: string | undefined): number | undefined => {
  if (!time) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The readable last part of a principal (`…:user/alice` → alice, `…:assumed-role/Admin/maint` → Admin/maint). */
function principalName(principal: string): string {
  const resource = principal.startsWith('arn:') ? principal.split(':').slice(5).join(':') : principal;
  const slash = resource.indexOf('/');
  return slash >= 0 ? resource.slice(slash + 1) : resource;
}

/** Removes undefined members (and objects left empty), so the event carries only what is known. */
function prune<T>(value: T): T {
  if (Array.isArray(value)) return value.map(prune) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const pruned = prune(item);
      if (pruned === undefined) continue;
      if (pruned && typeof pruned === 'object' && !Array.isArray(pruned) && Object.keys(pruned).length === 0) continue;
      out[key] = pruned;
    }
    return out as T;
  }
  return value;
}

/**
 * Detection Finding (OCSF 1.1.0, class_uid 2004, category Findings), activity Create, with the
 * cloud profile. Who did it and from where are the finding's evidence (`evidences[].actor`,
 * `src_endpoint`, `api`), as the class defines them; everything Buildwatch-specific is under
 * `unmapped.buildwatch`, so nothing of the record is lost.
 */
export function toOcsf(record: Finding, options: FormatOptions = {}): Record<string, unknown> {
  const severity = OCSF_SEVERITY[record.severity] ?? { id: 99, name: String(record.severity) };
  const info = options.useCaseInfo?.(record.useCase);
  const evidence = (record.evidence ?? {}) as Record<string, unknown>;
  const eventName = typeof evidence['eventName'] === 'string' ? evidence['eventName'] : undefined;
  const eventSource = typeof evidence['eventSource'] === 'string' ? evidence['eventSource'] : undefined;
  const created = epochMs(record.recordedAt);
  const observed = epochMs(record.eventTime);
  return prune({
    class_uid: DETECTION_FINDING,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: CREATE,
    activity_name: 'Create',
    type_uid: DETECTION_FINDING * 100 + CREATE,
    type_name: 'Detection Finding: Create',
    severity_id: severity.id,
    severity: severity.name,
    status_id: 1,
    status: 'New',
    time: created ?? observed,
    message: record.summary,
    metadata: {
      version: OCSF_VERSION,
      uid: record.id,
      product: { name: 'Buildwatch', vendor_name: 'Buildwatch', version: options.productVersion },
      profiles: ['cloud'],
      event_code: record.useCase,
    },
    cloud: { provider: 'AWS', region: record.region, account: record.account ? { uid: record.account, ...(record.accountName ? { name: record.accountName } : {}) } : undefined },
    finding_info: {
      uid: record.id,
      title: record.title,
      desc: record.summary,
      types: [record.answers, record.useCase],
      created_time: created,
      first_seen_time: observed,
      last_seen_time: observed,
      analytic: { uid: record.useCase, name: record.useCase, ...analyticType(info?.kind) },
      attacks: info?.mitre?.length ? info.mitre.map((technique) => ({ technique: { uid: technique } })) : undefined,
    },
    resources: record.resource
      ? [{ uid: record.resource.startsWith('arn:') ? record.resource : undefined, name: record.resource, region: record.region }]
      : undefined,
    evidences: [
      {
        actor: { user: { uid: record.principal, name: principalName(record.principal) } },
        src_endpoint: record.sourceIp ? { ip: record.sourceIp } : undefined,
        api: eventName ? { operation: eventName, service: eventSource ? { name: eventSource } : undefined } : undefined,
      },
    ],
    remediation: record.runbook ? { desc: record.runbook } : undefined,
    unmapped: {
      buildwatch: {
        useCase: record.useCase,
        answers: record.answers,
        question: QUESTIONS[record.answers],
        stage: record.stage,
        mode: record.mode,
        eventId: record.eventId,
        eventTime: record.eventTime,
        day: record.day,
        team: record.team,
        userAgent: record.userAgent,
        dedupKey: record.dedupKey,
        evidence: record.evidence,
        contentHash: record.contentHash,
      },
    },
  });
}

// ---- in-toto Statement v1 (attestations) ------------------------------------------------------

export const IN_TOTO_STATEMENT = 'https://in-toto.io/Statement/v1';
export const ATTESTATION_PREDICATE = 'https://buildwatch.dev/attestation/v1';

/**
 * An in-toto Statement about one ledger record. The subject is the record itself: its digest is the
 * record's contentHash, i.e. sha256 of the canonical JSON of the predicate without `contentHash`
 * (lambdas/engine/canonical.ts), so anyone can recompute it. The statement is unsigned: wrap it in
 * a DSSE envelope with your own key to sign it; the ledger's own signature is the day's seal.
 */
export function toInTotoStatement(record: Finding): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT,
    subject: [{ name: `buildwatch:ledger/${record.id}`, digest: { sha256: record.contentHash } }],
    predicateType: ATTESTATION_PREDICATE,
    predicate: orderedRecord(record),
  };
}
