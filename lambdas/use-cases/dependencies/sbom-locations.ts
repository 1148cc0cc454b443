/**
 * Where a build's SBOM is expected: `pipeline.buildProjects[].sbom` templates, or, for watched
 * projects without their own, `useCases["dependencies.sbom"].options.defaultLocations`. Every use
 * case that reads SBOMs asks here, so one setting drives them all.
 *
 * Placeholders: {project}; {buildId} = `<project>:<uuid>` (the id CodeBuild's API and console use);
 * {buildUuid}; {buildNumber} (from the event's additional-information.build-number).
 */
import * as z from 'zod';
import { builtOnFirstUse } from '../../engine/use-case.js';
import type { BuildwatchConfig } from '../../config/config.js';
import type { BuildInfo } from './build-event.js';

const template = z.string().regex(/^s3:\/\/[^/{}]+\/.+/, 's3://bucket/key template (the bucket cannot hold placeholders)');

/** The options of `dependencies.sbom` that other dependency use cases read too. */
export const sbomLocationOptionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Templates for watched projects that configure none (with `pipeline.buildProjects: []`, every project). */
  defaultLocations: z.array(template).max(10).default([]),
  /** When S3 could not be asked: record a low attestation (default), raise a low alert, or say nothing. */
  whenUnavailable: z.enum(['attest', 'alert', 'ignore']).default('attest'),
}));
export type SbomLocationOptions = z.output<typeof sbomLocationOptionsSchema>;

export const SBOM_USE_CASE_ID = 'dependencies.sbom';

export function sbomLocationOptions(config: BuildwatchConfig): SbomLocationOptions {
  const parsed = sbomLocationOptionsSchema.safeParse(config.useCases[SBOM_USE_CASE_ID]?.options ?? {});
  return parsed.success ? parsed.data : sbomLocationOptionsSchema.parse({});
}

/** The templates for a project, or [] when no SBOM is expected from it. */
export function sbomTemplatesFor(config: BuildwatchConfig, project: string): readonly string[] {
  const projects = config.pipeline.buildProjects;
  const own = projects.find((p) => p.name === project);
  if (own && own.sbom.length > 0) return own.sbom;
  const watched = projects.length === 0 || own !== undefined;
  return watched ? sbomLocationOptions(config).defaultLocations : [];
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly url: string;
}

export type Rendered = { readonly location: S3Location } | { readonly problem: string };

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Fills a template for one build; a placeholder the build cannot fill is a problem, not a guess. */
export function renderTemplate(templateText: string, build: BuildInfo): Rendered {
  const values: Record<string, string | undefined> = {
    project: build.project,
    buildId: build.buildId,
    buildUuid: build.buildUuid,
    buildNumber: build.buildNumber === undefined ? undefined : String(build.buildNumber),
  };
  let problem: string | undefined;
  const url = templateText.replace(PLACEHOLDER, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) {
      problem ??= `${templateText}: unknown placeholder ${whole}`;
      return whole;
    }
    const value = values[name];
    if (value === undefined) {
      problem ??= `${templateText}: the build event has no value for ${whole}`;
      return whole;
    }
    return value;
  });
  if (problem) return { problem };
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) return { problem: `${templateText}: not an s3://bucket/key location` };
  return { location: { bucket: match[1] ?? '', key: match[2] ?? '', url } };
}

/**
 * The S3 object ARNs the detect function must be allowed to read (s3:GetObject): each template's
 * bucket and its key up to the first placeholder, then `*`. For the stack; deduplicated and sorted.
 */
export function sbomObjectArns(config: BuildwatchConfig, partition = 'aws'): string[] {
  const templates = [...config.pipeline.buildProjects.flatMap((p) => p.sbom), ...sbomLocationOptions(config).defaultLocations];
  const arns = templates.map((t) => {
    const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(t);
    const bucket = match?.[1] ?? '';
    const key = match?.[2] ?? '';
    const brace = key.indexOf('{');
    return `arn:${partition}:s3:::${bucket}/${brace >= 0 ? `${key.slice(0, brace)}*` : key}`;
  });
  return [...new Set(arns)].sort();
}

/**
 * The buckets the detect function must be allowed to list (s3:ListBucket): without it S3 answers a
 * missing key with AccessDenied instead of NoSuchKey, and "no SBOM" could only ever be "could not check".
 */
export function sbomBucketArns(config: BuildwatchConfig, partition = 'aws'): string[] {
  const templates = [...config.pipeline.buildProjects.flatMap((p) => p.sbom), ...sbomLocationOptions(config).defaultLocations];
  return [...new Set(templates.map((t) => `arn:${partition}:s3:::${/^s3:\/\/([^/]+)\//.exec(t)?.[1] ?? ''}`))].sort();
}
