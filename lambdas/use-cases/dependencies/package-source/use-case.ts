/**
 * dependencies.package-source: where dependencies come from changed in CodeArtifact. Keeps the last
 * known sources of each repository (external connections, upstreams), the origin controls of each
 * package and package group, and grades changes that widen them:
 * - an internal package (or a group covering one) allowed to take versions from upstream: a public
 *   package with the same name can now win (dependency confusion) → high;
 * - a public connection or a new upstream on a repository → medium (high on a repository that holds
 *   internal releases); origin changes on packages Buildwatch cannot place → medium or low;
 * - narrowing changes → an attestation. Changes made through CloudFormation are one step lower.
 * A repository's first sighting is its baseline, except that AssociateExternalConnection and an
 * UpdateRepository that sets upstreams say what they added, so they are graded at once.
 */
import * as z from 'zod';
import type { Severity } from '../../../engine/model.js';
import { maxSeverity, SEVERITIES } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import {
  domainOf,
  externalConnectionNames,
  internalScope,
  isInternalPackage,
  packageGroupReach,
  param,
  repositoryOf,
  responseRepository,
  upstreamNames,
  type InternalScope,
} from '../codeartifact.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Namespaces (npm scopes with or without @, Maven groups, generic namespaces) that are yours. */
  internalNamespaces: z.array(z.string().min(1)).default([]),
  /** Package names (globs with *) that are yours, for formats without namespaces. */
  internalPackages: z.array(z.string().min(1)).default([]),
  /** `domain/repository` (or `repository`) names that hold internal releases, besides pipeline.artifacts. */
  internalRepositories: z.array(z.string().min(1)).default([]),
}));
type Options = z.output<typeof optionsSchema>;

const EVENTS = ['AssociateExternalConnection', 'DisassociateExternalConnection', 'UpdateRepository', 'CreateRepository', 'PutPackageOriginConfiguration', 'UpdatePackageGroupOriginConfiguration'];

/** The state assumed before a first sighting that itself says what changed (see the header). */
const priors = new WeakMap<StateReport, JsonObject>();

function flags(names: readonly string[], value: boolean): JsonObject {
  return Object.fromEntries(names.map((name) => [name, value]));
}

function repositoryReport(event: PipelineEvent, eventName: string, domain: string, repository: string): StateReport | undefined {
  const response = responseRepository(event);
  const connections = externalConnectionNames(response?.['externalConnections']);
  const responseUpstreams = upstreamNames(response?.['upstreams']);
  const requestUpstreams = upstreamNames(valueAt(event.cloudTrail?.requestParameters, 'upstreams'));
  const connection = param(event, 'externalConnection', 'externalConnectionName');
  const key = `repository/${domain}/${repository}`;
  const resource = `${domain}/${repository}`;

  let state: JsonObject;
  let partial: boolean;
  if (connections && responseUpstreams) {
    // The response describes the whole repository: its complete sources.
    state = { externalConnections: flags(connections, true), upstreams: responseUpstreams };
    partial = false;
  } else {
    state = {};
    if (connection && eventName === 'AssociateExternalConnection') state['externalConnections'] = { [connection]: true };
    if (connection && eventName === 'DisassociateExternalConnection') state['externalConnections'] = { [connection]: false };
    if (requestUpstreams) state['upstreams'] = requestUpstreams;
    if (Object.keys(state).length === 0) return undefined;
    partial = true;
  }
  const report: StateReport = { key, resource, state, partial };
  if (eventName === 'AssociateExternalConnection' && connection) {
    const others = isRecord(state['externalConnections']) ? { ...state['externalConnections'] } : {};
    delete others[connection];
    priors.set(report, { ...state, externalConnections: others as JsonObject });
  } else if (eventName === 'UpdateRepository' && (requestUpstreams || responseUpstreams)) {
    priors.set(report, { ...state, upstreams: [] });
  }
  return report;
}

