/**
 * SBOM parsing and validation: CycloneDX JSON 1.4–1.7 and SPDX JSON 2.2–2.3, the formats CodeBuild
 * pipelines produce with cdxgen, syft, trivy, `npm sbom` or GitHub's export. Parsing is bounded (bytes,
 * components, nesting) and never throws: a broken SBOM is a list of failed checks, so the finding can
 * say which check failed.
 *
 * Only package components count: libraries and frameworks (or anything with a purl), never the
 * document's own subject (CycloneDX metadata.component, SPDX DESCRIBES), files, the operating system
 * entry or trivy's lock-file "application" entries.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { isRecord } from '../../engine/pipeline-event.js';
import { parsePurl, purlKey, type Purl } from './purl.js';

/** Same ceiling as the look-ups (10 MB): SBOMs are small; a larger object is a mistake or an attack. */
export const MAX_SBOM_BYTES = 10 * 1024 * 1024;
/** Components beyond this are not read (a real SBOM of a large container image has a few thousand). */
export const MAX_COMPONENTS = 100_000;
const MAX_NESTING = 16;

// 1.7 (October 2025) only adds to 1.6: syft writes it by default.
export const CYCLONEDX_VERSIONS: readonly string[] = ['1.4', '1.5', '1.6', '1.7'];
export const SPDX_VERSIONS: readonly string[] = ['SPDX-2.2', 'SPDX-2.3'];

export type SbomCheck = 'size' | 'json' | 'format' | 'version' | 'structure' | 'components' | 'names' | 'versions';

export interface SbomFailure {
  readonly check: SbomCheck;
  readonly message: string;
}

export interface SbomComponent {
  /** The package without its version: a purl key, or `name:<group>/<name>` when there is no purl. */
  readonly key: string;
  readonly name: string;
  readonly group?: string;
  readonly version?: string;
  readonly purl?: Purl;
  /** bom-ref or SPDXID, to point at a broken entry. */
  readonly ref?: string;
}

export interface ParsedSbom {
  readonly sha256: string;
  readonly bytes: number;
  /** `CycloneDX` or `SPDX` once recognised. */
  readonly format?: 'CycloneDX' | 'SPDX';
  /** `1.5`, `SPDX-2.3`, or what the document claimed. */
  readonly specVersion?: string;
  /** serialNumber (CycloneDX) or documentNamespace (SPDX). */
  readonly documentId?: string;
  /** Package components with a name (entries without one are counted in `unnamed`). */
  readonly components: readonly SbomComponent[];
  readonly unnamed: number;
  /** Failed checks; empty means valid. */
  readonly failures: readonly SbomFailure[];
  /** True when parsing stopped at MAX_COMPONENTS. */
  readonly truncated: boolean;
}

const GZIP = [0x1f, 0x8b];
const CDX_PACKAGE_TYPES = new Set(['library', 'framework']);
/** SPDX 2.3 purposes that are not packages of code the build depends on. */
const SPDX_NON_PACKAGE_PURPOSES = new Set(['OPERATING-SYSTEM', 'CONTAINER', 'FILE', 'SOURCE', 'ARCHIVE', 'INSTALL', 'DEVICE', 'FIRMWARE', 'OTHER']);
/** SPDX says NOASSERTION or NONE when a field is unknown. */
const SPDX_UNKNOWN = new Set(['', 'NOASSERTION', 'NONE']);

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function failure(check: SbomCheck, message: string): SbomFailure {
  return { check, message };
}

function examples(items: readonly string[]): string {
  const shown = items.slice(0, 5).map((i) => JSON.stringify(i.slice(0, 80)));
  return `${shown.join(', ')}${items.length > 5 ? ` and ${items.length - 5} more` : ''}`;
}

/** Reads an SBOM object's bytes (gzip is unpacked, bounded). */
export function parseSbom(raw: Uint8Array): ParsedSbom {
  const base = { sha256: sha256(raw), bytes: raw.byteLength, components: [] as SbomComponent[], unnamed: 0, truncated: false };
  if (raw.byteLength > MAX_SBOM_BYTES) {
    return { ...base, failures: [failure('size', `the SBOM is ${raw.byteLength} bytes, over the ${MAX_SBOM_BYTES}-byte limit`)] };
  }
  let bytes = raw;
  if (raw[0] === GZIP[0] && raw[1] === GZIP[1]) {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: MAX_SBOM_BYTES });
    } catch (error) {
      return { ...base, failures: [failure('json', `the SBOM is gzip that does not unpack within ${MAX_SBOM_BYTES} bytes (${(error as Error).message})`)] };
    }
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ...base, failures: [failure('json', notJsonMessage(text, error))] };
  }
  if (!isRecord(json)) return { ...base, failures: [failure('format', 'the SBOM is JSON but not an object')] };
  if (json['bomFormat'] !== undefined) return parseCycloneDx(json, base);
  if (json['spdxVersion'] !== undefined) return parseSpdx(json, base);
  if (json['@context'] !== undefined || json['@graph'] !== undefined) {
    return { ...base, format: 'SPDX', specVersion: 'SPDX-3', failures: [failure('version', 'SPDX 3 JSON-LD is not supported (expected SPDX 2.2 or 2.3 JSON)')] };
  }
  return { ...base, failures: [failure('format', 'the JSON is neither CycloneDX (no bomFormat) nor SPDX (no spdxVersion)')] };
}

