/**
 * Which resources are the monitor's own. Names: everything the stack creates is named with the
 * configuration's `monitor.resourcePrefix` (default `buildwatch-`), so a name with the prefix, in the
 * monitor's account, is ours. The KMS key has a random id, so it is ours only when named: the stack
 * passes its ARN (environment variable, merged into the options by the detect handler), offline it
 * is `useCases.monitor.key-tamper.options.keys`, or learnt from a monitor alias (`alias/<prefix>…`)
 * pointing at it.
 */
import * as z from 'zod';
import { builtOnFirstUse } from '../../engine/use-case.js';
import type { BuildwatchConfig } from '../../config/config.js';
import type { PipelineEvent } from '../../engine/pipeline-event.js';

/** The detect and heartbeat Lambdas read the stack's facts about the monitor from this variable. */
export const MONITOR_RESOURCES_ENV = 'BUILDWATCH_MONITOR_RESOURCES';

/** What the stack knows at deploy time and the configuration cannot: its account and its key. */
export const monitorResourcesSchema = builtOnFirstUse(() => z.strictObject({
  account: z.string().regex(/^\d{12}$/).optional(),
  keys: z.array(z.string().min(1)).default([]),
}));
export type MonitorResources = z.output<typeof monitorResourcesSchema>;

/** The tamper use cases that recognise the monitor's resources, and so receive the stack's facts. */
export const OWN_RESOURCE_USE_CASES = ['monitor.rule-tamper', 'monitor.function-tamper', 'monitor.resource-tamper', 'monitor.key-tamper'] as const;

/**
 * Adds the stack's facts to the tamper use cases' options (configured values win for `account`; keys
 * add up), so the use cases stay pure functions of their options. Malformed input is ignored: a
 * missing variable must not stop detection, it only narrows recognition to names.
 */
export function withMonitorResources(config: BuildwatchConfig, raw: string | undefined): BuildwatchConfig {
  if (!raw) return config;
  let parsed: MonitorResources;
  try {
    parsed = monitorResourcesSchema.parse(JSON.parse(raw));
  } catch {
    return config;
  }
  const useCases = { ...config.useCases };
  for (const id of OWN_RESOURCE_USE_CASES) {
    const settings = useCases[id] ?? { excludePrincipals: [], options: {} };
    const options = settings.options;
    const keys = Array.isArray(options['keys']) ? (options['keys'] as unknown[]) : [];
    useCases[id] = {
      ...settings,
      options: {
        ...options,
        ...(options['account'] === undefined && parsed.account ? { account: parsed.account } : {}),
        ...(id === 'monitor.key-tamper' ? { keys: [...new Set([...keys, ...parsed.keys])] } : {}),
      },
    };
  }
  return { ...config, useCases };
}

/** A named resource an event refers to; `account` when the reference says (an ARN, a queue URL). */
export interface ResourceRef {
  readonly name: string;
  readonly account?: string;
  /** How the event named it, for summaries. */
  readonly display: string;
}

const ARN = /^arn:[a-z-]+:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$/;

export interface ParsedArn {
  readonly service: string;
  readonly region: string;
  readonly account?: string;
  readonly resource: string;
}

export function parseArn(value: string): ParsedArn | undefined {
  const match = ARN.exec(value);
  if (!match) return undefined;
  const [, service, region, account, resource] = match as unknown as [string, string, string, string | undefined, string];
  return { service, region, resource, ...(account ? { account } : {}) };
}

/**
 * The name inside an ARN's resource part for the services the monitor uses: `function:NAME[:qualifier]`,
 * `rule/[bus/]NAME`, `table/NAME[/stream/…]`, `key/ID`, `alias/NAME`, `schedule/GROUP/NAME`, SNS and SQS
 * names (and `TOPIC:subscription-id`), `alarm:NAME`.
 */
export function nameInArn(arn: ParsedArn): string {
  const { service, resource } = arn;
  if (service === 'lambda') return resource.split(':')[1] ?? resource;
  if (service === 'sns' || service === 'sqs') return resource.split(':')[0] ?? resource;
  if (service === 'cloudwatch') return resource.replace(/^alarm:/, '');
  if (service === 'kms' && resource.startsWith('alias/')) return resource;
  const parts = resource.split('/');
  if (service === 'dynamodb') return parts[1] ?? resource;
  if (service === 'kms') return parts[1] ?? resource;
  // events rule/[bus/]name, scheduler schedule/group/name: the last segment.
  return parts.at(-1) ?? resource;
}

/** A reference that may be a bare name or an ARN. */
export function refOf(value: string | undefined): ResourceRef | undefined {
  if (!value) return undefined;
  const arn = parseArn(value);
  if (!arn) return { name: value, display: value };
  return { name: nameInArn(arn), ...(arn.account ? { account: arn.account } : {}), display: value };
}

/** Lambda's FunctionName: a name, `name:qualifier`, `ACCOUNT:function:name`, or a full ARN. */
export function functionRefOf(value: string | undefined): ResourceRef | undefined {
  if (!value) return undefined;
  if (value.startsWith('arn:')) return refOf(value);
  const partial = /^(\d{12}):function:([^:]+)/.exec(value);
  if (partial) return { name: partial[2] as string, account: partial[1] as string, display: value };
  return { name: value.split(':')[0] ?? value, display: value };
}

/** An SQS queue URL `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` (or the legacy host), or an ARN. */
export function queueRefOf(value: string | undefined): ResourceRef | undefined {
  if (!value) return undefined;
  if (value.startsWith('arn:')) return refOf(value);
  const match = /^https?:\/\/[^/]+\/(\d{12})\/([^/?#]+)/.exec(value);
  if (match) return { name: match[2] as string, account: match[1] as string, display: value };
  return { name: value, display: value };
}

/** The account that recorded the event: the resource owner's copy of the CloudTrail record. */
export function eventAccount(event: PipelineEvent): string | undefined {
  return event.cloudTrail?.recipientAccountId || event.envelope.account || event.principal?.accountId || undefined;
}

export interface Ownership {
  readonly prefix: string;
  /** The monitor's account when known (the stack passes it; the configuration may set it). */
  readonly account?: string;
}

/**
 * True when the reference names one of the monitor's resources: its name has the prefix, and no
 * account says otherwise (the event's account is the monitor's, when that is known; the resource's
 * account, when the reference has one, is the event's and the monitor's).
 */
export function isOwn(ref: ResourceRef | undefined, event: PipelineEvent, ownership: Ownership): boolean {
  if (!ref || !ref.name.startsWith(ownership.prefix)) return false;
  return accountsAgree(ref.account, event, ownership.account);
}

export function accountsAgree(resourceAccount: string | undefined, event: PipelineEvent, monitorAccount: string | undefined): boolean {
  const recorded = eventAccount(event);
  if (monitorAccount && recorded && recorded !== monitorAccount) return false;
  if (resourceAccount && monitorAccount && resourceAccount !== monitorAccount) return false;
  if (resourceAccount && recorded && resourceAccount !== recorded) return false;
  return true;
}

/** A key id from a key id, key ARN (`…:key/ID`) or nothing else (aliases are handled by name). */
export function keyIdOf(value: string): string | undefined {
  const arn = parseArn(value);
  if (arn) return arn.service === 'kms' && arn.resource.startsWith('key/') ? arn.resource.slice(4) : undefined;
  return value.startsWith('alias/') ? undefined : value;
}
