/**
 * The one small interface through which use cases ask AWS about the world (ARCHITECTURE.md, "AWS
 * look-ups"). Two implementations: the AWS SDK (cloud) and a recorded-responses directory (offline).
 * A missing object or a failed call is an outcome, never a throw.
 */

export type LookupResult<T> =
  | { readonly status: 'found'; readonly value: T }
  /** The thing does not exist (S3 NoSuchKey, CodeArtifact ResourceNotFound, project absent). */
  | { readonly status: 'missing' }
  /** Could not ask (no recorded directory offline, throttling, access denied): retry or report. */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface PackageVersionRef {
  readonly domain: string;
  readonly domainOwner?: string;
  readonly repository: string;
  readonly format: string;
  /** Absent or empty for packages without a namespace (npm without a scope). */
  readonly namespace?: string | null;
  readonly package: string;
  readonly version: string;
}

export interface PackageVersionAsset {
  readonly name: string;
  readonly size?: number;
  /** Keys as the API returns them: "MD5", "SHA-1", "SHA-256", "SHA-512". */
  readonly hashes: Readonly<Record<string, string>>;
}

export interface PackageVersionAssets {
  readonly format?: string;
  readonly namespace?: string;
  readonly package?: string;
  readonly version?: string;
  readonly versionRevision?: string;
  readonly assets: readonly PackageVersionAsset[];
}

/** Where a package version came from (DescribePackageVersion's `origin`, and its status). */
export interface PackageVersionOrigin {
  /** INTERNAL: published to the domain; EXTERNAL: fetched through an external connection; UNKNOWN. */
  readonly originType: string;
  /** The external connection (e.g. `public:npmjs`) or repository it entered the domain through. */
  readonly externalConnectionName?: string;
  readonly repositoryName?: string;
  readonly status?: string;
}

/** The project as CodeBuild's BatchGetProjects returns it (a JSON object; fields vary by project). */
export type CodeBuildProject = Readonly<Record<string, unknown>>;

/** A trail as CloudTrail's DescribeTrails returns it: where its logs go and what encrypts them. */
export interface TrailInfo {
  readonly name: string;
  readonly trailArn?: string;
  readonly s3BucketName?: string;
  readonly s3KeyPrefix?: string;
  readonly kmsKeyId?: string;
}

/** A tag in an ECR repository, as a build image URI names it (`<registryId>.dkr.ecr.<region>…/<repository>:<tag>`). */
export interface EcrImageRef {
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly tag: string;
}

/** What ECR's DescribeImages says about the image a tag points to now. */
export interface EcrImageDetail {
  readonly digest: string;
  /** Every tag on that image (the asked-for tag among them). */
  readonly tags: readonly string[];
  /** ISO time of the push, when ECR gives it. */
  readonly pushedAt?: string;
}

/** A compute fleet as CodeBuild's BatchGetFleets returns it (a JSON object; fields vary by fleet). */
export type CodeBuildFleet = Readonly<Record<string, unknown>>;

/** An EC2 instance to resolve, in the region the event names. */
export interface Ec2InstanceRef {
  readonly instanceId: string;
  readonly region: string;
}

/** What EC2 DescribeInstances says about an instance: what a host group can select it by. */
export interface Ec2InstanceDetail {
  readonly instanceId: string;
  /** Tags as [key, value] pairs (keys come from AWS: never an object's own keys). */
  readonly tags: readonly (readonly [string, string])[];
  /** From the `aws:autoscaling:groupName` tag EC2 Auto Scaling puts on instances it launches. */
  readonly autoScalingGroup?: string;
  /** From the `aws:ec2launchtemplate:id` / `:version` tags EC2 puts on instances launched from a template. */
  readonly launchTemplateId?: string;
  readonly launchTemplateVersion?: string;
  readonly imageId?: string;
  readonly instanceProfileArn?: string;
  readonly securityGroups: readonly string[];
}

