import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../lambdas/engine/canonical.js';
import { addDays, dayCount, daysBetween, isDay } from '../../lambdas/ledger/days.js';
import { inclusionProof, leafHash, merkleRoot, sortLeaves, verifyInclusion, type Leaf } from '../../lambdas/ledger/merkle.js';
import { chunkLeaves } from '../../lambdas/ledger/seal-store.js';
import { daysToSeal, lastSettledDay } from '../../lambdas/ledger/seal.js';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leaves = (n: number): Leaf[] => Array.from({ length: n }, (_, i) => ({ id: `id-${String(i).padStart(4, '0')}`, contentHash: createHash('sha256').update(String(i)).digest('hex') }));

describe('Merkle tree (RFC 6962 hashing)', () => {
  it('hashes leaves with a 0x00 prefix and nodes with 0x01; the empty tree is SHA-256 of nothing', () => {
    const [a, b, c] = leaves(3) as [Leaf, Leaf, Leaf];
    expect(leafHash(a)).toEqual(sha256(Buffer.from([0]), Buffer.from(canonicalJson([a.id, a.contentHash]))));
    expect(merkleRoot([])).toBe(createHash('sha256').digest('hex'));
    expect(merkleRoot([a])).toBe(leafHash(a).toString('hex'));
    const node = (l: Buffer, r: Buffer) => sha256(Buffer.from([1]), l, r);
    expect(merkleRoot([a, b])).toBe(node(leafHash(a), leafHash(b)).toString('hex'));
    // Three leaves split at the largest power of two below 3: (a b) c, not a (b c).
    expect(merkleRoot([a, b, c])).toBe(node(node(leafHash(a), leafHash(b)), leafHash(c)).toString('hex'));
  });

  it('does not depend on the order records were read in, and changes with any id or hash', () => {
    const sorted = leaves(9);
    const shuffled = [...sorted].reverse();
    expect(merkleRoot(sortLeaves(shuffled))).toBe(merkleRoot(sorted));
    const root = merkleRoot(sorted);
    expect(merkleRoot(sorted.map((leaf, i) => (i === 4 ? { ...leaf, contentHash: '0'.repeat(64) } : leaf)))).not.toBe(root);
    expect(merkleRoot(sorted.slice(1))).not.toBe(root);
  });

  it('proves any one record part of a sealed day (inclusion proofs, every size and index up to 20)', () => {
    for (let size = 1; size <= 20; size += 1) {
      const tree = leaves(size);
      const root = merkleRoot(tree);
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(tree, index);
        expect(verifyInclusion(tree[index]!, index, size, proof, root), `${index} of ${size}`).toBe(true);
        expect(verifyInclusion({ ...tree[index]!, contentHash: 'f'.repeat(64) }, index, size, proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusion(tree[index]!, (index + 1) % size, size, proof, root)).toBe(false);
      }
    }
  });
});

describe('sealed leaves in chunks', () => {
  it('splits leaves into JSON chunks under the byte limit and keeps every leaf in order', () => {
    const tree = leaves(1000);
    const chunks = chunkLeaves(tree, 16 * 1024);
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    for (const chunk of chunks) expect(Buffer.byteLength(chunk)).toBeLessThanOrEqual(16 * 1024);
    const back = chunks.flatMap((chunk) => (JSON.parse(chunk) as [string, string][]).map(([id, contentHash]) => ({ id, contentHash })));
    expect(back).toEqual(tree);
    expect(chunkLeaves([])).toEqual(['[]']);
  });
});

describe('days and the seal schedule', () => {
  it('accepts real calendar days only and walks ranges across months', () => {
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-30')).toBe(false);
    expect(isDay('2026-2-3')).toBe(false);
    expect([...daysBetween('2026-02-27', '2026-03-02')]).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect(dayCount('2026-10-01', '2026-10-28')).toBe(28);
    expect(dayCount('2026-10-02', '2026-10-01')).toBe(0);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('seals a day once it has settled for 26 hours, catching up on every unsealed day since the last seal', () => {
    // At 03:00 on the 25th, the 23rd ended 27 h ago (settled); the 24th ended 3 h ago (not).
    const now = new Date('2026-11-25T03:00:00Z');
    expect(lastSettledDay(now)).toBe('2026-11-23');
    expect(lastSettledDay(new Date('2026-11-25T01:59:00Z'))).toBe('2026-11-22');
    expect(daysToSeal(undefined, now)).toEqual(['2026-11-23']);
    expect(daysToSeal('2026-11-20', now)).toEqual(['2026-11-21', '2026-11-22', '2026-11-23']);
    expect(daysToSeal('2026-11-23', now)).toEqual([]);
    expect(daysToSeal('2026-01-01', now, { maxDays: 5 })).toHaveLength(5);
  });
});
