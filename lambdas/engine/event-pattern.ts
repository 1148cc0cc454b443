/**
 * Local EventBridge event-pattern matching and validation.
 *
 * Offline replay routes recorded events to use cases with the same patterns the deployed rules
 * use, so a pattern must mean here exactly what it means in EventBridge. The semantics follow the
 * EventBridge user guide ("Creating event patterns", "Comparison operators", "Arrays", "Null values
 * and empty strings") and the README of aws/event-ruler, the engine behind EventBridge:
 *
 * - every key of the pattern must match (AND); a leaf is an array of alternatives (OR); keys the
 *   pattern does not name are ignored;
 * - where the event holds an array, the leaf matches if any element matches;
 * - arrays of objects in the event are "crushed": a nested pattern matches if one element matches
 *   all of it (array consistency: two fields never match from two different elements);
 * - values are typed: the pattern "5" never matches the number 5, "" never matches null;
 * - an absent field matches nothing but `{"exists": false}`.
 *
 * Pure: no I/O, no clock, no globals.
 */

/** A literal alternative in a leaf: matched by type and value. */
export type PatternScalar = string | number | boolean | null;

/**
 * A content filter such as `{ "prefix": "x" }`. Its argument stays `unknown`: operators take
 * strings, numbers, lists or objects, and `validatePattern` checks them at run time.
 */
export type PatternMatcher = { readonly [operator: string]: unknown };

/** A leaf: alternatives, any of which may match. */
export type PatternLeaf = readonly (PatternScalar | PatternMatcher)[];

/**
 * An EventBridge event pattern. Readonly throughout so that literals written `as const` fit; a
 * `$or` value (an array of patterns) fits `PatternLeaf` because a pattern is also a matcher shape.
 */
export type EventPattern = { readonly [key: string]: PatternLeaf | EventPattern };

type JsonObject = { readonly [key: string]: unknown };

const OR_KEY = '$or';

/** Operators a leaf alternative may use. */
const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr']);

