/**
 * The one place that decides which characters of attacker-controlled text may reach a human: e-mail
 * and SNS text, chat cards, terminals (alerts, problem lines), JSON output and exports. Control
 * characters (C0 with ESC, DEL, C1) could drive a terminal; bidirectional controls reorder what is
 * shown ("Trojan Source"); invisible characters hide text or make two names look alike.
 */

/** C0 (ESC included), DEL, C1 and the Unicode line/paragraph separators: become spaces. */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Characters that show nothing (or reorder what is shown): all format characters (\p{Cf}: soft hyphen,
 * Arabic letter mark U+061C, Mongolian vowel separator U+180E, zero-width and bidi controls, BOM,
 * the tag block U+E0000–E007F), the combining grapheme joiner U+034F, the Hangul fillers (U+115F,
 * U+1160, U+3164, U+FFA0), Khmer inherent vowels (U+17B4, U+17B5), Mongolian free variation selectors
 * and variation selectors. Removed.
 */
export const INVISIBLE = /[\p{Cf}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0\ufe00-\ufe0f\u{e0000}-\u{e0fff}]/gu;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Control characters to spaces, invisible ones removed, lone surrogates replaced: safe to show. */
export function stripUnsafe(text: string): string {
  return text.replace(CONTROL, ' ').replace(INVISIBLE, '').replace(LONE_SURROGATE, '\ufffd');
}

/** Characters JSON.stringify leaves raw that a terminal or viewer may act on, escaped as \uXXXX. */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]|[\p{Cf}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0\ufe00-\ufe0f\u{e0000}-\u{e0fff}]/gu;
/** Any character JSON_UNSAFE could match (all lie beyond printable ASCII). */
const BEYOND_ASCII = /[^\x00-\x7e]/;

/**
 * JSON text with every control, bidi and invisible character escaped (`\u202e`), so printing it is
 * safe. Lossless: a JSON parser reads back exactly the same values (content hashes still verify).
 */
export function safeJson(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  // Every unsafe character is beyond ASCII (JSON.stringify escapes the C0 controls): plain ASCII
  // text, the usual finding, needs no scan by Unicode property.
  if (!BEYOND_ASCII.test(json)) return json;
  return json.replace(JSON_UNSAFE, (ch) => Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}

/** A line for a terminal from untrusted text (file names, parser messages quoting input): one line, safe, bounded. */
export function terminalLine(text: string, maxLength = 2000): string {
  const clean = stripUnsafe(text.length > maxLength * 2 ? text.slice(0, maxLength * 2) : text);
  return clean.length <= maxLength ? clean : `${clean.slice(0, maxLength - 1)}…`;
}
