/**
 * A project's dependency inventory as drift state, and what changed between the last good SBOM and
 * this build's.
 *
 * State (one snapshot per project, partial: true so the engine MERGES each build into the last):
 *   sbom      exact counts of the last good SBOM (replaced each build)
 *   build     its build label
 *   packages  sorted `key@version` list of the last good SBOM, capped (an array, so it is replaced):
 *             what removals and downgrades are measured against. Over the cap, the application's
 *             packages (npm, PyPI, Maven…) are kept before the operating system's (deb, rpm, apk),
 *             which fill a container image's SBOM and would otherwise crowd them out by sort order
 *   seen      { <generation>: { <hash of package key>: 1 } }: objects merge, so a generation is the
 *             union of every package seen in it, which is "never seen in this project" without one
 *             item per package. Each report nulls the generation before last: a package is forgotten
 *             after one to two forget-after periods without a sighting, and the item stays bounded.
 * New packages are read from the SBOM itself, so the cap on `packages` never hides them.
 * DynamoDB items stop at 400 KB and a snapshot keeps the previous state too, hence the caps: beyond
 * MAX_SEEN_PER_BUILD distinct packages, new-package detection works on a stable hash sample.
 */
import { createHash } from 'node:crypto';
import { isRecord } from '../../../engine/pipeline-event.js';
import type { JsonObject, JsonValue } from '../../../engine/use-case.js';
import { OS_PACKAGE_TYPES } from '../purl.js';
import { distinctPackages, type ParsedSbom } from '../sbom-parse.js';
import { compareVersions, isMajorChange, newest } from '../versions.js';

export const MAX_TRACKED_PACKAGES = 1500;
export const MAX_SEEN_PER_BUILD = 3000;

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** 42 bits of the key's hash (7 characters): a collision in a project's few thousand packages is about one in 10^5. */
export function keyHash(key: string): string {
  return digest(key).subarray(0, 6).toString('base64url').slice(0, 7);
}

export function generationOf(eventTime: string, forgetAfterDays: number): number {
  return Math.floor(Date.parse(eventTime) / (forgetAfterDays * 86_400_000));
}

/** 0 for SBOMs within the cap; else k such that 1 in 2^k packages (by hash) is sampled. */
function sampleShift(distinctKeys: number): number {
  let shift = 0;
  while (distinctKeys / 2 ** shift > MAX_SEEN_PER_BUILD) shift += 1;
  return shift;
}

function sampled(key: string, shift: number): boolean {
  return shift === 0 || digest(key).readUInt32BE(8) % 2 ** shift === 0;
}

function keysOf(sbom: ParsedSbom): string[] {
  return [...new Set(sbom.components.map((c) => c.key))].sort();
}

/** The `key@version` entries kept (sorted): all of them within the cap, else the application's first. */
function tracked(all: readonly string[]): string[] {
  if (all.length <= MAX_TRACKED_PACKAGES) return [...all];
  const application = all.filter((entry) => !isOsPackage(entry));
  const os = all.filter((entry) => isOsPackage(entry));
  return [...application, ...os].slice(0, MAX_TRACKED_PACKAGES).sort();
}

/** The drift state a build's SBOM contributes (merged into the project's last state by the engine). */
export function inventoryState(sbom: ParsedSbom, buildLabel: string, generation: number): JsonObject {
  const all = distinctPackages(sbom.components);
  const keys = keysOf(sbom);
  const shift = sampleShift(keys.length);
  const seen: JsonObject = {};
  for (const key of keys) if (sampled(key, shift)) seen[keyHash(key)] = 1;
  return {
    sbom: {
      format: `${sbom.format ?? 'unknown'} ${sbom.specVersion ?? ''}`.trim(),
      packages: all.length,
      withoutVersion: all.filter((p) => p.endsWith('@')).length,
      withoutPurl: keys.filter((k) => !k.startsWith('pkg:')).length,
      truncated: all.length > MAX_TRACKED_PACKAGES || shift > 0 || sbom.truncated,
    },
    build: buildLabel,
    packages: tracked(all),
    seen: { [String(generation)]: seen, [String(generation - 2)]: null },
  };
}

export interface VersionChange {
  readonly package: string;
  readonly from: string;
  readonly to: string;
}

