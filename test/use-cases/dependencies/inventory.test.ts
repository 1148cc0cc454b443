import { describe, expect, it } from 'vitest';
import { mergeState } from '../../../lambdas/engine/diff.js';
import type { JsonObject } from '../../../lambdas/engine/use-case.js';
import {
  compareInventories,
  generationOf,
  inventoryState,
  keyHash,
  MAX_SEEN_PER_BUILD,
  MAX_TRACKED_PACKAGES,
} from '../../../lambdas/use-cases/dependencies/library-change/inventory.js';
import { parseSbom, type ParsedSbom } from '../../../lambdas/use-cases/dependencies/sbom-parse.js';

function sbom(packages: Array<[string, string | undefined]>): ParsedSbom {
  const components = packages.map(([name, version]) => ({ type: 'library', name, ...(version ? { version, purl: `pkg:npm/${name}@${version}` } : { purl: `pkg:npm/${name}` }) }));
  return parseSbom(new TextEncoder().encode(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components })));
}

/** What the engine stores after a build: the build's state merged into the last (a partial report). */
function record(before: JsonObject, next: ParsedSbom, label: string, generation: number): JsonObject {
  return mergeState(before, inventoryState(next, label, generation));
}

const many = (count: number, prefix: string): Array<[string, string]> => Array.from({ length: count }, (_, i) => [`@some-scope/${prefix}-${i}`, `${i % 7}.${i % 13}.${i % 17}`]);

describe('inventory state', () => {
  it('keeps counts, the sorted package list and hashes of the package keys under the generation', () => {
    const state = inventoryState(sbom([['ms', '2.1.3'], ['debug', '4.3.4']]), 'p #1', 300);
    expect(state['packages']).toEqual(['pkg:npm/debug@4.3.4', 'pkg:npm/ms@2.1.3']);
    expect(state['sbom']).toEqual({ format: 'CycloneDX 1.5', packages: 2, withoutVersion: 0, withoutPurl: 0, truncated: false });
    expect(state['seen']).toEqual({ '300': { [keyHash('pkg:npm/debug')]: 1, [keyHash('pkg:npm/ms')]: 1 }, '298': null });
  });

  it('stays within a DynamoDB item (400 KB for state and previous) with very large SBOMs', () => {
    const first = inventoryState(sbom(many(8000, 'package-with-a-long-name')), 'p #1', 300);
    expect((first['packages'] as string[]).length).toBe(MAX_TRACKED_PACKAGES);
    expect((first['sbom'] as JsonObject)['truncated']).toBe(true);
    expect((first['sbom'] as JsonObject)['packages']).toBe(8000);
    const sampledHashes = Object.keys((first['seen'] as Record<string, JsonObject>)['300'] ?? {}).length;
    expect(sampledHashes).toBeGreaterThan(MAX_SEEN_PER_BUILD / 2);
    expect(sampledHashes).toBeLessThanOrEqual(MAX_SEEN_PER_BUILD * 1.1);
    const twoGenerations = mergeState(first, inventoryState(sbom(many(MAX_SEEN_PER_BUILD, 'other-package-with-a-long-name')), 'p #2', 301));
    expect(2 * Buffer.byteLength(JSON.stringify(twoGenerations))).toBeLessThan(390_000);
  });

  it('forgets a generation two periods old', () => {
    expect(generationOf('2026-10-05T00:00:00Z', 90)).toBe(Math.floor(Date.parse('2026-10-05T00:00:00Z') / (90 * 86_400_000)));
    let state = inventoryState(sbom([['old-lib', '1.0.0']]), 'p #1', 10);
    state = record(state, sbom([['ms', '2.1.3']]), 'p #2', 11);
    expect(compareInventories(state, sbom([['old-lib', '1.0.0']])).returned).toEqual(['pkg:npm/old-lib']);
    state = record(state, sbom([['ms', '2.1.3']]), 'p #4', 12);
    expect((state['seen'] as JsonObject)['10']).toBeNull();
    expect(compareInventories(state, sbom([['old-lib', '1.0.0']])).added).toEqual(['pkg:npm/old-lib']);
  });
});