/** Operators allowed inside `anything-but` when its argument is an object. */
const ANYTHING_BUT_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Array.isArray` narrows to `any[]`; this keeps the elements `unknown`. */
function isArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function isScalar(value: unknown): value is PatternScalar {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Own properties only: a pattern key such as `constructor` must not find `Object.prototype`. */
function field(object: JsonObject | undefined, key: string): unknown {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Whether `$or` is the OR primitive. EventBridge only treats it so when it holds two or more objects
 * that use no operator names as field names; anything else keeps `$or` an ordinary field name,
 * for rules written before the primitive existed. `validatePattern` still flags those forms.
 */
function isOrBranches(value: unknown): value is readonly JsonObject[] {
  return (
    isArray(value) &&
    value.length >= 2 &&
    value.every((branch) => isObject(branch) && !Object.keys(branch).some((key) => OPERATORS.has(key)))
  );
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/** Whether `event` matches `pattern`, with EventBridge semantics. Never throws. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(compileFields(pattern), event);
}

/**
 * `matchesPattern` for one pattern and many events: the pattern's structure (its keys, which `$or`
 * are the OR primitive) is read once, not for every event. The pattern must not change afterwards.
 */
export function compilePattern(pattern: EventPattern): (event: unknown) => boolean {
  const fields = compileFields(pattern);
  return (event) => matchObject(fields, event);
}

/** One key of a pattern, by what it holds: `$or` branches, a leaf of alternatives, or a nested pattern. */
type CompiledField =
  | { readonly kind: 'or'; readonly branches: readonly CompiledFields[] }
  | { readonly kind: 'leaf'; readonly key: string; readonly alternatives: readonly unknown[] }
  | { readonly kind: 'nested'; readonly key: string; readonly fields: CompiledFields }
  // A malformed leaf (EventBridge would reject the rule): matches nothing rather than everything.
  | { readonly kind: 'malformed' };
type CompiledFields = readonly CompiledField[];

function compileFields(pattern: JsonObject): CompiledFields {
  return Object.keys(pattern).map((key): CompiledField => {
    const spec = pattern[key];
    if (key === OR_KEY && isOrBranches(spec)) return { kind: 'or', branches: spec.map(compileFields) };
    if (isArray(spec)) return { kind: 'leaf', key, alternatives: spec };
    if (isObject(spec)) return { kind: 'nested', key, fields: compileFields(spec) };
    return { kind: 'malformed' };
  });
}

/**
 * A nested pattern against whatever the event holds at that place. An array of objects matches if
 * one element matches the whole nested pattern, which is what keeps matches array-consistent. Where
 * there is no object at all, the nested pattern is tried against "no fields" so that
 * `{"exists": false}` below it still matches.
 */
function matchObject(fields: CompiledFields, value: unknown): boolean {
  // Routing runs for every event and use case: the usual single object is matched without copies.
  if (isObject(value)) return matchFields(fields, value);
  const objects = isArray(value) ? flatten(value).filter(isObject) : [];
  if (objects.length === 0) return matchFields(fields, undefined);
  return objects.some((object) => matchFields(fields, object));
}

/** Every key must match (AND). */
function matchFields(fields: CompiledFields, object: JsonObject | undefined): boolean {
  // Indexed loops: no iterator or closure per pattern and event.
  for (let index = 0; index < fields.length; index += 1) {
    const compiled = fields[index] as CompiledField;
    switch (compiled.kind) {
      case 'or':
        if (!matchesAnyBranch(compiled.branches, object)) return false;
        break;
      case 'leaf':
        if (!matchLeaf(compiled.alternatives, field(object, compiled.key))) return false;
        break;
      case 'nested':
        if (!matchObject(compiled.fields, field(object, compiled.key))) return false;
        break;
      case 'malformed':
        return false;
    }
  }
  return true;
}

function matchesAnyBranch(branches: readonly CompiledFields[], object: JsonObject | undefined): boolean {
  for (let index = 0; index < branches.length; index += 1) if (matchFields(branches[index] as CompiledFields, object)) return true;
  return false;
}

/** Arrays nest in events ("multi-level arrays"); EventBridge treats them as one flat list. */
function flatten(values: readonly unknown[]): unknown[] {
  return values.flatMap((value) => (isArray(value) ? flatten(value) : [value]));
}

/**
 * The leaf values the event holds at a place: none when absent, and none for an object, because
 * leaf matchers (exists included) only see leaves; an empty array holds none either.
 */
function leafValues(value: unknown): unknown[] {
  if (value === undefined) return [];
  return (isArray(value) ? flatten(value) : [value]).filter((item) => !isObject(item));
}

function matchLeaf(alternatives: readonly unknown[], value: unknown): boolean {
  // One scalar (the usual case) is matched without building the list of leaf values.
  const values = value !== undefined && value !== null && typeof value === 'object' ? leafValues(value) : undefined;
  for (let index = 0; index < alternatives.length; index += 1) {
    const alternative = alternatives[index];
    if (values ? matchAlternative(alternative, values) : matchScalar(alternative, value)) return true;
  }
  return false;
}

function matchAlternative(alternative: unknown, values: readonly unknown[]): boolean {
  if (!isObject(alternative)) return values.some((candidate) => sameValue(alternative, candidate));
  const keys = Object.keys(alternative);
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined) return false;
  const argument = alternative[operator];
  // exists is about the field as a whole, not about any one of its values.
  if (operator === 'exists') return argument === true ? values.length > 0 : argument === false && values.length === 0;
  return values.some((candidate) => matchOperator(operator, argument, candidate));
}

/** matchAlternative for a field holding one scalar, or nothing (undefined). */
function matchScalar(alternative: unknown, value: unknown): boolean {
  const present = value !== undefined;
  if (!isObject(alternative)) return present && sameValue(alternative, value);
  const keys = Object.keys(alternative);
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined) return false;
  const argument = alternative[operator];
  if (operator === 'exists') return argument === true ? present : argument === false && !present;
  return present && matchOperator(operator, argument, value);
}

/** Exact match: same JSON type and value; numbers compare by value (3.018e2 equals 301.8). */
function sameValue(expected: unknown, actual: unknown): boolean {
  return isScalar(expected) && typeof expected === typeof actual && expected === actual;
}

function matchOperator(operator: string, argument: unknown, value: unknown): boolean {
  switch (operator) {
    case 'prefix':
      return matchAffix(argument, value, (text, affix) => text.startsWith(affix));
    case 'suffix':
      return matchAffix(argument, value, (text, affix) => text.endsWith(affix));
    case 'equals-ignore-case':
      return typeof argument === 'string' && typeof value === 'string' && foldCase(value) === foldCase(argument);
    case 'wildcard':
      return typeof argument === 'string' && typeof value === 'string' && matchWildcard(argument, value);
    case 'anything-but':
      return matchAnythingBut(argument, value);
    case 'numeric':
      return isArray(argument) && typeof value === 'number' && matchNumeric(argument, value);
    case 'cidr':
      return typeof argument === 'string' && typeof value === 'string' && matchCidr(argument, value);
    default:
      return false;
  }
}

/** `prefix`/`suffix` take a string, or `{"equals-ignore-case": string}`; they only apply to strings. */
function matchAffix(argument: unknown, value: unknown, test: (text: string, affix: string) => boolean): boolean {
  if (typeof value !== 'string') return false;
  if (typeof argument === 'string') return test(value, argument);
  const ignoringCase = isObject(argument) && Object.keys(argument).length === 1 ? argument['equals-ignore-case'] : undefined;
  return typeof ignoringCase === 'string' && test(foldCase(value), foldCase(ignoringCase));
}

function foldCase(text: string): string {
  return text.toLowerCase();
}

/**
 * `anything-but` matches a present value that is none of the excluded ones. Exclusions are typed
 * like exact matches, so `{"anything-but": "x"}` matches numbers and null as well as other strings
 * (EventBridge does the same for null); the string forms (prefix, suffix, equals-ignore-case,
 * wildcard) can only exclude strings, so any other value passes them.
 */
function matchAnythingBut(argument: unknown, value: unknown): boolean {
  if (isArray(argument)) return argument.length > 0 && !argument.some((excluded) => sameValue(excluded, value));
  if (typeof argument === 'string' || typeof argument === 'number') return !sameValue(argument, value);
  if (!isObject(argument)) return false;
  const keys = Object.keys(argument);
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined || !ANYTHING_BUT_OPERATORS.has(operator)) return false;
  const excluded = argument[operator];
  // equals-ignore-case and wildcard also accept a list of strings here.
  const list = isArray(excluded) ? excluded : [excluded];
  if (list.length === 0 || !list.every((item) => typeof item === 'string')) return false;
  if (typeof value !== 'string') return true;
  return !list.some((item) => matchOperator(operator, item, value));
}

/** `[op, n]` or `[lower-op, n, upper-op, m]`: every comparison must hold. */
function matchNumeric(spec: readonly unknown[], value: number): boolean {
  if (spec.length !== 2 && spec.length !== 4) return false;
  for (let index = 0; index < spec.length; index += 2) {
    const operator = spec[index];
    const bound = spec[index + 1];
    if (typeof bound !== 'number' || !compare(operator, value, bound)) return false;
  }
  return true;
}

function compare(operator: unknown, value: number, bound: number): boolean {
  switch (operator) {
    case '=':
      return value === bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Wildcards
// ---------------------------------------------------------------------------------------------

/**
 * Splits a wildcard on its unescaped `*` into literal pieces, or explains why it is invalid.
 * Only `*` is special; `\*` is a literal star and `\\` a literal backslash; any other escape and
 * `**` are rejected, as EventBridge rejects them.
 */
function parseWildcard(pattern: string): { pieces: string[] } | { error: string } {
  const pieces: string[] = [];
  let piece = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern.charAt(index);
    if (char === '\\') {
      const next = pattern.charAt(index + 1);
      if (next !== '*' && next !== '\\') return { error: 'a backslash may only escape * or \\' };
      piece += next;
      index++;
    } else if (char === '*') {
      if (pattern.charAt(index + 1) === '*') return { error: 'consecutive * are not allowed' };
      pieces.push(piece);
      piece = '';
    } else {
      piece += char;
    }
  }
  pieces.push(piece);
  return { pieces };
}

/**
 * Classic glob matching with `*` only: the first piece anchors the start, the last the end, and the
 * pieces in between are found left to right; the leftmost choice is always safe with `*` alone.
 */
function matchWildcard(pattern: string, value: string): boolean {
  const parsed = parseWildcard(pattern);
  if ('error' in parsed) return false;
  const { pieces } = parsed;
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] ?? '';
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  const end = value.length - last.length;
  let position = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = value.indexOf(piece, position);
    if (found < 0 || found + piece.length > end) return false;
    position = found + piece.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------------------------

interface IpAddress {
  readonly bits: bigint;
  readonly width: 32 | 128;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let bits = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    bits = (bits << 8n) | BigInt(part);
  }
  return bits;
}

/** RFC 4291 text forms: eight groups, one `::` for a run of zero groups, a dotted IPv4 tail. */
function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (half === undefined || half === '') return [];
    const parts = half.split(':');
    const result: number[] = [];
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        result.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        result.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return result;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const compressed = halves.length === 2;
  // An IPv4 tail only belongs at the very end of the address.
  if (compressed && halves[0]?.includes('.')) return undefined;
  const explicit = head.length + tail.length;
  if (compressed ? explicit > 7 : explicit !== 8) return undefined;
  const all = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  return all.reduce((bits, group) => (bits << 16n) | BigInt(group), 0n);
}

function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: v4, width: 32 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 === undefined ? undefined : { bits: v6, width: 128 };
}

function parseCidr(text: string): (IpAddress & { readonly prefixLength: number }) | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,3}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  return prefixLength <= address.width ? { ...address, prefixLength } : undefined;
}

/** Same family and same leading `prefixLength` bits; host bits in the pattern are ignored. */
function matchCidr(cidr: string, value: string): boolean {
  const network = parseCidr(cidr);
  const address = parseIp(value);
  if (network === undefined || address === undefined || network.width !== address.width) return false;
  const hostBits = BigInt(network.width - network.prefixLength);
  return network.bits >> hostBits === address.bits >> hostBits;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/**
 * Problems EventBridge would reject a pattern for (or that make it match nothing or everything),
 * each prefixed by where it is, e.g. `detail.state[0]: unknown operator "contains"`. Empty when
 * the pattern is valid. Takes `unknown` so that patterns read from JSON can be checked before use.
 */
export function validatePattern(pattern: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(pattern)) {
    problems.push(`pattern: must be a JSON object, got ${describe(pattern)}`);
    return problems;
  }
  validateObject(pattern, '', problems);
  return problems;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (isArray(value)) return JSON.stringify(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function validateObject(pattern: JsonObject, path: string, problems: string[]): void {
  const keys = Object.keys(pattern);
  if (keys.length === 0) problems.push(`${path || 'pattern'}: empty object (constrains nothing)`);
  for (const key of keys) {
    const value = pattern[key];
    const at = join(path, key);
    if (key === OR_KEY) {
      validateOr(value, at, problems);
    } else if (isArray(value)) {
      validateLeaf(value, at, problems);
    } else if (isObject(value)) {
      validateObject(value, at, problems);
    } else {
      problems.push(`${at}: must be an array of values or a nested object, got ${describe(value)}`);
    }
  }
}

function validateOr(value: unknown, at: string, problems: string[]): void {
  if (!isArray(value) || value.length < 2 || !value.every(isObject)) {
    problems.push(`${at}: must be an array of at least two objects, got ${describe(value)}`);
    return;
  }
  value.forEach((branch, index) => {
    const reserved = Object.keys(branch).filter((key) => OPERATORS.has(key));
    if (reserved.length > 0) {
      problems.push(`${at}[${index}]: operator ${JSON.stringify(reserved[0])} used as a field name (EventBridge then ignores the $or)`);
    }
    validateObject(branch, `${at}[${index}]`, problems);
  });
}

function validateLeaf(alternatives: readonly unknown[], at: string, problems: string[]): void {
  if (alternatives.length === 0) problems.push(`${at}: empty array (matches nothing)`);
  alternatives.forEach((alternative, index) => {
    const where = `${at}[${index}]`;
    if (isScalar(alternative)) {
      if (typeof alternative === 'number' && !Number.isFinite(alternative)) problems.push(`${where}: not a JSON number`);
    } else if (isObject(alternative)) {
      validateMatcher(alternative, where, problems);
    } else {
      problems.push(`${where}: must be a string, number, boolean, null or operator object, got ${describe(alternative)}`);
    }
  });
}

function validateMatcher(matcher: JsonObject, where: string, problems: string[]): void {
  const keys = Object.keys(matcher);
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined) {
    const list = keys.map((key) => JSON.stringify(key)).join(', ');
    problems.push(`${where}: an operator object takes exactly one operator, got ${keys.length === 0 ? 'none' : list}`);
    return;
  }
  const argument = matcher[operator];
  const problem = (message: string): void => {
    problems.push(`${where}: ${operator} ${message}`);
  };
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof argument === 'string') return;
      if (isObject(argument) && Object.keys(argument).length === 1 && typeof argument['equals-ignore-case'] === 'string') return;
      return problem(`takes a string or {"equals-ignore-case": string}, got ${describe(argument)}`);
    case 'equals-ignore-case':
      if (typeof argument !== 'string') problem(`takes a string, got ${describe(argument)}`);
      return;
    case 'wildcard':
      return validateWildcardArgument(argument, problem);
    case 'anything-but':
      return validateAnythingBut(argument, problem);
    case 'numeric':
      return validateNumeric(argument, problem);
    case 'exists':
      if (typeof argument !== 'boolean') problem(`takes true or false, got ${describe(argument)}`);
      return;
    case 'cidr':
      if (typeof argument !== 'string' || parseCidr(argument) === undefined) {
        problem(`takes an IPv4 or IPv6 CIDR block such as "10.0.0.0/24", got ${describe(argument)}`);
      }
      return;
    default:
      problems.push(`${where}: unknown operator ${JSON.stringify(operator)}`);
  }
}

function validateWildcardArgument(argument: unknown, problem: (message: string) => void): void {
  if (typeof argument !== 'string') return problem(`takes a string, got ${describe(argument)}`);
  const parsed = parseWildcard(argument);
  if ('error' in parsed) problem(`${JSON.stringify(argument)} is invalid: ${parsed.error}`);
}

function validateAnythingBut(argument: unknown, problem: (message: string) => void): void {
  if (typeof argument === 'string' || (typeof argument === 'number' && Number.isFinite(argument))) return;
  if (isArray(argument)) {
    const allStrings = argument.every((item) => typeof item === 'string');
    const allNumbers = argument.every((item) => typeof item === 'number' && Number.isFinite(item));
    if (argument.length === 0) problem('list is empty');
    else if (!allStrings && !allNumbers) problem('list must hold only strings or only numbers');
    return;
  }
  if (!isObject(argument)) return problem(`takes a string, a number, a list or an object, got ${describe(argument)}`);
  const keys = Object.keys(argument);
  const inner = keys[0];
  if (keys.length !== 1 || inner === undefined || !ANYTHING_BUT_OPERATORS.has(inner)) {
    return problem(`object takes exactly one of prefix, suffix, equals-ignore-case or wildcard, got ${keys.map((key) => JSON.stringify(key)).join(', ') || 'none'}`);
  }
  const value = argument[inner];
  if (inner === 'prefix' || inner === 'suffix') {
    // A list of prefixes or suffixes is not supported, and an empty one would exclude every string.
    if (typeof value !== 'string' || value === '') problem(`${inner} takes a non-empty string, got ${describe(value)}`);
    return;
  }
  const list = isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === 'string')) {
    return problem(`${inner} takes a string or a non-empty list of strings, got ${describe(value)}`);
  }
  if (inner === 'wildcard') list.forEach((item) => validateWildcardArgument(item, problem));
}

function validateNumeric(argument: unknown, problem: (message: string) => void): void {
  if (!isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    return problem(`takes [operator, number] or [">" or ">=", number, "<" or "<=", number], got ${describe(argument)}`);
  }
  const [firstOperator, firstBound, secondOperator, secondBound] = argument;
  for (const bound of argument.length === 2 ? [firstBound] : [firstBound, secondBound]) {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) return problem(`bound must be a number, got ${describe(bound)}`);
  }
  const operators = argument.length === 2 ? [firstOperator] : [firstOperator, secondOperator];
  for (const operator of operators) {
    if (typeof operator !== 'string' || !['=', '<', '<=', '>', '>='].includes(operator)) {
      return problem(`unknown comparison ${describe(operator)}`);
    }
  }
  if (argument.length === 2) return;
  // A range is a lower bound then an upper bound, and must not be empty.
  if (typeof firstOperator !== 'string' || !LOWER_BOUNDS.has(firstOperator) || typeof secondOperator !== 'string' || !UPPER_BOUNDS.has(secondOperator)) {
    return problem(`range must be a lower bound (> or >=) followed by an upper bound (< or <=), got ${describe(argument)}`);
  }
  if (typeof firstBound === 'number' && typeof secondBound === 'number' && firstBound >= secondBound) {
    problem(`range is empty: lower bound ${firstBound} is not below upper bound ${secondBound}`);
  }
}
