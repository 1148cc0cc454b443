/**
 * The functions' AWS look-ups with their SDK clients loaded on first use (issue #15, goal 4). The
 * detect function's hot path is DynamoDB and SQS; the look-up clients (S3, CodeArtifact, CodeBuild,
 * CloudTrail, ECR, and STS and Organizations in an organisation; EC2 apart, by far the largest) are
 * evaluated by the first event that asks AWS something, not by every cold start. Nothing of them
 * may be imported statically here: only types, and `import()` of the modules that hold them.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { deferredLookupMethods, deferredLookups, type OptionalLookupName } from '../lookups/deferred-lookups.js';
import type { Lookups } from '../lookups/lookups.js';
import type { ExtendLookups } from './lookup-clients.js';

/** The optional look-ups createAwsLookups gives (aws-lookups.ts). */
const AWS_LOOKUPS: readonly OptionalLookupName[] = ['packageVersionOrigin', 'trails', 'ecrImage', 'codeBuildFleet'];
/** What withEc2Lookups adds (ec2-lookup-clients.ts). */
const EC2_LOOKUPS: readonly OptionalLookupName[] = ['ec2Instance', 'launchTemplateDefaultVersion'];

/** withEc2Lookups, its EC2 client module loaded by the first EC2 look-up of any account and region. */
export const withDeferredEc2Lookups: ExtendLookups = (lookups, region, credentials) => ({
  ...lookups,
  ...deferredLookupMethods(async () => (await import('./ec2-lookup-clients.js')).withEc2Lookups(lookups, region, credentials), EC2_LOOKUPS),
});

/** awsLookupsFor (lookup-clients.ts), with EC2's look-ups if `ec2`, each client module loaded on first use. */
export function deferredAwsLookupsFor(config: BuildwatchConfig, options: { readonly ec2?: boolean } = {}): Lookups {
  const organization = config.organization !== undefined;
  return deferredLookups(
    async () => (await import('./lookup-clients.js')).awsLookupsFor(config, options.ec2 ? withDeferredEc2Lookups : undefined),
    { optional: [...AWS_LOOKUPS, ...(organization ? (['organizationAccounts'] as const) : []), ...(options.ec2 ? EC2_LOOKUPS : [])], inAccount: organization },
  );
}
