/**
 * Secret masking for evidence, applied before a finding is stored or sent. CodeBuild events carry
 * PLAINTEXT environment variable values verbatim (EVENTS.md 4.1), and attacker-controlled strings
 * can carry anything, so masking works on structure (env var lists, secret-looking keys) and on
 * content (known token formats) at once.
 *
 * Input is JSON-like data. Other objects are walked by their own enumerable properties, `toJSON` is
 * honoured as in JSON.stringify, cycles become "[Circular]" and nesting deeper than MAX_DEPTH becomes
 * "[Truncated]". `redact` never throws and never returns its input unmasked.
 */
import { createHash } from 'node:crypto';

export const MASK = '****';
const HIDDEN_BY_AWS = 'HIDDEN_DUE_TO_SECURITY_REASONS';
const MAX_DEPTH = 64;
/** CodeBuild env var types whose value is a reference (a parameter or secret name), not the secret. */
const REFERENCE_TYPES = new Set(['PARAMETER_STORE', 'SECRETS_MANAGER']);
/** Keys holding env var lists or maps, compared without case, dashes or underscores. */
const ENV_KEYS = new Set(['environmentvariables', 'environmentvariablesoverride']);
const SECRET_KEY = /(secret|password|passwd|token|api[_-]?key|private.?key|credential|sessionToken|authorization)/i;
/** Last word of a secret-looking key that makes it metadata about a secret, not the secret. */
const METADATA_WORDS = new Set([
  'arn', 'id', 'ids', 'type', 'types', 'name', 'names', 'count', 'length', 'expiration', 'expires',
  'expiry', 'time', 'date', 'at', 'policy', 'provider', 'enabled', 'status', 'required', 'used',
  'duration', 'ttl', 'version', 'format', 'location', 'region', 'kind',
]);
const ALREADY_MASKED = /^\*{4}(\(sha256:[0-9a-f]{8}\))?$/;
const ARN = /^arn:aws[a-z-]*:/;

type Mode = 'plain' | 'secret' | 'env' | 'fingerprint';

export function redact<T>(value: T): T {
  try {
    return walk(value, 'plain', undefined, 0, []) as T;
  } catch {
    // A hostile getter or proxy: give up on this value rather than risk passing it through.
    return '[Unredactable]' as T;
  }
}

/**
 * Answers of redactText by input: the same texts come back with every finding and event (runbooks,
 * titles, principals, user agents), and the rules are pure. Bounded by total characters held.
 */
const redactedTexts = new Map<string, string>();
const MAX_REDACTED_CHARS = 1_000_000;
let redactedChars = 0;

/** Masks secret-looking substrings of free text (token formats, URL passwords, key=value pairs). */
export function redactText(text: string): string {
  // Most text holds none of the words every rule needs: one scan instead of one per rule, and
  // nothing kept (ids, hashes and times are new every time: keeping them would only churn memory).
  if (!MAY_HOLD_SECRET.test(text) && !(text.includes('://') && text.includes('@'))) return text;
  const known = redactedTexts.get(text);
  if (known !== undefined) return known;
  let out = maskUrlPasswords(text);
  for (const { pattern, replace } of TEXT_RULES) out = out.replace(pattern, replace);
  if (text.length <= 16_384) {
    if (redactedChars + text.length + out.length > MAX_REDACTED_CHARS) {
      redactedTexts.clear();
      redactedChars = 0;
    }
    redactedTexts.set(text, out);
    redactedChars += text.length + out.length;
  }
  return out;
}

/**
 * True when a PLAINTEXT variable probably holds a secret, by its name or its value.
 * Empty values, AWS's own placeholder and ARNs (references) are not secrets.
 */
export function looksLikeSecret(name: string, value: string): boolean {
  if (value === '' || value === HIDDEN_BY_AWS || ARN.test(value)) return false;
  return secretNameKnown(name) || redactText(value) !== value || highEntropy(value);
}

/** secretName, once per name: builds carry the same variables again and again. */
function secretNameKnown(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = secretName(name);
    if (name.length <= 256) {
      if (secretNames.size >= MAX_KNOWN_KEYS) secretNames.clear();
      secretNames.set(name, secret);
    }
  }
  return secret;
}
const secretNames = new Map<string, boolean>();

