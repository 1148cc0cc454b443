/**
 * Build outputs as correlation records: what a successful CodeBuild build of a publishing project
 * produced, from its native `Build State Change` event (EVENTS.md 4.1). The event carries the primary
 * artifact's SHA-256 only for ZIP packaging; nothing else (exported variables, secondary artifacts)
 * reaches EventBridge, so that hash is the pipeline's word on what it built.
 */
import * as z from 'zod';
import { stringAt, valueAt, type PipelineEvent } from '../../engine/pipeline-event.js';
import { builtOnFirstUse, type CorrelationRecord, type JsonObject } from '../../engine/use-case.js';

/** CodeBuild's "Oct 24, 2026 1:09:21 AM" (UTC) as ISO, or undefined. */
export function parseCodeBuildTime(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const ms = Date.parse(/\b(UTC|GMT|Z)$/.test(text) ? text : `${text} UTC`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The build's uuid: the part of the build id (`…:build/<project>:<uuid>`) after the last colon. */
export function buildUuidOf(buildId: string): string | undefined {
  const uuid = buildId.slice(buildId.lastIndexOf(':') + 1);
  return /^[0-9a-f-]{36}$/i.test(uuid) ? uuid.toLowerCase() : undefined;
}

/** `arn:aws:s3:::bucket/path/app.zip` → `app.zip`. */
export function artifactNameOf(location: string | undefined): string | undefined {
  if (!location) return undefined;
  const name = location.slice(location.lastIndexOf('/') + 1);
  return name || undefined;
}

export const buildOutputSchema = builtOnFirstUse(() => z.object({
  project: z.string(),
  buildId: z.string(),
  buildNumber: z.number().optional(),
  artifactName: z.string().optional(),
  artifactLocation: z.string().optional(),
  sha256: z.string().optional(),
  sourceVersion: z.string().optional(),
  startedAt: z.string().optional(),
}));
export type BuildOutput = z.infer<typeof buildOutputSchema>;

/** The record a successful build leaves: found by its output hash and by time, wanted by `build:<uuid>`. */
export function buildRecord(event: PipelineEvent, projects: ReadonlySet<string>): CorrelationRecord | undefined {
  if (event.source !== 'aws.codebuild' || event.detailType !== 'CodeBuild Build State Change') return undefined;
  const detail = event.detail;
  const project = stringAt(detail, 'project-name');
  const buildId = stringAt(detail, 'build-id') ?? event.envelope.resources[0];
  if (stringAt(detail, 'build-status') !== 'SUCCEEDED' || !project || !projects.has(project) || !buildId) return undefined;
  const info = valueAt(detail, 'additional-information');
  const location = stringAt(info, 'artifact', 'location');
  const sha256 = stringAt(info, 'artifact', 'sha256sum')?.toLowerCase();
  const buildNumber = valueAt(info, 'build-number');
  const uuid = buildUuidOf(buildId);
  const artifactName = artifactNameOf(location);
  const sourceVersion = stringAt(info, 'source-version');
  const startedAt = parseCodeBuildTime(stringAt(info, 'build-start-time'));
  const data: JsonObject = {
    project,
    buildId,
    ...(typeof buildNumber === 'number' ? { buildNumber } : {}),
    ...(artifactName ? { artifactName } : {}),
    ...(location ? { artifactLocation: location } : {}),
    ...(sha256 ? { sha256 } : {}),
    ...(sourceVersion ? { sourceVersion } : {}),
    ...(startedAt ? { startedAt } : {}),
  };
  // Found by its hash (its own item) and by time; the publishing session's claim finds it by time
  // and wants it by `build:<uuid>`, so a build whose hash item is missing is never found only by that name.
  return { join: project, id: buildId, keys: sha256 ? [sha256] : [], ...(uuid ? { names: [`build:${uuid}`] } : {}), data };
}

/** `payments-service-build#455`, or the build id when there is no number. */
export function buildLabel(build: BuildOutput): string {
  return build.buildNumber !== undefined ? `${build.project}#${build.buildNumber}` : build.buildId;
}
