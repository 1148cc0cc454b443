/**
 * CodeBuild project and build state, normalised for comparison. Secret material never reaches the
 * state table or a finding: PLAINTEXT environment values are kept only as a short fingerprint, and
 * buildspecs as a hash plus a redacted preview.
 */
import { createHash } from 'node:crypto';
import type { BuildwatchConfig } from '../../config/config.js';
import { textOf } from '../../engine/own-keys.js';
import { isRecord, stringAt, valueAt } from '../../engine/pipeline-event.js';
import { fingerprint as maskedFingerprint, looksLikeSecret, redact, redactText } from '../../engine/redact.js';
import type { JsonObject, JsonValue } from '../../engine/use-case.js';

export function fingerprint(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

export function isWatchedProject(config: BuildwatchConfig, name: string | undefined): name is string {
  if (!name) return false;
  const watched = config.pipeline.buildProjects;
  return watched.length === 0 || watched.some((project) => project.name === name);
}

/** `arn:aws:codebuild:<region>:<account>:project/<name>` (or a bare name) → the name. */
export function projectNameOf(nameOrArn: string | undefined): string | undefined {
  if (!nameOrArn) return undefined;
  const match = /^arn:aws[a-z-]*:codebuild:[^:]*:\d{12}:project\/(.+)$/.exec(nameOrArn);
  return match ? match[1] : nameOrArn.startsWith('arn:') ? undefined : nameOrArn;
}

const REFERENCE_TYPES = new Set(['PARAMETER_STORE', 'SECRETS_MANAGER']);

/**
 * `localeCompare`'s order (the default locale), without building a collator for every comparison.
 * Built on first use: a collator costs milliseconds to build, and most cold starts sort no variables.
 */
let nameOrder: Intl.Collator | undefined;
const compareNames = (a: string, b: string): number => (nameOrder ??= new Intl.Collator()).compare(a, b);

/**
 * Environment variables as a sorted list: values fingerprinted, references (Parameter Store, Secrets
 * Manager) kept. Accepts the API shape and the native event's (same keys).
 */
export function normaliseVariables(list: unknown): JsonObject[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter(isRecord)
    .map((variable) => {
      const name = textOf(variable['name']);
      const type = (textOf(variable['type']) || 'PLAINTEXT').toUpperCase();
      const value = textOf(variable['value']);
      return {
        name,
        type,
        value: REFERENCE_TYPES.has(type) ? value : fingerprint(value),
        ...(type === 'PLAINTEXT' && looksLikeSecret(name, value) ? { plaintextSecret: true } : {}),
      };
    })
    .sort((a, b) => compareNames(a.name, b.name));
}

/** A buildspec names a file in the repository, or is the YAML itself (inline: what attackers use). */
export function isInlineBuildspec(buildspec: string): boolean {
  return buildspec.includes('\n') || /^\s*version\s*:/.test(buildspec);
}

export function buildspecState(buildspec: unknown): JsonObject | undefined {
  if (typeof buildspec !== 'string' || buildspec.length === 0) return undefined;
  // Masked whole, then cut: a secret that crosses the cut would no longer look like one.
  return { inline: isInlineBuildspec(buildspec), sha256: fingerprint(buildspec), preview: redactText(buildspec).slice(0, 300) };
}

function pick(source: unknown, keys: readonly string[]): JsonObject {
  const result: JsonObject = {};
  if (!isRecord(source)) return result;
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined && value !== null) result[key] = redact(value) as JsonValue;
  }
  return result;
}

function compact(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => !(isRecord(value) && Object.keys(value).length === 0))) as JsonObject;
}