/** A launch template to read, by id (lt-…) or name, in a region. */
export interface LaunchTemplateRef {
  readonly idOrName: string;
  readonly region: string;
}

/** A launch template version as DescribeLaunchTemplateVersions gives it: what the hosts boot. */
export interface LaunchTemplateVersionDetail {
  readonly launchTemplateId: string;
  readonly launchTemplateName?: string;
  readonly versionNumber: number;
  readonly defaultVersion: boolean;
  /** ISO time the version was created, when EC2 gives it. */
  readonly createTime?: string;
  readonly imageId?: string;
  /** Base64 user data as EC2 returns it (may hold secrets: hash it before storing). */
  readonly userData?: string;
  /** Instance profile ARN or name. */
  readonly instanceProfile?: string;
  /** SecurityGroupIds and the network interfaces' groups. */
  readonly securityGroups: readonly string[];
}

export interface Lookups {
  s3Object(bucket: string, key: string): Promise<LookupResult<Uint8Array>>;
  packageVersionAssets(ref: PackageVersionRef): Promise<LookupResult<PackageVersionAssets>>;
  codeBuildProject(name: string): Promise<LookupResult<CodeBuildProject>>;
  /** CodeArtifact DescribePackageVersion's origin. Optional: callers treat its absence as unavailable. */
  packageVersionOrigin?(ref: PackageVersionRef): Promise<LookupResult<PackageVersionOrigin>>;
  /** CloudTrail DescribeTrails (this region's trails and shadow trails). Optional: absent is unavailable. */
  trails?(): Promise<LookupResult<readonly TrailInfo[]>>;
  /** ECR DescribeImages for one tag. Optional: absent is unavailable. */
  ecrImage?(ref: EcrImageRef): Promise<LookupResult<EcrImageDetail>>;
  /** CodeBuild BatchGetFleets for one fleet, by name or ARN. Optional: absent is unavailable. */
  codeBuildFleet?(nameOrArn: string): Promise<LookupResult<CodeBuildFleet>>;
  /** EC2 DescribeInstances for one instance. Optional: absent is unavailable. */
  ec2Instance?(ref: Ec2InstanceRef): Promise<LookupResult<Ec2InstanceDetail>>;
  /** EC2 DescribeLaunchTemplateVersions, the default version (`$Default`). Optional: absent is unavailable. */
  launchTemplateDefaultVersion?(ref: LaunchTemplateRef): Promise<LookupResult<LaunchTemplateVersionDetail>>;
  /** Organizations ListAccounts: the organisation's accounts. Optional: absent is unavailable. */
  organizationAccounts?(): Promise<LookupResult<readonly OrganizationAccountInfo[]>>;
  /**
   * The same look-ups made in another account and region (organisation deployments: through the
   * member's look-up role). Absent: every look-up is made where this one is.
   */
  inAccount?(account: string, region: string): Lookups;
}

/** An account of the organisation as Organizations ListAccounts returns it. */
export interface OrganizationAccountInfo {
  readonly id: string;
  readonly name?: string;
  /** ACTIVE, SUSPENDED, PENDING_CLOSURE. */
  readonly status?: string;
}

/** Offline without --recorded: every look-up is unavailable, said plainly. */
export const noLookups: Lookups = {
  s3Object: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  packageVersionAssets: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  codeBuildProject: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  packageVersionOrigin: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  trails: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  ecrImage: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  codeBuildFleet: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  ec2Instance: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
  launchTemplateDefaultVersion: async () => ({ status: 'unavailable', reason: 'no recorded look-ups directory (--recorded) given' }),
};

/** The fleet name in `arn:aws:codebuild:<region>:<account>:fleet/<name>:<id>`, or the name itself. */
export function fleetNameFromArn(nameOrArn: string): string {
  const match = /:fleet\/([^:/]+)/.exec(nameOrArn);
  return nameOrArn.startsWith('arn:') && match ? (match[1] as string) : nameOrArn;
}
