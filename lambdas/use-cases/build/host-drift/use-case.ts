/**
 * build.host-drift: what a self-hosted build host boots or runs as was changed (the host groups in
 * the options). Each call below changes the host for every build after it, without touching a build
 * definition:
 *
 * - ModifyInstanceAttribute on a listed instance: user data (runs at boot) high; security groups,
 *   source/dest check medium; other attributes (type, termination protection…) low.
 * - AssociateIamInstanceProfile / ReplaceIamInstanceProfileAssociation (the role builds run with): high.
 * - CreateLaunchTemplateVersion and ModifyLaunchTemplate (default version) on a listed launch
 *   template: high (AMI, user data, profile and network come from it); a new version that is not the
 *   default still is, since Auto Scaling groups often launch `$Latest`.
 * - UpdateAutoScalingGroup on a listed group that changes its launch template, launch configuration
 *   or mixed-instances policy: high; capacity-only updates are routine and ignored.
 * - AuthorizeSecurityGroupIngress on a listed security group: high when opened to 0.0.0.0/0 or ::/0,
 *   medium otherwise.
 *
 * Each call is itself the change (match). A launch template's default version as the backfill looked
 * it up (lambdas/backfill/launch-templates.ts, DescribeLaunchTemplateVersions) is kept under
 * `launch-template/<id>`; a launch-template change after that look-up is described against it (what
 * the new version changes from the default version then, or which version was the default).
 * Nothing here advances it: it is quoted with its look-up time, never taken as the state at the event. Changes through CloudFormation/CDK rate
 * infrastructureAsCodeSeverity (low), as in the other build-stage drift use cases; changes by
 * automation principals (an image pipeline rolling a new AMI) are low and attested, except ingress
 * opened to the internet.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { maxSeverity, type Severity } from '../../../engine/model.js';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type JsonObject, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { infrastructureAsCodeOptions, viaInfrastructureAsCode } from '../iac.js';
import {
  boundedEvidence,
  boundedList,
  groupsWithAutoScalingGroup,
  groupsWithInstance,
  groupsWithLaunchTemplate,
  groupsWithSecurityGroup,
  hostGroupsOption,
  shortText,
  type HostGroup,
} from '../hosts.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({ ...infrastructureAsCodeOptions, hostGroups: hostGroupsOption }));

export const HOST_DRIFT_ID = 'build.host-drift';

/** Where a launch template's default version, as looked up, is kept (ids are unique across accounts). */
export function launchTemplateKey(launchTemplateId: string): string {
  return `launch-template/${launchTemplateId}`;
}

/** CloudTrail's placeholder for user data in launch template requests. */
const HIDDEN = '<sensitiveDataRemoved>';

const OPEN_TO_ALL = new Set(['0.0.0.0/0', '::/0']);

/** ModifyInstanceAttribute request fields, by what changing them does to a build host. */
const INSTANCE_ATTRIBUTE_SEVERITY: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ['userData', 'high'],
  ['groupSet', 'medium'],
  ['sourceDestCheck', 'medium'],
  ['disableApiStop', 'low'],
  ['disableApiTermination', 'low'],
  ['instanceType', 'low'],
  ['instanceInitiatedShutdownBehavior', 'low'],
  ['ebsOptimized', 'low'],
  ['enaSupport', 'low'],
  ['sriovNetSupport', 'low'],
  ['blockDeviceMapping', 'low'],
  ['kernel', 'high'],
  ['ramdisk', 'high'],
]);

/** What one event changed on which host groups. */
interface Change {
  readonly groups: HostGroup[];
  /** Alerts even when an automation principal made it (a build host opened to the internet). */
  readonly alarmingWhoever?: boolean;
  readonly resource: string;
  readonly severity: Severity;
  readonly what: string;
  readonly details: Record<string, unknown>;
  /** A launch-template change: the template's id, and the data of a new version (to compare with the known default). */
  readonly launchTemplate?: { readonly id: string; readonly data?: Record<string, unknown> };
}

