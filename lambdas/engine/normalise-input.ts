/**
 * Input normaliser for `buildwatch replay PATH…` and backfill (EVENTS.md 1 and 8).
 *
 * Every accepted input shape becomes a list of EventBridge envelopes:
 *   1. one EventBridge event;            2. one bare CloudTrail record;
 *   3. a CloudTrail S3 log file {"Records":[…]};
 *   4. `aws cloudtrail lookup-events` output {"Events":[{…,"CloudTrailEvent":"<JSON>"}]};
 *   5. a JSON array of 1, 2 or lookup-events Event objects;
 *   6. JSON Lines (.jsonl/.ndjson, or one JSON value per line), each line 1, 2 or a lookup Event.
 * Content may be gzipped. Shapes 3/4 are deduplicated by eventID and sorted by eventTime, because
 * CloudTrail writes them in no particular order; everything else keeps file order.
 *
 * Nothing here throws on bad input: problems are returned so a replay can report them all at once.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type * as z from 'zod';
import { folderKind } from '../backfill/trail-layout.js';
import { canonicalJson } from './canonical.js';
import {
  cloudTrailRecordSchema,
  envelopeForCloudTrail,
  rememberValidatedRecord,
  eventBridgeEventSchema,
  type EventBridgeEvent,
} from './events.js';

/**
 * One thing wrong with an input. `reason` is a single human-readable line that names the file and,
 * for items, where the item is. `item` is the 0-based index in the array (top-level array,
 * `Records` or `Events`) or, for JSON Lines, the 1-based line number.
 */
export type InputProblem = { file: string; item?: number; reason: string };

export interface NormalisedFile {
  file: string;
  events: EventBridgeEvent[];
  problems: InputProblem[];
  /** Records that are not API calls (CloudTrail Insights events): nothing lost, said apart from the problems. */
  ignored?: InputProblem[];
}

/** Largest accepted file, after decompression (512 MiB). */
export const MAX_INPUT_BYTES = 512 * 1024 * 1024;

export interface NormaliseOptions {
  /** Override of MAX_INPUT_BYTES; lets tests exercise the guard without half a gigabyte. */
  maxBytes?: number;
}

/** Extensions a directory walk picks up (explicitly named files are always read). */
const INPUT_FILE_PATTERN = /\.(json|jsonl|ndjson|gz)$/i;
const JSON_LINES_PATTERN = /\.(jsonl|ndjson)$/i;
const CLOUDTRAIL_KEYS = ['eventID', 'eventSource', 'eventName', 'eventTime'] as const;
/** How many schema issues to name in one problem line before summarising the rest. */
const MAX_ISSUES_NAMED = 4;

type JsonObject = Record<string, unknown>;
type ItemResult = { ok: true; event: EventBridgeEvent } | { ok: false; reason: string; notAnApiCall?: true };

/**
 * A CloudTrail Insights event: unusual API call or error rates, written in a record's shape (eventID,
 * eventTime, its event source under insightDetails) but not an API call, and nothing Buildwatch's
 * rules read. CloudTrail puts them in `CloudTrail-Insight/`, skipped by a directory walk; a file or
 * a lookup-events page (EventCategory insight) with them is read as given.
 */
const INSIGHTS_EVENT: ItemResult = {
  ok: false,
  notAnApiCall: true,
  reason: 'a CloudTrail Insights event (API call or error rates), not an API call: not replayed',
};

function isInsightsEvent(record: JsonObject): boolean {
  return record.eventType === 'AwsCloudTrailInsight' || record.eventCategory === 'Insight';
}
/** Where an item sits in its file: its `item` number and the label used in the reason. */
type ItemLocation = { item: number; label: string };

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Normalises one file's content. Never throws: any failure becomes a problem. */
export function normaliseContent(file: string, content: Buffer | string, options: NormaliseOptions = {}): NormalisedFile {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  try {
    const decoded = decode(file, content, maxBytes);
    if (!decoded.ok) return fileProblem(file, decoded.reason);
    return parseText(file, decoded.text, JSON_LINES_PATTERN.test(file.replace(/\.gz$/i, '')));
  } catch (err) {
    // Belt and braces: the helpers catch what they expect, but the contract is "never throws".
    return fileProblem(file, `could not be read: ${errorMessage(err)}`);
  }
}

