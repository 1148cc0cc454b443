/**
 * Alert text for SNS subscribers (email, SIEM, chat through AWS Chatbot). Most of a finding comes
 * from the event, i.e. from whoever made the API call, so every such string is redacted again,
 * stripped of control characters, defused (mentions, links, markup) and bounded before it reaches
 * a human.
 */
import { QUESTIONS, type Finding } from '../engine/model.js';
import { redact, redactText } from '../engine/redact.js';

export interface Alert {
  /** ASCII, one line, under SNS's 100-character limit. */
  readonly subject: string;
  readonly text: string;
  /** SNS message attributes for subscription filter policies. */
  readonly attributes: Record<string, string>;
}

export interface FormatOptions {
  /**
   * Upper bound, in UTF-16 code units, of the evidence JSON in the text (0 omits it).
   * @default 200_000 (the SNS notifier sets its own, to fit 256 KiB)
   */
  readonly evidenceMaxLength?: number;
}

/** SNS: "less than 100 characters". */
export const SUBJECT_MAX_LENGTH = 99;
export const DEFAULT_EVIDENCE_MAX_LENGTH = 200_000;
const ATTRIBUTE_MAX_LENGTH = 256;
/** Per-field bounds: enough to read, too little to flood a chat channel. */
const LIMITS = { summary: 2000, title: 300, principal: 500, resource: 500, userAgent: 300, short: 100, runbook: 4000 } as const;

// C0, DEL, C1 and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// Zero-width and bidirectional formatting characters (hidden text, "Trojan Source" reordering).
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ZWSP = '\u200b';

export function formatAlert(finding: Finding, options: FormatOptions = {}): Alert {
  return { subject: formatSubject(finding), text: formatText(finding, options), attributes: formatAttributes(finding) };
}

/**
 * Makes an untrusted string safe to show inline in email or chat: control characters become
 * spaces, invisible characters go, `<`/`>` become look-alikes (Slack's `<!channel>`, `<@U123>`,
 * `<url|label>`, Teams' `<at>`), backticks become a look-alike, `@here`-style mentions and markdown
 * links get a zero-width space, URL schemes are defanged (`https[:]//`) so nothing is clickable, and
 * the result is at most `maxLength` code units, ending in "…" when cut.
 */
export function neutralise(text: string, maxLength: number): string {
  return bounded(text, maxLength, defuse).text;
}

/** For terminals: control characters (ANSI escapes) and invisible characters removed, bounded. */
export function sanitizeLine(text: string, maxLength: number): string {
  return bounded(text, maxLength, (s) => s).text;
}

function bounded(input: unknown, maxLength: number, transform: (s: string) => string): { text: string; truncated: boolean } {
  const limit = Math.max(1, Math.floor(maxLength));
  const text = typeof input === 'string' ? input : String(input ?? '');
  // Work on a prefix: the output is cut at `limit` anyway, and a 1 MB string should cost nothing.
  const head = text.slice(0, limit * 2 + 64);
  const cleaned = transform(head.replace(CONTROL, ' ').replace(INVISIBLE, '')).replace(LONE_SURROGATE, '\ufffd');
  const truncated = head.length < text.length || cleaned.length > limit;
  if (!truncated) return { text: cleaned, truncated };
  let cut = cleaned.slice(0, limit - 1);
  // Never end on half a surrogate pair: that is invalid UTF-8 for SNS.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return { text: `${cut}…`, truncated };
}

function defuse(text: string): string {
  return text
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/`/g, 'ˋ')
    // [label](url), ![img](url) and [label][ref] need `]` right before `(` or `[`.
    .replace(/\](?=[([])/g, `]${ZWSP}`)
    // @here, @channel, @everyone, @U123 at a word start; e-mail addresses stay intact.
    .replace(/(^|[^A-Za-z0-9_.+-])@(?=[A-Za-z0-9])/g, `$1@${ZWSP}`)
    .replace(/(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}):\/\//g, '$1[:]//')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}[.]`);
}

/** Attacker-controlled text: secrets masked first, then neutralised. */
function untrusted(text: string | undefined, maxLength: number): string {
  return neutralise(redactText(text ?? ''), maxLength);
}

function formatSubject(finding: Finding): string {
  const severity = String(finding.severity).toUpperCase();
  const mode = finding.mode === 'attest' ? ' attest' : '';
  const resource = shortResource(finding.resource);
  const title = resource && !finding.title.includes(resource) ? `${finding.title} (${resource})` : finding.title;
  return asciiLine(`[${severity}${mode}] ${finding.useCase}: ${redactText(title)}`, SUBJECT_MAX_LENGTH);
}