describe('compareInventories', () => {
  const base = inventoryState(sbom([['express', '4.19.2'], ['lodash', '4.17.21'], ['jsonwebtoken', '9.0.2'], ['ms', '2.0.0'], ['ms', '2.1.3']]), 'p #1', 5);

  it('tells new, removed, downgraded and upgraded packages apart', () => {
    const change = compareInventories(base, sbom([['express', '5.0.0'], ['jsonwebtoken', '8.5.1'], ['ms', '2.1.3'], ['axios', '1.6.8']]));
    expect(change.added).toEqual(['pkg:npm/axios']);
    expect(change.removed).toEqual(['pkg:npm/lodash']);
    expect(change.downgrades).toEqual([{ package: 'pkg:npm/jsonwebtoken', from: '9.0.2', to: '8.5.1' }]);
    expect(change.majorUpgrades).toEqual([{ package: 'pkg:npm/express', from: '4.19.2', to: '5.0.0' }]);
    expect(change.upgrades).toBe(1);
    expect(change.previousBuild).toBe('p #1');
    expect([change.countBefore, change.countAfter]).toEqual([5, 4]);
  });

  it('does not call a dropped duplicate version a change', () => {
    const change = compareInventories(base, sbom([['express', '4.19.2'], ['lodash', '4.17.21'], ['jsonwebtoken', '9.0.2'], ['ms', '2.1.3']]));
    expect([change.added, change.removed, change.downgrades, change.upgrades]).toEqual([[], [], [], 0]);
  });

  it('flags entries that lose their version', () => {
    const change = compareInventories(base, sbom([['express', '4.19.2'], ['lodash', undefined], ['jsonwebtoken', '9.0.2'], ['ms', '2.0.0'], ['ms', '2.1.3']]));
    expect(change.withoutVersion).toEqual(['pkg:npm/lodash']);
  });

  it('finds new packages beyond the capped list, and reports no removals from it', () => {
    const big: Array<[string, string]> = Array.from({ length: MAX_TRACKED_PACKAGES + 10 }, (_, i) => [`p${String(i).padStart(5, '0')}`, '1.0.0']);
    const first = inventoryState(sbom(big), 'p #1', 5);
    const change = compareInventories(first, sbom([...big.slice(20), ['zz-new-one', '1.0.0']]));
    expect(change.truncated).toBe(true);
    expect(change.removed).toEqual([]);
    expect(change.added).toEqual(['pkg:npm/zz-new-one']);
    expect(change.returned).toEqual([]);
  });

  it("over the cap, keeps the application's packages before the operating system's: a late npm downgrade in a container image is found", () => {
    const image = (zodVersion: string): ParsedSbom => {
      const debs = Array.from({ length: MAX_TRACKED_PACKAGES }, (_, i) => ({ type: 'library', name: `lib${i}`, version: '1.0-1', purl: `pkg:deb/debian/lib${i}@1.0-1?distro=debian-12` }));
      const npm = [['express', '4.19.2'], ['zod', zodVersion]].map(([name, version]) => ({ type: 'library', name, version, purl: `pkg:npm/${name}@${version}` }));
      return parseSbom(new TextEncoder().encode(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [...debs, ...npm] })));
    };
    const before = inventoryState(image('3.22.4'), 'p #1', 5);
    const kept = before['packages'] as string[];
    expect(kept).toHaveLength(MAX_TRACKED_PACKAGES);
    expect(kept).toContain('pkg:npm/zod@3.22.4');
    expect(kept).toEqual([...kept].sort());
    expect(compareInventories(before, image('3.20.0')).downgrades).toEqual([{ package: 'pkg:npm/zod', from: '3.22.4', to: '3.20.0' }]);
  });

  it('samples new packages by hash in SBOMs over the limit, without false "new" ones', () => {
    const huge = many(MAX_SEEN_PER_BUILD * 3, 'pkg');
    const first = inventoryState(sbom(huge), 'p #1', 5);
    expect(compareInventories(first, sbom(huge)).added).toEqual([]);
    const fresh = many(400, 'fresh');
    const change = compareInventories(first, sbom([...huge, ...fresh]));
    // About one in four new packages is sampled at this size.
    expect(change.added.length).toBeGreaterThan(40);
    expect(change.added.length).toBeLessThan(200);
    expect(change.added.every((key) => key.includes('/fresh-'))).toBe(true);
  });
});