/** Reads and normalises one file; read errors are reported as a problem. */
export async function readInputFile(path: string, options: NormaliseOptions = {}): Promise<NormalisedFile> {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  try {
    const info = await stat(path);
    if (info.isDirectory()) return fileProblem(path, 'is a directory, not a file');
    // Checked before reading so a huge file is never loaded. A gzip file bigger than the limit
    // cannot decompress to less than it in practice (gzip never shrinks below the raw size by much).
    if (info.size > maxBytes) return fileProblem(path, `is ${formatBytes(info.size)}, over the ${formatBytes(maxBytes)} limit`);
    const content = await readFile(path);
    return normaliseContent(path, content, options);
  } catch (err) {
    return fileProblem(path, fsReason(err));
  }
}

/**
 * Expands the CLI's paths into files. A directory becomes its input files (recursively, skipping
 * dotfiles, in lexical order of relative path, which for CloudTrail's S3 layout is time order);
 * an explicitly named file is kept in the order given whatever its extension. Paths are processed
 * as given, repeats included: replaying an input twice is how users check idempotency.
 * Said, not silently dropped: `skipped`, files in the directories that are not event files by name;
 * `notEvents`, folders of a copy of a trail bucket that hold no events (`AWSLogs/…/CloudTrail-Digest/`,
 * `CloudTrail-Insight/`, other services' logs), skipped as backfill skips them: read, every hourly
 * digest file would be an input problem.
 */
export async function expandInputPaths(paths: string[]): Promise<{ files: string[]; problems: InputProblem[]; skipped: string[]; notEvents: string[] }> {
  const files: string[] = [];
  const problems: InputProblem[] = [];
  const skipped: string[] = [];
  const notEvents: string[] = [];
  const add = (file: string): void => {
    files.push(file);
  };

  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (err) {
      problems.push({ file: path, reason: `${path}: ${fsReason(err)}` });
      continue;
    }
    if (!isDirectory) {
      add(path);
      continue;
    }
    const skippedFolders = notEvents.length;
    const found = await walkDirectory(path, problems, skipped, notEvents);
    if (found.length === 0 && notEvents.length === skippedFolders) {
      problems.push({ file: path, reason: `${path}: directory has no .json, .jsonl, .ndjson or .gz files` });
    }
    for (const file of found) add(file);
  }
  return { files, problems, skipped, notEvents };
}

// ---------------------------------------------------------------------------------------------
// Decoding: gzip, size guard, text
// ---------------------------------------------------------------------------------------------

type Decoded = { ok: true; text: string } | { ok: false; reason: string };

function decode(file: string, content: Buffer | string, maxBytes: number): Decoded {
  if (typeof content === 'string') {
    if (Buffer.byteLength(content, 'utf8') > maxBytes) return { ok: false, reason: `is over the ${formatBytes(maxBytes)} limit` };
    return { ok: true, text: stripBom(content) };
  }

  let bytes = content;
  if (isGzip(bytes)) {
    try {
      // maxOutputLength makes zlib stop at the limit instead of exhausting memory (zip bombs too).
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (err) {
      if (errorCode(err) === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, reason: `decompresses to more than the ${formatBytes(maxBytes)} limit` };
      }
      return { ok: false, reason: `is not valid gzip data (truncated or corrupt): ${errorMessage(err)}` };
    }
  } else if (/\.gz$/i.test(file) && !startsLikeJson(bytes)) {
    return { ok: false, reason: 'is named .gz but is neither gzip data nor JSON' };
  }
  // A `.gz` name with plain JSON inside is accepted: some downloaders decompress and keep the name.

  if (bytes.length > maxBytes) return { ok: false, reason: `is ${formatBytes(bytes.length)}, over the ${formatBytes(maxBytes)} limit` };
  try {
    return { ok: true, text: stripBom(bytes.toString('utf8')) };
  } catch (err) {
    // V8 caps string length just under 512 MiB, so a file right at the limit can still fail here.
    return { ok: false, reason: `is too large to decode as text: ${errorMessage(err)}` };
  }
}

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function startsLikeJson(bytes: Buffer): boolean {
  const head = stripBom(bytes.subarray(0, 64).toString('utf8')).trimStart();
  return head === '' || head.startsWith('{') || head.startsWith('[');
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// ---------------------------------------------------------------------------------------------
// Parsing: top-level shapes
// ---------------------------------------------------------------------------------------------

function parseText(file: string, text: string, jsonLinesByName: boolean): NormalisedFile {
  // An empty JSON Lines file is a quiet hour, not a broken file; an empty .json is not JSON.
  if (text.trim() === '') return jsonLinesByName ? { file, events: [], problems: [] } : fileProblem(file, 'is empty');
  if (jsonLinesByName) return parseJsonLines(file, text);

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Several JSON values, one per line, make the whole text invalid JSON: try JSON Lines then.
    if (looksLikeJsonLines(text)) return parseJsonLines(file, text);
    return fileProblem(file, `is not valid JSON: ${errorMessage(err)}`);
  }
  return parseTopLevel(file, value);
}

