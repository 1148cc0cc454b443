/**
 * Alert text for SNS subscribers (email, SIEM, HTTPS, SQS, Lambda) and chat cards for AWS Chatbot
 * (Slack, Microsoft Teams). Every alert says which question it answers, who did what to which
 * resource, when and from where, why it matters, the first triage step and a console link. Most of
 * a finding comes from the event, i.e. from whoever made the API call, so every such string is
 * redacted again, stripped of control characters, defused (mentions, links, markup) and bounded
 * before it reaches a human.
 */
import { createHash } from 'node:crypto';
import { QUESTIONS, type Finding } from '../engine/model.js';
import { redact, redactText } from '../engine/redact.js';
import { consoleLink } from './console-links.js';
import { CONTROL, INVISIBLE, stripUnsafe } from './safe-text.js';

export interface Alert {
  /** ASCII, one line, under SNS's 100-character limit. */
  readonly subject: string;
  readonly text: string;
  /** SNS message attributes for subscription filter policies. */
  readonly attributes: Record<string, string>;
}

/** What a use case is about, by id: "why it matters" in alerts (the stack inlines it in the notify bundle). */
/** Per use case: its description ("why it matters") and ATT&CK technique ids (Security Hub Types). */
export type UseCaseNotes = Readonly<Record<string, { readonly description: string; readonly mitre?: readonly string[] }>>;

export interface FormatOptions {
  /**
   * Upper bound, in UTF-16 code units, of the evidence JSON in the text (0 omits it).
   * @default 200_000 (the SNS notifier sets its own, to fit 256 KiB)
   */
  readonly evidenceMaxLength?: number;
  /** Use-case descriptions for "why it matters"; without one, the question stands in. */
  readonly notes?: UseCaseNotes;
  /**
   * An organisation deployment: the console link says which account to switch to, and the account
   * and region become message attributes (subscriptions can filter on them).
   */
  readonly organization?: boolean;
}

/** `tooling (111122223333)` with a configured name, else the id. */
export function accountLabel(finding: Pick<Finding, 'account' | 'accountName'>): string | undefined {
  if (!finding.account) return undefined;
  return finding.accountName ? `${finding.accountName} (${finding.account})` : finding.account;
}

/** SNS: "less than 100 characters". */
export const SUBJECT_MAX_LENGTH = 99;
export const DEFAULT_EVIDENCE_MAX_LENGTH = 200_000;
const ATTRIBUTE_MAX_LENGTH = 256;
/** Per-field bounds: enough to read, too little to flood a chat channel. */
const LIMITS = { summary: 2000, title: 300, principal: 500, resource: 500, userAgent: 300, short: 100, runbook: 4000, why: 1000, step: 500 } as const;

const ZWSP = '\u200b';

/** Why the finding matters: its use case's description (without one, the question says it, once). */
function whyItMatters(finding: Finding, notes: UseCaseNotes | undefined): string | undefined {
  return notes && Object.hasOwn(notes, finding.useCase) ? notes[finding.useCase]?.description : undefined;
}