const fingerprints = new Map<string, string>();
const MAX_FINGERPRINT_CHARS = 1_000_000;
let fingerprintChars = 0;

/** `****(sha256:ab12cd34)`: hides the value but lets a diff tell that it changed. */
export function fingerprint(value: string): string {
  if (ALREADY_MASKED.test(value)) return value;
  // Builds repeat their variables: each value is hashed once (bounded by characters held).
  let known = fingerprints.get(value);
  if (known === undefined) {
    known = `${MASK}(sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)})`;
    if (value.length <= 4096) {
      if (fingerprintChars + value.length > MAX_FINGERPRINT_CHARS) {
        fingerprints.clear();
        fingerprintChars = 0;
      }
      fingerprints.set(value, known);
      fingerprintChars += value.length;
    }
  }
  return known;
}

function walk(value: unknown, mode: Mode, parentKey: string | undefined, depth: number, ancestors: object[]): unknown {
  if (typeof value === 'string') return maskString(value, mode);
  if (typeof value === 'number') return mode === 'secret' ? MASK : mode === 'fingerprint' ? fingerprint(String(value)) : value;
  if (typeof value !== 'object' || value === null) return value;
  // The objects above this one (at most MAX_DEPTH): a short list, cheaper to search than a set to keep.
  if (ancestors.includes(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  const toJSON = read(value as Record<string, unknown>, 'toJSON');
  if (typeof toJSON === 'function') return walk(callToJSON(toJSON as () => unknown, value), mode, parentKey, depth + 1, ancestors);

  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item) => (isEnvVar(item) && mode !== 'secret' ? envVar(item, depth + 1, ancestors) : walk(item, mode, parentKey, depth + 1, ancestors)));
    }
    return walkObject(value as Record<string, unknown>, mode, parentKey, depth, ancestors);
  } finally {
    ancestors.pop();
  }
}

function walkObject(obj: Record<string, unknown>, mode: Mode, parentKey: string | undefined, depth: number, ancestors: object[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const diffMode = mode === 'plain' ? diffEntryMode(obj) : undefined;
  for (const key of Object.keys(obj)) {
    const child = read(obj, key);
    let childMode: Mode = mode;
    if (mode === 'env') {
      // A map of NAME -> value: NAME is not secret, its value is.
      set(out, key, isRecord(child) && 'value' in child ? envVar(child, depth + 1, ancestors) : walk(child, 'fingerprint', key, depth + 1, ancestors));
      continue;
    }
    const facts = mode === 'plain' ? keyFacts(key) : undefined;
    if (facts) {
      if (diffMode && (key === 'before' || key === 'after')) childMode = diffMode;
      else if (facts.env || (facts.normalised === 'variables' && parentKey !== undefined && keyFacts(parentKey).normalised === 'environment')) childMode = 'env';
      else if (facts.secret) childMode = 'secret';
    }
    set(out, facts ? facts.redacted : key, walk(child, childMode, key, depth + 1, ancestors));
  }
  return out;
}

/** A drift diff entry ({path, before, after}) carries its key in `path`, so mask by the path. */
function diffEntryMode(obj: Record<string, unknown>): Mode | undefined {
  const path = obj['path'];
  if (typeof path !== 'string' || !('before' in obj || 'after' in obj)) return undefined;
  const segments = path.split('.');
  const envAt = segments.findIndex((segment, i) => isEnvKey(segment, segments[i - 1]));
  if (envAt >= 0) return envAt === segments.length - 1 ? 'env' : 'fingerprint';
  return segments.some(secretKey) ? 'secret' : undefined;
}

/** `{name, value, type?}`: the shape of CodeBuild, ECS and Kubernetes environment variables. */
function isEnvVar(item: unknown): item is Record<string, unknown> {
  return isRecord(item) && typeof item['name'] === 'string' && 'value' in item;
}

function envVar(item: Record<string, unknown>, depth: number, ancestors: object[]): Record<string, unknown> {
  const type = typeof item['type'] === 'string' ? item['type'].toUpperCase() : 'PLAINTEXT';
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(item)) {
    const child = read(item, key);
    const keep = key !== 'value' || REFERENCE_TYPES.has(type);
    set(out, key, walk(child, keep ? 'plain' : 'fingerprint', key, depth + 1, ancestors));
  }
  return out;
}

