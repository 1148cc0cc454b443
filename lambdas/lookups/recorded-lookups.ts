/**
 * Look-ups answered from a recorded-responses directory (ARCHITECTURE.md, "AWS look-ups"), for
 * offline replay and tests. Layout under `dir`:
 *   s3/<bucket>/<key>
 *   codeartifact/ListPackageVersionAssets/<domain>/<repository>/<format>/<namespace or _>/<package>/<version>.json
 *   codeartifact/DescribePackageVersion/<domain>/<repository>/<format>/<namespace or _>/<package>/<version>.json
 *   codebuild/BatchGetProjects/<project>.json
 *   codebuild/BatchGetFleets/<fleet name>.json (the response, or just the fleet)
 *   cloudtrail/DescribeTrails.json (the `aws cloudtrail describe-trails` output)
 *   organizations/ListAccounts.json (the `aws organizations list-accounts` output; absent: unavailable)
 *   accounts/<account>/[<region>/]… the same layout for one account (and region) of an organisation
 *   ecr/DescribeImages/<repository>.json (`aws ecr describe-images --repository-name <repository>`;
 *     a repository name with slashes is a nested path; the tag's image is found by its imageTags)
 *   ec2/DescribeInstances/<instance id>.json (`aws ec2 describe-instances --instance-ids <id>`)
 *   ec2/DescribeLaunchTemplateVersions/<launch template id or name>.json
 *     (`aws ec2 describe-launch-template-versions --launch-template-id <id> --versions '$Default'`;
 *     the version marked DefaultVersion is the answer)
 * Recordings are of one account and region: the ref's region is not part of the path.
 * Like the AWS implementation, every failure is an outcome, never a throw.
 */
import { statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as z from 'zod';
import { defaultVersionDetail, describeInstancesSchema, describeLaunchTemplateVersionsSchema, instanceDetail } from './ec2-responses.js';
import { fleetNameFromArn } from './lookups.js';
import type {
  CodeBuildFleet,
  CodeBuildProject,
  Ec2InstanceDetail,
  Ec2InstanceRef,
  LaunchTemplateRef,
  LaunchTemplateVersionDetail,
  EcrImageDetail,
  EcrImageRef,
  LookupResult,
  Lookups,
  PackageVersionAssets,
  PackageVersionOrigin,
  OrganizationAccountInfo,
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

/** ListAccounts as the CLI prints it (`aws organizations list-accounts`): PascalCase fields. */
const listAccountsSchema = z.looseObject({
  Accounts: z.array(z.looseObject({ Id: z.string().regex(/^\d{12}$/), Name: z.string().optional(), State: z.string().optional(), Status: z.string().optional() })),
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

  const lookups: Lookups = {
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

    async organizationAccounts(): Promise<LookupResult<readonly OrganizationAccountInfo[]>> {
      const read = await readJson(['organizations', 'ListAccounts.json']);
      // An organisation always has accounts: no recording means "not asked", not "none".
      if ('status' in read) return read.status === 'missing' ? unavailable('no recorded organizations/ListAccounts.json') : read;
      const parsed = listAccountsSchema.safeParse(read.json);
      if (!parsed.success) return unavailable(`recorded file ${read.file} is not a ListAccounts response: ${summariseIssues(parsed.error)}`);
      return {
        status: 'found',
        value: parsed.data.Accounts.map((account) => {
          const status = account.State ?? account.Status;
          return { id: account.Id, ...(account.Name ? { name: account.Name } : {}), ...(status ? { status } : {}) };
        }),
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

    async ec2Instance(ref: Ec2InstanceRef): Promise<LookupResult<Ec2InstanceDetail>> {
      const bad = badPathPart('instance id', ref.instanceId, false);
      if (bad !== undefined) return unavailable(`cannot look up EC2 instance offline: ${bad}`);
      const read = await readJson(['ec2', 'DescribeInstances', `${ref.instanceId}.json`]);
      if ('status' in read) return read;
      const parsed = describeInstancesSchema.safeParse(read.json);
      if (!parsed.success) return unavailable(`recorded file ${read.file} is not a DescribeInstances response: ${summariseIssues(parsed.error)}`);
      const detail = instanceDetail(parsed.data, ref.instanceId);
      return detail ? { status: 'found', value: detail } : { status: 'missing' };
    },

    async launchTemplateDefaultVersion(ref: LaunchTemplateRef): Promise<LookupResult<LaunchTemplateVersionDetail>> {
      const bad = badPathPart('launch template', ref.idOrName, false);
      if (bad !== undefined) return unavailable(`cannot look up launch template offline: ${bad}`);
      const read = await readJson(['ec2', 'DescribeLaunchTemplateVersions', `${ref.idOrName}.json`]);
      if ('status' in read) return read;
      const parsed = describeLaunchTemplateVersionsSchema.safeParse(read.json);
      if (!parsed.success) return unavailable(`recorded file ${read.file} is not a DescribeLaunchTemplateVersions response: ${summariseIssues(parsed.error)}`);
      const detail = defaultVersionDetail(parsed.data, ref.idOrName);
      return detail ? { status: 'found', value: detail } : { status: 'missing' };
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
  // Organisation replays: `accounts/<account>/<region>/` or `accounts/<account>/` answers for that
  // account's events (two accounts may both have a `payments-build` project); else this directory.
  const places = new Map<string, Lookups>();
  const inAccount = (account: string, region: string): Lookups => {
    const key = `${account}/${region}`;
    let found = places.get(key);
    if (!found) {
      const candidates = badPathPart('account', account, false) || badPathPart('region', region, false) ? [] : [join(root, 'accounts', account, region), join(root, 'accounts', account)];
      const dir = candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isDirectory());
      // The organisation's accounts are the organisation's, whichever account asks.
      found = dir ? { ...createRecordedLookups(dir), ...(lookups.organizationAccounts ? { organizationAccounts: lookups.organizationAccounts } : {}) } : lookups;
      places.set(key, found);
    }
    return found;
  };
  return { ...lookups, inAccount };
}
