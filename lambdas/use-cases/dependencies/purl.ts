/**
 * Package URLs (https://github.com/package-url/purl-spec): `pkg:type/namespace/name@version?qualifiers#subpath`.
 * Buildwatch compares packages across builds by their purl WITHOUT version (the package's identity),
 * so the parts are decoded and normalised the way the spec says each type compares.
 */

export interface Purl {
  /** Lower-case type: npm, pypi, maven, deb, rpm, apk, golang, gem, cargo, nuget, generic, … */
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Types whose names compare case-insensitively (purl spec, per-type rules). */
const CASE_INSENSITIVE = new Set(['npm', 'pypi', 'github', 'bitbucket', 'composer', 'golang', 'nuget', 'apk', 'deb', 'alpm']);

/** The parts of a purl, or undefined when the text is not one. */
export function parsePurl(text: string | undefined): Purl | undefined {
  if (typeof text !== 'string' || !/^pkg:/i.test(text) || text.length > 2048) return undefined;
  let rest = text.slice(4).replace(/^\/+/, '');
  rest = rest.split('#')[0] ?? '';
  rest = rest.split('?')[0] ?? '';
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const type = rest.slice(0, slash).toLowerCase();
  let path = rest.slice(slash + 1).replace(/\/+$/, '');
  let version: string | undefined;
  // The version follows the last '@' of the last segment, so an unencoded npm scope (@angular/core) is not one.
  const lastSlash = path.lastIndexOf('/');
  const at = path.indexOf('@', lastSlash + 1);
  if (at > lastSlash + 1) {
    version = decode(path.slice(at + 1));
    path = path.slice(0, at);
  }
  const segments = path.split('/').filter((s) => s !== '').map(decode);
  const rawName = segments.pop();
  if (!rawName) return undefined;
  const rawNamespace = segments.length > 0 ? segments.join('/') : undefined;
  const lower = CASE_INSENSITIVE.has(type);
  const name = type === 'pypi' ? normalisePypiName(rawName) : lower ? rawName.toLowerCase() : rawName;
  const namespace = rawNamespace === undefined ? undefined : lower ? rawNamespace.toLowerCase() : rawNamespace;
  return { type, ...(namespace ? { namespace } : {}), name, ...(version ? { version } : {}) };
}

/** PEP 503: runs of -, _ and . are one dash, case-insensitive. */
export function normalisePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The package's identity without its version: `pkg:npm/@ctrl/tinycolor`. */
export function purlKey(purl: Purl): string {
  return `pkg:${purl.type}/${purl.namespace ? `${purl.namespace}/` : ''}${purl.name}`;
}

/** OS package types: the namespace is the distribution, and versions carry a packaging revision. */
export const OS_PACKAGE_TYPES: ReadonlySet<string> = new Set(['deb', 'rpm', 'apk', 'alpm']);

/** The name a registry (and an advisory) uses for the package: `@ctrl/tinycolor`, `org.apache:commons-text`, `xz-utils`. */
export function registryName(purl: Purl): string {
  if (!purl.namespace || OS_PACKAGE_TYPES.has(purl.type)) return purl.name;
  if (purl.type === 'maven') return `${purl.namespace}:${purl.name}`;
  return `${purl.namespace}/${purl.name}`;
}
