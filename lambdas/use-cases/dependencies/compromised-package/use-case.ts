/**
 * dependencies.compromised-package: a successful build's SBOM lists a package version known to have
 * been published with malicious code (the shipped list of real incidents, extended by configuration).
 * Checked on every build, the first one included: a compromised version needs no baseline to matter.
 * One finding per project and set of hits, so the same hits on later builds are repeats, not new alerts.
 */
import { createHash } from 'node:crypto';
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { buildLabel, buildOf, SUCCEEDED_BUILD_PATTERN } from '../build-event.js';
import { compromisedIndexFor, compromisedOptionsSchema } from '../compromised-check.js';
import type { CompromisedHit, CompromisedIndex } from '../known-compromised.js';
import { fetchBuildSbom } from '../sbom-fetch.js';
import { componentLabel } from '../sbom-parse.js';

const optionsSchema = compromisedOptionsSchema;
const MAX_LISTED = 25;

/** The index for these options (built once per configuration, not per event). */
function indexFor(ctx: UseCaseContext): CompromisedIndex {
  return compromisedIndexFor(ctx.options);
}

async function evaluate(event: PipelineEvent, ctx: UseCaseContext): Promise<Observation | undefined> {
  const build = buildOf(event);
  if (!build || build.status !== 'SUCCEEDED') return undefined;
  const fetched = await fetchBuildSbom(build, ctx.config, ctx.lookups);
  // Missing, broken or unreachable SBOMs are dependencies.sbom's to report.
  if (fetched.status !== 'found' || fetched.sbom.components.length === 0) return undefined;
  const index = indexFor(ctx);
  const hits: CompromisedHit[] = fetched.sbom.components.flatMap((component) => index.match(component));
  if (hits.length === 0) return undefined;

  const labels = [...new Set(hits.map((hit) => componentLabel(hit.component)))].sort();
  const incidents = [...new Map(hits.map((hit) => [hit.incident.id, hit.incident])).values()];
  const fingerprint = createHash('sha256').update(labels.join('\n')).digest('hex').slice(0, 16);
  const shown = labels.slice(0, 5).join(', ') + (labels.length > 5 ? ` and ${labels.length - 5} more` : '');
  return {
    resource: build.project,
    severity: 'high',
    // The same compromised set in the same project is one incident, however many builds carry it.
    incidentKey: `compromised|${build.project}|${fingerprint}`,
    summary: `Build ${buildLabel(build)} ships known-compromised package versions: ${shown} (${incidents.map((i) => i.title).slice(0, 3).join('; ')})`,
    evidence: {
      project: build.project,
      build: build.arn,
      ...(build.buildNumber !== undefined ? { buildNumber: build.buildNumber } : {}),
      ...(build.sourceVersion ? { sourceVersion: build.sourceVersion } : {}),
      sbom: fetched.location,
      sbomSha256: fetched.sbom.sha256,
      hits: hits.slice(0, MAX_LISTED).map((hit) => ({
        package: componentLabel(hit.component),
        ...(hit.component.purl ? { purl: hit.component.key } : {}),
        matchedBy: hit.matchedBy,
        incident: hit.incident.id,
        title: hit.incident.title,
        ...(hit.incident.source ? { source: hit.incident.source } : {}),
      })),
      totalHits: hits.length,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'dependencies.compromised-package',
    answers: 'dependencies.library-change',
    title: 'Build ships a known-compromised package version',
    stage: 'dependencies',
    description:
      'Matches every component of a successful build\'s SBOM against a shipped list of package versions known to have been published with malicious code (event-stream, ua-parser-js, coa, rc, colors/faker, node-ipc, xz, the 2025 npm phishing waves, Nx, Shai-Hulud, …), which users extend in configuration.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 1,
    mitre: ['T1195.001'],
    falsePositives: [
      'A vetted internal rebuild that reuses a compromised version number: add it to the use case\'s ignore option with the reason in your change record.',
      'An SBOM component without a purl matched by name alone (evidence says matchedBy: name) that belongs to another ecosystem.',
    ],
    runbook:
      'Treat the build and every machine that installed the package as compromised: stop releases of the artifact, rotate the credentials the build could reach (CodeBuild role, tokens in its environment), pin the dependency to a clean version, rebuild, and check published artifacts for the incident\'s indicators (see the source in the evidence).',
    references: ['https://github.com/advisories', 'https://osv.dev/'],
  },
  pattern: SUCCEEDED_BUILD_PATTERN,
  optionsSchema,
  logic: { kind: 'match', evaluate },
});