function strings(values: unknown[]): string[] {
  return values.filter((value): value is string => typeof value === 'string');
}

/** `{ items: [...] }` (EC2's query-style lists in CloudTrail) or a plain array. */
function itemsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  const items = valueAt(value, 'items');
  return Array.isArray(items) ? items : [];
}

function instanceAttributeChange(params: Record<string, unknown>, groups: readonly HostGroup[]): Change | undefined {
  const instanceId = stringAt(params, 'instanceId');
  const matched = instanceId ? groupsWithInstance(groups, instanceId) : [];
  if (!instanceId || matched.length === 0) return undefined;
  // Either `{ instanceId, userData: … }` or the generic `{ instanceId, attribute: 'userData', value }`.
  const named = stringAt(params, 'attribute');
  const fields = named ? [named] : Object.keys(params).filter((key) => key !== 'instanceId');
  if (fields.length === 0) return undefined;
  let severity: Severity = 'low';
  for (const field of fields) severity = maxSeverity(severity, INSTANCE_ATTRIBUTE_SEVERITY.get(field) ?? 'low');
  const groupIds = strings(itemsOf(valueAt(params, 'groupSet')).map((item) => stringAt(item, 'groupId')));
  return {
    groups: matched,
    resource: instanceId,
    severity,
    what: `changed ${fields.map((field) => shortText(field, 64)).join(', ')} of instance ${instanceId}`,
    details: { instanceId, attributes: boundedList(fields), ...(groupIds.length > 0 ? { securityGroups: boundedList(groupIds) } : {}) },
  };
}

function instanceProfileChange(event: PipelineEvent, groups: readonly HostGroup[]): Change | undefined {
  const record = event.cloudTrail;
  const request = valueAt(record?.requestParameters, `${record?.eventName ?? ''}Request`);
  // Replace names only the association in the request; the instance is in the response.
  const instanceId =
    stringAt(request, 'InstanceId') ??
    stringAt(record?.responseElements, 'ReplaceIamInstanceProfileAssociationResponse', 'iamInstanceProfileAssociation', 'instanceId') ??
    stringAt(record?.responseElements, 'AssociateIamInstanceProfileResponse', 'iamInstanceProfileAssociation', 'instanceId');
  const matched = instanceId ? groupsWithInstance(groups, instanceId) : [];
  if (!instanceId || matched.length === 0) return undefined;
  const profile = stringAt(request, 'IamInstanceProfile', 'Arn') ?? stringAt(request, 'IamInstanceProfile', 'Name') ?? 'an instance profile';
  return {
    groups: matched,
    resource: instanceId,
    severity: 'high',
    what: `gave instance ${instanceId} the instance profile ${shortText(profile, 256)}`,
    details: { instanceId, instanceProfile: shortText(profile, 256), associationId: stringAt(request, 'AssociationId') ?? null },
  };
}

