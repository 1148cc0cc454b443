/**
 * build.host-access: someone got a shell or ran commands on a self-hosted build host (a host group in
 * the options): SSM StartSession (`target`), SendCommand (`instanceIds`, `targets`),
 * StartAutomationExecution (`targets`, instance ids among `parameters`) and EC2 Instance Connect
 * SendSSHPublicKey / SendSerialConsoleSSHPublicKey (`instanceId`). SUNSPOT lived on the build server:
 * this is how such an implant gets there without touching a build definition.
 *
 * First-seen principal per host group: high after the learning period, medium while learning or when
 * the principal is known, low and attested for automation principals. The document name and its
 * parameters go to evidence masked and bounded (CloudTrail usually hides SendCommand's parameters).
 *
 * CloudTrail names a session's instance only by id. An id no group lists is resolved with EC2
 * DescribeInstances (cached for minutes by the detect Lambda) when some group selects by tag, Auto
 * Scaling group or launch template. When EC2 cannot be asked, the access is reported (medium, or low
 * for automation principals) saying it could not tell whether the instance is a build host.
 */
import * as z from 'zod';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type RepeatReason, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import {
  boundedEvidence,
  boundedList,
  distinctGroups,
  groupsOfTarget,
  groupsWithInstance,
  hostGroupsOption,
  matchOfInstance,
  selectsBeyondIds,
  shortText,
  type HostGroup,
} from '../hosts.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({ hostGroups: hostGroupsOption }));

const ACTIONS: Readonly<Record<string, string>> = {
  StartSession: 'started a Session Manager session',
  SendCommand: 'ran a command (SSM Run Command)',
  StartAutomationExecution: 'started an SSM Automation',
  SendSSHPublicKey: 'pushed an SSH key (EC2 Instance Connect)',
  SendSerialConsoleSSHPublicKey: 'pushed an SSH key for the serial console (EC2 Instance Connect)',
};

interface Targeted {
  readonly instanceIds: string[];
  readonly targets: unknown[];
}

function arrayAt(value: unknown, key: string): unknown[] {
  const found = valueAt(value, key);
  return Array.isArray(found) ? found : [];
}

/** Instance ids among an Automation's parameters (`InstanceId: ["i-…"]` and the like). */
function instanceIdsInParameters(parameters: unknown): string[] {
  if (!isRecord(parameters)) return [];
  const ids: string[] = [];
  for (const value of Object.values(parameters)) {
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string' && /^(i|mi)-[0-9a-f]{8,17}$/.test(item)) ids.push(item);
  }
  return ids;
}

function targetedBy(event: PipelineEvent): Targeted | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  switch (record?.eventName) {
    case 'StartSession':
      return { instanceIds: [stringAt(params, 'target')].filter((id): id is string => id !== undefined), targets: [] };
    case 'SendCommand':
      return { instanceIds: arrayAt(params, 'instanceIds').filter((id): id is string => typeof id === 'string'), targets: arrayAt(params, 'targets') };
    case 'StartAutomationExecution':
      return { instanceIds: instanceIdsInParameters(valueAt(params, 'parameters')), targets: arrayAt(params, 'targets') };
    case 'SendSSHPublicKey':
    case 'SendSerialConsoleSSHPublicKey':
      return { instanceIds: [stringAt(params, 'instanceId')].filter((id): id is string => id !== undefined), targets: [] };
    default:
      return undefined;
  }
}

function groupsTargeted(groups: readonly HostGroup[], targeted: Targeted): HostGroup[] {
  return distinctGroups([...targeted.instanceIds.flatMap((id) => groupsWithInstance(groups, id)), ...targeted.targets.flatMap((target) => groupsOfTarget(groups, target))]);
}

/** At most this many unlisted instances of one call are resolved; the rest are reported as unresolved. */
export const MAX_INSTANCE_LOOKUPS = 10;

/** The scope of accesses to instances EC2 could not be asked about (not a group name: those have no parentheses). */
const UNRESOLVED = '(unresolved)';

interface Resolution {
  /** Group name → how DescribeInstances tied the instance to it. */
  readonly matchedBy: Map<string, string>;
  readonly unresolved: string[];
  readonly reasons: string[];
}

/** What the look-ups said about this event's instances, for describe (the engine passes the same event object). */
const resolutions = new WeakMap<PipelineEvent, Resolution>();

