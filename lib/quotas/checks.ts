/**
 * The deploy-time quota checks, one function per service, each over one synthesized template. They
 * return findings (resource, location, quota, measured value); the validation plugin turns them into
 * violations that fail `cdk synth`.
 */
import { NAME_RULES, QUOTAS, type Quota, type QuotaName } from './limits.js';
import { WorstCase, byteLength, charLength, type Json, type Template, type TemplateResource } from './worst-case.js';

export interface QuotaFinding {
  readonly quota: Quota;
  /** The limit in force (the documented one, or a raised one from the context). */
  readonly limit: number;
  readonly measured: number;
  /** Absent for template-wide quotas. */
  readonly logicalId?: string;
  /** Property path, e.g. `Properties/PolicyDocument`. */
  readonly location: string;
  /** What was measured, in words. */
  readonly subject: string;
}

export interface CheckContext {
  readonly template: Template;
  /** The template as deployed (written to disk), for its size. */
  readonly templateBytes: number;
  readonly render: WorstCase;
  /** Limits raised with Service Quotas, by quota id (only adjustable quotas honour them). */
  readonly raised: ReadonlyMap<string, number>;
  /** Return every measurement, not only those over their limit. */
  readonly all?: boolean;
}

type Statement = { Effect?: Json; Principal?: Json; Action?: Json; NotAction?: Json; Condition?: Json; Resource?: Json; Sid?: Json };

class Findings {
  /** Every measurement, within the quota or not (for the headroom report). */
  readonly all: QuotaFinding[] = [];
  get list(): QuotaFinding[] {
    return this.all.filter((m) => m.measured > m.limit);
  }
  constructor(private readonly ctx: CheckContext) {}

  limitOf(name: QuotaName): number {
    const quota: Quota = QUOTAS[name];
    return (quota.adjustable ? this.ctx.raised.get(quota.id) : undefined) ?? quota.limit;
  }

  /** Records a measurement; those over their limit are the findings. */
  measure(name: QuotaName, measured: number, where: { logicalId?: string; location: string; subject: string }): void {
    this.all.push({ quota: QUOTAS[name] as Quota, limit: this.limitOf(name), measured, ...where });
  }
}

const asArray = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const isObject = (value: Json | undefined): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);

function statementsOf(document: Json | undefined): Statement[] {
  return isObject(document) ? (asArray(document.Statement).filter(isObject) as Statement[]) : [];
}

/** Condition values counted strictly: every value of every key under every operator. */
export function conditionCount(statement: Statement): number {
  if (!isObject(statement.Condition)) return 0;
  let count = 0;
  for (const block of Object.values(statement.Condition)) {
    if (!isObject(block)) continue;
    for (const values of Object.values(block)) count += Math.max(1, asArray(values).length);
  }
  return count;
}

function principalCount(statement: Statement): number {
  const principal = statement.Principal;
  if (principal === undefined) return 0;
  if (!isObject(principal)) return 1; // "*"
  return Object.values(principal).reduce<number>((sum, values) => sum + asArray(values).length, 0);
}

function* resourcesOf(template: Template, type: string): Generator<[string, TemplateResource]> {
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) if (resource.Type === type) yield [logicalId, resource];
}

/** `{"Ref": X}` / `{"Fn::GetAtt": [X, …]}` → X: how resources refer to the one a policy belongs to. */
function referencedId(value: Json | undefined): string | undefined {
  if (!isObject(value)) return typeof value === 'string' ? value : undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return JSON.stringify(value);
}

export function checkSqsPolicies(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::SQS::QueuePolicy')) {
    const document = ctx.render.render(resource.Properties?.PolicyDocument);
    const statements = statementsOf(document);
    const where = (subject: string) => ({ logicalId, location: 'Properties/PolicyDocument', subject });
    f.measure('sqsPolicyStatements', statements.length, where('statements in the queue policy'));
    f.measure('sqsPolicyBytes', byteLength(document), where('bytes of the queue policy as deployed'));
    f.measure('sqsPolicyConditions', statements.reduce((sum, st) => sum + conditionCount(st), 0), where('condition values in the queue policy'));
    f.measure('sqsPolicyPrincipals', statements.reduce((sum, st) => sum + principalCount(st), 0), where('principals in the queue policy'));
    statements.forEach((statement, index) => {
      f.measure('sqsPolicyActions', asArray(statement.Action ?? statement.NotAction).length, {
        logicalId,
        location: `Properties/PolicyDocument/Statement/${index}`,
        subject: `actions in statement ${index}${typeof statement.Sid === 'string' ? ` (${statement.Sid})` : ''}`,
      });
    });
  }
  return ctx.all ? f.all : f.list;
}

