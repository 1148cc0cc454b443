/**
 * Cross-account look-ups: the central detect role may assume each member's read-only look-up role
 * (in the organisation, or a listed member account); the look-up role allows exactly the reads of
 * lambdas/lookups/aws-lookups.ts, scoped by every pipeline the configuration names (the top-level one
 * and each account's own), in its own account and any region (the role is global, the look-ups regional).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { BuildwatchConfig, OrganizationConfig, PipelineConfig } from '../../lambdas/config/config.js';
import { memberLookupRoleName } from '../../lambdas/config/organization.js';
import { sbomBucketArns, sbomObjectArns } from '../../lambdas/use-cases/dependencies/sbom-locations.js';
import { PACKAGE_LOOKUP_ACTIONS, buildProjectArns, hostLookupStatements, packageArns, type ArnParts } from '../constructs/detector.js';

/** The ARN of every member's look-up role: any account (the condition or the list says which). */
export function memberLookupRoleArn(partition: string, resourcePrefix: string, account = '*'): string {
  return `arn:${partition}:iam::${account}:role/${memberLookupRoleName(resourcePrefix)}`;
}

/** What the central detect role adds: AssumeRole on the members' look-up roles, and nothing else. */
export function assumeLookupRoleStatements(org: OrganizationConfig, resourcePrefix: string, partition: string): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'AssumeMemberLookupRolesInOrganization',
      actions: ['sts:AssumeRole'],
      resources: [memberLookupRoleArn(partition, resourcePrefix)],
      conditions: { StringEquals: { 'aws:ResourceOrgID': org.id } },
    }),
  ];
  if (org.members.accounts.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'AssumeListedMemberLookupRoles',
        actions: ['sts:AssumeRole'],
        resources: org.members.accounts.map((account) => memberLookupRoleArn(partition, resourcePrefix, account)),
      }),
    );
  }
  return statements;
}

/** Every pipeline the configuration names: the top-level one and each account's own. */
export function allPipelines(config: BuildwatchConfig): PipelineConfig[] {
  return [config.pipeline, ...(config.organization?.accounts ?? []).flatMap((account) => (account.pipeline ? [account.pipeline] : []))];
}

/** The ARNs of all lists; a `…/*` wildcard (a pipeline watching every project) makes the names under it redundant. */
const union = (lists: string[][]): string[] => {
  const all = [...new Set(lists.flat())].sort();
  const wildcards = all.filter((arn) => arn.endsWith('/*')).map((arn) => arn.slice(0, -1));
  return all.filter((arn) => arn.endsWith('/*') || !wildcards.some((prefix) => arn.startsWith(prefix)));
};

/** What the look-up role may read, as ARNs in `parts` (the member's account, any region). */
export function memberLookupResources(config: BuildwatchConfig, parts: ArnParts) {
  const pipelines = allPipelines(config).map((pipeline) => ({ ...config, pipeline }));
  return {
    projects: union(pipelines.map((c) => buildProjectArns(c, parts))),
    packages: union(pipelines.map((c) => packageArns(c, parts))),
    objects: union(pipelines.map((c) => sbomObjectArns(c, parts.partition))),
    buckets: union(pipelines.map((c) => sbomBucketArns(c, parts.partition))),
    fleets: [`arn:${parts.partition}:codebuild:${parts.region}:${parts.account}:fleet/*`],
    repositories: [`arn:${parts.partition}:ecr:${parts.region}:${parts.account}:repository/*`],
  };
}

/** The look-up role's permissions: read-only, one statement per look-up of aws-lookups.ts. */
export function memberLookupStatements(config: BuildwatchConfig, parts: ArnParts): iam.PolicyStatement[] {
  const r = memberLookupResources(config, parts);
  const statements = [
    new iam.PolicyStatement({ sid: 'BuildProjects', actions: ['codebuild:BatchGetProjects'], resources: r.projects }),
    new iam.PolicyStatement({ sid: 'BuildFleets', actions: ['codebuild:BatchGetFleets'], resources: r.fleets }),
    new iam.PolicyStatement({ sid: 'BuildImages', actions: ['ecr:DescribeImages'], resources: r.repositories }),
    // DescribeTrails has no resource-level permissions (it lists the region's trails).
    new iam.PolicyStatement({ sid: 'Trails', actions: ['cloudtrail:DescribeTrails'], resources: ['*'] }),
  ];
  if (r.packages.length > 0) statements.push(new iam.PolicyStatement({ sid: 'PackageVersions', actions: [...PACKAGE_LOOKUP_ACTIONS], resources: r.packages }));
  if (r.objects.length > 0) {
    statements.push(new iam.PolicyStatement({ sid: 'SbomObjects', actions: ['s3:GetObject'], resources: r.objects }));
    // Without it S3 answers a missing SBOM with AccessDenied instead of NoSuchKey.
    statements.push(new iam.PolicyStatement({ sid: 'SbomBuckets', actions: ['s3:ListBucket'], resources: r.buckets }));
  }
  // Self-hosted build hosts named by tag, Auto Scaling group or launch template: EC2 Describe* has no
  // resource-level permissions, so it is held to the watched regions.
  if (config.organization) statements.push(...hostLookupStatements(config, { region: config.organization.members.regions }));
  return statements;
}
