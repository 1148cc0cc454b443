/**
 * The Merkle tree of a day's seal: RFC 6962 (Certificate Transparency) hashing with SHA-256, so a
 * single record can later be proven part of a sealed day without the day's other records.
 *
 *   leaf hash = SHA-256(0x00 || canonicalJson([id, contentHash]))
 *   node hash = SHA-256(0x01 || left || right)
 *   root of n leaves = node(root of the first k, root of the rest), k the largest power of two < n
 *   root of no leaves = SHA-256("")
 *
 * Leaves are sorted by record id, so the root does not depend on the order a query returned them in.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../engine/canonical.js';

export interface Leaf {
  readonly id: string;
  readonly contentHash: string;
}

export const MERKLE_TREE = 'rfc6962-sha256' as const;
export const MERKLE_LEAF = 'sha256(0x00 || canonicalJson([id, contentHash])), leaves sorted by id' as const;

export function leafHash(leaf: Leaf): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(canonicalJson([leaf.id, leaf.contentHash])).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/** Sorted by id (code-unit order, as canonicalJson sorts keys); ids are unique in the ledger. */
export function sortLeaves(leaves: Iterable<Leaf>): Leaf[] {
  return [...leaves].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function rootOf(hashes: readonly Buffer[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return hashes[start]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(rootOf(hashes, start, start + k), rootOf(hashes, start + k, end));
}

/** The hex Merkle root of leaves already in sealed (id) order. */
export function merkleRoot(sortedLeaves: readonly Leaf[]): string {
  if (sortedLeaves.length === 0) return createHash('sha256').digest('hex');
  const hashes = sortedLeaves.map(leafHash);
  return rootOf(hashes, 0, hashes.length).toString('hex');
}

/** An audit path for one leaf (RFC 6962 section 2.1.1): the sibling hashes from the leaf up. */
export function inclusionProof(sortedLeaves: readonly Leaf[], index: number): string[] {
  if (index < 0 || index >= sortedLeaves.length) throw new RangeError(`no leaf ${index} in a tree of ${sortedLeaves.length}`);
  const hashes = sortedLeaves.map(leafHash);
  const path: Buffer[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m < k) {
      walk(m, start, start + k);
      path.push(rootOf(hashes, start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(rootOf(hashes, start, start + k));
    }
  };
  walk(index, 0, hashes.length);
  return path.map((hash) => hash.toString('hex'));
}

/** Checks an audit path from inclusionProof against a root (RFC 9162 section 2.1.3.2). */
export function verifyInclusion(leaf: Leaf, index: number, treeSize: number, proof: readonly string[], root: string): boolean {
  if (index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash(leaf);
  for (const hex of proof) {
    const p = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.toString('hex') === root;
}
