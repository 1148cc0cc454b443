/**
 * Sort keys in DynamoDB's order: by UTF-8 bytes, which is code point order. JavaScript's `<` compares
 * UTF-16 code units, which disagrees for characters beyond U+FFFF against U+E000–U+FFFF (queries
 * bound ranges with U+FFFF, event keys may hold emoji), so those compare by code point.
 */
const HIGH_UNITS = /[\ud800-\uffff]/;

export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  if (!HIGH_UNITS.test(a) || !HIGH_UNITS.test(b)) return a < b ? -1 : 1;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x !== y) return codePointRank(x) < codePointRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** Surrogates (D800–DFFF, the start of code points above FFFF) rank above E000–FFFF, as in UTF-8. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
