/**
 * The shipped list of known-compromised package versions (known-compromised.json: real incidents,
 * each with its source) plus the user's own entries, and matching SBOM components against them.
 * Ecosystems are purl types; OS packages match on the upstream version (epoch and revision dropped),
 * because distributions repackage the same upstream release as 5.6.1-1, 5.6.1-r0 or 1:5.6.1-2.fc40.
 */
import * as z from 'zod';
import { builtOnFirstUse } from '../../engine/use-case.js';
import shipped from './known-compromised.json' with { type: 'json' };
import { normalisePypiName, OS_PACKAGE_TYPES, registryName } from './purl.js';
import type { SbomComponent } from './sbom-parse.js';
import { upstreamVersion } from './versions.js';

/** An incident as the schema reads it (an object schema, so the shipped list can require more of it). */
function incidentObject() {
  const packageSchema = z.strictObject({
    /** A purl type (npm, pypi, maven, deb, rpm, apk, gem, golang, …) or "*" for any. */
    ecosystem: z.string().min(1).regex(/^(\*|[a-z][a-z0-9.+-]*)$/, 'a purl type such as npm, or *'),
    /** As the registry names it: `@ctrl/tinycolor`, `org.apache.logging.log4j:log4j-core`, `xz-utils`. */
    name: z.string().min(1).max(300),
    /** Exact versions, or ["*"] for every version. */
    versions: z.array(z.string().min(1).max(100)).min(1),
  });
  return z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,80}$/, 'lower-case id like event-stream-2018'),
    title: z.string().min(5).max(300),
    date: z.iso.date().optional(),
    source: z.url().optional(),
    packages: z.array(packageSchema).min(1).max(500),
  });
}

export const incidentSchema = builtOnFirstUse(incidentObject);
export type Incident = z.output<typeof incidentSchema>;

/** The shipped data must cite a source for every incident. */
const shippedSchema = builtOnFirstUse(() =>
  z.strictObject({
    description: z.string(),
    updated: z.iso.date(),
    incidents: z.array(incidentObject().extend({ source: z.url(), date: z.iso.date() })).min(1),
  }),
);

let shippedIncidents: readonly Incident[] | undefined;

/**
 * The shipped incidents, validated on first use rather than at import: only SBOM evaluations need them
 * (the tests validate the shipped file, so a malformed one never ships).
 */
export function shippedIncidentList(): readonly Incident[] {
  return (shippedIncidents ??= shippedSchema.parse(shipped).incidents);
}

export interface CompromisedHit {
  readonly component: SbomComponent;
  readonly incident: Incident;
  /** How the component was recognised: its purl, or its name alone (no purl in the SBOM). */
  readonly matchedBy: 'purl' | 'name';
}

interface IndexedPackage {
  readonly incident: Incident;
  readonly ecosystem: string;
  readonly versions: ReadonlySet<string>;
}

/** Entries by normalised name, so each component costs one map look-up. */
export class CompromisedIndex {
  private readonly byName = new Map<string, IndexedPackage[]>();

  constructor(incidents: readonly Incident[], ignore: readonly string[] = []) {
    const ignored = new Set(ignore.map((entry) => entry.trim().toLowerCase()));
    for (const incident of incidents) {
      for (const pkg of incident.packages) {
        const name = normaliseName(pkg.ecosystem, pkg.name);
        const versions = new Set(pkg.versions.filter((v) => !ignored.has(`${name}@${v}`.toLowerCase())));
        if (ignored.has(name) || versions.size === 0) continue;
        const list = this.byName.get(name) ?? [];
        list.push({ incident, ecosystem: pkg.ecosystem, versions });
        this.byName.set(name, list);
      }
    }
  }

  /** The incidents a component belongs to (usually none). */
  match(component: SbomComponent): CompromisedHit[] {
    const hits: CompromisedHit[] = [];
    const { purl } = component;
    if (purl) {
      const name = normaliseName(purl.type, registryName(purl));
      for (const entry of this.byName.get(name) ?? []) {
        if ((entry.ecosystem === purl.type || entry.ecosystem === '*') && versionMatches(entry, component.version, OS_PACKAGE_TYPES.has(purl.type))) {
          hits.push({ component, incident: entry.incident, matchedBy: 'purl' });
        }
      }
      return dedupe(hits);
    }
    // No purl: the ecosystem is unknown, so the name (with an npm-style scope) must do.
    const candidates = new Set([component.name, component.group ? `${component.group}/${component.name}` : undefined].filter((n): n is string => Boolean(n)).map((n) => n.toLowerCase()));
    for (const candidate of candidates) {
      for (const entry of this.byName.get(candidate) ?? []) {
        if (versionMatches(entry, component.version, OS_PACKAGE_TYPES.has(entry.ecosystem))) hits.push({ component, incident: entry.incident, matchedBy: 'name' });
      }
    }
    return dedupe(hits);
  }
}

function normaliseName(ecosystem: string, name: string): string {
  return ecosystem === 'pypi' ? normalisePypiName(name) : name.toLowerCase();
}

function versionMatches(entry: IndexedPackage, version: string | undefined, osPackage: boolean): boolean {
  if (entry.versions.has('*')) return true;
  if (version === undefined) return false;
  const plain = version.replace(/^v(?=\d)/, '');
  return entry.versions.has(plain) || (osPackage && entry.versions.has(upstreamVersion(plain)));
}

function dedupe(hits: CompromisedHit[]): CompromisedHit[] {
  const seen = new Set<string>();
  return hits.filter((hit) => {
    if (seen.has(hit.incident.id)) return false;
    seen.add(hit.incident.id);
    return true;
  });
}