function maskString(value: string, mode: Mode): string {
  if (mode === 'plain') return redactText(value);
  if (mode === 'env') {
    // Docker-style "NAME=value" entries keep the name.
    const pair = /^([A-Za-z_][A-Za-z0-9_.-]{0,255})=([\s\S]*)$/.exec(value);
    return pair ? `${pair[1]}=${maskValue(pair[2] ?? '', 'fingerprint')}` : maskValue(value, 'fingerprint');
  }
  return maskValue(value, mode);
}

/** Empty values, AWS's placeholder, ARNs (references) and masks reveal nothing and stay readable. */
function maskValue(value: string, mode: 'secret' | 'fingerprint'): string {
  if (value === '' || value === HIDDEN_BY_AWS || ARN.test(value) || ALREADY_MASKED.test(value)) return value;
  return mode === 'secret' ? MASK : fingerprint(value);
}

function callToJSON(toJSON: () => unknown, value: object): unknown {
  try {
    return toJSON.call(value);
  } catch {
    return '[Unreadable]';
  }
}

/** What walkObject asks of every key, worked out once per key: the same keys come back in every event. */
interface KeyFacts {
  readonly normalised: string;
  /** An env var list or map key by itself (isEnvKey without its parent). */
  readonly env: boolean;
  readonly secret: boolean;
  readonly redacted: string;
}
const knownKeys = new Map<string, KeyFacts>();
const MAX_KNOWN_KEYS = 10_000;

function keyFacts(key: string): KeyFacts {
  let facts = knownKeys.get(key);
  if (!facts) {
    const normalised = normaliseKey(key);
    facts = { normalised, env: ENV_KEYS.has(normalised), secret: secretKey(key), redacted: redactText(key) };
    // Keys are few; event-made ones (tags, variables) are bounded by forgetting them all now and then.
    if (key.length <= 256) {
      if (knownKeys.size >= MAX_KNOWN_KEYS) knownKeys.clear();
      knownKeys.set(key, facts);
    }
  }
  return facts;
}

function isEnvKey(key: string, parentKey: string | undefined): boolean {
  const k = normaliseKey(key);
  // Lambda and CloudFormation spell it environment.variables.
  return ENV_KEYS.has(k) || (k === 'variables' && parentKey !== undefined && normaliseKey(parentKey) === 'environment');
}

function normaliseKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

