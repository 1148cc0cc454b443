/**
 * source.new-pusher: a principal writes to a repository for the first time. The first-seen key is
 * repository × normalised principal (one STS session name per human, so two people behind one SSO
 * permission set are two contributors). Every record of a write feeds it: both GitPush records (the
 * read-only negotiation and the write), the native reference and pull-request-merge events, API
 * merges and direct commits. Whichever arrives first wins the one conditional write, so one push is
 * one finding, in any order and however often it is delivered.
 *
 * A negotiation record alone (an "Everything up-to-date" push, or one refused after negotiating)
 * counts too: it proves the principal holds working push credentials and GitPush permission on the
 * repository, which is what the question asks. Its summary says "started a push" rather than "pushed".
 */
import { defineUseCase, type FirstSeenFacts, type Observation, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { actorOf, contributionOf, DIRECT_COMMIT_CALLS, isWatchedRepository, MERGE_CALLS, repositoryOf } from '../codecommit.js';

function sightings(event: PipelineEvent, ctx: UseCaseContext): Sighting[] {
  const repository = repositoryOf(event);
  if (!isWatchedRepository(ctx.config, repository) || !event.principal || !contributionOf(event)) return [];
  return [{ scope: repository, value: event.principal.key, resource: repository }];
}

function describe({ sighting, scopeWatchedSince, knownValues }: FirstSeenFacts, event: PipelineEvent): Observation {
  const contribution = contributionOf(event);
  const verb = contribution?.verb ?? 'wrote to';
  const known = `${knownValues} known contributor${knownValues === 1 ? '' : 's'}`;
  const protocol = stringAt(event.cloudTrail?.additionalEventData, 'protocol');
  return {
    resource: sighting.resource ?? sighting.scope,
    summary: `${actorOf(event)} ${verb} ${sighting.scope} for the first time (${known}, watched since ${scopeWatchedSince.slice(0, 10)})`,
    evidence: {
      repository: sighting.scope,
      principal: sighting.value,
      principalType: event.principal?.type,
      action: contribution?.kind,
      refs: contribution?.refs ?? [],
      commits: contribution?.commits ?? [],
      ...(contribution?.pullRequestId ? { pullRequestId: contribution.pullRequestId } : {}),
      ...(protocol ? { protocol } : {}),
      knownContributors: knownValues,
      watchedSince: scopeWatchedSince,
      via: event.cloudTrail ? `CloudTrail ${event.cloudTrail.eventName}` : event.detailType,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'source.new-pusher',
    answers: 'source.new-contributor',
    title: 'New contributor wrote to a repository',
    stage: 'source',
    description:
      'A principal that never wrote to this repository before pushed, merged or committed to it, after the repository\'s learning period. Unexpected contributors are how SUNSPOT-style attackers get code into a build.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1195.002', 'T1078.004'],
    falsePositives: [
      'A new team member\'s first push or merge: confirm and let the baseline learn it.',
      'A new CI role: add it to automationPrincipals.',
      'A returning contributor after forgetAfterDays without activity.',
    ],
    runbook:
      'Ask the repository\'s owners whether they know the principal. Review the written commits (refs and commits in the evidence; when the finding came from the first record of a push, which carries none, take them from the push\'s later GitPush record or native reference event) before the next build runs; if unknown, revoke the principal\'s credentials (Git credentials, SSH keys, sessions) and revert the refs.',
    references: [
      'https://docs.aws.amazon.com/codecommit/latest/userguide/integ-cloudtrail.html',
      'https://docs.aws.amazon.com/codecommit/latest/userguide/monitoring-events.html',
    ],
    // The negotiation record of a push is read-only: EventBridge delivers it only to such rules.
    readOnlyEvents: true,
  },
  pattern: {
    $or: [
      {
        source: ['aws.codecommit'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['codecommit.amazonaws.com'], eventName: ['GitPush', 'CreateBranch', ...MERGE_CALLS, ...DIRECT_COMMIT_CALLS] },
      },
      {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Repository State Change'],
        detail: { event: ['referenceCreated', 'referenceUpdated'] },
      },
      {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Pull Request State Change'],
        detail: { event: ['pullRequestMergeStatusUpdated'], isMerged: ['True'] },
      },
    ],
  },
  logic: { kind: 'firstSeen', sightings, describe },
});