function launchTemplateChange(event: PipelineEvent, groups: readonly HostGroup[]): Change | undefined {
  const record = event.cloudTrail;
  const name = record?.eventName ?? '';
  const request = valueAt(record?.requestParameters, `${name}Request`);
  const response = valueAt(record?.responseElements, `${name}Response`);
  const fromResponse = name === 'CreateLaunchTemplateVersion' ? valueAt(response, 'launchTemplateVersion') : valueAt(response, 'launchTemplate');
  const id = stringAt(request, 'LaunchTemplateId') ?? stringAt(fromResponse, 'launchTemplateId');
  const templateName = stringAt(request, 'LaunchTemplateName') ?? stringAt(fromResponse, 'launchTemplateName');
  const matched = groupsWithLaunchTemplate(groups, id, templateName, stringAt(fromResponse, 'launchTemplateId'), stringAt(fromResponse, 'launchTemplateName'));
  if (matched.length === 0) return undefined;
  const template = templateName ?? id ?? 'unknown launch template';
  if (name === 'CreateLaunchTemplateVersion') {
    const version = valueAt(fromResponse, 'versionNumber');
    const isDefault = valueAt(fromResponse, 'defaultVersion') === true;
    const data = valueAt(request, 'LaunchTemplateData');
    return {
      groups: matched,
      resource: template,
      severity: 'high',
      what: `created version ${String(version ?? '?')} of launch template ${template}${isDefault ? ' (the default)' : ''}`,
      details: { launchTemplateId: id ?? null, launchTemplateName: templateName ?? null, version: typeof version === 'number' ? version : null, defaultVersion: isDefault, sourceVersion: stringAt(request, 'SourceVersion') ?? null, ...(isRecord(data) ? { changedFields: boundedList(Object.keys(data)), imageId: stringAt(data, 'ImageId') ?? null } : {}) },
      ...(id ? { launchTemplate: { id, ...(isRecord(data) ? { data } : {}) } } : {}),
    };
  }
  const requested = valueAt(request, 'SetDefaultVersion') ?? valueAt(request, 'DefaultVersion');
  const defaultVersion = valueAt(fromResponse, 'defaultVersionNumber') ?? requested;
  if (defaultVersion === undefined) return undefined;
  return {
    groups: matched,
    resource: template,
    severity: 'high',
    what: `set the default version of launch template ${template} to ${String(defaultVersion)}`,
    details: { launchTemplateId: id ?? null, launchTemplateName: templateName ?? null, defaultVersion: typeof defaultVersion === 'number' || typeof defaultVersion === 'string' ? defaultVersion : null },
    ...(id ? { launchTemplate: { id } } : {}),
  };
}

function autoScalingChange(params: Record<string, unknown>, groups: readonly HostGroup[]): Change | undefined {
  const asg = stringAt(params, 'autoScalingGroupName');
  const matched = groupsWithAutoScalingGroup(groups, asg);
  if (!asg || matched.length === 0) return undefined;
  const fields = ['launchTemplate', 'launchConfigurationName', 'mixedInstancesPolicy'].filter((field) => valueAt(params, field) !== undefined);
  // Sizes, health checks and the like: routine, not what the hosts boot.
  if (fields.length === 0) return undefined;
  const template = valueAt(params, 'launchTemplate') ?? valueAt(params, 'mixedInstancesPolicy', 'launchTemplate', 'launchTemplateSpecification');
  return {
    groups: matched,
    resource: asg,
    severity: 'high',
    what: `changed ${fields.join(', ')} of Auto Scaling group ${asg}`,
    details: { autoScalingGroupName: asg, changedFields: fields, ...(template !== undefined ? { launchTemplate: boundedEvidence(template) } : {}), ...(stringAt(params, 'launchConfigurationName') ? { launchConfigurationName: stringAt(params, 'launchConfigurationName') } : {}) },
  };
}

function ingressChange(params: Record<string, unknown>, groups: readonly HostGroup[]): Change | undefined {
  const groupId = stringAt(params, 'groupId');
  const matched = groupsWithSecurityGroup(groups, groupId);
  if (!groupId || matched.length === 0) return undefined;
  const permissions = itemsOf(valueAt(params, 'ipPermissions'));
  const sources: string[] = [];
  const ports: string[] = [];
  for (const permission of permissions) {
    const protocol = valueAt(permission, 'ipProtocol');
    const from = valueAt(permission, 'fromPort');
    const to = valueAt(permission, 'toPort');
    ports.push(protocol === '-1' ? 'all traffic' : `${String(protocol ?? '?')} ${String(from ?? '?')}${to !== from ? `-${String(to ?? '?')}` : ''}`);
    sources.push(...strings(itemsOf(valueAt(permission, 'ipRanges')).map((range) => stringAt(range, 'cidrIp'))));
    sources.push(...strings(itemsOf(valueAt(permission, 'ipv6Ranges')).map((range) => stringAt(range, 'cidrIpv6'))));
    sources.push(...strings(itemsOf(valueAt(permission, 'groups')).map((group) => stringAt(group, 'groupId'))));
    sources.push(...strings(itemsOf(valueAt(permission, 'prefixListIds')).map((list) => stringAt(list, 'prefixListId'))));
  }
  const open = sources.some((source) => OPEN_TO_ALL.has(source));
  return {
    groups: matched,
    resource: groupId,
    severity: open ? 'high' : 'medium',
    alarmingWhoever: open,
    what: `opened security group ${groupId} (${boundedList(ports, 5).join(', ')}) to ${open ? 'the internet' : boundedList(sources, 5).join(', ') || 'new sources'}`,
    details: { securityGroup: groupId, openToInternet: open, ports: boundedList(ports), sources: boundedList(sources) },
  };
}