export function checkSnsPolicies(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::SNS::TopicPolicy')) {
    const document = ctx.render.render(resource.Properties?.PolicyDocument);
    const statements = statementsOf(document);
    const where = (subject: string) => ({ logicalId, location: 'Properties/PolicyDocument', subject });
    f.measure('snsPolicyStatements', statements.length, where('statements in the topic policy'));
    f.measure('snsPolicyBytes', byteLength(document), where('bytes of the topic policy as deployed'));
    f.measure('snsPolicyPrincipals', statements.reduce((sum, st) => sum + principalCount(st), 0), where('principals in the topic policy'));
  }
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::SNS::Subscription')) {
    const policy = ctx.render.render(resource.Properties?.FilterPolicy);
    if (!isObject(policy)) continue;
    const location = 'Properties/FilterPolicy';
    for (const [level, keys] of filterPolicyLevels(policy)) {
      f.measure('snsFilterKeys', keys, { logicalId, location, subject: `attribute names at ${level}` });
    }
    f.measure('snsFilterCombinations', filterCombinations(policy), { logicalId, location, subject: 'value combinations of the filter policy' });
  }
  return ctx.all ? f.all : f.list;
}

/** Number of attribute names at each nesting level of a filter policy (`$or` branches counted apart). */
function filterPolicyLevels(policy: { [key: string]: Json }, path = 'the top level'): Array<[string, number]> {
  const keys = Object.keys(policy).filter((key) => key !== '$or');
  const out: Array<[string, number]> = [[path, keys.length]];
  for (const key of keys) {
    const value = policy[key];
    if (isObject(value)) out.push(...filterPolicyLevels(value, `${path} › ${key}`));
  }
  return out;
}

/** SNS's count: the product of the number of values of every attribute (nested ones included). */
function filterCombinations(policy: Json): number {
  if (Array.isArray(policy)) return Math.max(1, policy.length);
  if (!isObject(policy)) return 1;
  let product = 1;
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or' && Array.isArray(value)) product *= value.reduce<number>((sum, branch) => sum + filterCombinations(branch), 0);
    else product *= filterCombinations(value);
  }
  return product;
}

export function checkLambda(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::Lambda::Function')) {
    const variables = ctx.render.render(isObject(resource.Properties?.Environment) ? resource.Properties.Environment.Variables : undefined);
    if (isObject(variables)) {
      f.measure('lambdaEnvironmentBytes', byteLength(variables), { logicalId, location: 'Properties/Environment/Variables', subject: 'bytes of environment variables (as JSON)' });
    }
  }
  // AWS::Lambda::Permission resources all land in their function's one resource-based policy.
  const byFunction = new Map<string, { logicalId: string; bytes: number }>();
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::Lambda::Permission')) {
    const p = resource.Properties ?? {};
    const target = referencedId(p.FunctionName) ?? logicalId;
    const statement = ctx.render.render({
      Sid: `${logicalId}${'X'.repeat(13)}`,
      Effect: 'Allow',
      Principal: { Service: p.Principal ?? '*' },
      Action: p.Action ?? 'lambda:InvokeFunction',
      Resource: { 'Fn::GetAtt': [target, 'Arn'] },
      Condition: {
        ...(p.SourceArn !== undefined ? { ArnLike: { 'AWS:SourceArn': p.SourceArn } } : {}),
        ...(p.SourceAccount !== undefined ? { StringEquals: { 'AWS:SourceAccount': p.SourceAccount } } : {}),
        ...(p.PrincipalOrgID !== undefined ? { StringEquals: { 'aws:PrincipalOrgID': p.PrincipalOrgID } } : {}),
      },
    });
    const entry = byFunction.get(target) ?? { logicalId, bytes: byteLength({ Version: '2012-10-17', Id: 'default', Statement: [] }) };
    entry.bytes += byteLength(statement) + 1;
    byFunction.set(target, entry);
  }
  for (const [target, { logicalId, bytes }] of byFunction) {
    f.measure('lambdaPolicyBytes', bytes, { logicalId, location: 'Properties', subject: `bytes of the resource-based policy of function ${target}, from all its permissions` });
  }
  return ctx.all ? f.all : f.list;
}