/** Groups of the instance ids no group lists, by DescribeInstances (tags, Auto Scaling group, launch template). */
async function resolveInstances(event: PipelineEvent, ctx: UseCaseContext, groups: readonly HostGroup[], ids: readonly string[]): Promise<{ groups: HostGroup[]; resolution: Resolution }> {
  const resolution: Resolution = { matchedBy: new Map(), unresolved: [], reasons: [] };
  const found: HostGroup[] = [];
  const region = event.cloudTrail?.awsRegion ?? event.envelope.region;
  // Hybrid managed instances (mi-…) are not EC2 instances: only their listed ids tie them to a group.
  const unlisted = [...new Set(ids)].filter((id) => id.startsWith('i-') && groupsWithInstance(groups, id).length === 0);
  if (!selectsBeyondIds(groups) || unlisted.length === 0) return { groups: found, resolution };
  for (const [index, instanceId] of unlisted.entries()) {
    if (index >= MAX_INSTANCE_LOOKUPS) {
      resolution.unresolved.push(instanceId);
      if (index === MAX_INSTANCE_LOOKUPS) resolution.reasons.push(`more than ${MAX_INSTANCE_LOOKUPS} unlisted instances in one call`);
      continue;
    }
    const result = !region
      ? ({ status: 'unavailable', reason: 'the event names no region' } as const)
      : ctx.lookups.ec2Instance
        ? await ctx.lookups.ec2Instance({ instanceId, region })
        : ({ status: 'unavailable', reason: 'the look-ups have no DescribeInstances' } as const);
    if (result.status === 'missing') continue; // No such instance (terminated long ago): not a build host we can tell.
    if (result.status === 'unavailable') {
      resolution.unresolved.push(instanceId);
      resolution.reasons.push(shortText(result.reason, 256));
      continue;
    }
    // A group listing the template by name: EC2 tags the instance with the template's id only.
    const byName = result.value.launchTemplateId && groups.some((group) => group.launchTemplates.some((entry) => !entry.startsWith('lt-')));
    const template = byName && region && ctx.lookups.launchTemplateDefaultVersion ? await ctx.lookups.launchTemplateDefaultVersion({ idOrName: result.value.launchTemplateId as string, region }) : undefined;
    const templateName = template?.status === 'found' ? template.value.launchTemplateName : undefined;
    for (const group of groups) {
      const how = matchOfInstance(group, result.value, templateName);
      if (how === undefined) continue;
      found.push(group);
      if (!resolution.matchedBy.has(group.name)) resolution.matchedBy.set(group.name, `instance ${instanceId} tied by its ${how}, per DescribeInstances`);
    }
  }
  return { groups: found, resolution };
}

async function sightings(event: PipelineEvent, ctx: UseCaseContext): Promise<Sighting[]> {
  const targeted = targetedBy(event);
  if (!targeted || !event.principal) return [];
  const { hostGroups } = optionsOf(optionsSchema, ctx);
  const account = event.cloudTrail?.recipientAccountId ?? event.envelope.account ?? 'unknown';
  const expected = isAutomationPrincipal(ctx.config, event.principal);
  const value = event.principal.key;
  const { groups: resolved, resolution } = await resolveInstances(event, ctx, hostGroups, targeted.instanceIds);
  resolutions.set(event, resolution);
  const found = distinctGroups([...groupsTargeted(hostGroups, targeted), ...resolved]).map((group) => ({ scope: `build-host-access/${account}/${group.name}`, value, resource: group.name, expected }));
  // Never a "first": we do not know the host group, so there is no baseline to compare with.
  const unresolved = resolution.unresolved.length > 0 ? [{ scope: `build-host-access/${account}/${UNRESOLVED}`, value, resource: `instance ${resolution.unresolved[0] ?? ''}`, expected: true }] : [];
  return [...found, ...unresolved];
}

/** Access to instances EC2 could not be asked about: said plainly, medium (low for automation). */
function observeUnresolved(sighting: Sighting, event: PipelineEvent, automation: boolean): Observation {
  const record = event.cloudTrail;
  const resolution = resolutions.get(event) ?? { matchedBy: new Map<string, string>(), unresolved: [], reasons: ['look-up result not at hand'] };
  const who = event.principal?.arn ?? sighting.value;
  const action = ACTIONS[record?.eventName ?? ''] ?? 'accessed';
  const ids = boundedList(resolution.unresolved);
  const reasons = boundedList([...new Set(resolution.reasons)], 3);
  return {
    resource: sighting.resource ?? 'unresolved instance',
    dedupKey: `${sighting.scope}|${sighting.value}|${ids.join(',')}`,
    severity: automation ? 'low' : 'medium',
    ...(automation ? { attestation: true } : {}),
    title: 'Access to an instance that may be a self-hosted build host',
    summary: `${who} ${action} on ${ids.join(', ')}: could not tell whether it is a build host (DescribeInstances unavailable: ${reasons.join('; ')})${automation ? ' (automation principal)' : ''}`,
    evidence: { eventName: record?.eventName, principal: sighting.value, instanceIds: ids, lookupUnavailable: reasons },
  };
}

