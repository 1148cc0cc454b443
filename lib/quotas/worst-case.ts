/**
 * Renders template values the way CloudFormation will resolve them, as long as they can get: sizes
 * are measured on the deployed document, not on the `Fn::GetAtt` placeholders CDK writes. Pseudo
 * parameters take their longest values (a 14-character region, `aws-us-gov`), references take the
 * resource's own name when the template sets it, else the name CloudFormation generates for it.
 */
import { GENERATED_NAME_MAX } from './limits.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

export interface Template {
  readonly Description?: string;
  readonly Resources?: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, Json>;
  readonly Parameters?: Record<string, { Default?: Json }>;
  readonly Mappings?: Record<string, Record<string, Record<string, Json>>>;
}

/** The longest values each pseudo parameter takes across partitions and regions. */
export const WORST_CASE = {
  account: '123456789012',
  region: 'ap-southeast-5', // 14 characters, as long as any region name
  partition: 'aws-us-gov',
  urlSuffix: 'amazonaws.com.cn',
  /** An import or a parameter without default: a generous guess, as their values are not in the template. */
  unknown: 'x'.repeat(256),
} as const;

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const RANDOM_SUFFIX = 'ABCDEFGHIJKLM'; // CloudFormation's 13-character suffix on names it generates

export interface RenderContext {
  readonly template: Template;
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
}

export class WorstCase {
  private readonly account: string;
  private readonly region: string;
  private readonly partition = WORST_CASE.partition;

  constructor(private readonly ctx: RenderContext) {
    // A stack bound to an environment renders literals already; these cover env-agnostic stacks.
    this.account = ctx.account && /^\d{12}$/.test(ctx.account) ? ctx.account : WORST_CASE.account;
    this.region = ctx.region && /^[a-z0-9-]+$/.test(ctx.region) ? ctx.region : WORST_CASE.region;
  }

