/**
 * Version comparison that is good enough across ecosystems to tell an upgrade from a downgrade:
 * semver and npm, PEP 440's common forms, Maven, Go (`v1.2.3`), and OS packages (`1:5.6.1-1`, `5.6.1-r0`).
 * It answers "unknown" rather than guess (commit hashes, dates against numbers).
 */

type Token = number | string;

const HASH_LIKE = /^[0-9a-f]{7,64}$/i;
/** Labels that sort after the release they qualify (1.0.post1 > 1.0, 1.0-sp1 > 1.0). */
const AFTER_RELEASE = new Set(['post', 'p', 'pl', 'sp', 'patch', 'r', 'rev', 'final', 'ga', 'release']);

/** OS packages keep `~` (dpkg: sorts before anything, even the end: 1.0~rc1 < 1.0). */
const TILDE = '~';

function tokens(text: string, osPackage = false): Token[] {
  return (text.match(osPackage ? /\d+|[A-Za-z]+|~/g : /\d+|[A-Za-z]+/g) ?? []).map((t) => (/^\d+$/.test(t) ? Number(t) : t.toLowerCase()));
}

interface Parsed {
  readonly epoch: number;
  readonly main: Token[];
  /** Pre-release (semver `-rc.1`) tokens, or a packaging revision for OS packages. */
  readonly suffix: Token[];
}

function parse(version: string, osPackage: boolean): Parsed | undefined {
  let text = version.trim().replace(/^[vV](?=\d)/, '').replace(/^=+/, '');
  if (text === '' || (HASH_LIKE.test(text) && /[a-f]/i.test(text) && !/^\d/.test(text))) return undefined;
  let epoch = 0;
  const epochMatch = /^(\d+):(.+)$/.exec(text);
  if (epochMatch) {
    epoch = Number(epochMatch[1]);
    text = epochMatch[2] ?? '';
  }
  // semver build metadata never orders; in an OS package version `+` is part of it (2.36-9+deb12u5, 1.2+dfsg-1).
  if (!osPackage) text = text.split('+')[0] ?? text;
  const dash = osPackage ? text.lastIndexOf('-') : text.indexOf('-');
  const main = tokens(dash > 0 ? text.slice(0, dash) : text, osPackage);
  const suffix = dash > 0 ? tokens(text.slice(dash + 1), osPackage) : [];
  if (main.length === 0 || typeof main[0] !== 'number') return undefined;
  return { epoch, main, suffix };
}

/** `extra`: what one more token means for the longer one. */
function compareTokens(a: readonly Token[], b: readonly Token[], extra: (token: Token | undefined) => number = extraSign): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -extra(y);
    if (y === undefined) return extra(x);
    if (x === TILDE) return -1;
    if (y === TILDE) return 1;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : 1;
    // A number outranks a label at the same position (1.0.1 > 1.0.rc1).
    return typeof x === 'number' ? 1 : -1;
  }
  return 0;
}

/** What one extra token means for the longer version: 1.0.1 > 1.0, 1.0rc1 < 1.0, 1.0.post1 > 1.0 (and 1.0~rc1 < 1.0). */
function extraSign(token: Token | undefined): number {
  if (token === undefined) return 0;
  if (token === TILDE) return -1;
  if (typeof token === 'number') return 1;
  return AFTER_RELEASE.has(token) ? 1 : -1;
}

/** A packaging revision (dpkg, rpm): anything more makes it newer (9+deb12u2 > 9), except a `~` (1~deb12u1 < 1). */
function osExtraSign(token: Token | undefined): number {
  if (token === undefined) return 0;
  return token === TILDE ? -1 : 1;
}

/**
 * -1, 0 or 1 when `a` is older than, equal to or newer than `b`; undefined when they cannot be
 * compared. `osPackage` treats the part after the last dash as a packaging revision (deb, rpm, apk).
 */
export function compareVersions(a: string, b: string, osPackage = false): -1 | 0 | 1 | undefined {
  if (a === b) return 0;
  const x = parse(a, osPackage);
  const y = parse(b, osPackage);
  if (!x || !y) return undefined;
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const main = compareTokens(x.main, y.main);
  if (main !== 0) return main < 0 ? -1 : 1;
  if (osPackage) {
    const revision = compareTokens(x.suffix, y.suffix, osExtraSign);
    return revision === 0 ? 0 : revision < 0 ? -1 : 1;
  }
  // semver: a pre-release sorts before its release.
  if (x.suffix.length === 0 && y.suffix.length === 0) return 0;
  if (x.suffix.length === 0) return 1;
  if (y.suffix.length === 0) return -1;
  const pre = compareTokens(x.suffix, y.suffix);
  return pre === 0 ? 0 : pre < 0 ? -1 : 1;
}

/** True when `to` changes the leading number of `from` (1.x → 2.x). */
export function isMajorChange(from: string, to: string): boolean {
  const x = parse(from, false);
  const y = parse(to, false);
  return Boolean(x && y && x.main[0] !== y.main[0]);
}

/** The upstream version of an OS package version: `1:5.6.1-1` → `5.6.1`, `5.6.0-r0` → `5.6.0`. */
export function upstreamVersion(version: string): string {
  const withoutEpoch = version.replace(/^\d+:/, '');
  const dash = withoutEpoch.lastIndexOf('-');
  return dash > 0 ? withoutEpoch.slice(0, dash) : withoutEpoch;
}

/** The newest of several versions (by compareVersions; incomparable ones keep the first seen). */
export function newest(versions: readonly string[], osPackage = false): string | undefined {
  let best: string | undefined;
  for (const version of versions) {
    if (best === undefined || compareVersions(version, best, osPackage) === 1) best = version;
  }
  return best;
}
