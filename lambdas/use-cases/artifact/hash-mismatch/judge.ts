/**
 * The verdicts of artifact.hash-mismatch. Every compared asset must be a build output of the
 * package's build project (its SHA-256 among the project's build records): then it is an attestation.
 * Otherwise: published by someone other than the pipeline → high at once; a build that produced a
 * file of that name is known (the publishing CodeBuild session, or at the deadline the build of that
 * file closest to the publish) → critical, "not what the pipeline built"; none → high at the
 * deadline, "published outside the pipeline". One finding per package version (its incident key).
 */
import type { CorrelateFacts, CorrelateVerdict, JsonObject, Observation, StoredCorrelationRecord, UseCaseContext } from '../../../engine/use-case.js';
import { optionsOf } from '../../../engine/use-case.js';
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { buildLabel, buildOutputSchema, buildUuidOf, type BuildOutput } from '../builds.js';
import { anyGlobMatches, packageDisplayName, packageVersionSubject } from '../codeartifact.js';
import { claimDataSchema, type Asset, type ClaimData } from './claims.js';
import { optionsSchema } from './options.js';

const short = (hash: string | undefined): string => (hash ? hash.slice(0, 12) : 'no hash');

function versionLabel(ref: ClaimData['ref']): string {
  return `${ref.namespace ? `${ref.namespace}/` : ''}${ref.package}@${ref.version} (${ref.domain}/${ref.repository})`;
}

function builds(records: readonly StoredCorrelationRecord[]): Array<BuildOutput & { at: string }> {
  return records.flatMap((record) => {
    const parsed = buildOutputSchema.safeParse(record.data);
    return parsed.success ? [{ ...parsed.data, at: record.at }] : [];
  });
}

/** The build as evidence: its fields (all strings and numbers, by buildOutputSchema) without the absent ones, and when it completed. */
function buildEvidence(build: BuildOutput & { at: string }): JsonObject {
  const evidence: JsonObject = {};
  for (const [key, value] of Object.entries(build)) if (key !== 'at' && value !== undefined) evidence[key] = value;
  evidence['completedAt'] = build.at;
  return evidence;
}

/** Base of every observation about one package version: routing, evidence, one incident per version. */
function base(data: ClaimData, project: string, extra: JsonObject): Pick<Observation, 'resource' | 'incidentKey' | 'evidence'> {
  return {
    resource: packageDisplayName(data.ref),
    incidentKey: packageVersionSubject(data.ref),
    evidence: { package: data.ref, buildProject: project, via: data.via, ...(data.publisher ? { publisher: data.publisher } : {}), ...extra } as JsonObject,
  };
}