/** Subjects are ASCII: accents are folded, anything else becomes '?', markup characters are swapped. */
function asciiLine(text: string, maxLength: number): string {
  const ascii = text
    .slice(0, maxLength * 4)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(INVISIBLE, '')
    .replace(CONTROL, ' ')
    .replace(/[^\x20-\x7e]/gu, '?')
    .replace(/</g, '(')
    .replace(/>/g, ')')
    .replace(/`/g, "'")
    .replace(/(^|[^A-Za-z0-9_.+-])@(?=[A-Za-z0-9])/g, '$1@ ')
    .replace(/(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}):\/\//g, '$1[:]//')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= maxLength ? ascii : `${ascii.slice(0, maxLength - 3).trimEnd()}...`;
}

/** The name at the end of an ARN or path: enough for a subject line. */
function shortResource(resource: string | undefined): string {
  if (!resource) return '';
  return resource.split(/[:/]/).filter((part) => part !== '').at(-1) ?? resource;
}

function formatText(finding: Finding, options: FormatOptions): string {
  const question = QUESTIONS[finding.answers] ?? 'Unknown question';
  const where = [
    finding.resource ? untrusted(finding.resource, LIMITS.resource) : undefined,
    finding.account ? `account ${untrusted(finding.account, LIMITS.short)}` : undefined,
    finding.region ? `region ${untrusted(finding.region, LIMITS.short)}` : undefined,
  ].filter((part) => part !== undefined);
  const from = [
    finding.sourceIp ? untrusted(finding.sourceIp, LIMITS.short) : undefined,
    finding.userAgent ? `user agent ${untrusted(finding.userAgent, LIMITS.userAgent)}` : undefined,
  ].filter((part) => part !== undefined);
  const policy = [`mode ${finding.mode}`, `stage ${finding.stage}`, `use case ${untrusted(finding.useCase, LIMITS.short)}`];
  if (finding.team) policy.push(`team ${untrusted(finding.team, LIMITS.short)}`);
  const evidence = formatEvidence(finding.evidence, options.evidenceMaxLength ?? DEFAULT_EVIDENCE_MAX_LENGTH);

  return [
    `${String(finding.severity).toUpperCase()} ${finding.mode === 'attest' ? 'attestation' : 'alert'}: ${untrusted(finding.title, LIMITS.title)}`,
    `Question (${finding.answers}): ${question}`,
    '',
    `What:     ${untrusted(finding.summary, LIMITS.summary)}`,
    `Who:      ${untrusted(finding.principal, LIMITS.principal)}`,
    `Where:    ${where.length > 0 ? where.join(', ') : 'unknown'}`,
    `When:     ${untrusted(finding.eventTime, LIMITS.short)}`,
    ...(from.length > 0 ? [`From:     ${from.join(', ')}`] : []),
    `Severity: ${finding.severity} (${policy.join(', ')})`,
    '',
    'Runbook:',
    // Written by us, not by the event: keep its line breaks, drop everything else risky.
    ...finding.runbook.split(/\r?\n/).map((line) => sanitizeLine(line, LIMITS.runbook)).slice(0, 50),
    '',
    evidence.label,
    ...(evidence.json ? [evidence.json] : []),
    '',
    `Finding id: ${untrusted(finding.id, LIMITS.short)}`,
    `Event id:   ${untrusted(finding.eventId, LIMITS.short)}`,
  ].join('\n');
}

function formatEvidence(evidence: Record<string, unknown>, maxLength: number): { label: string; json: string } {
  if (maxLength <= 0) return { label: 'Evidence: omitted (too large for this channel)', json: '' };
  // The engine redacted it before storing; redact again in case it was written some other way.
  const json = compactJson(redact(evidence));
  const { text, truncated } = bounded(json, maxLength, defuse);
  return { label: truncated ? `Evidence (compact JSON, truncated from ${json.length} characters):` : 'Evidence (compact JSON):', json: text };
}

function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '{}';
  } catch {
    return '"[evidence not serialisable]"';
  }
}

function formatAttributes(finding: Finding): Record<string, string> {
  const attributes: Record<string, string> = {
    severity: finding.severity,
    stage: finding.stage,
    useCase: finding.useCase,
    answers: finding.answers,
    mode: finding.mode,
  };
  if (finding.team) attributes['team'] = finding.team;
  // Filter policies match exact values: clean only what SNS would reject, and drop empty values.
  for (const [name, value] of Object.entries(attributes)) {
    const clean = sanitizeLine(String(value), ATTRIBUTE_MAX_LENGTH).trim();
    if (clean === '') delete attributes[name];
    else attributes[name] = clean;
  }
  return attributes;
}
