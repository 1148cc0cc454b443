/**
 * The detect and sweep functions' look-ups: the function's own clients, and in an organisation
 * deployment clients per member account and region through the member look-up role.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CodeartifactClient } from '@aws-sdk/client-codeartifact';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { BuildwatchConfig } from '../config/config.js';
import { lookupExternalId, memberLookupRoleName } from '../config/organization.js';
import { createAwsLookups, type AwsLookupClients } from '../lookups/aws-lookups.js';
import type { Lookups } from '../lookups/lookups.js';
import { createOrganizationLookups, type AwsCredentialIdentityProvider } from '../lookups/organization-lookups.js';

function clientsFor(region?: string, credentials?: AwsCredentialIdentityProvider): AwsLookupClients {
  const options = { ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) };
  return { s3: new S3Client(options), codeartifact: new CodeartifactClient(options), codebuild: new CodeBuildClient(options), cloudtrail: new CloudTrailClient(options) };
}

/**
 * Look-ups a function adds to the common ones, per account and region (region undefined: the
 * function's own, whose look-ups follow the event's region themselves). Kept out of this module so
 * a function that needs no EC2 does not bundle its client.
 */
export type ExtendLookups = (lookups: Lookups, region: string | undefined, credentials?: AwsCredentialIdentityProvider) => Lookups;

export function awsLookupsFor(config: BuildwatchConfig, extend: ExtendLookups = (lookups) => lookups): Lookups {
  const organization = config.organization;
  if (!organization) return extend(createAwsLookups(clientsFor()), undefined);
  return createOrganizationLookups({
    centralAccount: organization.central.account,
    centralRegion: organization.central.region,
    roleName: memberLookupRoleName(config.monitor.resourcePrefix),
    externalId: lookupExternalId(organization.id),
    sts: new STSClient({ region: organization.central.region }),
    organizations: new OrganizationsClient({ region: organization.central.region }),
    clientsFor,
    extend,
  });
}