function observe(sighting: Sighting, event: PipelineEvent, first: boolean, why?: RepeatReason, ctx?: UseCaseContext): Observation {
  if (sighting.scope.endsWith(`/${UNRESOLVED}`)) return observeUnresolved(sighting, event, Boolean(ctx && event.principal && isAutomationPrincipal(ctx.config, event.principal)));
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const group = sighting.resource ?? 'unknown host group';
  const who = event.principal?.arn ?? sighting.value;
  const action = ACTIONS[record?.eventName ?? ''] ?? 'accessed';
  const targeted = targetedBy(event) ?? { instanceIds: [], targets: [] };
  const automation = !first && (why === 'expected' || sighting.expected === true);
  const note = first ? ' for the first time' : automation ? ' (automation principal)' : why === 'learning' ? ' (learning period)' : '';
  const matchedBy = resolutions.get(event)?.matchedBy.get(group);
  const documentName = stringAt(params, 'documentName');
  const document = documentName === undefined ? undefined : shortText(documentName);
  const osUserName = stringAt(params, 'instanceOSUser');
  const osUser = osUserName === undefined ? undefined : shortText(osUserName, 64);
  return {
    resource: group,
    dedupKey: `${group}|${sighting.value}`,
    severity: first ? 'high' : automation ? 'low' : 'medium',
    ...(automation ? { attestation: true } : {}),
    title: first ? 'New principal accessed a self-hosted build host' : 'Access to a self-hosted build host',
    summary: `${who} ${action} on build host group ${group}${matchedBy ? ` (${matchedBy})` : ''}${document ? ` (document ${document})` : ''}${osUser ? ` as ${osUser}` : ''}${note}`,
    evidence: {
      hostGroup: group,
      principal: sighting.value,
      eventName: record?.eventName,
      instanceIds: boundedList(targeted.instanceIds),
      ...(matchedBy ? { matchedBy } : {}),
      ...(targeted.targets.length > 0 ? { targets: boundedEvidence(targeted.targets) } : {}),
      ...(document ? { documentName: document } : {}),
      ...(valueAt(params, 'parameters') !== undefined ? { parameters: boundedEvidence(valueAt(params, 'parameters')) } : {}),
      ...(osUser ? { instanceOSUser: osUser } : {}),
      sessionId: stringAt(record?.responseElements, 'sessionId') ?? stringAt(record?.responseElements, 'command', 'commandId') ?? stringAt(record?.responseElements, 'automationExecutionId') ?? null,
      firstTime: first,
    },
  };
}

export default defineUseCase({
  metadata: {
    id: 'build.host-access',
    answers: 'build.server-change',
    title: 'Interactive access to a self-hosted build host',
    stage: 'build',
    description:
      'SSM StartSession, SendCommand and StartAutomationExecution and EC2 Instance Connect SendSSHPublicKey onto the self-hosted build hosts named in the hostGroups option (by instance id; an unlisted instance is tied to a group by its tags, Auto Scaling group or launch template through EC2 DescribeInstances, and a call that targets by tag by the tag; when EC2 cannot be asked the access is medium, saying so): high for a principal never seen doing it on that host group (after the learning period), medium otherwise, low and attested for automation principals. The document name and parameters go to evidence masked and bounded.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1021.004', 'T1651', 'T1195.002'],
    falsePositives: [
      'An administrator patching or debugging a runner: expected now and then; the first time per principal and host group is high on purpose.',
      'Patch Manager or State Manager runs under an automation role: list it in automationPrincipals to keep it low and attested.',
    ],
    runbook:
      'Ask the principal why it needed a shell or a command on the build host, and read the session log (Session Manager logging to S3/CloudWatch) or the command output. If unexpected: end the session, remove ssm:StartSession/SendCommand and ec2-instance-connect:SendSSHPublicKey from the principal, replace the host from its image, and inspect builds that ran on it since for tampered sources, caches or artifacts.',
    references: [
      'https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartSession.html',
      'https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html',
      'https://docs.aws.amazon.com/ec2-instance-connect/latest/APIReference/API_SendSSHPublicKey.html',
    ],
  },
  pattern: {
    $or: [
      {
        source: ['aws.ssm'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ssm.amazonaws.com'], eventName: ['StartSession', 'SendCommand', 'StartAutomationExecution'] },
      },
      {
        source: ['aws.ec2-instance-connect'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ec2-instance-connect.amazonaws.com'], eventName: ['SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey'] },
      },
    ],
  },
  optionsSchema,
  logic: {
    kind: 'firstSeen',
    sightings,
    describe: ({ sighting }, event, ctx) => observe(sighting, event, true, undefined, ctx),
    describeRepeat: (sighting, why, event, ctx) => observe(sighting, event, false, why, ctx),
  },
});
