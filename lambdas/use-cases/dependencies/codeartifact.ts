/**
 * CodeArtifact CloudTrail accessors for where dependencies come from. CloudTrail mirrors the API's
 * input members (domain, repository, format, namespace, package, externalConnection, upstreams,
 * restrictions, packageGroup), but CodeArtifact's own examples also show domainName/repositoryName,
 * so both spellings are read.
 */
import type { BuildwatchConfig } from '../../config/config.js';
import { isRecord, stringAt, type PipelineEvent } from '../../engine/pipeline-event.js';

export function param(event: PipelineEvent, ...names: string[]): string | undefined {
  const params = event.cloudTrail?.requestParameters ?? undefined;
  for (const name of names) {
    const value = stringAt(params, name);
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

export function domainOf(event: PipelineEvent): string | undefined {
  return param(event, 'domain', 'domainName');
}

export function repositoryOf(event: PipelineEvent): string | undefined {
  return param(event, 'repository', 'repositoryName');
}

/** The repository description in the response (AssociateExternalConnection, UpdateRepository, CreateRepository). */
export function responseRepository(event: PipelineEvent): Record<string, unknown> | undefined {
  const repository = event.cloudTrail?.responseElements?.['repository'];
  return isRecord(repository) ? repository : undefined;
}

/** Upstream repository names from `[{repositoryName}]` (request) or the response's upstreams. */
export function upstreamNames(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list
    .map((u) => (isRecord(u) ? (typeof u['repositoryName'] === 'string' ? u['repositoryName'] : undefined) : typeof u === 'string' ? u : undefined))
    .filter((name): name is string => Boolean(name));
}

/** External connection names from the response's `[{externalConnectionName, packageFormat, status}]`. */
export function externalConnectionNames(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list
    .map((c) => (isRecord(c) && typeof c['externalConnectionName'] === 'string' ? c['externalConnectionName'] : undefined))
    .filter((name): name is string => Boolean(name));
}

export interface InternalScope {
  readonly namespaces: ReadonlySet<string>;
  readonly packagePatterns: readonly RegExp[];
  /** `domain/repository` of repositories that hold internal releases. */
  readonly repositories: ReadonlySet<string>;
}

function globToRegex(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

/** npm scopes are written with or without the @; CodeArtifact stores them without. */
export function normaliseNamespace(namespace: string): string {
  return namespace.replace(/^@/, '').toLowerCase();
}

/** What counts as internal: configured namespaces and package globs, plus every configured artifact. */
export function internalScope(config: BuildwatchConfig, namespaces: readonly string[], packages: readonly string[]): InternalScope {
  const ns = new Set(namespaces.map(normaliseNamespace));
  const patterns = packages.map(globToRegex);
  const repositories = new Set<string>();
  for (const repo of config.pipeline.artifacts) {
    repositories.add(`${repo.domain}/${repo.repository}`);
    for (const pkg of repo.packages) {
      if (pkg.namespace) ns.add(normaliseNamespace(pkg.namespace));
      else patterns.push(globToRegex(pkg.name));
    }
  }
  return { namespaces: ns, packagePatterns: patterns, repositories };
}

export function isInternalPackage(scope: InternalScope, namespace: string | undefined, name: string): boolean {
  if (namespace && scope.namespaces.has(normaliseNamespace(namespace))) return true;
  const full = namespace ? `${namespace}/${name}` : name;
  return scope.packagePatterns.some((p) => p.test(name) || p.test(full));
}

/**
 * Whether a package group definition covers internal packages. Definitions end in a suffix: `*` all
 * values of the next component, `~` a prefix, `$` an exact match (`/*`, `/npm/*`, `/maven/com.acme~`,
 * `/npm/acme/*`, `/npm/acme/ui~`, `/maven/org.acme/core$`). 'broad' spans every namespace of a format.
 */
export function packageGroupReach(scope: InternalScope, definition: string): 'internal' | 'broad' | 'other' {
  const segments = definition.replace(/^\/+/, '').split('/');
  const [format, namespace, name] = segments;
  if (!format || format === '*' || namespace === undefined || namespace === '*') return 'broad';
  if (namespace.endsWith('~')) {
    const prefix = normaliseNamespace(namespace.slice(0, -1));
    return [...scope.namespaces].some((n) => n.startsWith(prefix)) ? 'internal' : 'other';
  }
  const ns = namespace.replace(/\$$/, '');
  if (ns !== '' && scope.namespaces.has(normaliseNamespace(ns))) return 'internal';
  if (name && name !== '*') {
    const packageName = name.replace(/[~$]$/, '');
    if (isInternalPackage(scope, ns === '' ? undefined : ns, packageName)) return 'internal';
  }
  return 'other';
}