function packageReport(event: PipelineEvent, domain: string, repository: string): StateReport | undefined {
  const requested = valueAt(event.cloudTrail?.requestParameters, 'restrictions');
  const returned = valueAt(event.cloudTrail?.responseElements, 'originConfiguration', 'restrictions');
  const restrictions = isRecord(returned) ? returned : isRecord(requested) ? requested : undefined;
  const name = param(event, 'package', 'packageName');
  if (!restrictions || !name) return undefined;
  const format = param(event, 'format', 'packageFormat') ?? 'unknown';
  const namespace = param(event, 'namespace', 'packageNamespace');
  const state: JsonObject = {
    format,
    ...(namespace ? { namespace } : {}),
    package: name,
    publish: stringAt(restrictions, 'publish') ?? 'unknown',
    upstream: stringAt(restrictions, 'upstream') ?? 'unknown',
  };
  const report: StateReport = { key: `package/${domain}/${repository}/${format}/${namespace ?? '-'}/${name}`, resource: name, state, partial: false };
  priors.set(report, {});
  return report;
}

function groupReport(event: PipelineEvent, domain: string): StateReport | undefined {
  const group = param(event, 'packageGroup', 'packageGroupPattern', 'pattern');
  if (!group) return undefined;
  const params = event.cloudTrail?.requestParameters ?? {};
  const restrictions: JsonObject = {};
  const requested = valueAt(params, 'restrictions');
  if (isRecord(requested)) {
    for (const [type, mode] of Object.entries(requested)) {
      const value = typeof mode === 'string' ? mode : stringAt(mode, 'mode');
      if (value) restrictions[type] = value;
    }
  }
  const allowed: JsonObject = {};
  for (const [field, value] of [['addAllowedRepositories', true], ['removeAllowedRepositories', false]] as const) {
    const list = valueAt(params, field);
    if (!Array.isArray(list)) continue;
    for (const entry of list.filter(isRecord)) {
      const type = stringAt(entry, 'originRestrictionType');
      const repo = stringAt(entry, 'repositoryName');
      if (type && repo) allowed[`${type}/${repo}`] = value;
    }
  }
  if (Object.keys(restrictions).length === 0 && Object.keys(allowed).length === 0) return undefined;
  const report: StateReport = {
    key: `package-group/${domain}/${group}`,
    resource: group,
    state: { group, restrictions, allowedRepositories: allowed },
    partial: true,
  };
  priors.set(report, {});
  return report;
}

function report(event: PipelineEvent): StateReport | undefined {
  const record = event.cloudTrail;
  const domain = domainOf(event);
  if (!record || !domain || !EVENTS.includes(record.eventName)) return undefined;
  if (record.eventName === 'UpdatePackageGroupOriginConfiguration') return groupReport(event, domain);
  const repository = repositoryOf(event);
  if (!repository) return undefined;
  if (record.eventName === 'PutPackageOriginConfiguration') return packageReport(event, domain, repository);
  return repositoryReport(event, record.eventName, domain, repository);
}

async function initialState(report: StateReport): Promise<JsonObject | undefined> {
  return priors.get(report);
}

function scopeOf(ctx: UseCaseContext, options: Options): InternalScope & { readonly extraRepositories: readonly string[] } {
  return { ...internalScope(ctx.config, options.internalNamespaces, options.internalPackages), extraRepositories: options.internalRepositories };
}

function isInternalRepository(scope: ReturnType<typeof scopeOf>, domain: string, repository: string): boolean {
  return scope.repositories.has(`${domain}/${repository}`) || scope.extraRepositories.includes(`${domain}/${repository}`) || scope.extraRepositories.includes(repository);
}

function hasScope(scope: InternalScope): boolean {
  return scope.namespaces.size > 0 || scope.packagePatterns.length > 0;
}

interface Grade {
  severity: Severity;
  parts: string[];
}