export function checkIam(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  const inline = new Map<string, number>();
  const managed = new Map<string, number>();
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::IAM::Role')) {
    const p = resource.Properties ?? {};
    f.measure('iamTrustPolicyChars', charLength(ctx.render.render(p.AssumeRolePolicyDocument)), { logicalId, location: 'Properties/AssumeRolePolicyDocument', subject: 'characters of the trust policy' });
    const own = asArray(p.Policies).filter(isObject);
    inline.set(logicalId, own.reduce((sum, policy) => sum + charLength(ctx.render.render(policy.PolicyDocument)) + charLength(policy.PolicyName), 0));
    managed.set(logicalId, asArray(p.ManagedPolicyArns).length);
  }
  for (const [, resource] of resourcesOf(ctx.template, 'AWS::IAM::Policy')) {
    const p = resource.Properties ?? {};
    const size = charLength(ctx.render.render(p.PolicyDocument)) + charLength(p.PolicyName);
    for (const role of asArray(p.Roles)) {
      const id = referencedId(role);
      if (id && inline.has(id)) inline.set(id, inline.get(id)! + size);
    }
  }
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::IAM::ManagedPolicy')) {
    const p = resource.Properties ?? {};
    f.measure('iamManagedPolicyChars', charLength(ctx.render.render(p.PolicyDocument)), { logicalId, location: 'Properties/PolicyDocument', subject: 'characters of the managed policy' });
    for (const role of asArray(p.Roles)) {
      const id = referencedId(role);
      if (id && managed.has(id)) managed.set(id, managed.get(id)! + 1);
    }
  }
  for (const [logicalId, chars] of inline) {
    f.measure('iamRoleInlineChars', chars, { logicalId, location: 'Properties/Policies', subject: 'characters of all inline policies of the role (its own and AWS::IAM::Policy resources naming it)' });
  }
  for (const [logicalId, count] of managed) {
    f.measure('iamManagedPoliciesPerRole', count, { logicalId, location: 'Properties/ManagedPolicyArns', subject: 'managed policies attached to the role' });
  }
  return ctx.all ? f.all : f.list;
}

export function checkKms(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::KMS::Key')) {
    f.measure('kmsKeyPolicyBytes', byteLength(ctx.render.render(resource.Properties?.KeyPolicy)), { logicalId, location: 'Properties/KeyPolicy', subject: 'bytes of the key policy' });
  }
  return ctx.all ? f.all : f.list;
}

export function checkEventBridge(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  const rulesPerBus = new Map<string, string[]>();
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::Events::Rule')) {
    const p = resource.Properties ?? {};
    const bus = p.EventBusName === undefined ? 'default' : ctx.render.text(p.EventBusName);
    rulesPerBus.set(bus, [...(rulesPerBus.get(bus) ?? []), logicalId]);
    if (p.EventPattern !== undefined) {
      f.measure('eventPatternChars', charLength(ctx.render.render(p.EventPattern)), { logicalId, location: 'Properties/EventPattern', subject: 'characters of the event pattern' });
    }
    const targets = asArray(p.Targets).filter(isObject);
    f.measure('eventTargetsPerRule', targets.length, { logicalId, location: 'Properties/Targets', subject: 'targets of the rule' });
    targets.forEach((target, index) => {
      const location = `Properties/Targets/${index}`;
      if (target.Input !== undefined) f.measure('eventInputChars', ctx.render.text(target.Input).length, { logicalId, location: `${location}/Input`, subject: `characters of target ${index}'s Input` });
      const transformer = target.InputTransformer;
      if (isObject(transformer)) {
        f.measure('eventInputChars', ctx.render.text(transformer.InputTemplate).length, { logicalId, location: `${location}/InputTransformer/InputTemplate`, subject: `characters of target ${index}'s InputTemplate` });
        const paths = ctx.render.render(transformer.InputPathsMap);
        f.measure('eventInputPaths', isObject(paths) ? Object.keys(paths).length : 0, { logicalId, location: `${location}/InputTransformer/InputPathsMap`, subject: `entries of target ${index}'s InputPathsMap` });
      }
    });
  }
  for (const [bus, rules] of rulesPerBus) {
    f.measure('eventRulesPerBus', rules.length, { logicalId: rules[0]!, location: 'Properties/EventBusName', subject: `rules of this stack on the ${bus} bus` });
  }
  // A bus's policy is the sum of its AWS::Events::EventBusPolicy statements (and its own Policy).
  const busPolicies = new Map<string, { logicalId: string; chars: number }>();
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::Events::EventBusPolicy')) {
    const p = resource.Properties ?? {};
    const bus = p.EventBusName === undefined ? 'default' : ctx.render.text(p.EventBusName);
    const entry = busPolicies.get(bus) ?? { logicalId, chars: charLength({ Version: '2012-10-17', Statement: [] }) };
    entry.chars += charLength(ctx.render.render(p.Statement ?? p.Condition ?? {})) + 1;
    busPolicies.set(bus, entry);
  }
  for (const [logicalId, resource] of resourcesOf(ctx.template, 'AWS::Events::EventBus')) {
    const policy = resource.Properties?.Policy;
    if (policy !== undefined) busPolicies.set(logicalId, { logicalId, chars: charLength(ctx.render.render(policy)) });
  }
  for (const [bus, { logicalId, chars }] of busPolicies) {
    f.measure('eventBusPolicyChars', chars, { logicalId, location: 'Properties', subject: `characters of the ${bus} event bus's policy` });
  }
  return ctx.all ? f.all : f.list;
}