  /** The value with every intrinsic function replaced by its longest resolved form. */
  render(value: Json | undefined): Json | undefined {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => this.render(item)).filter((item): item is Json => item !== undefined);
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return this.intrinsic(keys[0]!, value[keys[0]!]!);
    const out: Record<string, Json> = Object.create(null) as Record<string, Json>;
    for (const key of keys) {
      const rendered = this.render(value[key]);
      if (rendered !== undefined) out[key] = rendered;
    }
    return out;
  }

  /** `render` as text (strings as they are, anything else as compact JSON). */
  text(value: Json | undefined): string {
    const rendered = this.render(value);
    if (rendered === undefined) return '';
    return typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
  }

  private intrinsic(name: string, arg: Json): Json | undefined {
    switch (name) {
      case 'Ref':
        return typeof arg === 'string' ? this.ref(arg) : WORST_CASE.unknown;
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/s);
        return this.getAtt(String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, Json];
        const rendered = this.render(parts);
        return Array.isArray(rendered) ? rendered.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(separator) : this.asText(rendered);
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::Select': {
        const [index, list] = arg as [Json, Json];
        const rendered = this.render(list);
        const i = Number(this.render(index));
        return Array.isArray(rendered) ? (rendered[i] ?? '') : this.asText(rendered);
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, Json];
        return this.asText(this.render(source)).split(separator);
      }
      case 'Fn::If': {
        const [, whenTrue, whenFalse] = arg as [Json, Json, Json];
        const a = this.render(whenTrue);
        const b = this.render(whenFalse);
        return JSON.stringify(a ?? '').length >= JSON.stringify(b ?? '').length ? a : b;
      }
      case 'Fn::Base64':
        return Buffer.from(this.asText(this.render(arg))).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
      case 'Fn::FindInMap':
        return this.findInMap(arg);
      case 'Fn::ToJsonString':
        return JSON.stringify(this.render(arg) ?? null);
      case 'Fn::Length': {
        const rendered = this.render(arg);
        return Array.isArray(rendered) ? rendered.length : 1;
      }
      default:
        // Conditions (Fn::Equals, …) and imports: no resolved text to measure.
        return WORST_CASE.unknown;
    }
  }

  private asText(value: Json | undefined): string {
    if (value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  private ref(name: string): Json | undefined {
    switch (name) {
      case 'AWS::AccountId':
        return this.account;
      case 'AWS::Region':
        return this.region;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return WORST_CASE.urlSuffix;
      case 'AWS::StackName':
        return this.ctx.stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${this.ctx.stackName}/${KEY_ID}`;
      case 'AWS::NoValue':
        return undefined;
      case 'AWS::NotificationARNs':
        return [];
    }
    const parameter = this.ctx.template.Parameters?.[name];
    if (parameter) return parameter.Default !== undefined ? this.render(parameter.Default) : WORST_CASE.unknown;
    const resource = this.ctx.template.Resources?.[name];
    if (!resource) return WORST_CASE.unknown;
    return this.refOf(name, resource);
  }

  /** The resource's physical name: the one the template sets, else the one CloudFormation generates. */
  physicalName(logicalId: string, resource: TemplateResource, property: string | undefined): string {
    const set = property ? resource.Properties?.[property] : undefined;
    if (set !== undefined) return this.asText(this.render(set));
    const generated = `${this.ctx.stackName}-${logicalId}-${RANDOM_SUFFIX}`;
    return generated.slice(0, GENERATED_NAME_MAX[resource.Type] ?? 128);
  }

  private arn(service: string, resource: string, { region = true, account = true } = {}): string {
    return `arn:${this.partition}:${service}:${region ? this.region : ''}:${account ? this.account : ''}:${resource}`;
  }

  private refOf(logicalId: string, resource: TemplateResource): Json {
    const name = (property?: string) => this.physicalName(logicalId, resource, property);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.${WORST_CASE.urlSuffix}/${this.account}/${name('QueueName')}`;
      case 'AWS::SNS::Topic':
        return this.arn('sns', name('TopicName'));
      case 'AWS::IAM::ManagedPolicy':
        return this.arn('iam', `policy/${name('ManagedPolicyName')}`, { region: false });
      case 'AWS::KMS::Key':
        return KEY_ID;
      case 'AWS::KMS::Alias':
        return name('AliasName');
      case 'AWS::Lambda::Function':
        return name('FunctionName');
      case 'AWS::DynamoDB::Table':
        return name('TableName');
      case 'AWS::Events::Rule':
      case 'AWS::Events::EventBus':
      case 'AWS::Scheduler::Schedule':
        return name('Name');
      case 'AWS::IAM::Role':
        return name('RoleName');
      case 'AWS::Logs::LogGroup':
        return name('LogGroupName');
      case 'AWS::CloudWatch::Alarm':
        return name('AlarmName');
      default:
        return name();
    }
  }

  private getAtt(logicalId: string, attribute: string): Json {
    const resource = this.ctx.template.Resources?.[logicalId];
    if (!resource) return WORST_CASE.unknown;
    const name = (property?: string) => this.physicalName(logicalId, resource, property);
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::SQS::Queue.Arn':
        return this.arn('sqs', name('QueueName'));
      case 'AWS::SQS::Queue.QueueName':
        return name('QueueName');
      case 'AWS::SQS::Queue.QueueUrl':
        return this.refOf(logicalId, resource);
      case 'AWS::SNS::Topic.TopicArn':
        return this.arn('sns', name('TopicName'));
      case 'AWS::SNS::Topic.TopicName':
        return name('TopicName');
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${name('FunctionName')}`);
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn('dynamodb', `table/${name('TableName')}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return this.arn('dynamodb', `table/${name('TableName')}/stream/2026-12-07T00:00:00.000`);
      case 'AWS::Events::Rule.Arn':
        return this.arn('events', `rule/${name('Name')}`);
      case 'AWS::Events::EventBus.Arn':
        return this.arn('events', `event-bus/${name('Name')}`);
      case 'AWS::Scheduler::Schedule.Arn':
        return this.arn('scheduler', `schedule/default/${name('Name')}`);
      case 'AWS::IAM::Role.Arn':
        return this.arn('iam', `role${this.asText(this.render(resource.Properties?.Path ?? '/'))}${name('RoleName')}`, { region: false });
      case 'AWS::IAM::Role.RoleId':
        return 'AROA' + 'X'.repeat(17);
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${KEY_ID}`);
      case 'AWS::KMS::Key.KeyId':
        return KEY_ID;
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${name('LogGroupName')}:*`);
      case 'AWS::CloudWatch::Alarm.Arn':
        return this.arn('cloudwatch', `alarm:${name('AlarmName')}`);
      default: {
        // Any other ARN: service from the type, the longest generated name.
        const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
        return attribute.endsWith('Arn') ? this.arn(service, `${service}/${name()}`) : name();
      }
    }
  }

  private sub(arg: Json): string {
    const [template, variables] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
    return template.replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (Object.prototype.hasOwnProperty.call(variables, name)) return this.asText(this.render(variables[name]));
      const [logicalId, attribute] = name.split(/\.(.*)/s);
      return this.asText(attribute ? this.getAtt(logicalId!, attribute) : this.ref(logicalId!));
    });
  }

  private findInMap(arg: Json): Json {
    const [mapName, topKey, secondKey] = (arg as Json[]).map((part) => this.render(part));
    const map = this.ctx.template.Mappings?.[String(mapName)];
    if (!map) return WORST_CASE.unknown;
    const direct = map[String(topKey)]?.[String(secondKey)];
    if (direct !== undefined) return direct;
    // Keys resolved at deploy time (the region): the longest value of the map.
    const values = Object.values(map).flatMap((row) => (row[String(secondKey)] !== undefined ? [row[String(secondKey)]!] : Object.values(row)));
    return values.reduce<Json>((longest, value) => (JSON.stringify(value).length > JSON.stringify(longest).length ? value : longest), '');
  }
}

/** UTF-8 bytes of compact JSON (strings measured as their text). */
export function byteLength(value: Json | undefined): number {
  if (value === undefined) return 0;
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/** Characters as IAM counts them: compact JSON, no white space outside strings. */
export function charLength(value: Json | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'string' ? value.length : JSON.stringify(value).length;
}
