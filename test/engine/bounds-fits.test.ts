/**
 * fitsItem answers most items without writing their JSON (issue 15: every stored item was
 * stringified to be measured). It must never say an item fits when itemBytes says it does not.
 */
import { describe, expect, it } from 'vitest';
import { fitsItem, itemBytes } from '../../lambdas/engine/bounds.js';

const cycle: Record<string, unknown> = { a: 1 };
cycle['self'] = cycle;

/** Items near a limit, with the characters that take the most bytes in JSON. */
const samples: Array<[string, unknown]> = [
  ['control characters (6 bytes each)', { text: '\u0001'.repeat(100) }],
  ['lone surrogates (6 bytes each)', { text: '\ud800'.repeat(100) }],
  ['3-byte characters', { text: '€'.repeat(100) }],
  ['surrogate pairs', { text: '😀'.repeat(100) }],
  ['keys of control characters', { ['\u0002'.repeat(50)]: 'x' }],
  ['numbers', { list: [-1.7976931348623157e308, 5e-324, -0, NaN, Infinity, 123456789012345680000] }],
  ['holes, undefined and functions', { list: [1, undefined, , () => 1], gone: undefined, fn: () => 1 }],
  ['a Date (toJSON)', { at: new Date(0) }],
  ['an own toJSON', { toJSON: () => 'x'.repeat(500) }],
  ['a Buffer', { data: Buffer.alloc(100) }],
  ['a bigint', { n: 10n }],
  ['a cycle', cycle],
  ['deep nesting', JSON.parse(`${'['.repeat(60)}"x"${']'.repeat(60)}`)],
  ['a null-prototype object', Object.assign(Object.create(null), { a: 'b'.repeat(100) })],
];

describe('fitsItem', () => {
  it.each(samples)('agrees with itemBytes for %s, at every limit around its size', (_name, item) => {
    const exact = itemBytes(item);
    const size = Number.isFinite(exact) ? exact : 1000;
    for (let limit = Math.max(0, size - 20); limit <= size * 7 + 20; limit += Math.max(1, Math.floor(size / 50))) {
      expect(fitsItem(item, limit)).toBe(exact <= limit);
    }
  });
});
