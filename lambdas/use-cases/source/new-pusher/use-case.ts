/**
 * source.new-pusher: a principal pushes to a repository for the first time. The first-seen key is
 * repository × normalised principal, fed by the CloudTrail GitPush write record and the native
 * reference events; whichever arrives first wins the one conditional write, so one push is one finding.
 */
import { defineUseCase, type Sighting } from '../../../engine/use-case.js';
import { valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import type { BuildwatchConfig } from '../../../config/config.js';
import { isWatchedRepository, pushedRefs, repositoryOf } from '../codecommit.js';

function sightings(event: PipelineEvent, ctx: { config: BuildwatchConfig }): Sighting[] {
  const repository = repositoryOf(event);
  if (!isWatchedRepository(ctx.config, repository) || !event.principal) return [];
  // The negotiation record of a push transfers nothing; only a push that moved refs counts.
  if (event.cloudTrail && valueAt(event.cloudTrail.additionalEventData, 'dataTransferred') === false) return [];
  return [{ scope: repository, value: event.principal.key, resource: repository }];
}

export default defineUseCase({
  metadata: {
    id: 'source.new-pusher',
    answers: 'source.new-contributor',
    title: 'New principal pushed to a repository',
    stage: 'source',
    description:
      'A principal that never pushed to this repository before pushed to it, after the repository\'s learning period. Unexpected contributors are how SUNSPOT-style attackers get code into a build.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1195.002', 'T1078.004'],
    falsePositives: [
      'A new team member\'s first push: confirm and let the baseline learn it.',
      'A new CI role: add it to automationPrincipals.',
    ],
    runbook:
      'Ask the repository\'s owners whether they know the principal. Review the pushed commits (references in the evidence) before the next build runs; if unknown, revoke the principal\'s credentials and revert the refs.',
    references: ['https://docs.aws.amazon.com/codecommit/latest/userguide/integ-cloudtrail.html'],
  },
  pattern: {
    $or: [
      {
        source: ['aws.codecommit'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['codecommit.amazonaws.com'], eventName: ['GitPush'] },
      },
      {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Repository State Change'],
        detail: { event: ['referenceCreated', 'referenceUpdated'] },
      },
    ],
  },
  logic: {
    kind: 'firstSeen',
    sightings,
    describe: ({ sighting, scopeWatchedSince, knownValues }, event) => ({
      resource: sighting.resource ?? sighting.scope,
      summary: `${event.principal?.arn ?? sighting.value} pushed to ${sighting.scope} for the first time (${knownValues} known contributor${knownValues === 1 ? '' : 's'}, watched since ${scopeWatchedSince.slice(0, 10)})`,
      evidence: {
        repository: sighting.scope,
        principal: sighting.value,
        principalType: event.principal?.type,
        refs: pushedRefs(event),
        knownContributors: knownValues,
        watchedSince: scopeWatchedSince,
        via: event.cloudTrail ? `CloudTrail ${event.cloudTrail.eventName}` : event.detailType,
      },
    }),
  },
});
