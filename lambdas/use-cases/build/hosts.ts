/**
 * Self-hosted build hosts (Jenkins agents, GitLab/GitHub runners, TeamCity agents on EC2), named in
 * `useCases.<id>.options.hostGroups`: each group by instance ids, tags, Auto Scaling group names,
 * launch templates (id or name) and security groups. CloudTrail names instances only by id, so an
 * event on an instance is tied to a group by its id; calls that target by tag (SSM `targets`) are
 * tied by the tag, and `tag:aws:autoscaling:groupName` by the Auto Scaling group.
 * An instance id no group lists is resolved with EC2 DescribeInstances (groupsOfInstance): its tags,
 * the Auto Scaling group and launch template EC2 tagged it with at launch.
 */
import * as z from 'zod';
import { builtOnFirstUse } from '../../engine/use-case.js';
import { isRecord } from '../../engine/pipeline-event.js';
import { redact, redactText } from '../../engine/redact.js';
import type { Ec2InstanceDetail } from '../../lookups/lookups.js';

const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;
/** The tag EC2 Auto Scaling puts on every instance it launches. */
const ASG_TAG = 'aws:autoscaling:groupName';

const tagSchema = builtOnFirstUse(() => z.strictObject({
  key: z.string().min(1).max(128),
  /** Any of these values matches. */
  values: z.array(z.string().max(256)).min(1).max(50),
}));

export const hostGroupSchema = builtOnFirstUse(() => z.strictObject({
  /** Shown in findings and used as the first-seen scope: keep it stable. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
  instanceIds: z.array(z.string().regex(INSTANCE_ID, 'an instance id (i-… or mi-…)')).max(500).default([]),
  tags: z.array(tagSchema).max(20).default([]),
  autoScalingGroups: z.array(z.string().min(1).max(255)).max(50).default([]),
  /** Launch template ids (lt-…) or names. */
  launchTemplates: z.array(z.string().min(1).max(128)).max(50).default([]),
  securityGroups: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'a security group id (sg-…)')).max(50).default([]),
}));

export type HostGroup = z.output<typeof hostGroupSchema>;

export const hostGroupsOption = z
  .array(hostGroupSchema)
  .max(50)
  .default([])
  .refine((groups) => new Set(groups.map((group) => group.name)).size === groups.length, 'host group names must be unique');

/** Groups that list this instance id. */
export function groupsWithInstance(groups: readonly HostGroup[], instanceId: string): HostGroup[] {
  return groups.filter((group) => group.instanceIds.includes(instanceId));
}

/**
 * Groups an SSM target selects: `{ key: 'InstanceIds', values }`, `{ key: 'tag:<Key>', values }`,
 * `{ key: 'tag-key', values: [<Key>] }` (any value of the tag).
 */
export function groupsOfTarget(groups: readonly HostGroup[], target: unknown): HostGroup[] {
  if (!isRecord(target) || typeof target['key'] !== 'string' || !Array.isArray(target['values'])) return [];
  const key = target['key'];
  const values = target['values'].filter((value): value is string => typeof value === 'string');
  if (key === 'InstanceIds') return groups.filter((group) => values.some((id) => group.instanceIds.includes(id)));
  if (key === 'tag-key') return groups.filter((group) => group.tags.some((tag) => values.includes(tag.key)) || (values.includes(ASG_TAG) && group.autoScalingGroups.length > 0));
  if (!key.startsWith('tag:')) return [];
  const tagKey = key.slice('tag:'.length);
  if (tagKey === ASG_TAG) return groups.filter((group) => group.autoScalingGroups.some((asg) => values.includes(asg)));
  return groups.filter((group) => group.tags.some((tag) => tag.key === tagKey && tag.values.some((value) => values.includes(value))));
}

/** Whether some group selects instances by something other than their id (so an unlisted id needs a look-up). */
export function selectsBeyondIds(groups: readonly HostGroup[]): boolean {
  return groups.some((group) => group.tags.length > 0 || group.autoScalingGroups.length > 0 || group.launchTemplates.length > 0);
}

/** How an instance EC2 described belongs to a group: the first selector that matches, for evidence. */
export function matchOfInstance(group: HostGroup, instance: Ec2InstanceDetail, launchTemplateName?: string): string | undefined {
  if (instance.autoScalingGroup && group.autoScalingGroups.includes(instance.autoScalingGroup)) return `Auto Scaling group ${instance.autoScalingGroup}`;
  const template = group.launchTemplates.find((entry) => entry === instance.launchTemplateId || (launchTemplateName !== undefined && entry === launchTemplateName));
  if (template) return `launch template ${template}`;
  const tag = group.tags.find((selector) => instance.tags.some(([key, value]) => key === selector.key && selector.values.includes(value)));
  return tag ? `tag ${tag.key}` : undefined;
}

/** Groups an instance EC2 described belongs to (by tag, Auto Scaling group or launch template). */
export function groupsOfInstance(groups: readonly HostGroup[], instance: Ec2InstanceDetail, launchTemplateName?: string): HostGroup[] {
  return groups.filter((group) => matchOfInstance(group, instance, launchTemplateName) !== undefined);
}

export function groupsWithLaunchTemplate(groups: readonly HostGroup[], ...idsOrNames: readonly (string | undefined)[]): HostGroup[] {
  const known = idsOrNames.filter((value): value is string => typeof value === 'string' && value !== '');
  return groups.filter((group) => group.launchTemplates.some((template) => known.includes(template)));
}

export function groupsWithAutoScalingGroup(groups: readonly HostGroup[], name: string | undefined): HostGroup[] {
  return name ? groups.filter((group) => group.autoScalingGroups.includes(name)) : [];
}

export function groupsWithSecurityGroup(groups: readonly HostGroup[], groupId: string | undefined): HostGroup[] {
  return groupId ? groups.filter((group) => group.securityGroups.includes(groupId)) : [];
}

/** Longest JSON text of a request value kept in evidence. */
export const MAX_EVIDENCE_CHARS = 2048;

/**
 * A request value for evidence: secrets masked (redact), then bounded. A value too long is kept as
 * its masked JSON text cut short, so the evidence never grows with the input.
 */
export function boundedEvidence(value: unknown): unknown {
  if (value === undefined) return undefined;
  const masked: unknown = redact(value);
  const text = JSON.stringify(masked) ?? 'null';
  return text.length <= MAX_EVIDENCE_CHARS ? masked : { truncated: true, length: text.length, text: `${text.slice(0, MAX_EVIDENCE_CHARS)}…` };
}

/** A short free-text value (a document name, an OS user) masked and cut to `max` characters. */
export function shortText(value: string, max = 128): string {
  const masked = redactText(value);
  return masked.length > max ? `${masked.slice(0, max)}…` : masked;
}

/** A bounded list of ids for evidence. */
export function boundedList(values: readonly string[], max = 20): string[] {
  const kept = values.slice(0, max).map((value) => (value.length > 128 ? `${value.slice(0, 128)}…` : value));
  return values.length > max ? [...kept, `… ${values.length - max} more`] : kept;
}

/** Distinct groups, in configuration order. */
export function distinctGroups(groups: readonly HostGroup[]): HostGroup[] {
  return [...new Set(groups)];
}
