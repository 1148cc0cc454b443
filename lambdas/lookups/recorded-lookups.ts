/**
 * Look-ups answered from a recorded-responses directory (ARCHITECTURE.md, "AWS look-ups"), for
 * offline replay and tests. Layout under `dir`:
 *   s3/<bucket>/<key>
 *   codeartifact/ListPackageVersionAssets/<domain>/<repository>/<format>/<namespace or _>/<package>/<version>.json
 *   codeartifact/DescribePackageVersion/<domain>/<repository>/<format>/<namespace or _>/<package>/<version>.json
 *   codebuild/BatchGetProjects/<project>.json
 *   codebuild/BatchGetFleets/<fleet name>.json (the response, or just the fleet)
 *   cloudtrail/DescribeTrails.json (the `aws cloudtrail describe-trails` output)
 *   ecr/DescribeImages/<repository>.json (`aws ecr describe-images --repository-name <repository>`;
 *     a repository name with slashes is a nested path; the tag's image is found by its imageTags)
 * Like the AWS implementation, every failure is an outcome, never a throw.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import * as z from 'zod';
import { fleetNameFromArn } from './lookups.js';
import type {
  CodeBuildFleet,
  CodeBuildProject,
  EcrImageDetail,
  EcrImageRef,
  LookupResult,
  Lookups,
  PackageVersionAssets,
  PackageVersionOrigin,
  PackageVersionRef,
  TrailInfo,
} from './lookups.js';

/** Same cap as the AWS implementation, so offline replay refuses what the cloud would refuse. */
const MAX_OBJECT_BYTES = 10 * 1024 * 1024;

const assetSchema = z.looseObject({
  name: z.string().min(1),
  size: z.number().optional(),
  hashes: z.record(z.string(), z.string()).default({}),
});

const assetsResponseSchema = z.looseObject({
  format: z.string().optional(),
  namespace: z.string().nullish(),
  package: z.string().optional(),
  version: z.string().optional(),
  versionRevision: z.string().optional(),
  assets: z.array(assetSchema),
});

const versionDescriptionSchema = z.looseObject({
  status: z.string().optional(),
  origin: z
    .looseObject({
      originType: z.string().optional(),
      domainEntryPoint: z.looseObject({ repositoryName: z.string().nullish(), externalConnectionName: z.string().nullish() }).nullish(),
    })
    .nullish(),
});

/** The API response wraps the description in `packageVersion`; the CLI docs show it bare. Accept both. */
const describeResponseSchema = z.preprocess(
  (json) => (typeof json === 'object' && json !== null && 'packageVersion' in json ? json : { packageVersion: json }),
  z.looseObject({ packageVersion: versionDescriptionSchema }),
);

const projectSchema = z.looseObject({ name: z.string().min(1), arn: z.string().optional() });

/** DescribeTrails as the CLI prints it (`aws cloudtrail describe-trails`): PascalCase fields. */
const describeTrailsSchema = z.looseObject({
  trailList: z.array(
    z.looseObject({
      Name: z.string().min(1),
      TrailARN: z.string().optional(),
      S3BucketName: z.string().optional(),
      S3KeyPrefix: z.string().optional(),
      KmsKeyId: z.string().optional(),
    }),
  ),
});

function trailInfo(trail: z.output<typeof describeTrailsSchema>['trailList'][number]): TrailInfo {
  return {
    name: trail.Name,
    ...(trail.TrailARN ? { trailArn: trail.TrailARN } : {}),
    ...(trail.S3BucketName ? { s3BucketName: trail.S3BucketName } : {}),
    ...(trail.S3KeyPrefix ? { s3KeyPrefix: trail.S3KeyPrefix } : {}),
    ...(trail.KmsKeyId ? { kmsKeyId: trail.KmsKeyId } : {}),
  };
}

const batchGetProjectsSchema = z.looseObject({
  projects: z.array(projectSchema).default([]),
  projectsNotFound: z.array(z.string()).default([]),
});

const fleetSchema = z.looseObject({ name: z.string().min(1), arn: z.string().optional() });

const batchGetFleetsSchema = z.looseObject({
  fleets: z.array(fleetSchema).default([]),
  fleetsNotFound: z.array(z.string()).default([]),
});

/** DescribeImages as the CLI prints it; imagePushedAt is an ISO string or epoch seconds there. */
const describeImagesSchema = z.looseObject({
  imageDetails: z.array(
    z.looseObject({
      registryId: z.string().optional(),
      repositoryName: z.string().optional(),
      imageDigest: z.string().min(1),
      imageTags: z.array(z.string()).default([]),
      imagePushedAt: z.union([z.string(), z.number()]).optional(),
    }),
  ),
});