/** The runbook's first sentence: what to do first. */
export function firstStep(runbook: string): string {
  const text = runbook.trim();
  const match = /^[\s\S]*?[.!?](?=\s+[A-Z(]|\s*$)/.exec(text);
  return (match?.[0] ?? text).trim();
}

/** The runbook as steps (sentences), at most `max`. */
export function runbookSteps(runbook: string, max: number): string[] {
  const steps: string[] = [];
  let rest = runbook.trim();
  while (rest !== '' && steps.length < max) {
    const step = firstStep(rest);
    steps.push(step);
    rest = rest.slice(rest.indexOf(step) + step.length).trim();
  }
  return steps;
}

export function formatAlert(finding: Finding, options: FormatOptions = {}): Alert {
  return { subject: formatSubject(finding), text: formatText(finding, options), attributes: formatAttributes(finding, options) };
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
  // Stripped before defusing: the zero-width spaces defusing inserts (after @, between ] and () stay.
  const cleaned = transform(stripUnsafe(head));
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
    finding.account ? `account ${untrusted(accountLabel(finding), LIMITS.short)}` : undefined,
    finding.region ? `region ${untrusted(finding.region, LIMITS.short)}` : undefined,
  ].filter((part) => part !== undefined);
  const switchTo = options.organization && finding.account ? ` (switch to account ${untrusted(accountLabel(finding), LIMITS.short)} first)` : '';
  const from = [
    finding.sourceIp ? untrusted(finding.sourceIp, LIMITS.short) : undefined,
    finding.userAgent ? `user agent ${untrusted(finding.userAgent, LIMITS.userAgent)}` : undefined,
  ].filter((part) => part !== undefined);
  const policy = [`mode ${finding.mode}`, `stage ${finding.stage}`, `use case ${untrusted(finding.useCase, LIMITS.short)}`];
  if (finding.team) policy.push(`team ${untrusted(finding.team, LIMITS.short)}`);
  const evidence = formatEvidence(finding.evidence, options.evidenceMaxLength ?? DEFAULT_EVIDENCE_MAX_LENGTH);
  const link = consoleLink(finding);
  const why = whyItMatters(finding, options.notes);

  return [
    `${String(finding.severity).toUpperCase()} ${finding.mode === 'attest' ? 'attestation' : 'alert'}: ${untrusted(finding.title, LIMITS.title)}`,
    `Question (${finding.answers}): ${question}`,
    ...(why ? [`Why it matters: ${neutralise(why, LIMITS.why)}`] : []),
    '',
    `What:     ${untrusted(finding.summary, LIMITS.summary)}`,
    `Who:      ${untrusted(finding.principal, LIMITS.principal)}`,
    `Where:    ${where.length > 0 ? where.join(', ') : 'unknown'}`,
    `When:     ${untrusted(finding.eventTime, LIMITS.short)}`,
    ...(from.length > 0 ? [`From:     ${from.join(', ')}`] : []),
    `Severity: ${finding.severity} (${policy.join(', ')})`,
    `Console:  ${link ? `${link}${switchTo}` : 'no direct link for this finding: look it up by its id below'}`,
    '',
    `First step: ${sanitizeLine(firstStep(finding.runbook), LIMITS.step)}`,
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

function formatAttributes(finding: Finding, options: FormatOptions): Record<string, string> {
  const attributes: Record<string, string> = {
    severity: finding.severity,
    stage: finding.stage,
    useCase: finding.useCase,
    answers: finding.answers,
    mode: finding.mode,
  };
  if (finding.team) attributes['team'] = finding.team;
  // Organisation: which account and region (at most 10 attributes per message: this makes 9).
  if (options.organization && finding.account) attributes['account'] = finding.account;
  if (options.organization && finding.region) attributes['region'] = finding.region;
  // The repository, project or package name, so a subscription can follow one resource.
  // Event text, shown by some subscribers (Slack workflows, e-mail rules): neutralised like the message.
  const resource = shortResource(finding.resource);
  if (resource) attributes['resource'] = neutralise(redactText(resource), ATTRIBUTE_MAX_LENGTH);
  // Filter policies match exact values: clean only what SNS would reject, and drop empty values.
  for (const [name, value] of Object.entries(attributes)) {
    const clean = sanitizeLine(String(value), ATTRIBUTE_MAX_LENGTH).trim();
    if (clean === '') delete attributes[name];
    else attributes[name] = clean;
  }
  return attributes;
}

// ---- Chat cards (AWS Chatbot custom notifications) ---------------------------------------------

/**
 * An AWS Chatbot (Amazon Q Developer in chat applications) custom notification: rendered as a card
 * in Slack and Microsoft Teams, in the platform's markdown. Published to a chat topic as the message.
 */
export interface ChatNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly id: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: string;
    readonly relatedResources: readonly string[];
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/** Bounds for the card (chat clients truncate long cards; these keep one readable). */
export const CHAT_LIMITS = { title: 250, description: 3500, step: 300, steps: 4, keyword: 50, summary: 250 } as const;

const SEVERITY_EMOJI: Record<string, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

/**
 * Markdown-safe text for chat: neutralised (no mentions, links, angle brackets or backticks), then
 * the characters chat markdown formats with (`*`, `_`, `~`, `|`, `#`, `>`) swapped for look-alikes,
 * so event text can neither ping, link, nor restyle the card.
 */
export function chatText(text: string, maxLength: number): string {
  return chatMarkdownSafe(neutralise(redactText(text), maxLength));
}

/** The characters chat markdown formats with, swapped for look-alikes. */
function chatMarkdownSafe(text: string): string {
  return text
    .replace(/\*/g, '∗')
    .replace(/_/g, 'ˍ')
    .replace(/~/g, '˜')
    .replace(/\|/g, 'ǀ')
    .replace(/#/g, '＃');
}

/** An event-supplied value shown verbatim (copyable) in a code span, which chat clients do not format. */
function chatCode(text: string | undefined, maxLength: number): string {
  const value = neutralise(redactText(text ?? ''), maxLength).trim();
  return value === '' ? '(none)' : `\`${value}\``;
}

export function formatChatNotification(finding: Finding, options: Pick<FormatOptions, 'notes' | 'organization'> = {}): ChatNotification {
  const severity = String(finding.severity);
  const title = `${SEVERITY_EMOJI[severity] ?? ''} ${severity.toUpperCase()}: ${chatText(finding.title, CHAT_LIMITS.title - 40)}`.trim();
  const where = [
    finding.resource ? chatCode(finding.resource, LIMITS.resource) : 'unknown resource',
    finding.account ? `account ${chatCode(accountLabel(finding), LIMITS.short)}` : '',
    finding.region ? `region ${chatCode(finding.region, LIMITS.short)}` : '',
  ].filter(Boolean);
  const switchTo = options.organization && finding.account ? ` (switch to account ${chatCode(accountLabel(finding), LIMITS.short)} first)` : '';
  const from = [finding.sourceIp ? chatCode(finding.sourceIp, LIMITS.short) : '', finding.userAgent ? `user agent ${chatCode(finding.userAgent, LIMITS.userAgent)}` : ''].filter(Boolean);
  const link = consoleLink(finding);
  const why = whyItMatters(finding, options.notes);
  const lines = [
    `*What:* ${chatCode(finding.summary, 700)}`,
    `*Who:* ${chatCode(finding.principal, 300)}`,
    `*Where:* ${where.join(', ')}`,
    `*When:* ${chatCode(finding.eventTime, LIMITS.short)}`,
    ...(from.length > 0 ? [`*From:* ${from.join(', ')}`] : []),
    `*Question:* ${chatText(QUESTIONS[finding.answers] ?? 'Unknown question', 300)} (${chatCode(finding.answers, LIMITS.short)})`,
    ...(why ? [`*Why it matters:* ${chatText(why, 600)}`] : []),
    `*Console:* ${link ? `${link}${switchTo}` : 'no direct link: look the finding up by its id'}`,
    `*Finding:* ${chatCode(finding.id, LIMITS.short)} (${chatCode(finding.useCase, LIMITS.short)}${finding.team ? `, team ${chatCode(finding.team, LIMITS.short)}` : ''})`,
  ];
  let description = lines.join('\n');
  if (description.length > CHAT_LIMITS.description) description = `${description.slice(0, CHAT_LIMITS.description - 1)}…`;
  // Chat clients render these too: no mention, link or markdown either.
  const resource = finding.resource ? chatText(finding.resource, LIMITS.resource) : '';
  return {
    version: '1.0',
    source: 'custom',
    id: finding.id,
    content: {
      textType: 'client-markdown',
      title,
      description,
      nextSteps: runbookSteps(finding.runbook, CHAT_LIMITS.steps).map((step) => chatText(step, CHAT_LIMITS.step)),
      keywords: [severity, finding.stage, finding.useCase, ...(finding.team ? [finding.team] : [])].map((k) => chatText(String(k), CHAT_LIMITS.keyword)),
    },
    metadata: {
      // One thread per use case, resource and severity: later alerts about the same thing group under
      // the first (where the channel threads updates), and a more severe one starts its own.
      threadId: createHash('sha256').update(`${finding.useCase}\n${finding.resource ?? finding.dedupKey}\n${severity}`).digest('hex').slice(0, 32),
      summary: chatMarkdownSafe(formatSubject(finding)).slice(0, CHAT_LIMITS.summary),
      eventType: chatText(finding.useCase, LIMITS.short),
      relatedResources: resource ? [resource] : [],
      additionalContext: {
        findingId: neutralise(finding.id, LIMITS.short),
        eventId: neutralise(finding.eventId, LIMITS.short),
        severity,
        mode: finding.mode,
        ...(finding.team ? { team: neutralise(finding.team, LIMITS.short) } : {}),
        ...(options.organization && finding.account ? { account: neutralise(accountLabel(finding) ?? '', LIMITS.short) } : {}),
        ...(options.organization && finding.region ? { region: neutralise(finding.region, LIMITS.short) } : {}),
        ...(link ? { consoleUrl: link } : {}),
      },
    },
  };
}
