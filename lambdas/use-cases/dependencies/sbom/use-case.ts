/**
 * dependencies.sbom: every successful build of a project that should ship an SBOM did ship a valid
 * one. Valid → an attestation with the SBOM's hash, format and size (evidence for auditors);
 * missing or invalid → medium, saying which check failed; S3 not reachable → a low record that the
 * check could not run (never "missing"). Failed and stopped builds produced nothing to check.
 */
import type { Observation, UseCaseContext } from '../../../engine/use-case.js';
import { defineUseCase, optionsOf } from '../../../engine/use-case.js';
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { buildLabel, buildOf, SUCCEEDED_BUILD_PATTERN, type BuildInfo } from '../build-event.js';
import { fetchBuildSbom } from '../sbom-fetch.js';
import { sbomLocationOptionsSchema } from '../sbom-locations.js';
import { distinctPackages } from '../sbom-parse.js';

function buildEvidence(build: BuildInfo): Record<string, unknown> {
  return {
    project: build.project,
    build: build.arn,
    ...(build.buildNumber !== undefined ? { buildNumber: build.buildNumber } : {}),
    ...(build.sourceVersion ? { sourceVersion: build.sourceVersion } : {}),
    ...(build.initiator ? { initiator: build.initiator } : {}),
  };
}

async function evaluate(event: PipelineEvent, ctx: UseCaseContext): Promise<Observation | undefined> {
  const build = buildOf(event);
  if (!build || build.status !== 'SUCCEEDED') return undefined;
  const fetched = await fetchBuildSbom(build, ctx.config, ctx.lookups);
  const label = buildLabel(build);
  // One verdict per build, whichever delivery of its event arrives first.
  const base = { resource: build.project, incidentKey: `sbom|${build.arn}` };
  switch (fetched.status) {
    case 'not-configured':
      return undefined;
    case 'missing':
      return {
        ...base,
        severity: 'medium',
        title: 'Build produced no SBOM',
        summary: `No SBOM for build ${label}: nothing at ${fetched.tried.join(', ')}${fetched.problems.length > 0 ? ` (skipped: ${fetched.problems.join('; ')})` : ''}`,
        evidence: { ...buildEvidence(build), check: 'present', tried: fetched.tried, skipped: fetched.problems },
      };
    case 'too-large':
      return {
        ...base,
        severity: 'medium',
        title: 'Build SBOM is invalid',
        summary: `SBOM of build ${label} at ${fetched.location} failed the size check: ${fetched.bytes} bytes, over the ${fetched.limit}-byte limit, so it was not read`,
        evidence: { ...buildEvidence(build), check: 'size', location: fetched.location, bytes: fetched.bytes, limit: fetched.limit },
      };
    case 'unavailable': {
      const when = optionsOf(sbomLocationOptionsSchema, ctx).whenUnavailable;
      if (when === 'ignore') return undefined;
      return {
        ...base,
        severity: 'low',
        attestation: when === 'attest',
        title: 'SBOM check could not run',
        summary: `SBOM of build ${label} could not be checked (this is not a missing SBOM): ${fetched.reasons.join('; ')}`,
        evidence: { ...buildEvidence(build), check: 'lookup', tried: fetched.tried, reasons: fetched.reasons },
      };
    }
    case 'found': {
      const { sbom, location } = fetched;
      const format = `${sbom.format ?? 'unknown format'}${sbom.specVersion ? ` ${sbom.specVersion.replace(/^SPDX-/, '')}` : ''}`;
      const facts = {
        ...buildEvidence(build),
        location,
        sha256: sbom.sha256,
        bytes: sbom.bytes,
        format: sbom.format ?? null,
        specVersion: sbom.specVersion ?? null,
        ...(sbom.documentId ? { documentId: sbom.documentId } : {}),
        components: sbom.components.length,
        distinctPackages: distinctPackages(sbom.components).length,
        withoutPurl: sbom.components.filter((c) => !c.purl).length,
      };
      if (sbom.failures.length > 0) {
        const checks = sbom.failures.map((f) => f.check);
        return {
          ...base,
          severity: 'medium',
          title: 'Build SBOM is invalid',
          summary: `SBOM of build ${label} at ${location} is invalid: ${sbom.failures.map((f) => `${f.check} check failed: ${f.message}`).join('; ')}`,
          evidence: { ...facts, check: checks[0], failedChecks: sbom.failures },
        };
      }
      return {
        ...base,
        severity: 'info',
        attestation: true,
        title: 'Build SBOM present and valid',
        summary: `SBOM of build ${label}: ${format}, ${sbom.components.length} components, sha256 ${sbom.sha256.slice(0, 16)}… at ${location}`,
        evidence: { ...facts, check: 'valid', truncated: sbom.truncated },
      };
    }
  }
}

export default defineUseCase({
  metadata: {
    id: 'dependencies.sbom',
    answers: 'dependencies.sbom',
    title: 'Build SBOM missing or invalid',
    stage: 'dependencies',
    description:
      'On every successful build of a project that should publish an SBOM, fetches it from the configured S3 locations and checks it: present, JSON, CycloneDX 1.4-1.7 or SPDX 2.2-2.3, at least one package component, every component named and versioned. A valid SBOM is recorded as an attestation with its hash, format and component count.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 3,
    effort: 2,
    mitre: ['T1195.001', 'T1195.002'],
    falsePositives: [
      'A build that legitimately publishes no SBOM (a docs-only project): remove its SBOM templates.',
      'An SBOM written after the build ends (a later pipeline stage): point the template at the build\'s own output instead.',
      'Unpinned dependencies that the SBOM tool cannot version: pin them, or expect the versions check to fail.',
    ],
    runbook:
      'Open the build\'s logs: did the SBOM step run and upload to the expected key? A missing or broken SBOM on a release build means its dependencies are unaccounted for: hold the release until an SBOM is produced, and check whether the buildspec changed (build.project-drift).',
    references: ['https://cyclonedx.org/specification/overview/', 'https://spdx.github.io/spdx-spec/v2.3/', 'https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html'],
  },
  pattern: SUCCEEDED_BUILD_PATTERN,
  optionsSchema: sbomLocationOptionsSchema,
  logic: { kind: 'match', evaluate },
});
