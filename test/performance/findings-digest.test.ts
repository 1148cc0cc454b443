/**
 * The findings of the sample history and of a bench-style generated history are those pinned in
 * test/fixtures/findings-digests.json (issue #15: faster stores, routing and correlations must not
 * change what is found). After an intended change: `npm run digests -- --write`, and say why.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readDigests } from '../../bench/digests.js';
import { describeChange, DIGEST_HISTORIES, differences, digestFindings, replayDigestHistory } from '../../bench/findings-digest.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pinned = readDigests(ROOT);

describe('findings digests', () => {
  it('has a pinned digest for every history', () => {
    expect(pinned, 'test/fixtures/findings-digests.json is missing: npm run digests -- --write').toBeDefined();
    expect(Object.keys(pinned?.histories ?? {}).sort()).toEqual(DIGEST_HISTORIES.map((history) => history.name).sort());
  });

  for (const history of DIGEST_HISTORIES) {
    it(`finds in ${history.name} what it found before`, { timeout: 180_000 }, async () => {
      const expected = pinned?.histories[history.name];
      const { digest } = await replayDigestHistory(history, ROOT);
      // The digest is not vacuous: the history has findings of both kinds.
      expect(digest.counts.alerts).toBeGreaterThan(0);
      expect(digest.counts.attestations).toBeGreaterThan(0);
      const change = describeChange(history, expected, digest);
      expect(change, change).toBe('');
      expect(digest).toEqual(expected);
    });
  }

  it('tells a changed, a missing and a new finding apart, and ignores recordedAt and contentHash', () => {
    const counts = { events: 3, alerts: 1, attestations: 1, duplicates: 0, deduplicated: 0, heldBack: 0, problems: 0 };
    const line = (id: string, severity: string, recordedAt: string) => JSON.stringify({ id, severity, evidence: { b: 1, a: [2] }, recordedAt, contentHash: recordedAt });
    const before = digestFindings([line('a', 'low', 't1'), line('b', 'low', 't1')].join('\n'), counts, 'x').digest;
    const reordered = digestFindings([line('b', 'low', 't2'), line('a', 'low', 't3')].join('\n'), counts, 'x').digest;
    expect(reordered).toEqual(before);
    const after = digestFindings([line('a', 'high', 't1'), line('c', 'low', 't1')].join('\n'), counts, 'x').digest;
    expect(differences(before, after)).toEqual([
      { id: 'a', change: 'changed' },
      { id: 'b', change: 'missing' },
      { id: 'c', change: 'new' },
    ]);
    const message = describeChange(DIGEST_HISTORIES[0]!, before, after);
    expect(message).toContain('a (changed), b (missing), c (new)');
    expect(message).toContain('--json | grep ID');
  });
});