/** Tags as a sorted name → value map (the API sends a list of {key, value}). */
function tagsState(tags: unknown): JsonObject | undefined {
  if (!Array.isArray(tags)) return undefined;
  // Tag values are free text anyone with TagResource writes: masked like any other, fingerprinted when
  // the pair looks like a secret (a diff still shows that it changed).
  const entries = tags.filter(isRecord).map((tag) => {
    const key = textOf(tag['key']);
    const value = textOf(tag['value']);
    return [key, looksLikeSecret(key, value) ? maskedFingerprint(value) : redactText(value)] as const;
  });
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** A project (CreateProject/UpdateProject parameters or response, BatchGetProjects) as comparable state. */
export function normaliseProject(project: Record<string, unknown>): JsonObject {
  const source = isRecord(project['source']) ? project['source'] : undefined;
  const environment = isRecord(project['environment']) ? project['environment'] : undefined;
  const state: JsonObject = {};
  const put = (key: string, value: JsonValue | undefined): void => {
    if (value !== undefined) state[key] = value;
  };
  put('description', typeof project['description'] === 'string' ? redactText(project['description']) : undefined);
  if (source) {
    const buildspec = buildspecState(source['buildspec']);
    put('source', compact({ ...pick(source, ['type', 'location', 'gitCloneDepth', 'reportBuildStatus', 'insecureSsl', 'auth']), ...(buildspec ? { buildspec } : {}) }));
  }
  put('secondarySources', Array.isArray(project['secondarySources']) ? (redact(project['secondarySources']) as JsonValue) : undefined);
  put('sourceVersion', typeof project['sourceVersion'] === 'string' ? redactText(project['sourceVersion']) : undefined);
  if (environment) {
    const variables = environment['environmentVariables'];
    put(
      'environment',
      compact({
        ...pick(environment, ['type', 'image', 'computeType', 'privilegedMode', 'imagePullCredentialsType', 'certificate', 'registryCredential']),
        ...(variables !== undefined && variables !== null ? { environmentVariables: normaliseVariables(variables) } : {}),
      }),
    );
  }
  put('serviceRole', typeof project['serviceRole'] === 'string' ? project['serviceRole'] : undefined);
  put('encryptionKey', typeof project['encryptionKey'] === 'string' ? project['encryptionKey'] : undefined);
  put('artifacts', isRecord(project['artifacts']) ? pick(project['artifacts'], ['type', 'location', 'packaging', 'name', 'path', 'namespaceType', 'encryptionDisabled']) : undefined);
  put('secondaryArtifacts', Array.isArray(project['secondaryArtifacts']) ? (redact(project['secondaryArtifacts']) as JsonValue) : undefined);
  put('cache', isRecord(project['cache']) ? pick(project['cache'], ['type', 'location', 'modes']) : undefined);
  put('logsConfig', isRecord(project['logsConfig']) ? (redact(project['logsConfig']) as JsonValue) : undefined);
  put('vpcConfig', isRecord(project['vpcConfig']) ? (redact(project['vpcConfig']) as JsonValue) : undefined);
  put('fileSystemLocations', Array.isArray(project['fileSystemLocations']) ? (redact(project['fileSystemLocations']) as JsonValue) : undefined);
  put('timeoutInMinutes', typeof project['timeoutInMinutes'] === 'number' ? project['timeoutInMinutes'] : undefined);
  put('queuedTimeoutInMinutes', typeof project['queuedTimeoutInMinutes'] === 'number' ? project['queuedTimeoutInMinutes'] : undefined);
  // Requests say badgeEnabled; responses and BatchGetProjects say badge.badgeEnabled.
  const badge = project['badgeEnabled'] ?? valueAt(project, 'badge', 'badgeEnabled');
  put('badgeEnabled', typeof badge === 'boolean' ? badge : undefined);
  put('concurrentBuildLimit', typeof project['concurrentBuildLimit'] === 'number' ? project['concurrentBuildLimit'] : undefined);
  put('tags', tagsState(project['tags']));
  return state;
}

/** The latest time a Date can hold (epoch milliseconds). */
const LATEST_DATE_MS = 8.64e15;

/**
 * A timestamp as AWS renders it in JSON: ISO-8601, epoch seconds (SDK JSON), epoch milliseconds, or
 * CodeBuild's "Oct 24, 2026 1:09:21 AM" (UTC). Undefined when unreadable, or before 1970 or past what
 * a Date holds: no AWS build runs then, and the stores key state by epoch time.
 */
export function timestampOf(value: unknown): number | undefined {
  const ms = readTimestamp(value);
  return ms !== undefined && ms >= 0 && ms <= LATEST_DATE_MS ? ms : undefined;
}

function readTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return readTimestamp(Number(text));
  const codebuild = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ?(AM|PM)$/.exec(text);
  if (codebuild) {
    const [, mon, day, year, hour, minute, second, half] = codebuild as unknown as [string, string, string, string, string, string, string, string];
    const month = MONTHS.indexOf(mon);
    if (month < 0) return undefined;
    const h = (Number(hour) % 12) + (half === 'PM' ? 12 : 0);
    return Date.UTC(Number(year), month, Number(day), h, Number(minute), Number(second));
  }
  // Only ISO-like strings: Date.parse of free text would depend on the machine's time zone.
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * What a build actually ran with, from the native `CodeBuild Build State Change` event
 * (`additional-information`): image, privileged mode, buildspec, source. Its variables are read apart
 * (observedVariables): fingerprinting them is most of the cost, and a pipeline's builds never compare them.
 */
export interface ObservedBuild {
  readonly image?: string;
  readonly privilegedMode?: boolean;
  readonly buildspec?: string;
  readonly sourceType?: string;
  readonly sourceLocation?: string;
  readonly initiator?: string;
  readonly startedAt?: number;
}

export function observedBuild(detail: Readonly<Record<string, unknown>>): ObservedBuild {
  const info = valueAt(detail, 'additional-information');
  const environment = valueAt(info, 'environment');
  const source = valueAt(info, 'source');
  const build: { -readonly [K in keyof ObservedBuild]: ObservedBuild[K] } = {};
  const image = stringAt(environment, 'image');
  if (image) build.image = image;
  const privileged = valueAt(environment, 'privileged-mode');
  if (typeof privileged === 'boolean') build.privilegedMode = privileged;
  const buildspec = stringAt(source, 'buildspec');
  if (buildspec) build.buildspec = buildspec;
  const sourceType = stringAt(source, 'type');
  if (sourceType) build.sourceType = sourceType;
  const sourceLocation = stringAt(source, 'location');
  if (sourceLocation) build.sourceLocation = sourceLocation;
  const initiator = stringAt(info, 'initiator');
  if (initiator) build.initiator = initiator;
  const startedAt = timestampOf(valueAt(info, 'build-start-time'));
  if (startedAt !== undefined) build.startedAt = startedAt;
  return build;
}

/** The environment variables a build ran with, normalised (values fingerprinted) like a project's. */
export function observedVariables(detail: Readonly<Record<string, unknown>>): JsonObject[] {
  return normaliseVariables(valueAt(detail, 'additional-information', 'environment', 'environment-variables'));
}

/** Per-variable differences between two normalised variable lists (names only: values stay hidden). */
export function variableChanges(before: readonly JsonObject[], after: readonly JsonObject[]): { added: string[]; changed: string[]; removed: string[]; plaintextSecrets: string[] } {
  const index = (list: readonly JsonObject[]): Map<string, string> => new Map(list.map((v) => [String(v['name']), JSON.stringify(v)]));
  const was = index(before);
  const now = index(after);
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [name, value] of now) {
    if (!was.has(name)) added.push(name);
    else if (was.get(name) !== value) changed.push(name);
  }
  for (const name of was.keys()) if (!now.has(name)) removed.push(name);
  const plaintextSecrets = after.filter((v) => v['plaintextSecret'] === true && (added.includes(String(v['name'])) || changed.includes(String(v['name'])))).map((v) => String(v['name']));
  return { added, changed, removed, plaintextSecrets };
}

/** "A added (PLAINTEXT value that looks like a secret); B changed; C removed" — empty when nothing changed. */
export function describeVariableChanges(changes: ReturnType<typeof variableChanges>): string[] {
  const secret = (name: string): string => (changes.plaintextSecrets.includes(name) ? ' (PLAINTEXT value that looks like a secret)' : '');
  return [
    ...changes.added.map((name) => `${name} added${secret(name)}`),
    ...changes.changed.map((name) => `${name} changed${secret(name)}`),
    ...changes.removed.map((name) => `${name} removed`),
  ];
}