function words(name: string): string[] {
  return name
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

function secretKey(key: string): boolean {
  if (!SECRET_KEY.test(key)) return false;
  const last = words(key).at(-1);
  return last === undefined || !METADATA_WORDS.has(last);
}

/** Env var names: the key rule plus the short forms people use for variables (DB_PASS, NPM_AUTH, STRIPE_API_KEY). */
function secretName(name: string): boolean {
  if (secretKey(name)) return true;
  const w = words(name);
  if (w.length === 0 || METADATA_WORDS.has(w.at(-1) ?? '')) return false;
  return w.some((word, i) =>
    SECRET_NAME_WORDS.has(word)
    // A bare PWD is the shell's working directory.
    || (word === 'pwd' && w.length > 1)
    || (word === 'key' && KEY_QUALIFIERS.has(w[i - 1] ?? '')));
}
const SECRET_NAME_WORDS = new Set(['pass', 'pat', 'dsn', 'auth', 'passphrase']);
const KEY_QUALIFIERS = new Set(['api', 'private', 'secret', 'access', 'ssh', 'signing', 'license', 'master', 'client', 'encryption', 'auth', 'app', 'deploy']);

/** Random-looking tokens: long, no spaces, mixed character classes, high Shannon entropy. */
function highEntropy(value: string): boolean {
  if (value.length < 32 || value.length > 4096 || !/^[A-Za-z0-9+/=_-]+$/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(value)).length;
  if (classes < 3) return false;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) entropy -= (n / value.length) * Math.log2(n / value.length);
  return entropy >= 4;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function read(obj: Record<string, unknown>, key: string): unknown {
  try {
    return obj[key];
  } catch {
    return '[Unreadable]';
  }
}

/**
 * A `__proto__` key from JSON.parse is defined, so it stays data instead of changing the prototype;
 * every other key is assigned (the same own, enumerable, writable property, and much cheaper).
 */
function set(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

// Text rules. Every quantifier is bounded or anchored by a lookbehind, so a 1 MB string stays linear.
const SECRET_WORDS = 'secret|password|passwd|token|api[_-]?key|private[_-]?key|credential|authorization';
/**
 * Each rule: `needs`, a literal (regex source, matched case-insensitively) that every match of its
 * pattern contains, so text holding none of them is passed by with one scan (MAY_HOLD_SECRET).
 */
interface TextRule {
  readonly needs: string;
  readonly pattern: RegExp;
  readonly replace: (match: string, ...groups: string[]) => string;
}

const TEXT_RULES: readonly TextRule[] = [
  // PEM private keys, also when JSON-escaped or cut off before the END line.
  {
    needs: 'PRIVATE KEY',
    pattern: /-----BEGIN ([A-Z0-9 ]{0,40}?)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----|$)/g,
    replace: (_m, label = '', block = '') => `-----BEGIN ${label}PRIVATE KEY${block}-----${MASK}-----END ${label}PRIVATE KEY${block}-----`,
  },
  { needs: 'eyJ', pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,8192}\.eyJ[A-Za-z0-9_-]{4,65536}\.[A-Za-z0-9_-]{0,8192}/g, replace: () => `${MASK}(jwt)` },
  { needs: 'gh[pousr]_', pattern: /(?<![A-Za-z0-9_])(gh[pousr]_)[A-Za-z0-9]{20,255}(?![A-Za-z0-9])/g, replace: (_m, prefix = '') => `${prefix}${MASK}` },
  { needs: 'github_pat_', pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,255}/g, replace: () => `github_pat_${MASK}` },
  { needs: 'npm_', pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g, replace: () => `npm_${MASK}` },
  { needs: 'glpat-', pattern: /(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,255}/g, replace: () => `glpat-${MASK}` },
  { needs: '[sr]k_live_|[sr]k_test_', pattern: /(?<![A-Za-z0-9_])([sr]k_(?:live|test)_)[A-Za-z0-9]{16,255}/g, replace: (_m, prefix = '') => `${prefix}${MASK}` },
  // .npmrc lines (//registry.npmjs.org/:_authToken=…, :_password=, :_auth=), where the name follows ':'.
  { needs: ':_auth|:_password', pattern: /(:_(?:authToken|auth|password)\s{0,8}=\s{0,8})["']?[^\s"']{1,4096}/gi, replace: (_m, name = '') => `${name}${MASK}` },
  // Credentials on a command line: curl -u user:password, --password value, --password=value.
  { needs: '-u |--user |--password', pattern: /((?<![A-Za-z0-9-])(?:-u|--user)\s{1,8}["']?[^\s:"']{1,256}:)[^\s"']{1,4096}/g, replace: (_m, user = '') => `${user}${MASK}` },
  { needs: '--password', pattern: /(--password(?:=|\s{1,8}))["']?(?!-)[^\s"']{1,4096}/g, replace: (_m, flag = '') => `${flag}${MASK}` },
  { needs: 'xox[abprs]-', pattern: /(?<![A-Za-z0-9])(xox[abprs]-)[A-Za-z0-9-]{8,255}/g, replace: (_m, prefix = '') => `${prefix}${MASK}` },
  { needs: 'hooks\\.slack\\.com/services/', pattern: /(hooks\.slack\.com\/services\/)[A-Za-z0-9/]{8,255}/g, replace: (_m, prefix = '') => `${prefix}${MASK}` },
  // Access key ids: the prefix says long-term (AKIA) or session (ASIA); the last 4 help find the key.
  {
    needs: 'AKIA|ASIA',
    pattern: /(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{12}([A-Z0-9]{4})(?![A-Z0-9])/g,
    replace: (_m, prefix = '', last = '') => `${prefix}${'*'.repeat(12)}${last}`,
  },
  // Secret access keys only next to a key-like word: bare 40-char strings are usually commit ids.
  {
    needs: 'secret',
    pattern: /((?<![A-Za-z0-9])(?:aws[_-]?)?secret[_-]?(?:access[_-]?)?key["']?(?:\s{0,8}[:=]\s{0,8}|\s{1,8})["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/gi,
    replace: (_m, context = '') => `${context}${MASK}`,
  },
  { needs: 'Bearer|Basic', pattern: /\b(Bearer|Basic)(\s{1,8})[A-Za-z0-9._~+/=-]{8,4096}/g, replace: (_m, scheme = '', space = '') => `${scheme}${space}${MASK}` },
  // name=value / "name": "value" pairs inside text (query strings, buildspecs, JSON kept as a string).
  {
    needs: SECRET_WORDS,
    // Not after ':' or '/', where the word is part of an ARN or a path (arn:…:secret:name).
    pattern: new RegExp(`(?<![A-Za-z0-9_.:/-])([A-Za-z0-9_.-]{0,64}?(?:${SECRET_WORDS})[A-Za-z0-9_.-]{0,64})(["']?\\s{0,8}[:=]\\s{0,8})(["']?)([^\\s"',;&}\\]]{1,4096})`, 'gi'),
    replace: (m, name = '', sep = '', quote = '', value = '') =>
      !secretKey(name) || value === HIDDEN_BY_AWS || ARN.test(value) || value.startsWith(MASK) || namesInProse(name, sep, quote, value) ? m : `${name}${sep}${quote}${MASK}`,
  },
];

/** Any rule's literal (case-insensitive, so a superset): text without one comes out of the rules unchanged. */
const MAY_HOLD_SECRET = new RegExp(TEXT_RULES.map((rule) => rule.needs).join('|'), 'i');

/**
 * "variables that look like secrets: GH_TOKEN": prose naming variables (a plural, a colon and a
 * space, an unquoted CONSTANT_CASE name), as our own summaries write it, not a secret's value.
 */
function namesInProse(name: string, sep: string, quote: string, value: string): boolean {
  return /s$/i.test(name) && /^:\s/.test(sep) && quote === '' && /^[A-Z][A-Z0-9_]*_[A-Z0-9_]*[).]?$/.test(value);
}

// https://user:password@host -> https://user:****@host. People paste passwords unencoded, with '/',
// '#', '?' or '@' in them, so a password runs to the LAST '@' before a host within 1024 characters
// and before any whitespace. "host:8080/path?to=a@b" (a port, then a path) is not a password.
// Found by binary search over the '@' and whitespace positions, so a 1 MB string stays linear.
// The user may be an e-mail address (https://jane.doe@example.com:password@host).
const URL_USER = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s/?#:]{1,256}:/g;
const MAX_PASSWORD = 1024;

function maskUrlPasswords(text: string): string {
  if (!text.includes('://') || !text.includes('@')) return text;
  const ats = positions(text, /@(?=[A-Za-z0-9[])/g);
  const spaces = positions(text, /\s/g);
  let out = '';
  let copied = 0;
  for (const match of text.matchAll(URL_USER)) {
    if (match.index < copied) continue;
    const start = match.index + match[0].length;
    const limit = Math.min(start + MAX_PASSWORD, spaces[indexAtOrAfter(spaces, start)] ?? text.length);
    const at = lastBefore(ats, limit, start);
    if (at === undefined || /^\d{1,5}[/?#]/.test(text.slice(start, at))) continue;
    out += `${text.slice(copied, start)}${MASK}`;
    copied = at;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function positions(text: string, pattern: RegExp): number[] {
  return Array.from(text.matchAll(pattern), (m) => m.index);
}

/** Index of the first position >= from (positions sorted); the length when there is none. */
function indexAtOrAfter(sorted: readonly number[], from: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last position p with after < p < before, if any (positions sorted). */
function lastBefore(sorted: readonly number[], before: number, after: number): number | undefined {
  const found = sorted[indexAtOrAfter(sorted, before) - 1];
  return found !== undefined && found > after ? found : undefined;
}
