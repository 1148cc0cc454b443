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
 */
import * as z from 'zod';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { defineUseCase, optionsOf, type Observation, type RepeatReason, type Sighting, type UseCaseContext } from '../../../engine/use-case.js';
import { boundedEvidence, boundedList, distinctGroups, shortText, groupsOfTarget, groupsWithInstance, hostGroupsOption, type HostGroup } from '../hosts.js';

export const optionsSchema = z.strictObject({ hostGroups: hostGroupsOption });

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

function sightings(event: PipelineEvent, ctx: UseCaseContext): Sighting[] {
  const targeted = targetedBy(event);
  if (!targeted || !event.principal) return [];
  const { hostGroups } = optionsOf(optionsSchema, ctx);
  const account = event.cloudTrail?.recipientAccountId ?? event.envelope.account ?? 'unknown';
  const expected = isAutomationPrincipal(ctx.config, event.principal);
  return groupsTargeted(hostGroups, targeted).map((group) => ({ scope: `build-host-access/${account}/${group.name}`, value: event.principal?.key ?? 'unknown', resource: group.name, expected }));
}

function observe(sighting: Sighting, event: PipelineEvent, first: boolean, why?: RepeatReason): Observation {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const group = sighting.resource ?? 'unknown host group';
  const who = event.principal?.arn ?? sighting.value;
  const action = ACTIONS[record?.eventName ?? ''] ?? 'accessed';
  const targeted = targetedBy(event) ?? { instanceIds: [], targets: [] };
  const automation = !first && (why === 'expected' || sighting.expected === true);
  const note = first ? ' for the first time' : automation ? ' (automation principal)' : why === 'learning' ? ' (learning period)' : '';
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
    summary: `${who} ${action} on build host group ${group}${document ? ` (document ${document})` : ''}${osUser ? ` as ${osUser}` : ''}${note}`,
    evidence: {
      hostGroup: group,
      principal: sighting.value,
      eventName: record?.eventName,
      instanceIds: boundedList(targeted.instanceIds),
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
      'SSM StartSession, SendCommand and StartAutomationExecution and EC2 Instance Connect SendSSHPublicKey onto the self-hosted build hosts named in the hostGroups option (by instance id; by tag or Auto Scaling group when the call targets instances by tag, since CloudTrail names the instance of a session only by id): high for a principal never seen doing it on that host group (after the learning period), medium otherwise, low and attested for automation principals. The document name and parameters go to evidence masked and bounded.',
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
    describe: ({ sighting }, event) => observe(sighting, event, true),
    describeRepeat: (sighting, why, event) => observe(sighting, event, false, why),
  },
});