function changeOf(event: PipelineEvent, groups: readonly HostGroup[]): Change | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  switch (record?.eventName) {
    case 'ModifyInstanceAttribute':
      return instanceAttributeChange(params, groups);
    case 'AssociateIamInstanceProfile':
    case 'ReplaceIamInstanceProfileAssociation':
      return instanceProfileChange(event, groups);
    case 'CreateLaunchTemplateVersion':
    case 'ModifyLaunchTemplate':
      return launchTemplateChange(event, groups);
    case 'UpdateAutoScalingGroup':
      return autoScalingChange(params, groups);
    case 'AuthorizeSecurityGroupIngress':
      return ingressChange(params, groups);
    default:
      return undefined;
  }
}

/** The fields of new launch-template data that differ from the known default version (only fields the request sets). */
function differencesFromDefault(data: Record<string, unknown>, known: JsonObject): string[] {
  const out: string[] = [];
  const image = stringAt(data, 'ImageId');
  if (image !== undefined && image !== known['imageId']) out.push(`AMI ${String(known['imageId'] ?? 'none')} → ${shortText(image, 64)}`);
  const profile = stringAt(data, 'IamInstanceProfile', 'Arn') ?? stringAt(data, 'IamInstanceProfile', 'Name');
  if (profile !== undefined && profile !== known['instanceProfile']) out.push(`instance profile ${String(known['instanceProfile'] ?? 'none')} → ${shortText(profile, 256)}`);
  const groups = [...itemsOf(valueAt(data, 'SecurityGroupIds')), ...itemsOf(valueAt(data, 'NetworkInterfaces')).flatMap((nic) => itemsOf(valueAt(nic, 'Groups')))].filter((group): group is string => typeof group === 'string');
  const knownGroups = Array.isArray(known['securityGroups']) ? known['securityGroups'].filter((group): group is string => typeof group === 'string') : [];
  const newGroups = [...new Set(groups)].sort();
  if (newGroups.length > 0 && newGroups.join(',') !== [...knownGroups].sort().join(',')) out.push(`security groups ${knownGroups.join(', ') || 'none'} → ${boundedList(newGroups, 5).join(', ')}`);
  const userData = stringAt(data, 'UserData');
  if (userData !== undefined && userData !== HIDDEN) {
    const hash = createHash('sha256').update(Buffer.from(userData, 'base64')).digest('hex');
    if (hash !== known['userDataSha256']) out.push('user data');
  } else if (userData === HIDDEN) out.push('user data (hidden by CloudTrail: compare it with DescribeLaunchTemplateVersions)');
  return out;
}

/** What the launch template's default version was, as looked up, and how the change departs from it. */
async function againstKnownDefault(change: Change, event: PipelineEvent, ctx: UseCaseContext): Promise<{ text: string; details: Record<string, unknown> } | undefined> {
  if (!change.launchTemplate || !ctx.knownState) return undefined;
  const known = await ctx.knownState(HOST_DRIFT_ID, launchTemplateKey(change.launchTemplate.id), event.time);
  if (!known) return undefined;
  const version = known.state['defaultVersion'];
  const how = known.fromLookUp ? `looked up ${known.at}` : `known since ${known.at}`;
  const knownDefault = { version: version ?? null, imageId: known.state['imageId'] ?? null, instanceProfile: known.state['instanceProfile'] ?? null, securityGroups: known.state['securityGroups'] ?? [], knownSince: known.at, fromLookUp: known.fromLookUp };
  if (!change.launchTemplate.data) return { text: `; the default was version ${String(version ?? '?')} (${how})`, details: { knownDefault } };
  const differences = differencesFromDefault(change.launchTemplate.data, known.state);
  return {
    text: `; against default version ${String(version ?? '?')} (${how}): ${differences.length > 0 ? differences.join('; ') : 'no change to AMI, profile, security groups or user data'}`,
    details: { knownDefault, changedFromKnownDefault: differences },
  };
}