export interface InventoryChange {
  readonly countBefore: number;
  readonly countAfter: number;
  /** In no generation of `seen`: never seen in this project (or forgotten). */
  readonly added: readonly string[];
  /** Not in the last SBOM but seen earlier (a branch build, a revert). */
  readonly returned: readonly string[];
  readonly removed: readonly string[];
  readonly downgrades: readonly VersionChange[];
  readonly majorUpgrades: readonly VersionChange[];
  readonly upgrades: number;
  /** Newly present entries without a version, and new packages without a purl. */
  readonly withoutVersion: readonly string[];
  readonly withoutPurl: readonly string[];
  /** Part of the comparison worked on a capped list or a sample. */
  readonly truncated: boolean;
  readonly previousBuild?: string;
}

function versionsByKey(list: JsonValue | readonly string[] | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (!Array.isArray(list)) return map;
  for (const entry of list) {
    if (typeof entry !== 'string') continue;
    const at = entry.lastIndexOf('@');
    const key = at > 0 ? entry.slice(0, at) : entry;
    const version = at > 0 ? entry.slice(at + 1) : '';
    map.set(key, [...(map.get(key) ?? []), version]);
  }
  return map;
}

function seenHashes(state: JsonObject): Set<string> {
  const hashes = new Set<string>();
  const seen = state['seen'];
  if (!isRecord(seen)) return hashes;
  for (const generation of Object.values(seen)) {
    if (isRecord(generation)) for (const hash of Object.keys(generation)) hashes.add(hash);
  }
  return hashes;
}

function sbomField(state: JsonObject, field: string): unknown {
  const sbom = state['sbom'];
  return isRecord(sbom) ? sbom[field] : undefined;
}

function isOsPackage(key: string): boolean {
  const type = /^pkg:([^/]+)\//.exec(key)?.[1];
  return type !== undefined && OS_PACKAGE_TYPES.has(type);
}

/** What changed from the last good SBOM (`before`, the stored state) to this build's `sbom`. */
export function compareInventories(before: JsonObject, sbom: ParsedSbom): InventoryChange {
  const old = versionsByKey(before['packages']);
  const all = distinctPackages(sbom.components);
  const now = versionsByKey(all);
  const known = seenHashes(before);
  const keys = keysOf(sbom);
  const shift = sampleShift(keys.length);
  const beforeTruncated = sbomField(before, 'truncated') === true;
  const truncated = beforeTruncated || shift > 0 || all.length > MAX_TRACKED_PACKAGES || sbom.truncated;
  const added: string[] = [];
  const returned: string[] = [];
  const downgrades: VersionChange[] = [];
  const majorUpgrades: VersionChange[] = [];
  let upgrades = 0;
  const withoutVersion: string[] = [];
  const withoutPurl: string[] = [];

  for (const key of keys) {
    const versions = now.get(key) ?? [];
    const previous = old.get(key);
    if (!previous) {
      if (!sampled(key, shift)) continue;
      if (!known.has(keyHash(key))) added.push(key);
      // Beyond the capped list "not in the last SBOM" is unknown, so only a full list can say "returned".
      else if (!beforeTruncated) returned.push(key);
      else continue;
      if (!key.startsWith('pkg:')) withoutPurl.push(key);
      if (versions.includes('')) withoutVersion.push(key);
      continue;
    }
    if (versions.includes('') && !previous.includes('')) withoutVersion.push(key);
    const os = isOsPackage(key);
    const from = newest(previous.filter(Boolean), os);
    const to = newest(versions.filter(Boolean), os);
    if (!from || !to || from === to) continue;
    const order = compareVersions(to, from, os);
    if (order === -1) downgrades.push({ package: key, from, to });
    else if (order === 1) {
      upgrades += 1;
      if (isMajorChange(from, to)) majorUpgrades.push({ package: key, from, to });
    }
  }
  // A capped list cannot tell "removed" from "beyond the cap".
  const removed = truncated ? [] : [...old.keys()].filter((key) => !now.has(key));
  const previousBuild = typeof before['build'] === 'string' ? before['build'] : undefined;
  const countBefore = sbomField(before, 'packages');
  return {
    countBefore: typeof countBefore === 'number' ? countBefore : 0,
    countAfter: all.length,
    added,
    returned,
    removed,
    downgrades,
    majorUpgrades,
    upgrades,
    withoutVersion,
    withoutPurl,
    truncated,
    ...(previousBuild ? { previousBuild } : {}),
  };
}
