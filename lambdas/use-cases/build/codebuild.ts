/**
 * CodeBuild project state, normalised for drift detection. Secret material never reaches the state
 * table: PLAINTEXT environment values are kept only as a short fingerprint, and buildspecs as a
 * hash plus a redacted preview.
 */
import { createHash } from 'node:crypto';
import type { BuildwatchConfig } from '../../config/config.js';
import { isRecord } from '../../engine/pipeline-event.js';
import { looksLikeSecret, redact } from '../../engine/redact.js';
import type { JsonObject, JsonValue } from '../../engine/use-case.js';

export function fingerprint(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

export function isWatchedProject(config: BuildwatchConfig, name: string | undefined): name is string {
  if (!name) return false;
  const watched = config.pipeline.buildProjects;
  return watched.length === 0 || watched.some((project) => project.name === name);
}

/** Environment variables as a sorted list: values masked, references (Parameter Store, Secrets Manager) kept. */
function normaliseVariables(list: unknown): JsonValue[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter(isRecord)
    .map((variable) => {
      const name = String(variable['name'] ?? '');
      const type = String(variable['type'] ?? 'PLAINTEXT');
      const value = String(variable['value'] ?? '');
      const isReference = type === 'PARAMETER_STORE' || type === 'SECRETS_MANAGER';
      return {
        name,
        type,
        value: isReference ? value : fingerprint(value),
        ...(type === 'PLAINTEXT' && looksLikeSecret(name, value) ? { plaintextSecret: true } : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function buildspecState(buildspec: unknown): JsonValue | undefined {
  if (typeof buildspec !== 'string' || buildspec.length === 0) return undefined;
  // A buildspec file name in the repository vs an inline buildspec: inline is what attackers use.
  const inline = buildspec.includes('\n') || /^\s*version\s*:/.test(buildspec);
  return { inline, sha256: fingerprint(buildspec), preview: redact(buildspec.slice(0, 300)) };
}

function pick(source: unknown, keys: readonly string[]): JsonObject {
  const result: JsonObject = {};
  if (!isRecord(source)) return result;
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined && value !== null) result[key] = value as JsonValue;
  }
  return result;
}

function compact(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && !(isRecord(value) && Object.keys(value).length === 0))) as JsonObject;
}

/** A project (CreateProject/UpdateProject parameters or response, BatchGetProjects) as comparable state. */
export function normaliseProject(project: Record<string, unknown>): JsonObject {
  const source = isRecord(project['source']) ? project['source'] : undefined;
  const environment = isRecord(project['environment']) ? project['environment'] : undefined;
  const state: JsonObject = {};
  const put = (key: string, value: JsonValue | undefined): void => {
    if (value !== undefined) state[key] = value;
  };
  put('description', typeof project['description'] === 'string' ? project['description'] : undefined);
  if (source) {
    const buildspec = buildspecState(source['buildspec']);
    put('source', compact({ ...pick(source, ['type', 'location', 'gitCloneDepth', 'reportBuildStatus', 'insecureSsl']), ...(buildspec ? { buildspec } : {}) }));
  }
  put('secondarySources', Array.isArray(project['secondarySources']) ? (redact(project['secondarySources']) as JsonValue) : undefined);
  put('sourceVersion', typeof project['sourceVersion'] === 'string' ? project['sourceVersion'] : undefined);
  if (environment) {
    const variables = environment['environmentVariables'];
    put(
      'environment',
      compact({
        ...pick(environment, ['type', 'image', 'computeType', 'privilegedMode', 'imagePullCredentialsType', 'certificate']),
        ...(variables !== undefined ? { environmentVariables: normaliseVariables(variables) } : {}),
      }),
    );
  }
  put('serviceRole', typeof project['serviceRole'] === 'string' ? project['serviceRole'] : undefined);
  put('encryptionKey', typeof project['encryptionKey'] === 'string' ? project['encryptionKey'] : undefined);
  put('artifacts', isRecord(project['artifacts']) ? pick(project['artifacts'], ['type', 'location', 'packaging', 'name', 'path', 'namespaceType', 'encryptionDisabled']) : undefined);
  put('logsConfig', isRecord(project['logsConfig']) ? (redact(project['logsConfig']) as JsonValue) : undefined);
  put('vpcConfig', isRecord(project['vpcConfig']) ? (project['vpcConfig'] as JsonValue) : undefined);
  put('timeoutInMinutes', typeof project['timeoutInMinutes'] === 'number' ? project['timeoutInMinutes'] : undefined);
  put('queuedTimeoutInMinutes', typeof project['queuedTimeoutInMinutes'] === 'number' ? project['queuedTimeoutInMinutes'] : undefined);
  put('badgeEnabled', typeof project['badgeEnabled'] === 'boolean' ? project['badgeEnabled'] : undefined);
  return state;
}
