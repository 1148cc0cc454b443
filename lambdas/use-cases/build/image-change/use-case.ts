/**
 * build.image-change: the tag a watched project builds on moved to a new digest in the account's ECR.
 * Whoever can retag a build image runs code in every build of the projects that follow that tag,
 * without touching the projects (SUNSPOT lived on the build server, not in the project).
 *
 * State, one snapshot per (registry, repository, tag): `digest`, and the attribution of the last push
 * seen in CloudTrail (`attributedDigest`, `pushedBy`). Two sources for one push:
 * - CloudTrail PutImage: digest and pusher. It is judged: configured image builders are attested,
 *   anyone else moving a tag a project follows is high.
 * - The native `ECR Image Action` PUSH: digest only, usually first. It moves the digest and is
 *   attested (low) as unattributed; the PutImage record that follows attributes the same digest and
 *   is judged then. A lost PutImage leaves the attestation in the ledger.
 * A tag no project follows is kept (a project may move to it) but not reported. A project pinned by
 * digest does not follow tags: it is named as unaffected. Unknown earlier digest of a followed tag
 * (first sight): the push is judged on its pusher alone.
 */
import type { Severity } from '../../../engine/model.js';
import { stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { buildImageOptionsSchema, describeProjects, isImageBuilder, projectsOnRepository, registryOf, type ImageUser } from '../ecr.js';

/** The earlier digest of a followed tag seen for the first time. */
export const UNSEEN_DIGEST = '(unknown: tag not seen before)';

interface ImageReport extends StateReport {
  readonly resource: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  /** Projects following this tag, and those pinning an image of the repository by digest. */
  readonly following: readonly ImageUser[];
  readonly pinned: readonly ImageUser[];
  readonly via: 'CloudTrail PutImage' | 'ECR Image Action';
}

function isImageReport(report: StateReport): report is ImageReport {
  return 'following' in report && 'pinned' in report && 'digest' in report;
}

function pushOf(event: PipelineEvent): { repository: string; tag: string; digest: string; account: string; region: string; native: boolean } | undefined {
  const record = event.cloudTrail;
  if (record) {
    if (record.eventName !== 'PutImage') return undefined;
    const image = valueAt(record.responseElements, 'image');
    const repository = stringAt(image, 'repositoryName') ?? stringAt(record.requestParameters, 'repositoryName');
    const tag = stringAt(image, 'imageId', 'imageTag') ?? stringAt(record.requestParameters, 'imageTag');
    const digest = stringAt(image, 'imageId', 'imageDigest') ?? stringAt(record.requestParameters, 'imageDigest');
    const registry = registryOf(event);
    if (!repository || !tag || !digest || !registry) return undefined;
    return { repository, tag, digest, ...registry, native: false };
  }
  if (event.detailType !== 'ECR Image Action') return undefined;
  const repository = stringAt(event.detail, 'repository-name');
  const tag = stringAt(event.detail, 'image-tag');
  const digest = stringAt(event.detail, 'image-digest');
  const { account, region } = event.envelope;
  if (stringAt(event.detail, 'action-type') !== 'PUSH' || stringAt(event.detail, 'result') !== 'SUCCESS') return undefined;
  // A push by digest alone moves no tag.
  if (!repository || !tag || !digest || !account || !region) return undefined;
  return { repository, tag, digest, account, region, native: true };
}

async function report(event: PipelineEvent, ctx: UseCaseContext): Promise<ImageReport | undefined> {
  const push = pushOf(event);
  if (!push) return undefined;
  const users = await projectsOnRepository(ctx, push);
  // Not a build-image repository of a watched project: nothing to keep.
  if (users.length === 0) return undefined;
  const following = users.filter((user) => !user.image.digest && user.image.tag === push.tag);
  const pinned = users.filter((user) => user.image.digest !== undefined);
  const state: JsonObject = push.native ? { digest: push.digest } : { digest: push.digest, attributedDigest: push.digest, pushedBy: event.principal?.key ?? 'unknown' };
  return {
    key: `image/${push.account}/${push.region}/${push.repository}:${push.tag}`,
    resource: `${push.account}.dkr.ecr.${push.region}.amazonaws.com/${push.repository}:${push.tag}`,
    state,
    partial: true,
    repository: push.repository,
    tag: push.tag,
    digest: push.digest,
    following,
    pinned,
    via: push.native ? 'ECR Image Action' : 'CloudTrail PutImage',
  };
}

async function initialState(reported: StateReport): Promise<JsonObject | undefined> {
  // A followed tag seen for the first time: its push must be judged, not taken as the baseline.
  if (isImageReport(reported) && reported.following.length > 0) return { digest: UNSEEN_DIGEST, attributedDigest: UNSEEN_DIGEST };
  return undefined;
}

function pinnedNote(pinned: readonly ImageUser[]): string {
  return pinned.length > 0 ? `; ${describeProjects(pinned)} pin${pinned.length === 1 ? 's' : ''} the image by digest and ${pinned.length === 1 ? 'is' : 'are'} not affected` : '';
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const reported = facts.report;
  if (!isImageReport(reported)) return undefined;
  const { before, after } = facts;
  const moved = before['digest'] !== after['digest'];
  const attributed = after['attributedDigest'] === after['digest'] && before['attributedDigest'] !== after['attributedDigest'];
  if (!moved && !attributed) return undefined;
  const { following, pinned, resource, tag, repository, digest } = reported;
  if (following.length === 0 && pinned.length === 0) return undefined;
  // Older than the known state (the engine judges it against the state at its own time and says a
  // newer state exists): this push was superseded; judge the push itself, never a move against newer state.
  // A newer event that only repeated this digest (the native PUSH event often arrives before its
  // older PutImage record) does not supersede it: this record names who moved the tag.
  const newerDigest = facts.newerState?.['digest'];
  const superseded = moved && ((facts.newerStateSince !== undefined && newerDigest !== after['digest']) || (facts.since !== 'look-up' && Date.parse(event.time) < Date.parse(facts.since)));
  const earlier = moved && typeof before['digest'] === 'string' && before['digest'] !== UNSEEN_DIGEST && !superseded ? before['digest'] : undefined;
  const principal = reported.via === 'CloudTrail PutImage' ? event.principal : undefined;
  const who = principal?.arn ?? principal?.key ?? 'an unknown pusher';
  const builder = isImageBuilder(ctx.config, principal);
  const evidence = {
    image: resource,
    repository,
    tag,
    digest,
    digestBefore: earlier ?? null,
    seenVia: reported.via,
    pushedBy: principal?.key ?? null,
    imageBuilder: builder,
    projectsFollowingTag: following.map((user) => ({ project: user.project, image: user.uri, knownFrom: user.knownFrom })),
    projectsPinnedByDigest: pinned.map((user) => ({ project: user.project, image: user.uri, knownFrom: user.knownFrom })),
    knownSince: facts.since,
    ...(superseded ? { supersededSince: facts.newerStateSince ?? facts.since } : {}),
    ...(!moved ? { moveFirstSeen: facts.since } : {}),
  };
  const move = earlier ? `from ${earlier} to ${digest}` : `to ${digest}`;
  const affected = following.length > 0 ? `builds of ${describeProjects(following)} run on it` : `no watched project follows this tag`;
  const base = { resource, dedupKey: `${reported.key}@${digest}`, evidence };

  if (!principal) {
    return {
      ...base,
      severity: 'low',
      attestation: true,
      title: 'Build image tag moved (pusher not yet known)',
      summary: `${resource} moved ${move} (native ECR event; the pusher comes with CloudTrail PutImage): ${affected}${pinnedNote(pinned)}`,
    };
  }
  if (builder) {
    return {
      ...base,
      severity: 'low',
      attestation: true,
      title: 'Build image retagged by its image pipeline',
      summary: `image builder ${who} moved ${resource} ${move}: ${affected}${pinnedNote(pinned)}`,
    };
  }
  const severity: Severity = following.length > 0 ? 'high' : 'low';
  return {
    ...base,
    severity,
    ...(following.length === 0 ? { attestation: true } : {}),
    title: following.length > 0 ? 'Build image tag moved by someone other than its image pipeline' : 'Image pushed to a build-image repository; pinned projects unaffected',
    summary:
      `${who}, not a configured image builder, ${superseded ? 'earlier pushed' : 'moved'} ${resource} ${superseded ? `${digest} (since superseded)` : move}: ${affected}${pinnedNote(pinned)}` +
      `${earlier ? '' : superseded ? '' : ' (earlier digest unknown)'}`,
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.image-change',
    answers: 'build.server-change',
    title: 'Build image tag moved to a new digest',
    stage: 'build',
    description:
      "Keeps the last known digest of each tag in the ECR repositories that watched projects build on (a project's image from its build.project-drift snapshot, or projectImages in this use case's options) and reports a push that moves the tag a project follows: by a configured image builder it is attested (low), by anyone else it is high. Native ECR Image Action PUSH events move the digest first and are attested until the CloudTrail PutImage record names the pusher. Projects pinned by digest are named as unaffected.",
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 2,
    mitre: ['T1525', 'T1195.002'],
    falsePositives: [
      'A manual rebuild of the build image by its maintainers: add their role to imageBuilders, or build it in the image pipeline.',
      'A project whose image is not in the drift snapshots yet: name it in projectImages so the finding lists it.',
    ],
    runbook:
      "Find who pushed (pushedBy, source IP in the PutImage record) and compare the new digest with the image pipeline's output. If unexpected: move the tag back to the last good digest (digestBefore), block the pusher's ECR access, and inspect builds that ran on the new digest for tampered artifacts. Pin build images by digest (image@sha256:…) in the projects, and turn tag immutability on, so a retag cannot change what builds run on.",
    references: [
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html',
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html',
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html',
    ],
  },
  pattern: {
    $or: [
      { source: ['aws.ecr'], 'detail-type': ['ECR Image Action'], detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] } },
      { source: ['aws.ecr'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventSource: ['ecr.amazonaws.com'], eventName: ['PutImage'] } },
    ],
  },
  optionsSchema: buildImageOptionsSchema,
  logic: { kind: 'drift', report, initialState, assess },
});
