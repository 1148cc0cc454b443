/**
 * build.image-pusher: a principal that never pushed to a build-image repository (one a watched project
 * builds on) pushed to it, after the repository's learning period. Only CloudTrail PutImage names the
 * pusher (the native ECR PUSH event does not). Configured image builders are learned, never reported.
 * Whether the push moved a tag a project follows is build.image-change's question; this one is about
 * who writes to the repository at all (a new tag today can be a project's tag tomorrow).
 */
import { stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import { isImageBuilder, projectsOnRepository, registryOf } from '../ecr.js';

async function sightings(event: PipelineEvent, ctx: UseCaseContext): Promise<Sighting[]> {
  const record = event.cloudTrail;
  if (!record || !event.principal) return [];
  const repository = stringAt(valueAt(record.responseElements, 'image'), 'repositoryName') ?? stringAt(record.requestParameters, 'repositoryName');
  const registry = registryOf(event);
  if (!repository || !registry) return [];
  const users = await projectsOnRepository(ctx, { ...registry, repository });
  if (users.length === 0) return [];
  return [
    {
      scope: `ecr-repo/${registry.account}/${registry.region}/${repository}`,
      value: event.principal.key,
      resource: `${registry.account}.dkr.ecr.${registry.region}.amazonaws.com/${repository}`,
      expected: isImageBuilder(ctx.config, event.principal),
    },
  ];
}

export default defineUseCase({
  metadata: {
    id: 'build.image-pusher',
    answers: 'build.server-change',
    title: 'New principal pushed to a build-image repository',
    stage: 'build',
    description:
      'First-seen build-image repository × pusher: a CloudTrail PutImage to an ECR repository a watched project builds on (from its build.project-drift snapshot or projectImages) by a principal that never pushed there before, after the learning period. Configured image builders (build.image-change options) are learned, never reported.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1525', 'T1078.004'],
    falsePositives: ['A new image pipeline role or maintainer: add it to imageBuilders in build.image-change options.'],
    runbook:
      "Ask who the principal is and what it pushed (tag and digest in the PutImage record). If unknown: delete or untag the pushed image, remove the principal's ecr:PutImage on the repository (repository policy and IAM), and check build.image-change for a moved tag. Pin build images by digest in the projects.",
    references: ['https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html'],
  },
  pattern: {
    source: ['aws.ecr'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['ecr.amazonaws.com'], eventName: ['PutImage'] },
  },
  logic: {
    kind: 'firstSeen',
    sightings,
    describe: ({ sighting, scopeWatchedSince, knownValues }, event) => {
      const record = event.cloudTrail;
      const tag = stringAt(valueAt(record?.responseElements, 'image'), 'imageId', 'imageTag') ?? stringAt(record?.requestParameters, 'imageTag') ?? null;
      const digest = stringAt(valueAt(record?.responseElements, 'image'), 'imageId', 'imageDigest') ?? null;
      return {
        resource: sighting.resource ?? sighting.scope,
        summary: `${event.principal?.arn ?? sighting.value} pushed to build-image repository ${sighting.resource ?? sighting.scope} for the first time${tag ? ` (tag ${tag})` : ''} (${knownValues} known pusher${knownValues === 1 ? '' : 's'}, watched since ${scopeWatchedSince.slice(0, 10)})`,
        evidence: { repository: sighting.scope, principal: sighting.value, principalType: event.principal?.type, tag, digest, knownPushers: knownValues, watchedSince: scopeWatchedSince },
      };
    },
  },
});
