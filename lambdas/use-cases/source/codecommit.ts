/** CodeCommit accessors shared by the source-stage use cases (CloudTrail and native events). */
import { textOf } from '../../engine/own-keys.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../engine/pipeline-event.js';
import type { BuildwatchConfig } from '../../config/config.js';

const REPOSITORY_ARN = /^arn:aws[a-z-]*:codecommit:[^:]*:\d{12}:(.+)$/;

function repositoryFromArn(arn: string | undefined): string | undefined {
  return arn ? REPOSITORY_ARN.exec(arn)?.[1] : undefined;
}

/**
 * The repository an event is about: CloudTrail's additionalEventData (Git calls), requestParameters
 * (API calls), the pull request in the response, or resources; a native event's repositoryName,
 * repositoryNames (pull-request events) or resources.
 */
export function repositoryOf(event: PipelineEvent): string | undefined {
  const record = event.cloudTrail;
  if (record) {
    return (
      stringAt(record.additionalEventData, 'repositoryName') ??
      stringAt(record.requestParameters, 'repositoryName') ??
      pullRequestTargetRepository(record.responseElements) ??
      record.resources?.map((r) => repositoryFromArn(r.ARN)).find((name): name is string => Boolean(name))
    );
  }
  const names = valueAt(event.detail, 'repositoryNames');
  return (
    stringAt(event.detail, 'repositoryName') ??
    (Array.isArray(names) && typeof names[0] === 'string' ? names[0] : undefined) ??
    event.envelope.resources.map(repositoryFromArn).find((name): name is string => Boolean(name))
  );
}

function pullRequestTargetRepository(response: unknown): string | undefined {
  const targets = valueAt(response, 'pullRequest', 'pullRequestTargets');
  return Array.isArray(targets) ? targets.filter(isRecord).map((t) => stringAt(t, 'repositoryName')).find(Boolean) : undefined;
}

/** Refs a push updated: CloudTrail's references[], or the native event's single reference. */
export function pushedRefs(event: PipelineEvent): string[] {
  const references = valueAt(event.cloudTrail?.requestParameters, 'references');
  if (Array.isArray(references)) return references.filter(isRecord).map((ref) => textOf(ref['ref'])).filter(Boolean);
  const native = stringAt(event.detail, 'referenceFullName') ?? stringAt(event.detail, 'referenceName');
  return native ? [native] : [];
}

/** Commits a push wrote (CloudTrail references[].commit), in a stable order. */
export function pushedCommits(event: PipelineEvent): string[] {
  const references = valueAt(event.cloudTrail?.requestParameters, 'references');
  if (!Array.isArray(references)) return [];
  return [...new Set(references.filter(isRecord).map((ref) => textOf(ref['commit'])).filter(Boolean))].sort();
}

/** Whether the configuration watches this repository (an empty list watches all). */
export function isWatchedRepository(config: BuildwatchConfig, repository: string | undefined): repository is string {
  if (!repository) return false;
  return config.pipeline.repositories.length === 0 || config.pipeline.repositories.includes(repository);
}

/**
 * For calls that name no repository (pull-request approvals and overrides carry only an id): an
 * unknown repository is in scope, because it cannot be shown to be unwatched.
 */
export function inScope(config: BuildwatchConfig, repository: string | undefined): boolean {
  return repository === undefined || isWatchedRepository(config, repository);
}