function raise(grade: Grade, severity: Severity, part: string): void {
  grade.severity = maxSeverity(grade.severity, severity);
  grade.parts.push(part);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function trueKeys(value: unknown): string[] {
  return isRecord(value) ? Object.keys(value).filter((k) => value[k] === true) : [];
}

function gradeRepository(facts: DriftFacts, internalRepo: boolean, grade: Grade): void {
  const where = internalRepo ? ' (a repository holding internal releases: public packages can now mix with them)' : '';
  const addedConnections = trueKeys(facts.after['externalConnections']).filter((c) => !trueKeys(facts.before['externalConnections']).includes(c));
  const removedConnections = trueKeys(facts.before['externalConnections']).filter((c) => !trueKeys(facts.after['externalConnections']).includes(c));
  if (addedConnections.length > 0) raise(grade, internalRepo ? 'high' : 'medium', `external connection ${addedConnections.join(', ')} added${where}`);
  const beforeUp = stringList(facts.before['upstreams']);
  const afterUp = stringList(facts.after['upstreams']);
  const addedUp = afterUp.filter((u) => !beforeUp.includes(u));
  const removedUp = beforeUp.filter((u) => !afterUp.includes(u));
  if (addedUp.length > 0) raise(grade, internalRepo ? 'high' : 'medium', `upstream ${addedUp.join(', ')} added (upstreams now: ${afterUp.join(', ')})${where}`);
  if (removedConnections.length > 0) grade.parts.push(`external connection ${removedConnections.join(', ')} removed`);
  if (removedUp.length > 0) grade.parts.push(`upstream ${removedUp.join(', ')} removed`);
  if (addedUp.length === 0 && removedUp.length === 0 && afterUp.join() !== beforeUp.join() && afterUp.length > 0) grade.parts.push(`upstream order changed: ${afterUp.join(', ')}`);
}

function gradePackage(facts: DriftFacts, scope: ReturnType<typeof scopeOf>, domain: string, repository: string, grade: Grade): void {
  const { after, before } = facts;
  const name = String(after['package'] ?? '');
  const namespace = typeof after['namespace'] === 'string' ? after['namespace'] : undefined;
  // npm scopes are stored without their @ (CodeArtifact's namespace for @acme/x is acme).
  const shown = namespace ? `${after['format'] === 'npm' && !namespace.startsWith('@') ? `@${namespace}` : namespace}/${name}` : name;
  const label = `${after['format']} package ${shown}`;
  const internal = isInternalPackage(scope, namespace, name);
  const internalRepo = isInternalRepository(scope, domain, repository);
  const known = hasScope(scope);
  const setting = `publish ${after['publish']}, upstream ${after['upstream']}`;
  if (after['upstream'] === 'ALLOW' && before['upstream'] !== 'ALLOW') {
    if (internal) raise(grade, 'high', `internal ${label} may now take versions from upstream (${setting}): a public package with the same name can replace it (dependency confusion)`);
    else if (internalRepo || !known) raise(grade, 'medium', `${label} may now take versions from upstream (${setting}); if it is an internal package, a public one with the same name can replace it`);
    else raise(grade, 'low', `${label} may now take versions from upstream (${setting})`);
  }
  if (after['publish'] === 'BLOCK' && before['publish'] !== 'BLOCK' && internal) {
    raise(grade, after['upstream'] === 'ALLOW' ? 'high' : 'low', `internal ${label} can no longer be published directly (${setting})`);
  }
  if (after['publish'] === 'ALLOW' && before['publish'] !== 'ALLOW' && known && !internal && !internalRepo) {
    raise(grade, 'medium', `${label}, not one of yours, may now be published directly (${setting}): an internal version could shadow the public one`);
  }
  // A safe setting seen for the first time says nothing; a known setting made safer is worth a record.
  const knownBefore = before['upstream'] !== undefined || before['publish'] !== undefined;
  if (grade.parts.length === 0 && knownBefore && (after['upstream'] !== before['upstream'] || after['publish'] !== before['publish'])) grade.parts.push(`origin controls of ${label} set to ${setting}`);
}

function gradeGroup(facts: DriftFacts, scope: InternalScope, grade: Grade): void {
  const group = String(facts.after['group'] ?? facts.report.resource ?? '');
  const reach = packageGroupReach(scope, group);
  const restrictions = isRecord(facts.after['restrictions']) ? facts.after['restrictions'] : {};
  const previous = isRecord(facts.before['restrictions']) ? facts.before['restrictions'] : {};
  const external = restrictions['EXTERNAL_UPSTREAM'];
  const severity: Severity = reach === 'internal' ? 'high' : reach === 'broad' ? 'medium' : 'low';
  const what = reach === 'internal' ? `package group ${group}, which covers internal packages,` : reach === 'broad' ? `package group ${group}, which spans every namespace,` : `package group ${group}`;
  if ((external === 'ALLOW' || external === 'ALLOW_SPECIFIC_REPOSITORIES') && previous['EXTERNAL_UPSTREAM'] !== external) {
    raise(grade, severity, `${what} may now take versions from external connections (EXTERNAL_UPSTREAM ${external})${reach === 'internal' ? ': dependency confusion' : ''}`);
  }
  const addedExternal = trueKeys(facts.after['allowedRepositories']).filter((k) => k.startsWith('EXTERNAL_UPSTREAM/') && !trueKeys(facts.before['allowedRepositories']).includes(k));
  if (addedExternal.length > 0) {
    raise(grade, severity, `${what} allows external-upstream versions in ${addedExternal.map((k) => k.split('/')[1]).join(', ')}${reach === 'internal' ? ': dependency confusion' : ''}`);
  }
  const knownBefore = Object.keys(previous).length > 0 || (isRecord(facts.before['allowedRepositories']) && Object.keys(facts.before['allowedRepositories']).length > 0);
  if (grade.parts.length === 0 && knownBefore) grade.parts.push(`origin controls of package group ${group}: ${Object.entries(restrictions).map(([k, v]) => `${k} ${String(v)}`).join(', ') || 'allowed repositories changed'}`);
}

function viaCloudFormation(event: PipelineEvent): boolean {
  return event.cloudTrail?.userIdentity?.invokedBy === 'cloudformation.amazonaws.com' || event.userAgent === 'cloudformation.amazonaws.com';
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const options = optionsOf(optionsSchema, ctx);
  const scope = scopeOf(ctx, options);
  const domain = domainOf(event) ?? '';
  const repository = repositoryOf(event) ?? '';
  const grade: Grade = { severity: 'info', parts: [] };
  const kind = facts.report.key.split('/')[0];
  if (kind === 'repository') gradeRepository(facts, isInternalRepository(scope, domain, repository), grade);
  else if (kind === 'package') gradePackage(facts, scope, domain, repository, grade);
  else gradeGroup(facts, scope, grade);
  if (grade.parts.length === 0) return undefined;
  const iac = viaCloudFormation(event);
  // Reviewed infrastructure code is less likely an attacker's change: one step lower.
  const severity: Severity = iac && grade.severity !== 'info' ? (SEVERITIES[Math.max(1, SEVERITIES.indexOf(grade.severity) - 1)] ?? 'low') : grade.severity;
  const where = kind === 'package-group' ? `domain ${domain}` : `${domain}/${repository}`;
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  return {
    resource: facts.report.resource ?? facts.report.key,
    dedupKey: facts.report.key,
    severity,
    attestation: severity === 'info',
    title: severity === 'info' ? 'Dependency sources narrowed in CodeArtifact' : 'Dependency sources widened in CodeArtifact',
    summary: `${who} changed where dependencies come from in CodeArtifact ${where}${iac ? ' through CloudFormation' : ''} (${event.cloudTrail?.eventName}): ${grade.parts.join('; ')}`,
    evidence: {
      eventName: event.cloudTrail?.eventName,
      domain,
      ...(repository ? { repository } : {}),
      key: facts.report.key,
      before: facts.before,
      after: facts.after,
      knownSince: facts.since,
      viaCloudFormation: iac,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'dependencies.package-source',
    answers: 'dependencies.library-change',
    title: 'Dependency sources widened in CodeArtifact',
    stage: 'dependencies',
    description:
      'Watches where dependencies come from: external connections (AssociateExternalConnection), upstream repositories (UpdateRepository) and origin controls of packages and package groups (PutPackageOriginConfiguration, UpdatePackageGroupOriginConfiguration). Letting an internal package take versions from upstream is dependency confusion (high); a new public connection or upstream is medium, high on a repository holding internal releases.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1195.001'],
    falsePositives: [
      'Setting up a new repository and its npm-store upstream: expected once; the baseline then knows it.',
      'Opening a package to upstream on purpose (a package that moved from internal to public): confirm and let the new state stand.',
      'Without internalNamespaces/internalPackages, Buildwatch cannot tell internal packages from public ones and rates origin changes medium.',
    ],
    runbook:
      'Confirm the change with the repository\'s owners. For an internal package opened to upstream, set upstream back to BLOCK at once (put-package-origin-configuration), then check which versions of it the repository holds and where they came from (list-package-versions with --origin-type EXTERNAL); rebuild anything that consumed an external version.',
    references: [
      'https://docs.aws.amazon.com/codeartifact/latest/ug/package-origin-controls.html',
      'https://docs.aws.amazon.com/codeartifact/latest/ug/package-group-origin-controls.html',
      'https://docs.aws.amazon.com/codeartifact/latest/ug/codeartifact-information-in-cloudtrail.html',
    ],
  },
  pattern: {
    source: ['aws.codeartifact'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['codeartifact.amazonaws.com'], eventName: EVENTS },
  },
  optionsSchema,
  logic: { kind: 'drift', report, initialState, assess },
});