function isoTime(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

type Failure = { readonly status: 'missing' } | { readonly status: 'unavailable'; readonly reason: string };

const unavailable = (reason: string): Failure => ({ status: 'unavailable', reason });

/**
 * Refuses a path part that could leave `dir` or that the file system would silently rewrite
 * ("a//b" and "a/./b" both become "a/b", so two S3 keys would share one file).
 */
function badPathPart(label: string, value: string, allowSlashes: boolean): string | undefined {
  if (value === '') return `${label} is empty`;
  if (value.includes('\0')) return `${label} contains a NUL byte`;
  if (isAbsolute(value) || value.startsWith('\\')) return `${label} ${JSON.stringify(value)} is an absolute path`;
  // Backslash too: it is a separator on Windows, where a recorded directory may be prepared.
  const segments = value.split(/[/\\]/);
  if (!allowSlashes && segments.length > 1) return `${label} ${JSON.stringify(value)} contains a path separator`;
  if (segments.some((s) => s === '..' || s === '.' || s === '')) {
    return `${label} ${JSON.stringify(value)} contains an empty, "." or ".." path segment`;
  }
  return undefined;
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function summariseIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

export function createRecordedLookups(dir: string): Lookups {
  const root = resolve(dir);

  /** Joins checked parts under the root; the final containment check is defence in depth. */
  function locate(parts: readonly string[]): { file: string } | Failure {
    const file = resolve(root, ...parts);
    const rel = relative(root, file);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      return unavailable(`recorded path ${file} is outside ${root}`);
    }
    return { file };
  }

  /** Reads a recorded file; absent (or a directory where a file was expected) means missing. */
  async function readRecorded(file: string): Promise<{ bytes: Buffer } | Failure> {
    try {
      const info = await stat(file);
      if (info.isDirectory()) return { status: 'missing' };
      if (info.size > MAX_OBJECT_BYTES) {
        return unavailable(`recorded file ${file} is ${info.size} bytes, over the ${MAX_OBJECT_BYTES}-byte limit`);
      }
      return { bytes: await readFile(file) };
    } catch (error) {
      if (isNodeError(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) {
        // Without the root itself every answer would be a misleading "missing": say so instead.
        const rootExists = await stat(root).then((s) => s.isDirectory(), () => false);
        return rootExists ? { status: 'missing' } : unavailable(`recorded look-ups directory ${root} does not exist`);
      }
      return unavailable(`cannot read recorded file ${file}: ${describe(error)}`);
    }
  }

  async function readJson(parts: readonly string[]): Promise<{ file: string; json: unknown } | Failure> {
    const located = locate(parts);
    if ('status' in located) return located;
    const read = await readRecorded(located.file);
    if ('status' in read) return read;
    try {
      return { file: located.file, json: JSON.parse(read.bytes.toString('utf8')) as unknown };
    } catch (error) {
      return unavailable(`recorded file ${located.file} is not valid JSON: ${describe(error)}`);
    }
  }

  /** `codeartifact/<api>/<domain>/<repository>/<format>/<namespace or _>/<package>/<version>.json` */
  async function readPackageVersionFile(api: string, ref: PackageVersionRef, what: string): Promise<{ file: string; json: unknown } | Failure> {
    // npm without a scope has no namespace (null in the native event, empty in the package ARN).
    const namespace = ref.namespace ? ref.namespace : '_';
    const parts: Array<[string, string]> = [
      ['domain', ref.domain],
      ['repository', ref.repository],
      ['format', ref.format],
      ['namespace', namespace],
      ['package', ref.package],
      ['version', ref.version],
    ];
    for (const [label, value] of parts) {
      const bad = badPathPart(label, value, false);
      if (bad !== undefined) return unavailable(`cannot look up ${what} offline: ${bad}`);
    }
    return readJson(['codeartifact', api, ref.domain, ref.repository, ref.format, namespace, ref.package, `${ref.version}.json`]);
  }

  return {
    async s3Object(bucket: string, key: string): Promise<LookupResult<Uint8Array>> {
      const bad = badPathPart('bucket', bucket, false) ?? badPathPart('key', key, true);
      if (bad !== undefined) return unavailable(`cannot look up s3://${bucket}/${key} offline: ${bad}`);
      const located = locate(['s3', bucket, ...key.split('/')]);
      if ('status' in located) return located;
      const read = await readRecorded(located.file);
      if ('status' in read) return read;
      // A plain Uint8Array, as the SDK returns, so results compare equal across implementations.
      return { status: 'found', value: new Uint8Array(read.bytes) };
    },

    async packageVersionAssets(ref: PackageVersionRef): Promise<LookupResult<PackageVersionAssets>> {
      const read = await readPackageVersionFile('ListPackageVersionAssets', ref, 'package version assets');
      if ('status' in read) return read;
      const parsed = assetsResponseSchema.safeParse(read.json);
      if (!parsed.success) {
        return unavailable(`recorded file ${read.file} is not a ListPackageVersionAssets response: ${summariseIssues(parsed.error)}`);
      }
      const response = parsed.data;
      return {
        status: 'found',
        value: {
          format: response.format,
          namespace: response.namespace ?? undefined,
          package: response.package,
          version: response.version,
          versionRevision: response.versionRevision,
          assets: response.assets.map((a) => ({ name: a.name, size: a.size, hashes: a.hashes })),
        },
      };
    },

    async packageVersionOrigin(ref: PackageVersionRef): Promise<LookupResult<PackageVersionOrigin>> {
      const read = await readPackageVersionFile('DescribePackageVersion', ref, 'package version origin');
      if ('status' in read) return read;
      const parsed = describeResponseSchema.safeParse(read.json);
      if (!parsed.success) {
        return unavailable(`recorded file ${read.file} is not a DescribePackageVersion response: ${summariseIssues(parsed.error)}`);
      }
      const { origin, status } = parsed.data.packageVersion;
      const entry = origin?.domainEntryPoint;
      return {
        status: 'found',
        value: {
          originType: origin?.originType ?? 'UNKNOWN',
          ...(entry?.externalConnectionName ? { externalConnectionName: entry.externalConnectionName } : {}),
          ...(entry?.repositoryName ? { repositoryName: entry.repositoryName } : {}),
          ...(status ? { status } : {}),
        },
      };
    },

    async trails(): Promise<LookupResult<readonly TrailInfo[]>> {
      const read = await readJson(['cloudtrail', 'DescribeTrails.json']);
      if ('status' in read) return read;
      const parsed = describeTrailsSchema.safeParse(read.json);
      if (!parsed.success) return unavailable(`recorded file ${read.file} is not a DescribeTrails response: ${summariseIssues(parsed.error)}`);
      return { status: 'found', value: parsed.data.trailList.map(trailInfo) };
    },

    async ecrImage(ref: EcrImageRef): Promise<LookupResult<EcrImageDetail>> {
      const bad = badPathPart('repository', ref.repository, true);
      if (bad !== undefined) return unavailable(`cannot look up ECR image offline: ${bad}`);
      const segments = ref.repository.split('/');
      const last = segments.pop() as string;
      const read = await readJson(['ecr', 'DescribeImages', ...segments, `${last}.json`]);
      if ('status' in read) return read;
      const parsed = describeImagesSchema.safeParse(read.json);
      if (!parsed.success) return unavailable(`recorded file ${read.file} is not a DescribeImages response: ${summariseIssues(parsed.error)}`);
      // A recording of another account's repository of the same name is not this one.
      const detail = parsed.data.imageDetails.find(
        (image) => image.imageTags.includes(ref.tag) && (image.registryId === undefined || image.registryId === ref.registryId),
      );
      if (detail === undefined) return { status: 'missing' };
      const pushedAt = isoTime(detail.imagePushedAt);
      return { status: 'found', value: { digest: detail.imageDigest, tags: detail.imageTags, ...(pushedAt ? { pushedAt } : {}) } };
    },

    async codeBuildFleet(nameOrArn: string): Promise<LookupResult<CodeBuildFleet>> {
      const fileName = fleetNameFromArn(nameOrArn);
      const bad = badPathPart('fleet name', fileName, false);
      if (bad !== undefined) return unavailable(`cannot look up CodeBuild fleet offline: ${bad}`);
      const read = await readJson(['codebuild', 'BatchGetFleets', `${fileName}.json`]);
      if ('status' in read) return read;
      // Either the whole API response or just the fleet object.
      const isResponse = typeof read.json === 'object' && read.json !== null && ('fleets' in read.json || 'fleetsNotFound' in read.json);
      const parsed = isResponse
        ? batchGetFleetsSchema.safeParse(read.json)
        : fleetSchema.transform((fleet) => ({ fleets: [fleet], fleetsNotFound: [] })).safeParse(read.json);
      if (!parsed.success) return unavailable(`recorded file ${read.file} is not a BatchGetFleets response: ${summariseIssues(parsed.error)}`);
      const fleet = parsed.data.fleets.find((f) => f.name === nameOrArn || f.arn === nameOrArn);
      return fleet === undefined ? { status: 'missing' } : { status: 'found', value: fleet };
    },

    async codeBuildProject(name: string): Promise<LookupResult<CodeBuildProject>> {
      // BatchGetProjects also takes ARNs (UpdateProjectVisibility only names the project by ARN).
      const fileName = name.startsWith('arn:') ? name.slice(name.lastIndexOf('/') + 1) : name;
      const bad = badPathPart('project name', fileName, false);
      if (bad !== undefined) return unavailable(`cannot look up CodeBuild project offline: ${bad}`);
      const read = await readJson(['codebuild', 'BatchGetProjects', `${fileName}.json`]);
      if ('status' in read) return read;

      // Either the whole API response or just the project object.
      const isResponse =
        typeof read.json === 'object' && read.json !== null && ('projects' in read.json || 'projectsNotFound' in read.json);
      const parsed = isResponse
        ? batchGetProjectsSchema.safeParse(read.json)
        : projectSchema.transform((project) => ({ projects: [project], projectsNotFound: [] })).safeParse(read.json);
      if (!parsed.success) {
        return unavailable(`recorded file ${read.file} is not a BatchGetProjects response: ${summariseIssues(parsed.error)}`);
      }
      const project = parsed.data.projects.find((p) => p.name === name || p.arn === name);
      return project === undefined ? { status: 'missing' } : { status: 'found', value: project };
    },
  };
}