async function evaluate(event: PipelineEvent, ctx: UseCaseContext): Promise<Observation | undefined> {
  const options = optionsOf(optionsSchema, ctx);
  const change = changeOf(event, options.hostGroups);
  if (!change) return undefined;
  const known = await againstKnownDefault(change, event, ctx);
  const iac = viaInfrastructureAsCode(event, options);
  // Image pipelines (EC2 Image Builder, a release role) roll new AMIs into launch templates routinely.
  const automation = !iac && change.alarmingWhoever !== true && event.principal !== undefined && isAutomationPrincipal(ctx.config, event.principal);
  const who = event.principal?.arn ?? event.principal?.key ?? 'unknown principal';
  const names = change.groups.map((group) => group.name);
  return {
    resource: change.resource,
    dedupKey: `${change.resource}|${event.cloudTrail?.eventName ?? ''}`,
    severity: iac ? options.infrastructureAsCodeSeverity : automation ? 'low' : change.severity,
    ...(automation ? { attestation: true } : {}),
    title: 'Self-hosted build host changed',
    summary: `${who} ${change.what}${iac ? ' through infrastructure as code' : automation ? ' (automation principal)' : ''} (build host group ${names.join(', ')})${known?.text ?? ''}`,
    evidence: { hostGroups: names, eventName: event.cloudTrail?.eventName, viaInfrastructureAsCode: iac, automationPrincipal: automation, ...change.details, ...known?.details },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.host-drift',
    answers: 'build.server-change',
    title: 'Self-hosted build host changed',
    stage: 'build',
    description:
      'Changes to what the self-hosted build hosts in the hostGroups option boot or run as: user data (ModifyInstanceAttribute), instance profile (AssociateIamInstanceProfile, ReplaceIamInstanceProfileAssociation), launch template versions and default version (CreateLaunchTemplateVersion, ModifyLaunchTemplate) and the Auto Scaling launch template (UpdateAutoScalingGroup) are high; security group ingress opened to 0.0.0.0/0 or ::/0 high, to other sources medium. Changes through CloudFormation/CDK are low (configurable); changes by automation principals are low and attested, except ingress opened to the internet.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1578', 'T1098', 'T1195.002'],
    falsePositives: [
      'Runner image roll-outs made by hand: prefer infrastructure as code (rated low) or an automation role.',
      'Temporary ingress for debugging a runner: still worth a look; remove it afterwards.',
    ],
    runbook:
      "Compare the change with the platform team's change records. For unexpected user data, instance profile, launch template or Auto Scaling changes: restore the launch template's default version and the group's template from source control, replace the hosts (instance refresh), and inspect builds that ran on them since for tampered artifacts. For opened ingress: revoke the rule and check the hosts' access logs.",
    references: [
      'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html',
      'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html',
      'https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html',
    ],
  },
  pattern: {
    $or: [
      {
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: ['ModifyInstanceAttribute', 'AssociateIamInstanceProfile', 'ReplaceIamInstanceProfileAssociation', 'CreateLaunchTemplateVersion', 'ModifyLaunchTemplate', 'AuthorizeSecurityGroupIngress'],
        },
      },
      {
        source: ['aws.autoscaling'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['autoscaling.amazonaws.com'], eventName: ['UpdateAutoScalingGroup'] },
      },
    ],
  },
  optionsSchema,
  logic: { kind: 'match', evaluate },
});
