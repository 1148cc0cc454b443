/** The detect function's EC2 look-ups (self-hosted build hosts), in the account and region asked. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { createAwsEc2Lookups, ec2ClientsByRegion } from '../lookups/aws-ec2-lookups.js';
import { withInstanceCache } from '../lookups/instance-cache.js';
import type { Lookups } from '../lookups/lookups.js';
import type { ExtendLookups } from './lookup-clients.js';

/**
 * Adds DescribeInstances and DescribeLaunchTemplateVersions, their answers cached a while. The
 * function's own clients follow the event's region; a member's are made with its look-up role in its region.
 */
export const withEc2Lookups: ExtendLookups = (lookups: Lookups, region, credentials) => {
  if (region === undefined) return withInstanceCache({ ...lookups, ...createAwsEc2Lookups(ec2ClientsByRegion()) });
  const client = new EC2Client({ region, ...(credentials ? { credentials } : {}) });
  return withInstanceCache({ ...lookups, ...createAwsEc2Lookups(() => client) });
};