function parseTopLevel(file: string, value: unknown): NormalisedFile {
  if (Array.isArray(value)) {
    return collect(file, value.map((item, index) => ({ location: { item: index, label: `item ${index}` }, result: normaliseItem(item) })));
  }
  if (!isObject(value)) {
    return fileProblem(file, `top-level JSON is ${kindOf(value)}; expected an object, an array or JSON Lines`);
  }
  // An EventBridge event is checked first: its own keys can never be Records/Events.
  if (!isEventBridgeLike(value)) {
    if ('Records' in value) {
      if (!Array.isArray(value.Records)) return fileProblem(file, `"Records" is ${kindOf(value.Records)}, expected an array`);
      return collectCloudTrail(file, value.Records.map((record, index) => ({
        location: { item: index, label: `Records[${index}]` },
        result: normaliseCloudTrailRecord(record),
      })));
    }
    if ('Events' in value) {
      if (!Array.isArray(value.Events)) return fileProblem(file, `"Events" is ${kindOf(value.Events)}, expected an array`);
      // NextToken only means more pages exist elsewhere; this page is complete in itself.
      return collectCloudTrail(file, value.Events.map((entry, index) => ({
        location: { item: index, label: `Events[${index}]` },
        result: normaliseLookupEvent(entry),
      })));
    }
  }
  return collect(file, [{ location: { item: 0, label: 'its event' }, result: normaliseItem(value) }], false);
}

/** True when at least two lines exist and the first one is a JSON object on its own. */
function looksLikeJsonLines(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length < 2 || lines[0] === undefined) return false;
  try {
    return isObject(JSON.parse(lines[0]));
  } catch {
    return false;
  }
}

function parseJsonLines(file: string, text: string): NormalisedFile {
  const items: Array<{ location: ItemLocation; result: ItemResult }> = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const location = { item: index + 1, label: `line ${index + 1}` };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      items.push({ location, result: { ok: false, reason: `not valid JSON: ${errorMessage(err)}` } });
      return;
    }
    items.push({ location, result: normaliseItem(value) });
  });
  if (items.length === 0) return fileProblem(file, 'is empty');
  return collect(file, items);
}

/** `located`: name each item's place in the file (false for a file that is one item). */
function collect(file: string, items: Array<{ location: ItemLocation; result: ItemResult }>, located = true): NormalisedFile {
  const events: EventBridgeEvent[] = [];
  const problems: InputProblem[] = [];
  const ignored: InputProblem[] = [];
  for (const { location, result } of items) {
    if (result.ok) events.push(result.event);
    else (result.notAnApiCall ? ignored : problems).push(located ? itemProblem(file, location, result.reason) : { file, reason: oneLine(`${file}: ${result.reason}`) });
  }
  return ignored.length > 0 ? { file, events, problems, ignored } : { file, events, problems };
}

/** Shapes 3/4: drop repeated eventIDs (first one wins), then a stable sort by eventTime. */
function collectCloudTrail(file: string, items: Array<{ location: ItemLocation; result: ItemResult }>): NormalisedFile {
  const collected = collect(file, items);
  const seen = new Set<string>();
  const unique = collected.events.filter((event) => {
    if (seen.has(event.id)) return false;
    seen.add(event.id);
    return true;
  });
  // Every record reaching here passed the date check, so the key is a number. Array#sort is stable.
  const keyed = unique.map((event) => ({ event, at: Date.parse(cloudTrailTimeOf(event)) }));
  keyed.sort((a, b) => a.at - b.at);
  return { ...collected, events: keyed.map((entry) => entry.event) };
}

function cloudTrailTimeOf(event: EventBridgeEvent): string {
  const eventTime = event.detail.eventTime;
  return typeof eventTime === 'string' ? eventTime : event.time;
}

// ---------------------------------------------------------------------------------------------
// Items: EventBridge event, CloudTrail record, lookup-events Event
// ---------------------------------------------------------------------------------------------