function notJsonMessage(text: string, error: unknown): string {
  const start = text.trimStart().slice(0, 200);
  if (start.startsWith('<')) return 'the SBOM is not JSON (it looks like XML; CycloneDX XML is not supported, use the JSON output)';
  if (/^SPDXVersion:/m.test(start)) return 'the SBOM is not JSON (it looks like SPDX tag-value; use the SPDX JSON output)';
  return `the SBOM is not JSON (${(error as Error).message.slice(0, 120)})`;
}

type Base = Pick<ParsedSbom, 'sha256' | 'bytes' | 'unnamed' | 'truncated'> & { components: SbomComponent[] };

function parseCycloneDx(json: Record<string, unknown>, base: Base): ParsedSbom {
  if (json['bomFormat'] !== 'CycloneDX') {
    return { ...base, failures: [failure('format', `bomFormat is ${JSON.stringify(json['bomFormat'])}, not "CycloneDX"`)] };
  }
  const specVersion = typeof json['specVersion'] === 'number' ? String(json['specVersion']) : json['specVersion'];
  const documentId = typeof json['serialNumber'] === 'string' ? json['serialNumber'] : undefined;
  const head = { ...base, format: 'CycloneDX' as const, ...(typeof specVersion === 'string' ? { specVersion } : {}), ...(documentId ? { documentId } : {}) };
  if (typeof specVersion !== 'string' || !CYCLONEDX_VERSIONS.includes(specVersion)) {
    return { ...head, failures: [failure('version', `CycloneDX specVersion ${JSON.stringify(specVersion)} is not supported (expected ${CYCLONEDX_VERSIONS.join(', ')})`)] };
  }
  const list = json['components'];
  if (list !== undefined && !Array.isArray(list)) return { ...head, failures: [failure('structure', 'components is not an array')] };
  const subject = isRecord(json['metadata']) && isRecord(json['metadata']['component']) ? json['metadata']['component'] : undefined;
  const subjectRef = subject && typeof subject['bom-ref'] === 'string' ? subject['bom-ref'] : undefined;

  const components: SbomComponent[] = [];
  const unnamed: string[] = [];
  let malformed = 0;
  let truncated = false;
  const walk = (entries: unknown[], depth: number): void => {
    for (const entry of entries) {
      if (components.length + unnamed.length >= MAX_COMPONENTS) {
        truncated = true;
        return;
      }
      if (!isRecord(entry)) {
        malformed += 1;
        continue;
      }
      const ref = typeof entry['bom-ref'] === 'string' ? entry['bom-ref'] : undefined;
      const purl = parsePurl(typeof entry['purl'] === 'string' ? entry['purl'] : undefined);
      const type = typeof entry['type'] === 'string' ? entry['type'] : '';
      const isPackage = (purl !== undefined || CDX_PACKAGE_TYPES.has(type)) && (ref === undefined || ref !== subjectRef);
      if (isPackage) {
        const name = typeof entry['name'] === 'string' ? entry['name'].trim() : '';
        const group = typeof entry['group'] === 'string' && entry['group'].trim() !== '' ? entry['group'].trim() : undefined;
        const version = typeof entry['version'] === 'string' && entry['version'].trim() !== '' ? entry['version'].trim() : purl?.version;
        if (name === '') unnamed.push(ref ?? (typeof entry['purl'] === 'string' ? entry['purl'] : `#${components.length + unnamed.length}`));
        else components.push(component(name, group, version, purl, ref));
      }
      const nested = entry['components'];
      if (Array.isArray(nested) && depth < MAX_NESTING) walk(nested, depth + 1);
    }
  };
  walk(Array.isArray(list) ? list : [], 0);
  return finish({ ...head, components, unnamed: unnamed.length, truncated }, unnamed, malformed, 'components');
}