/** `refs/heads/main` → `main`; tags and other refs keep their full name. */
export function branchName(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

/** Does a branch name match one of the configured names or globs (`release/*`)? */
export function matchesBranch(patterns: readonly string[], branch: string): boolean {
  const name = branchName(branch);
  return patterns.some((pattern) => {
    const wanted = branchName(pattern);
    if (!wanted.includes('*')) return wanted === name;
    const regex = new RegExp(`^${wanted.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return regex.test(name);
  });
}

/** Who acted, for summaries: the ARN AWS printed, else the principal key. */
export function actorOf(event: PipelineEvent): string {
  return event.principal?.arn ?? event.principal?.key ?? 'an unknown principal';
}

/** A change made by CloudFormation on the caller's behalf (stack update or deletion): reviewed as code, so one step less severe. */
export function viaCloudFormation(event: PipelineEvent): boolean {
  return event.cloudTrail?.userIdentity?.invokedBy === 'cloudformation.amazonaws.com' || event.userAgent === 'cloudformation.amazonaws.com';
}

/** The CloudTrail record's event id, stable whichever channel (EventBridge or the S3 log file) delivered it. */
export function cloudTrailIncident(event: PipelineEvent): string | undefined {
  return event.cloudTrail ? `cloudtrail|${event.cloudTrail.eventID}` : undefined;
}

export const MERGE_CALLS = [
  'MergeBranchesByFastForward',
  'MergeBranchesBySquash',
  'MergeBranchesByThreeWay',
  'MergePullRequestByFastForward',
  'MergePullRequestBySquash',
  'MergePullRequestByThreeWay',
] as const;

/** API calls that write a commit to a branch without Git. */
export const DIRECT_COMMIT_CALLS = ['PutFile', 'CreateCommit', 'DeleteFile'] as const;

export type ContributionKind = 'push' | 'push-session' | 'merge' | 'pull-request-merge' | 'commit' | 'branch';

/** What a write to a repository did, in words and ids, for summaries and evidence. */
export interface Contribution {
  readonly kind: ContributionKind;
  /** "pushed to", "merged pull request 12 into", …: reads as `<who> <verb> <repository>`. */
  readonly verb: string;
  readonly refs: string[];
  readonly commits: string[];
  readonly pullRequestId?: string;
}

/** The contribution an event shows, or undefined for events that write nothing. */
export function contributionOf(event: PipelineEvent): Contribution | undefined {
  const record = event.cloudTrail;
  if (!record) return nativeContribution(event);
  const params = record.requestParameters ?? {};
  const response = record.responseElements ?? {};
  const name = record.eventName;
  if (name === 'GitPush') {
    // The first record of a push negotiates (readOnly, requestParameters null, nothing transferred).
    const negotiation = valueAt(record.additionalEventData, 'dataTransferred') === false || !Array.isArray(valueAt(params, 'references'));
    return negotiation
      ? { kind: 'push-session', verb: 'started a push to', refs: [], commits: [] }
      : { kind: 'push', verb: 'pushed to', refs: pushedRefs(event), commits: pushedCommits(event) };
  }
  const commit = stringAt(response, 'commitId') ?? stringAt(response, 'pullRequest', 'pullRequestTargets', '0', 'mergeMetadata', 'mergeCommitId');
  const commits = commit ? [commit] : [];
  if ((MERGE_CALLS as readonly string[]).includes(name)) {
    const pullRequestId = stringAt(params, 'pullRequestId');
    if (pullRequestId) {
      const target = mergeTarget(response);
      return { kind: 'pull-request-merge', verb: `merged pull request ${pullRequestId}${target ? ` into ${branchName(target)} of` : ' in'}`, refs: target ? [target] : [], commits, pullRequestId };
    }
    const target = stringAt(params, 'targetBranch') ?? stringAt(params, 'destinationCommitSpecifier');
    return { kind: 'merge', verb: `merged ${stringAt(params, 'sourceCommitSpecifier') ?? 'a branch'}${target ? ` into ${target} of` : ' in'}`, refs: target ? [target] : [], commits };
  }
  if ((DIRECT_COMMIT_CALLS as readonly string[]).includes(name)) {
    const branch = stringAt(params, 'branchName');
    return { kind: 'commit', verb: `committed directly (${name})${branch ? ` to ${branch} of` : ' to'}`, refs: branch ? [branch] : [], commits };
  }
  if (name === 'CreateBranch') {
    const branch = stringAt(params, 'branchName');
    return { kind: 'branch', verb: `created branch ${branch ?? '(unnamed)'} in`, refs: branch ? [branch] : [], commits: [stringAt(params, 'commitId')].filter((c): c is string => Boolean(c)) };
  }
  return undefined;
}

function mergeTarget(response: unknown): string | undefined {
  const targets = valueAt(response, 'pullRequest', 'pullRequestTargets');
  return Array.isArray(targets) ? targets.filter(isRecord).map((t) => stringAt(t, 'destinationReference')).find(Boolean) : undefined;
}

function nativeContribution(event: PipelineEvent): Contribution | undefined {
  const detail = event.detail;
  const kind = stringAt(detail, 'event');
  if (event.detailType === 'CodeCommit Repository State Change' && (kind === 'referenceCreated' || kind === 'referenceUpdated')) {
    const commit = stringAt(detail, 'commitId');
    const merged = stringAt(detail, 'mergeOption') !== undefined;
    const name = stringAt(detail, 'referenceName') ?? 'a reference';
    const verb = merged ? `merged into ${name} of` : kind === 'referenceCreated' ? `created ${stringAt(detail, 'referenceType') ?? 'reference'} ${name} in` : `updated ${name} of`;
    return { kind: merged ? 'merge' : 'push', verb, refs: pushedRefs(event), commits: commit ? [commit] : [] };
  }
  if (event.detailType === 'CodeCommit Pull Request State Change' && kind === 'pullRequestMergeStatusUpdated' && stringAt(detail, 'isMerged') === 'True') {
    const pullRequestId = stringAt(detail, 'pullRequestId');
    const target = stringAt(detail, 'destinationReference');
    return {
      kind: 'pull-request-merge',
      verb: `merged pull request ${pullRequestId ?? '(unknown)'}${target ? ` into ${branchName(target)} of` : ' in'}`,
      refs: target ? [target] : [],
      commits: [],
      ...(pullRequestId ? { pullRequestId } : {}),
    };
  }
  return undefined;
}