function normaliseItem(value: unknown): ItemResult {
  if (!isObject(value)) return { ok: false, reason: `is ${kindOf(value)}, expected a JSON object` };
  if (isEventBridgeLike(value)) return normaliseEventBridgeEvent(value);
  if ('CloudTrailEvent' in value || 'EventId' in value) return normaliseLookupEvent(value);
  if (CLOUDTRAIL_KEYS.some((key) => key in value)) return normaliseCloudTrailRecord(value);
  if ('Records' in value || 'Events' in value) {
    return { ok: false, reason: 'is a whole CloudTrail log file or lookup-events page; give it as its own file' };
  }
  return {
    ok: false,
    reason: `has an unknown shape (keys: ${describeKeys(value)}); expected an EventBridge event (detail-type, detail), `
      + 'a CloudTrail record (eventID, eventSource, eventName, eventTime) or a lookup-events Event (CloudTrailEvent)',
  };
}

function isEventBridgeLike(value: JsonObject): boolean {
  return 'detail-type' in value || 'detail' in value;
}

function normaliseEventBridgeEvent(raw: JsonObject): ItemResult {
  const value = withoutNullResources(raw);
  const parsed = eventBridgeEventSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: `EventBridge event invalid: ${describeIssues(parsed.error.issues, value)}` };
  if (Number.isNaN(Date.parse(parsed.data.time))) return { ok: false, reason: `EventBridge event invalid: time ${quote(parsed.data.time)} is not a date` };
  return { ok: true, event: preferOriginal(value, parsed.data) };
}

function normaliseCloudTrailRecord(raw: unknown, lookupEventId?: unknown): ItemResult {
  if (!isObject(raw)) return { ok: false, reason: `is ${kindOf(raw)}, expected a CloudTrail record object` };
  if (isInsightsEvent(raw)) return INSIGHTS_EVENT;
  const value = withEventId(withoutNullResources(raw), lookupEventId);
  const parsed = cloudTrailRecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: `CloudTrail record invalid: ${describeIssues(parsed.error.issues, value)}` };
  if (Number.isNaN(Date.parse(parsed.data.eventTime))) {
    return { ok: false, reason: `CloudTrail record invalid: eventTime ${quote(parsed.data.eventTime)} is not a date` };
  }
  const detail = preferOriginal(value, parsed.data);
  rememberValidatedRecord(detail, parsed.data);
  return { ok: true, event: envelopeForCloudTrail(detail) };
}

/** A lookup-events Event: the CloudTrail record is a JSON *string* in CloudTrailEvent (EVENTS.md 8). */
function normaliseLookupEvent(value: unknown): ItemResult {
  if (!isObject(value)) return { ok: false, reason: `is ${kindOf(value)}, expected a lookup-events Event object` };
  const inner = value.CloudTrailEvent;
  if (inner === undefined) return { ok: false, reason: 'lookup-events Event invalid: CloudTrailEvent missing' };
  let record: unknown = inner;
  if (typeof inner === 'string') {
    try {
      record = JSON.parse(inner);
    } catch (err) {
      return { ok: false, reason: `lookup-events Event invalid: CloudTrailEvent is not valid JSON: ${errorMessage(err)}` };
    }
  }
  // Tools that pre-parse the string (e.g. jq `fromjson`) leave an object, which is accepted too.
  if (!isObject(record)) return { ok: false, reason: `lookup-events Event invalid: CloudTrailEvent is ${kindOf(record)}, expected a JSON object` };
  return normaliseCloudTrailRecord(record, value.EventId);
}

/**
 * Real exports write `"resources": null` where CloudTrail leaves the field out (like
 * `requestParameters: null`): absent, not invalid. In an EventBridge event, the envelope's and the
 * relayed record's both.
 */
function withoutNullResources(value: JsonObject): JsonObject {
  const { resources, ...rest } = value;
  const cleaned = resources === null ? rest : value;
  const detail = cleaned.detail;
  if (isObject(detail) && detail.resources === null) {
    const { resources: _null, ...detailRest } = detail;
    return { ...cleaned, detail: detailRest };
  }
  return cleaned;
}

/** Marks a record whose eventID Buildwatch derived from its content (the shipper dropped CloudTrail's). */
export const DERIVED_EVENT_ID_FLAG = 'buildwatchDerivedEventID';
export const DERIVED_EVENT_ID_PREFIX = 'derived:';

