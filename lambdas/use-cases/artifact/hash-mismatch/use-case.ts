/**
 * artifact.hash-mismatch: is what the artifact repository serves what the pipeline built?
 *
 * Records: every successful build of a project that publishes a configured package (its artifact
 * SHA-256, name, build id; builds.ts). Claims: a configured package version that was published or
 * whose assets changed (claims.ts). Verdicts (judge.ts): a match is an attestation; a different hash
 * than the build that produced the file is critical; a version no build could have produced, or one
 * published by someone other than the pipeline, is high. Events arrive minutes apart and out of
 * order, so a claim without its build waits up to `deadlineMinutes` (the correlate kind).
 */
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, optionsOf, type CorrelateInputs, type UseCaseContext } from '../../../engine/use-case.js';
import { buildRecord } from '../builds.js';
import { publishingProjects } from '../codeartifact.js';
import { nativeClaim, publishClaim } from './claims.js';
import { judge } from './judge.js';
import { optionsSchema } from './options.js';

async function inputs(event: PipelineEvent, ctx: UseCaseContext): Promise<CorrelateInputs | undefined> {
  if (event.source === 'aws.codebuild') {
    const record = buildRecord(event, publishingProjects(ctx.config));
    return record ? { records: [record] } : undefined;
  }
  const found = event.cloudTrail ? (event.cloudTrail.eventName === 'PublishPackageVersion' ? publishClaim(event, ctx) : undefined) : await nativeClaim(event, ctx);
  return found ? { claims: [found] } : undefined;
}

export default defineUseCase({
  metadata: {
    id: 'artifact.hash-mismatch',
    answers: 'artifact.hash-mismatch',
    title: 'Artifact in the repository differs from the pipeline output',
    stage: 'artifact',
    description:
      'Reconciles every published version of a configured CodeArtifact package with the outputs of its build project: the asset SHA-256 must be one a successful build produced. A different hash than the build that produced the file is critical; a version no build could have produced, or one published by someone other than the pipeline, is high. Matches are kept as attestations.',
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 3,
    mitre: ['T1195.002', 'T1565.001'],
    falsePositives: [
      'The package is mapped to a build project whose CodeBuild artifact is not the published file (npm, Maven and PyPI packages are rebuilt by their tools): map only packages whose asset is the build ZIP.',
      'A release promoted from a build older than forgetAfterDays: raise the use case\'s forgetAfterDays.',
      'A build that publishes longer than deadlineMinutes before it ends: raise deadlineMinutes.',
    ],
    runbook:
      'Treat the version as compromised until proven otherwise: set its status to Unlisted or Archived (UpdatePackageVersionsStatus) so consumers stop fetching it, compare the asset with the build artifact in S3 (evidence has both hashes and the artifact location), and review the build project and buildspec of the producing build (build.project-drift) and who published the version (CloudTrail PublishPackageVersion).',
    references: [
      'https://docs.aws.amazon.com/codeartifact/latest/ug/service-event-format-example.html',
      'https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html',
      'https://docs.aws.amazon.com/codeartifact/latest/APIReference/API_ListPackageVersionAssets.html',
    ],
  },
  pattern: {
    $or: [
      { source: ['aws.codebuild'], 'detail-type': ['CodeBuild Build State Change'], detail: { 'build-status': ['SUCCEEDED'] } },
      { source: ['aws.codeartifact'], 'detail-type': ['CodeArtifact Package Version State Change'] },
      {
        source: ['aws.codeartifact'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['codeartifact.amazonaws.com'], eventName: ['PublishPackageVersion'] },
      },
    ],
  },
  logic: {
    kind: 'correlate',
    inputs,
    deadlineMinutes: (ctx) => optionsOf(optionsSchema, ctx).deadlineMinutes,
    judge,
  },
  optionsSchema,
});