function parseSpdx(json: Record<string, unknown>, base: Base): ParsedSbom {
  const specVersion = json['spdxVersion'];
  const documentId = typeof json['documentNamespace'] === 'string' ? json['documentNamespace'] : undefined;
  const head = { ...base, format: 'SPDX' as const, ...(typeof specVersion === 'string' ? { specVersion } : {}), ...(documentId ? { documentId } : {}) };
  if (typeof specVersion !== 'string' || !SPDX_VERSIONS.includes(specVersion)) {
    return { ...head, failures: [failure('version', `spdxVersion ${JSON.stringify(specVersion)} is not supported (expected ${SPDX_VERSIONS.join(', ')})`)] };
  }
  const list = json['packages'];
  if (list !== undefined && !Array.isArray(list)) return { ...head, failures: [failure('structure', 'packages is not an array')] };
  const structural: SbomFailure[] = [];
  if (json['SPDXID'] !== 'SPDXRef-DOCUMENT') structural.push(failure('structure', 'the document SPDXID is not "SPDXRef-DOCUMENT"'));
  if (!isRecord(json['creationInfo'])) structural.push(failure('structure', 'creationInfo is missing'));
  if (structural.length > 0) return { ...head, failures: structural };

  const described = describedElements(json);
  const components: SbomComponent[] = [];
  const unnamed: string[] = [];
  let malformed = 0;
  let truncated = false;
  for (const entry of Array.isArray(list) ? list : []) {
    if (components.length + unnamed.length >= MAX_COMPONENTS) {
      truncated = true;
      break;
    }
    if (!isRecord(entry)) {
      malformed += 1;
      continue;
    }
    const ref = typeof entry['SPDXID'] === 'string' ? entry['SPDXID'] : undefined;
    if (ref !== undefined && described.has(ref)) continue;
    const purl = spdxPurl(entry['externalRefs']);
    const purpose = typeof entry['primaryPackagePurpose'] === 'string' ? entry['primaryPackagePurpose'].toUpperCase() : undefined;
    if (!purl && purpose !== undefined && (SPDX_NON_PACKAGE_PURPOSES.has(purpose) || purpose === 'APPLICATION')) continue;
    const name = typeof entry['name'] === 'string' ? entry['name'].trim() : '';
    const rawVersion = typeof entry['versionInfo'] === 'string' ? entry['versionInfo'].trim() : '';
    const version = SPDX_UNKNOWN.has(rawVersion) ? purl?.version : rawVersion;
    if (name === '' || name === 'NOASSERTION') unnamed.push(ref ?? `#${components.length + unnamed.length}`);
    else components.push(component(name, undefined, version, purl, ref));
  }
  return finish({ ...head, components, unnamed: unnamed.length, truncated }, unnamed, malformed, 'packages');
}

/** The document's subjects (documentDescribes, or DESCRIBES relationships from the document). */
function describedElements(json: Record<string, unknown>): Set<string> {
  const ids = new Set<string>();
  const direct = json['documentDescribes'];
  if (Array.isArray(direct)) for (const id of direct) if (typeof id === 'string') ids.add(id);
  const relationships = json['relationships'];
  if (Array.isArray(relationships)) {
    for (const r of relationships) {
      if (!isRecord(r)) continue;
      if (r['spdxElementId'] === 'SPDXRef-DOCUMENT' && r['relationshipType'] === 'DESCRIBES' && typeof r['relatedSpdxElement'] === 'string') ids.add(r['relatedSpdxElement']);
      if (r['relatedSpdxElement'] === 'SPDXRef-DOCUMENT' && r['relationshipType'] === 'DESCRIBED_BY' && typeof r['spdxElementId'] === 'string') ids.add(r['spdxElementId']);
    }
  }
  return ids;
}

/** The purl among a package's externalRefs (category PACKAGE-MANAGER in 2.3, PACKAGE_MANAGER in 2.2). */
function spdxPurl(refs: unknown): Purl | undefined {
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    if (isRecord(ref) && ref['referenceType'] === 'purl' && typeof ref['referenceLocator'] === 'string') {
      const purl = parsePurl(ref['referenceLocator']);
      if (purl) return purl;
    }
  }
  return undefined;
}

function component(name: string, group: string | undefined, version: string | undefined, purl: Purl | undefined, ref: string | undefined): SbomComponent {
  const key = purl ? purlKey(purl) : `name:${group ? `${group}/` : ''}${name}`;
  return { key, name, ...(group ? { group } : {}), ...(version ? { version } : {}), ...(purl ? { purl } : {}), ...(ref ? { ref } : {}) };
}

function finish(parsed: Omit<ParsedSbom, 'failures'>, unnamed: readonly string[], malformed: number, field: string): ParsedSbom {
  const failures: SbomFailure[] = [];
  if (malformed > 0) failures.push(failure('structure', `${malformed} ${field} entr${malformed === 1 ? 'y is' : 'ies are'} not objects`));
  if (parsed.components.length === 0 && unnamed.length === 0) {
    failures.push(failure('components', `the SBOM lists no package components (${field} is empty or holds only the subject, files or the operating system)`));
  }
  if (unnamed.length > 0) failures.push(failure('names', `${unnamed.length} component${unnamed.length === 1 ? ' has' : 's have'} no name: ${examples(unnamed)}`));
  const versionless = parsed.components.filter((c) => c.version === undefined);
  if (versionless.length > 0) {
    const labels = versionless.map((c) => (c.group ? `${c.group}/${c.name}` : c.name));
    failures.push(failure('versions', `${versionless.length} component${versionless.length === 1 ? ' has' : 's have'} no version: ${examples(labels)}`));
  }
  return { ...parsed, failures };
}

/** `pkg:npm/lodash@4.17.21`-style label for messages. */
export function componentLabel(component: SbomComponent): string {
  const name = component.purl ? component.key.replace(/^pkg:/, '') : component.key.replace(/^name:/, '');
  return `${name}@${component.version ?? '(no version)'}`;
}

/** Distinct `key@version` entries: the SBOM's size as the library-change use case counts it. */
export function distinctPackages(components: readonly SbomComponent[]): string[] {
  return [...new Set(components.map((c) => `${c.key}@${c.version ?? ''}`))].sort();
}
