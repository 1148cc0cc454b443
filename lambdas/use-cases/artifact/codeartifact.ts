/**
 * CodeArtifact accessors shared by the artifact-stage use cases: the package version an event is
 * about (native `Package Version State Change` or CloudTrail), and the configuration's
 * package → build-project mapping (`pipeline.artifacts`).
 */
import type { BuildwatchConfig } from '../../config/config.js';
import { stringAt, type PipelineEvent } from '../../engine/pipeline-event.js';
import type { PackageVersionRef } from '../../lookups/lookups.js';

export type ConfiguredPackage = BuildwatchConfig['pipeline']['artifacts'][number]['packages'][number];

/** npm scopes appear with and without the `@`; an absent namespace is null, '' or missing. */
export function normaliseNamespace(namespace: string | null | undefined): string {
  return (namespace ?? '').replace(/^@/, '');
}

/** The configured package (with its build project) this version belongs to, if the pipeline publishes it. */
export function configuredPackage(config: BuildwatchConfig, ref: PackageVersionRef): ConfiguredPackage | undefined {
  const repository = config.pipeline.artifacts.find((entry) => entry.domain === ref.domain && entry.repository === ref.repository);
  return repository?.packages.find(
    (pkg) =>
      pkg.name === ref.package &&
      pkg.format.toLowerCase() === ref.format.toLowerCase() &&
      normaliseNamespace(pkg.namespace) === normaliseNamespace(ref.namespace),
  );
}

/**
 * The build projects whose outputs some configured package publishes. In an organisation, packages
 * of every account count: a tooling account's build may publish to the artifacts account.
 */
export function publishingProjects(config: BuildwatchConfig): ReadonlySet<string> {
  let projects = publishingProjectsByConfig.get(config);
  if (!projects) {
    const pipelines = [config.pipeline, ...(config.organization?.accounts ?? []).flatMap((account) => (account.pipeline ? [account.pipeline] : []))];
    projects = new Set(pipelines.flatMap((pipeline) => pipeline.artifacts.flatMap((entry) => entry.packages.map((pkg) => pkg.buildProject))));
    publishingProjectsByConfig.set(config, projects);
  }
  return projects;
}

/** By configuration object: it is fixed for a run, and every build event asks. */
const publishingProjectsByConfig = new WeakMap<BuildwatchConfig, ReadonlySet<string>>();

/**
 * The organisation account whose pipeline names the build project, when exactly one does: where a
 * package's builds run when that is not the package's own account. Undefined outside an organisation.
 */
export function buildProjectAccount(config: BuildwatchConfig, project: string): string | undefined {
  const owners = (config.organization?.accounts ?? []).filter((account) => account.pipeline?.buildProjects.some((p) => p.name === project));
  return owners.length === 1 ? owners[0]?.id : undefined;
}

/** `acme/internal-releases/generic/acme/payments-service@2.3.455`: one incident per package version. */
export function packageVersionSubject(ref: PackageVersionRef): string {
  return `${ref.domain}/${ref.repository}/${ref.format}/${normaliseNamespace(ref.namespace) || '_'}/${ref.package}@${ref.version}`;
}

/** `acme/internal-releases/payments-service` (with the namespace when there is one): the finding's resource. */
export function packageDisplayName(ref: PackageVersionRef): string {
  const namespace = normaliseNamespace(ref.namespace);
  return `${ref.domain}/${ref.repository}/${namespace ? `${namespace}/` : ''}${ref.package}`;
}

/** The package version of a native `CodeArtifact Package Version State Change` event. */
export function refFromNativeEvent(event: PipelineEvent): PackageVersionRef | undefined {
  const detail = event.detail;
  const domain = stringAt(detail, 'domainName');
  const repository = stringAt(detail, 'repositoryName');
  const format = stringAt(detail, 'packageFormat');
  const pkg = stringAt(detail, 'packageName');
  const version = stringAt(detail, 'packageVersion');
  if (!domain || !repository || !format || !pkg || !version) return undefined;
  const domainOwner = stringAt(detail, 'domainOwner');
  const namespace = stringAt(detail, 'packageNamespace');
  return { domain, repository, format, package: pkg, version, ...(domainOwner ? { domainOwner } : {}), ...(namespace ? { namespace } : {}) };
}

/**
 * Where a CloudTrail record's call was aimed. API calls use the API member names (`domain`,
 * `repository`, `package`); package-manager requests and the documented GetAuthorizationToken
 * example use `domainName`, `repositoryName`, `packageName`: accept both (EVENTS.md 5.2).
 */
export interface CallTarget {
  readonly domain?: string;
  /** The domain owner: the parameter, else the account that received this copy of the record. */
  readonly domainOwner?: string;
  readonly repository?: string;
  readonly format?: string;
  readonly namespace?: string;
  readonly package?: string;
  readonly version?: string;
}

export function callTarget(event: PipelineEvent): CallTarget {
  const params = event.cloudTrail?.requestParameters ?? {};
  const target: Record<string, string | undefined> = {
    domain: firstParam(params, 'domain', 'domainName'),
    // An omitted domainOwner means the caller's own account (the API's default).
    domainOwner: firstParam(params, 'domainOwner') ?? event.cloudTrail?.userIdentity?.accountId ?? event.cloudTrail?.recipientAccountId,
    repository: firstParam(params, 'repository', 'repositoryName'),
    format: firstParam(params, 'format', 'packageFormat'),
    namespace: firstParam(params, 'namespace', 'packageNamespace'),
    package: firstParam(params, 'package', 'packageName'),
    version: firstParam(params, 'packageVersion', 'version'),
  };
  const present: Record<string, string> = {};
  for (const key of Object.keys(target)) {
    const value = target[key];
    if (value !== undefined) present[key] = value;
  }
  return present as CallTarget;
}

/** The first of the request parameters that is a non-empty string. */
function firstParam(params: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = stringAt(params, key);
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** The package version a CloudTrail call names, when it names one completely. */
export function refFromCall(event: PipelineEvent): PackageVersionRef | undefined {
  const target = callTarget(event);
  if (!target.domain || !target.repository || !target.format || !target.package || !target.version) return undefined;
  return {
    domain: target.domain,
    repository: target.repository,
    format: target.format,
    package: target.package,
    version: target.version,
    ...(target.domainOwner ? { domainOwner: target.domainOwner } : {}),
    ...(target.namespace ? { namespace: target.namespace } : {}),
  };
}

/** Compiled globs: the patterns come from the configuration (a few), and are matched for every asset. */
const globRegexes = new Map<string, RegExp>();

/** A glob's regex source: `*` any run of characters, everything else literal. */
function globSource(pattern: string): string {
  return pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
}

/** Shell-style glob (only `*`), case-insensitive: asset names such as `*.sig`. */
export function globMatches(pattern: string, value: string): boolean {
  let regex = globRegexes.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${globSource(pattern)}$`, 'i');
    if (globRegexes.size >= 1_000) globRegexes.clear();
    globRegexes.set(pattern, regex);
  }
  return regex.test(value);
}

/** Globs as one regex, by list (options are parsed once: the same list comes back for every asset). */
const globListRegexes = new WeakMap<readonly string[], RegExp>();

/** Whether any of the globs matches (as globMatches): one regex test instead of one per glob. */
export function anyGlobMatches(patterns: readonly string[], value: string): boolean {
  let regex = globListRegexes.get(patterns);
  if (!regex) {
    regex = patterns.length === 0 ? /(?!)/ : new RegExp(`^(?:${patterns.map(globSource).join('|')})$`, 'i');
    globListRegexes.set(patterns, regex);
  }
  return regex.test(value);
}