export async function judge(facts: CorrelateFacts, _event: PipelineEvent, ctx: UseCaseContext): Promise<CorrelateVerdict> {
  const parsed = claimDataSchema.safeParse(facts.claim.data);
  if (!parsed.success) return { status: 'settled', reason: 'unreadable claim' };
  const data = parsed.data;
  const options = optionsOf(optionsSchema, ctx);
  const project = facts.claim.join;

  const publisher = data.publisher;
  const outsider = publisher !== undefined && !publisher.automation && publisher.buildUuid === undefined;
  const label = versionLabel(data.ref);

  let assets = data.assets;
  if (assets === null) {
    const listing = await ctx.lookups.packageVersionAssets(data.ref);
    if (listing.status === 'found') {
      assets = listing.value.assets.map((asset) => ({ name: asset.name, ...(asset.hashes['SHA-256'] ? { sha256: asset.hashes['SHA-256'].toLowerCase() } : {}) }));
    } else if (outsider) {
      // Who published is enough: nothing to compare, but the pipeline did not publish it.
      return settled({
        ...base(data, project, { assets: null, listing: listing.status === 'missing' ? 'missing' : listing.reason }),
        severity: 'high',
        title: 'Package version published outside the pipeline',
        summary: `${label} was published outside the pipeline by ${publisher.principal} (its asset hashes could not be listed)`,
      });
    } else if (listing.status === 'missing') {
      return { status: 'settled', reason: 'the package version no longer exists' };
    } else {
      return facts.final ? { status: 'settled', reason: `could not list the assets: ${listing.reason}` } : { status: 'wait' };
    }
  }
  const compared = assets.filter((asset) => !anyGlobMatches(options.uncomparedAssets, asset.name));
  if (compared.length === 0) return { status: 'settled', reason: 'no comparable assets' };

  const byHash = await Promise.all(compared.map(async (asset) => ({ asset, builds: asset.sha256 ? builds(await facts.records.withKey(asset.sha256.toLowerCase())) : [] })));
  // The other ways to a build, all from the builds recorded around the publish (one read): the
  // publishing CodeBuild session (it ends after the publish, within the deadline), and at the deadline
  // every build of the file. Read whenever a verdict other than "wait" could follow. A build record is
  // two items written by one batch that may land in any order: one whose hash item is missing still
  // tells its hash through its time item, so it is a match here, never a mismatch.
  const around = Math.max(Date.parse(facts.deadline) - Date.parse(facts.claimedAt), 3_600_000);
  const claimedAt = Date.parse(facts.claimedAt);
  const unmatchedByHash = byHash.some((m) => m.builds.length === 0);
  const readAround = unmatchedByHash && (publisher?.buildUuid !== undefined || outsider || facts.final);
  const aroundPublish = readAround ? builds(await facts.records.between(iso(claimedAt - around), iso(claimedAt + around))) : [];
  const byUuid = publisher?.buildUuid ? aroundPublish.filter((build) => buildUuidOf(build.buildId) === publisher.buildUuid) : [];
  const nearby = facts.final ? aroundPublish : [];
  const matches = byHash.map((m) => (m.builds.length > 0 ? m : { asset: m.asset, builds: [...byUuid, ...aroundPublish].filter((build) => sameHash(build, m.asset)) }));
  const unmatched = matches.filter((m) => m.builds.length === 0).map((m) => m.asset);

  if (unmatched.length === 0) {
    const producer = matches[0]?.builds[0];
    const producedBy = producer ? `build ${buildLabel(producer)}` : 'a pipeline build';
    const evidence = { assets: compared, matchedBuilds: matches.map((m) => ({ asset: m.asset.name, builds: m.builds.map(buildEvidence) })) } as JsonObject;
    if (outsider) {
      return settled({
        ...base(data, project, evidence),
        severity: 'medium',
        title: 'Package version published outside the pipeline',
        summary: `${label} was published by ${publisher.principal}, not by the pipeline; its content matches ${producedBy}`,
      });
    }
    return settled({
      ...base(data, project, evidence),
      // A redelivery or the second source (CloudTrail and native event) repeats it, a changed asset does not.
      incidentKey: `attest|${packageVersionSubject(data.ref)}|${compared.map((a) => a.sha256 ?? a.name).sort().join(',')}`,
      severity: 'info',
      attestation: true,
      title: 'Package version matches the pipeline output',
      summary: `${label} matches the output of ${producedBy} (${compared.map((a) => `${a.name} SHA-256 ${short(a.sha256)}`).join(', ')})`,
    });
  }

  const unmatchedEvidence = { assets: compared, unmatchedAssets: unmatched } as JsonObject;
  if (outsider) {
    return settled({
      ...base(data, project, unmatchedEvidence),
      severity: 'high',
      title: 'Package version published outside the pipeline',
      summary: `${label} was published outside the pipeline by ${publisher.principal}: no build of ${project} produced ${describeAssets(unmatched)}`,
    });
  }

  // The publish came from inside a build: that build's output is what the repository should hold.
  const fromSession = byUuid[0];
  if (fromSession) return mismatch(data, project, unmatched, fromSession, 'published from inside that build');
  if (!facts.final) return { status: 'wait' };

  // Final: a build of the project that produced a file of the same name around the publish.
  const names = new Set(unmatched.map((asset) => asset.name));
  const candidates = nearby
    .filter((build) => build.artifactName !== undefined && names.has(build.artifactName))
    .sort((a, b) => Math.abs(Date.parse(a.at) - claimedAt) - Math.abs(Date.parse(b.at) - claimedAt));
  const producer = candidates.find((build) => build.sha256 !== undefined) ?? candidates[0];
  if (producer) return mismatch(data, project, unmatched, producer, 'the build of that file closest to the publish');
  return settled({
    ...base(data, project, { ...unmatchedEvidence, waitedUntil: facts.deadline }),
    severity: 'high',
    title: 'Package version published outside the pipeline',
    summary: `${label} was published outside the pipeline: no build of ${project} produced ${describeAssets(unmatched)}${publisher ? ` (published by ${publisher.principal})` : ''}`,
  });
}

/** The build produced exactly this asset (both hashes known and equal). */
function sameHash(build: BuildOutput, asset: Asset): boolean {
  return build.sha256 !== undefined && asset.sha256 !== undefined && build.sha256.toLowerCase() === asset.sha256.toLowerCase();
}

function mismatch(data: ClaimData, project: string, unmatched: readonly Asset[], producer: BuildOutput & { at: string }, how: string): CorrelateVerdict {
  // Without ZIP packaging CodeBuild reports no hash: nothing to compare, so nothing to claim.
  if (!producer.sha256) return { status: 'settled', reason: `build ${buildLabel(producer)} reported no artifact hash (its artifacts are not ZIP-packaged)` };
  // Only two known, different hashes make a mismatch: never a missing one.
  if (unmatched.some((asset) => asset.sha256 === undefined)) return { status: 'settled', reason: `${describeAssets(unmatched)}: no hash to compare with build ${buildLabel(producer)}` };
  const asset = unmatched.find((a) => a.name === producer.artifactName) ?? unmatched[0];
  return settled({
    ...base(data, project, { assets: [...unmatched], producingBuild: buildEvidence(producer), identifiedBy: how } as JsonObject),
    severity: 'critical',
    title: 'Artifact in the repository is not what the pipeline built',
    summary: `${versionLabel(data.ref)}: the artifact in the repository is not what the pipeline built: ${asset?.name ?? 'the asset'} has SHA-256 ${short(asset?.sha256)} but build ${buildLabel(producer)} produced ${producer.artifactName ?? 'its artifact'} with SHA-256 ${short(producer.sha256)}`,
  });
}

function describeAssets(assets: readonly Asset[]): string {
  return assets.map((asset) => `${asset.name} (SHA-256 ${short(asset.sha256)})`).join(', ');
}

function settled(observation: Observation): CorrelateVerdict {
  return { status: 'settled', observations: [observation] };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

