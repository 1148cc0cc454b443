/**
 * build.image-repo-change: a setting that guards the build images in ECR was weakened. Repository
 * settings are judged only for build-image repositories (a watched project builds on them); registry
 * settings (pull-through cache, replication, registry policy) for what they can reach.
 * - PutImageTagMutability to MUTABLE: tags can be moved again (high when a project follows a tag there).
 * - SetRepositoryPolicy open to everyone or another account: high with write actions, medium for pulls.
 * - PutLifecyclePolicy with expire rules that can delete a pinned or followed image: medium.
 * - Pull-through cache rules whose prefix covers a build-image repository: high (images from upstream).
 * - Replication to another account, a registry policy open to another account: medium / high.
 * Changes that tighten (IMMUTABLE, policy deleted) or touch nothing the projects use are attested, low.
 */
import type { Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { buildImages, describeProjects, registryOf, type ImageUser } from '../ecr.js';
import { policyExposure } from '../policy-principals.js';

/** Repository-policy actions that let a principal change images, not only pull them. */
const WRITE_ACTIONS = /^(\*|ecr:\*|ecr:(PutImage|InitiateLayerUpload|UploadLayerPart|CompleteLayerUpload|BatchDeleteImage|PutImageTagMutability|SetRepositoryPolicy|DeleteRepository|ReplicateImage|CreateRepository|BatchImportUpstreamImage))$/i;

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function grantsWrite(policy: unknown): boolean {
  const document = parseJson(policy);
  return list(valueAt(document, 'Statement')).some(
    (statement) => isRecord(statement) && statement['Effect'] === 'Allow' && list(statement['Action']).some((action) => WRITE_ACTIONS.test(String(action))),
  );
}

interface Judgement {
  readonly severity: Severity;
  readonly attest?: boolean;
  readonly what: string;
  readonly evidence: Record<string, unknown>;
}

function affected(users: readonly ImageUser[]): { following: ImageUser[]; pinned: ImageUser[] } {
  return { following: users.filter((u) => !u.image.digest), pinned: users.filter((u) => u.image.digest !== undefined) };
}

function judgeRepository(eventName: string, params: Record<string, unknown>, users: readonly ImageUser[], owner: string): Judgement | undefined {
  const { following, pinned } = affected(users);
  switch (eventName) {
    case 'PutImageTagMutability': {
      const mutability = String(params['imageTagMutability'] ?? '');
      if (!mutability.startsWith('MUTABLE')) return { severity: 'info', attest: true, what: `tag immutability set (${mutability})`, evidence: { imageTagMutability: mutability } };
      return {
        severity: following.length > 0 ? 'high' : 'medium',
        what: `tag immutability turned off (${mutability}): tags can be moved to new digests${following.length > 0 ? `, and ${describeProjects(following)} follow${following.length === 1 ? 's' : ''} a tag` : ''}`,
        evidence: { imageTagMutability: mutability, exclusionFilters: params['imageTagMutabilityExclusionFilters'] ?? null },
      };
    }
    case 'SetRepositoryPolicy': {
      const exposure = policyExposure(params['policyText'], owner);
      const write = grantsWrite(params['policyText']);
      const evidence = { publicStatements: exposure.publicStatements, externalAccounts: exposure.externalAccounts, grantsWrite: write, unreadable: exposure.unreadable };
      if (exposure.unreadable) return { severity: 'medium', what: 'repository policy set to a text that is not a readable policy', evidence };
      const open = exposure.publicStatements.length > 0 ? 'everyone' : exposure.externalAccounts.length > 0 ? `account(s) ${exposure.externalAccounts.join(', ')}` : undefined;
      if (!open) return { severity: 'low', attest: true, what: 'repository policy set (owner account only)', evidence };
      return { severity: write ? 'high' : 'medium', what: `repository policy opened to ${open}${write ? ' with push or delete rights' : ' (pull)'}`, evidence };
    }
    case 'DeleteRepositoryPolicy':
      return { severity: 'low', attest: true, what: 'repository policy deleted', evidence: {} };
    case 'PutLifecyclePolicy': {
      const rules = list(valueAt(parseJson(params['lifecyclePolicyText']), 'rules')).filter(isRecord);
      const expiring = rules.filter((rule) => stringAt(rule, 'action', 'type') === 'expire');
      const statuses = new Set(expiring.map((rule) => stringAt(rule, 'selection', 'tagStatus') ?? 'any'));
      // A digest-pinned image loses its tag when the tag moves: untagged rules can delete it.
      const hitsPinned = pinned.length > 0 && (statuses.has('any') || statuses.has('untagged'));
      const hitsFollowed = following.length > 0 && (statuses.has('any') || statuses.has('tagged'));
      const evidence = { expireRules: expiring.length, tagStatuses: [...statuses].sort(), projectsPinnedByDigest: pinned.map((u) => u.project) };
      if (!hitsPinned && !hitsFollowed) return { severity: 'low', attest: true, what: `lifecycle policy set (${expiring.length} expire rule(s), none reaching an image a project uses)`, evidence };
      return { severity: 'medium', what: `lifecycle policy can expire images the projects build on (${[...statuses].sort().join(', ')} images)`, evidence };
    }
    case 'DeleteLifecyclePolicy':
      return { severity: 'low', attest: true, what: 'lifecycle policy deleted', evidence: {} };
    default:
      return undefined;
  }
}

function judgeRegistry(eventName: string, params: Record<string, unknown>, images: readonly ImageUser[], owner: string): { judgement: Judgement; users: ImageUser[] } | undefined {
  switch (eventName) {
    case 'CreatePullThroughCacheRule':
    case 'UpdatePullThroughCacheRule':
    case 'DeletePullThroughCacheRule': {
      const prefix = String(params['ecrRepositoryPrefix'] ?? '');
      const covered = images.filter((u) => u.image.account === owner && (prefix === 'ROOT' || u.image.repository.startsWith(`${prefix}/`)));
      const upstream = stringAt(params, 'upstreamRegistryUrl') ?? null;
      const evidence = { ecrRepositoryPrefix: prefix, upstreamRegistryUrl: upstream, upstreamRepositoryPrefix: params['upstreamRepositoryPrefix'] ?? null };
      if (eventName === 'DeletePullThroughCacheRule') return { judgement: { severity: 'low', attest: true, what: `pull-through cache rule ${prefix} deleted`, evidence }, users: covered };
      if (covered.length > 0) return { judgement: { severity: 'high', what: `pull-through cache rule ${prefix} → ${upstream ?? 'an upstream registry'} covers build-image repositories`, evidence }, users: covered };
      return { judgement: { severity: 'medium', what: `pull-through cache rule ${prefix} → ${upstream ?? 'an upstream registry'} (no build-image repository under it)`, evidence }, users: [] };
    }
    case 'PutReplicationConfiguration': {
      const rules = list(valueAt(params, 'replicationConfiguration', 'rules')).filter(isRecord);
      const accounts = [...new Set(rules.flatMap((rule) => list(rule['destinations']).map((d) => stringAt(d, 'registryId')).filter((a): a is string => a !== undefined && a !== owner)))].sort();
      const evidence = { rules: rules.length, destinationAccounts: accounts };
      if (accounts.length === 0) return { judgement: { severity: 'low', attest: true, what: 'replication configured within the account', evidence }, users: [] };
      return { judgement: { severity: 'medium', what: `images replicated to account(s) ${accounts.join(', ')}`, evidence }, users: [] };
    }
    case 'PutRegistryPolicy': {
      const exposure = policyExposure(params['policyText'], owner);
      const evidence = { publicStatements: exposure.publicStatements, externalAccounts: exposure.externalAccounts, unreadable: exposure.unreadable };
      const open = exposure.publicStatements.length > 0 || exposure.externalAccounts.length > 0;
      // A registry policy lets other accounts replicate into (and create) this registry's repositories.
      if (!open) return { judgement: { severity: 'low', attest: true, what: 'registry policy set (owner account only)', evidence }, users: [] };
      return { judgement: { severity: 'high', what: `registry policy lets ${exposure.publicStatements.length > 0 ? 'everyone' : exposure.externalAccounts.join(', ')} replicate images into this registry`, evidence }, users: images.filter((u) => u.image.account === owner) };
    }
    default:
      return undefined;
  }
}

async function evaluate(event: PipelineEvent, ctx: UseCaseContext): Promise<Observation | undefined> {
  const record = event.cloudTrail;
  const registry = registryOf(event);
  if (!record || !registry) return undefined;
  const params = record.requestParameters ?? {};
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const images = (await buildImages(ctx)).filter((u) => u.image.region === registry.region);
  const repository = stringAt(params, 'repositoryName');
  let judgement: Judgement | undefined;
  let users: ImageUser[];
  let resource: string;
  if (repository) {
    users = images.filter((u) => u.image.account === registry.account && u.image.repository === repository);
    // Repositories no watched project builds on are out of scope.
    if (users.length === 0) return undefined;
    judgement = judgeRepository(record.eventName, params, users, registry.account);
    resource = `${registry.account}.dkr.ecr.${registry.region}.amazonaws.com/${repository}`;
  } else {
    const judged = judgeRegistry(record.eventName, params, images, registry.account);
    judgement = judged?.judgement;
    users = judged?.users ?? [];
    resource = `${registry.account}.dkr.ecr.${registry.region}.amazonaws.com`;
  }
  if (!judgement) return undefined;
  return {
    resource,
    severity: judgement.severity,
    ...(judgement.attest ? { attestation: true } : {}),
    summary: `${who} changed ${resource}: ${judgement.what}${users.length > 0 ? ` (build images of ${describeProjects(users)})` : ''}`,
    evidence: { eventName: record.eventName, ...judgement.evidence, projects: users.map((u) => ({ project: u.project, image: u.uri, knownFrom: u.knownFrom })) },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.image-repo-change',
    answers: 'build.server-change',
    title: 'Build-image repository or registry protection weakened',
    stage: 'build',
    description:
      'ECR settings that guard the build images: tag immutability turned off, a repository policy opened to everyone or another account, lifecycle rules that can expire images a project builds on, on build-image repositories (a watched project builds on them); pull-through cache rules covering them, replication to another account and a registry policy open to other accounts, registry-wide. Tightening changes are attested.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1525', 'T1562', 'T1222'],
    falsePositives: [
      'A planned move to mutable tags or a shared build-image repository: record the decision and suppress with an expiry.',
      'Lifecycle cleanup of old untagged images in a repository whose projects pin digests: exclude the pinned tags or pin by a tag kept by the rule.',
    ],
    runbook:
      'Compare the change with the platform team\'s change records. If unexpected: restore tag immutability or the earlier repository/registry policy, delete the pull-through cache or replication rule, and check build.image-change for tags moved since. Pin build images by digest in the projects.',
    references: [
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html',
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html',
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html',
    ],
  },
  pattern: {
    source: ['aws.ecr'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['ecr.amazonaws.com'],
      eventName: [
        'PutImageTagMutability',
        'SetRepositoryPolicy',
        'DeleteRepositoryPolicy',
        'PutLifecyclePolicy',
        'DeleteLifecyclePolicy',
        'CreatePullThroughCacheRule',
        'UpdatePullThroughCacheRule',
        'DeletePullThroughCacheRule',
        'PutReplicationConfiguration',
        'PutRegistryPolicy',
      ],
    },
  },
  logic: { kind: 'match', evaluate },
});
