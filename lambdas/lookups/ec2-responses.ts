/**
 * EC2 DescribeInstances and DescribeLaunchTemplateVersions answers, read the same way whether they
 * come from the SDK (JSON round-tripped, so dates are ISO strings) or from a recorded file (the AWS
 * CLI prints the same PascalCase fields). Unknown fields are ignored; the shapes are checked by zod.
 */
import * as z from 'zod';
import type { Ec2InstanceDetail, LaunchTemplateVersionDetail } from './lookups.js';

/** The tags EC2 and EC2 Auto Scaling put on the instances they launch. */
export const ASG_NAME_TAG = 'aws:autoscaling:groupName';
export const LAUNCH_TEMPLATE_ID_TAG = 'aws:ec2launchtemplate:id';
export const LAUNCH_TEMPLATE_VERSION_TAG = 'aws:ec2launchtemplate:version';

/** An instance has at most 50 tags; anything beyond is not an EC2 answer. */
const MAX_TAGS = 50;

const tagSchema = z.looseObject({ Key: z.string(), Value: z.string().default('') });

const instanceSchema = z.looseObject({
  InstanceId: z.string().min(1),
  ImageId: z.string().optional(),
  IamInstanceProfile: z.looseObject({ Arn: z.string().optional() }).optional(),
  Tags: z.array(tagSchema).default([]),
  SecurityGroups: z.array(z.looseObject({ GroupId: z.string().optional() })).default([]),
});

export const describeInstancesSchema = z.looseObject({
  Reservations: z.array(z.looseObject({ Instances: z.array(instanceSchema).default([]) })).default([]),
});

/** The asked-for instance in a DescribeInstances answer, or undefined when it is not there. */
export function instanceDetail(response: z.output<typeof describeInstancesSchema>, instanceId: string): Ec2InstanceDetail | undefined {
  const instance = response.Reservations.flatMap((reservation) => reservation.Instances).find((candidate) => candidate.InstanceId === instanceId);
  if (!instance) return undefined;
  const tags = instance.Tags.slice(0, MAX_TAGS).map((tag) => [tag.Key, tag.Value] as const);
  const tag = (key: string): string | undefined => tags.find(([name]) => name === key)?.[1] || undefined;
  const asg = tag(ASG_NAME_TAG);
  const templateId = tag(LAUNCH_TEMPLATE_ID_TAG);
  const templateVersion = tag(LAUNCH_TEMPLATE_VERSION_TAG);
  return {
    instanceId: instance.InstanceId,
    tags,
    ...(asg ? { autoScalingGroup: asg } : {}),
    ...(templateId ? { launchTemplateId: templateId } : {}),
    ...(templateVersion ? { launchTemplateVersion: templateVersion } : {}),
    ...(instance.ImageId ? { imageId: instance.ImageId } : {}),
    ...(instance.IamInstanceProfile?.Arn ? { instanceProfileArn: instance.IamInstanceProfile.Arn } : {}),
    securityGroups: instance.SecurityGroups.flatMap((group) => (group.GroupId ? [group.GroupId] : [])),
  };
}

const launchTemplateVersionSchema = z.looseObject({
  LaunchTemplateId: z.string().min(1),
  LaunchTemplateName: z.string().optional(),
  VersionNumber: z.number().int(),
  DefaultVersion: z.boolean().default(false),
  CreateTime: z.union([z.string(), z.number()]).optional(),
  LaunchTemplateData: z
    .looseObject({
      ImageId: z.string().optional(),
      UserData: z.string().optional(),
      IamInstanceProfile: z.looseObject({ Arn: z.string().optional(), Name: z.string().optional() }).optional(),
      SecurityGroupIds: z.array(z.string()).default([]),
      NetworkInterfaces: z.array(z.looseObject({ Groups: z.array(z.string()).default([]) })).default([]),
    })
    .default({ SecurityGroupIds: [], NetworkInterfaces: [] }),
});

export const describeLaunchTemplateVersionsSchema = z.looseObject({
  LaunchTemplateVersions: z.array(launchTemplateVersionSchema).default([]),
});

function isoTime(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** The default version of the asked-for template (by id or name) in a DescribeLaunchTemplateVersions answer. */
export function defaultVersionDetail(response: z.output<typeof describeLaunchTemplateVersionsSchema>, idOrName: string): LaunchTemplateVersionDetail | undefined {
  const version = response.LaunchTemplateVersions.find(
    (candidate) => candidate.DefaultVersion && (candidate.LaunchTemplateId === idOrName || candidate.LaunchTemplateName === idOrName),
  );
  if (!version) return undefined;
  const data = version.LaunchTemplateData;
  const profile = data.IamInstanceProfile?.Arn ?? data.IamInstanceProfile?.Name;
  const createTime = isoTime(version.CreateTime);
  const groups = [...data.SecurityGroupIds, ...data.NetworkInterfaces.flatMap((nic) => nic.Groups)];
  return {
    launchTemplateId: version.LaunchTemplateId,
    ...(version.LaunchTemplateName ? { launchTemplateName: version.LaunchTemplateName } : {}),
    versionNumber: version.VersionNumber,
    defaultVersion: version.DefaultVersion,
    ...(createTime ? { createTime } : {}),
    ...(data.ImageId ? { imageId: data.ImageId } : {}),
    ...(data.UserData ? { userData: data.UserData } : {}),
    ...(profile ? { instanceProfile: profile } : {}),
    securityGroups: [...new Set(groups)].sort(),
  };
}

/** A zod error in a line: the first few issues with their paths. */
export function summariseZodIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