/**
 * Some shippers drop `eventID`. A lookup-events page still names it (`EventId`); otherwise the id is
 * derived from the record's content, so the same record read twice gets the same id (repeats stay
 * repeats), and flagged, so nobody takes it for CloudTrail's. An empty eventID stays invalid.
 */
function withEventId(record: JsonObject, lookupEventId: unknown): JsonObject {
  if (record.eventID !== undefined && record.eventID !== null) return record;
  const { eventID: _absent, ...content } = record;
  if (typeof lookupEventId === 'string' && lookupEventId !== '') return { ...content, eventID: lookupEventId };
  // Only a record that is otherwise one gets an id: garbage stays garbage.
  if (!cloudTrailRecordSchema.omit({ eventID: true }).safeParse(content).success) return record;
  const digest = createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 32);
  return { ...content, eventID: `${DERIVED_EVENT_ID_PREFIX}${digest}`, [DERIVED_EVENT_ID_FLAG]: true };
}

/**
 * Fidelity: zod rebuilds objects (nested ones too) in schema key order. The schemas only validate
 * and default (EventBridge `resources`), never coerce, so the caller's validated object is returned
 * with its own key order and values, plus any defaulted keys; `time` stays exactly as given.
 */
function preferOriginal<T extends object>(original: JsonObject, parsed: T): T {
  return { ...original, ...parsed, ...original };
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** "eventID missing, readOnly should be boolean, is string", capped at a few issues. */
function describeIssues(issues: readonly z.core.$ZodIssue[], value: JsonObject): string {
  const parts = issues.slice(0, MAX_ISSUES_NAMED).map((issue) => {
    const path = formatPath(issue.path);
    if (path === '') return issue.message;
    const actual = valueAt(value, issue.path);
    if (actual === undefined) return `${path} missing`;
    if (actual === '') return `${path} empty`;
    if (issue.code === 'invalid_type') return `${path} should be ${issue.expected}, is ${kindOf(actual)}`;
    return `${path} invalid (${issue.message})`;
  });
  const more = issues.length - MAX_ISSUES_NAMED;
  return more > 0 ? `${parts.join(', ')} and ${more} more` : parts.join(', ');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    return text === '' ? name : `${text}.${name}`;
  }, '');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeKeys(value: JsonObject): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, 6).join(', ');
  return keys.length > 6 ? `${shown}, …` : shown;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function fileProblem(file: string, reason: string): NormalisedFile {
  return { file, events: [], problems: [{ file, reason: oneLine(`${file}: ${reason}`) }] };
}

function itemProblem(file: string, location: ItemLocation, reason: string): InputProblem {
  return { file, item: location.item, reason: oneLine(`${file}: ${location.label}: ${reason}`) };
}

/** Problems are printed one per line, so newlines in parser messages are flattened. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function fsReason(err: unknown): string {
  switch (errorCode(err)) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'a parent of the path is not a directory';
    case 'EISDIR': return 'is a directory, not a file';
    default: return `could not be read: ${errorMessage(err)}`;
  }
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${bytes} bytes`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Directory walk
// ---------------------------------------------------------------------------------------------

/** Input files under `root`, sorted by relative path ('/'-separated, code-unit order). */
async function walkDirectory(root: string, problems: InputProblem[], skipped: string[], notEvents: string[]): Promise<string[]> {
  const found: string[] = [];
  // Real paths of directories already entered, so a symlink loop cannot recurse forever.
  const visited = new Set<string>();

  const visit = async (dir: string): Promise<void> => {
    if (folderKind(dir).kind === 'not-events') {
      notEvents.push(dir);
      return;
    }
    try {
      const real = await realpath(dir);
      if (visited.has(real)) return;
      visited.add(real);
    } catch (err) {
      problems.push({ file: dir, reason: `${dir}: ${fsReason(err)}` });
      return;
    }
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({ file: dir, reason: `${dir}: ${fsReason(err)}` });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(full);
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch (err) {
          problems.push({ file: full, reason: `${full}: broken symbolic link (${fsReason(err)})` });
          continue;
        }
      }
      if (isDirectory) await visit(full);
      else if (isFile && INPUT_FILE_PATTERN.test(entry.name)) found.push(full);
      else if (isFile) skipped.push(full);
    }
  };

  await visit(root);
  const keyed = found.map((file) => ({ file, key: relative(root, file).split(sep).join('/') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((entry) => entry.file);
}
