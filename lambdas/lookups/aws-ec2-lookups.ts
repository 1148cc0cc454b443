/**
 * The EC2 look-ups answered by the AWS SDK (build.host-access: instance → host group; the backfill:
 * launch templates). A module of their own: the EC2 client carries EC2's whole API schema (about
 * 550 KB minified, even tree-shaken), so only handlers that ask EC2 bundle it (the detect handler,
 * not the correlation sweep). As in aws-lookups.ts, nothing here throws.
 */
import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { unavailable } from './lookup-failure.js';
import { defaultVersionDetail, describeInstancesSchema, describeLaunchTemplateVersionsSchema, instanceDetail, summariseZodIssues } from './ec2-responses.js';
import type { Ec2InstanceDetail, Ec2InstanceRef, LaunchTemplateRef, LaunchTemplateVersionDetail, LookupResult, Lookups } from './lookups.js';

export type Ec2Lookups = Required<Pick<Lookups, 'ec2Instance' | 'launchTemplateDefaultVersion'>>;

/** EC2 error codes that mean "no such instance / launch template" rather than "could not ask". */
const EC2_NOT_FOUND = new Set([
  'InvalidInstanceID.NotFound',
  'InvalidInstanceID.Malformed',
  'InvalidLaunchTemplateId.NotFound',
  'InvalidLaunchTemplateId.Malformed',
  'InvalidLaunchTemplateName.NotFoundException',
  'InvalidLaunchTemplateName.MalformedException',
]);

function notFound(error: unknown): boolean {
  return error instanceof Error && EC2_NOT_FOUND.has(error.name);
}

/** One client per region, created on first use. */
export function ec2ClientsByRegion(): (region: string) => EC2Client {
  const clients = new Map<string, EC2Client>();
  return (region) => {
    let client = clients.get(region);
    if (!client) clients.set(region, (client = new EC2Client({ region })));
    return client;
  };
}

/** `clientFor`: the EC2 client of a region (an event names its region). */
export function createAwsEc2Lookups(clientFor: (region: string) => EC2Client = ec2ClientsByRegion()): Ec2Lookups {
  return {
    async ec2Instance(ref: Ec2InstanceRef): Promise<LookupResult<Ec2InstanceDetail>> {
      try {
        const output = await clientFor(ref.region).send(new DescribeInstancesCommand({ InstanceIds: [ref.instanceId] }));
        // Plain JSON (Dates become ISO strings), read like a recorded response.
        const parsed = describeInstancesSchema.safeParse(JSON.parse(JSON.stringify(output)));
        if (!parsed.success) return { status: 'unavailable', reason: `DescribeInstances answer not understood: ${summariseZodIssues(parsed.error)}` };
        const detail = instanceDetail(parsed.data, ref.instanceId);
        return detail ? { status: 'found', value: detail } : { status: 'missing' };
      } catch (error) {
        return notFound(error) ? { status: 'missing' } : unavailable(error);
      }
    },

    async launchTemplateDefaultVersion(ref: LaunchTemplateRef): Promise<LookupResult<LaunchTemplateVersionDetail>> {
      try {
        const byId = /^lt-[0-9a-f]{8,17}$/.test(ref.idOrName);
        const output = await clientFor(ref.region).send(
          new DescribeLaunchTemplateVersionsCommand({ ...(byId ? { LaunchTemplateId: ref.idOrName } : { LaunchTemplateName: ref.idOrName }), Versions: ['$Default'] }),
        );
        const parsed = describeLaunchTemplateVersionsSchema.safeParse(JSON.parse(JSON.stringify(output)));
        if (!parsed.success) return { status: 'unavailable', reason: `DescribeLaunchTemplateVersions answer not understood: ${summariseZodIssues(parsed.error)}` };
        const detail = defaultVersionDetail(parsed.data, ref.idOrName);
        return detail ? { status: 'found', value: detail } : { status: 'missing' };
      } catch (error) {
        return notFound(error) ? { status: 'missing' } : unavailable(error);
      }
    },
  };
}