export function checkTemplate(ctx: CheckContext): QuotaFinding[] {
  const f = new Findings(ctx);
  const t = ctx.template;
  f.measure('templateResources', Object.keys(t.Resources ?? {}).length, { location: 'Resources', subject: 'resources in the template' });
  f.measure('templateOutputs', Object.keys(t.Outputs ?? {}).length, { location: 'Outputs', subject: 'outputs in the template' });
  f.measure('templateParameters', Object.keys(t.Parameters ?? {}).length, { location: 'Parameters', subject: 'parameters in the template' });
  f.measure('templateMappings', Object.keys(t.Mappings ?? {}).length, { location: 'Mappings', subject: 'mappings in the template' });
  f.measure('templateBytes', ctx.templateBytes, { location: '', subject: 'bytes of the template file' });
  f.measure('templateDescriptionBytes', Buffer.byteLength(t.Description ?? ''), { location: 'Description', subject: 'bytes of the template description' });
  for (const [logicalId, resource] of resourcesOf(t, 'AWS::CloudFormation::StackSet')) {
    const body = resource.Properties?.TemplateBody;
    if (body === undefined) continue;
    f.measure('stackSetTemplateBodyBytes', Buffer.byteLength(ctx.render.text(body)), { logicalId, location: 'Properties/TemplateBody', subject: "bytes of the StackSet's template body" });
  }
  return ctx.all ? f.all : f.list;
}

/** A physical name breaking its type's rules, as an extra kind of finding. */
export interface NameFinding {
  readonly logicalId: string;
  readonly location: string;
  readonly name: string;
  readonly problem: string;
  readonly source: string;
}

export function checkNames(ctx: CheckContext): NameFinding[] {
  const out: NameFinding[] = [];
  for (const [logicalId, resource] of Object.entries(ctx.template.Resources ?? {})) {
    for (const rule of NAME_RULES[resource.Type] ?? []) {
      const value = resource.Properties?.[rule.property];
      if (value === undefined) continue;
      const name = ctx.render.text(value);
      const location = `Properties/${rule.property}`;
      const base = { logicalId, location, name, source: rule.source };
      if (name.length > rule.maxLength) out.push({ ...base, problem: `${rule.property} is ${name.length} characters; the limit is ${rule.maxLength}` });
      else if (name.length < (rule.minLength ?? 0)) out.push({ ...base, problem: `${rule.property} is ${name.length} characters; the minimum is ${rule.minLength}` });
      if (!rule.pattern.test(name)) out.push({ ...base, problem: `${rule.property} has characters the service does not accept (allowed: ${rule.pattern.source})` });
    }
  }
  return out;
}

export const QUOTA_CHECKS = [checkSqsPolicies, checkSnsPolicies, checkLambda, checkIam, checkKms, checkEventBridge, checkTemplate] as const;
