/**
 * Deploy-time quotas checked at synth (lib/quotas): the stack's extremes synthesize inside every
 * quota, and an over-limit resource fails synthesis with its construct path, the limit and the value.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Aws, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig, type BuildwatchConfig } from '../../lambdas/config/config.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { BuildwatchStack } from '../../lib/buildwatch-stack.js';
import { addBuildwatchStacks } from '../../lib/app-stacks.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { QUOTA_CHECKS, checkEventBridge, checkIam, checkLambda, checkNames, checkSnsPolicies, checkSqsPolicies, checkTemplate, conditionCount, type CheckContext } from '../../lib/quotas/checks.js';
import { DeployQuotaChecks, RAISED_QUOTAS_CONTEXT } from '../../lib/quotas/deploy-quota-checks.js';
import { WorstCase, type Json, type Template as CfnTemplate } from '../../lib/quotas/worst-case.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const standIn = fileURLToPath(import.meta.url);
const entries = { detect: standIn, notify: standIn, heartbeat: standIn, seal: standIn, sweep: standIn };
const LONG_PREFIX = 'acme-payments-platform-bwatch-'; // 30 characters, the configuration's maximum

function synthesize(config: BuildwatchConfig): { template: CfnTemplate; bytes: number } {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new BuildwatchStack(app, 'Buildwatch', { config, useCases: registry, entries });
  Validations.of(app).addPlugins(new DeployQuotaChecks());
  // Throws when the plugin reports an error (the same as `cdk synth` failing).
  const json = Template.fromStack(stack).toJSON() as CfnTemplate;
  return { template: json, bytes: Buffer.byteLength(JSON.stringify(json, undefined, 1)) };
}

/** Every stack of an organisation configuration (central, member, StackSet), each checked by the plugin. */
function synthesizeOrganization(config: BuildwatchConfig): Map<string, { template: CfnTemplate; bytes: number }> {
  const context = { ...cdkContext, 'aws:cdk:bundling-stacks': [] };
  const app = new App({ context });
  const stacks = addBuildwatchStacks(app, { config, useCases: registry, stackName: 'Buildwatch', entries, memberTemplateContext: context });
  Validations.of(app).addPlugins(new DeployQuotaChecks());
  const out = new Map<string, { template: CfnTemplate; bytes: number }>();
  for (const stack of [stacks.central, stacks.member, stacks.stackSet]) {
    if (!stack) continue;
    const json = Template.fromStack(stack).toJSON() as CfnTemplate;
    out.set(stack.stackName, { template: json, bytes: Buffer.byteLength(JSON.stringify(json, undefined, 1)) });
  }
  return out;
}

function contextOf(template: CfnTemplate, templateBytes = Buffer.byteLength(JSON.stringify(template)), raised = new Map<string, number>()): CheckContext {
  return { template, templateBytes, render: new WorstCase({ template, stackName: 'Buildwatch' }), raised };
}

/** The strictest configuration: every use case on, the routing fixture's endpoints, the longest prefix. */
function extremeConfig(): BuildwatchConfig {
  const routing = loadConfig(resolve(PROJECT_ROOT, 'test', 'fixtures', 'routing.config.json'));
  const bundled = JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'buildwatch.config.json'), 'utf8')) as Record<string, unknown>;
  return parseConfig({
    ...bundled,
    routing: routing.routing,
    monitor: { ...(bundled.monitor as object), resourcePrefix: LONG_PREFIX },
    useCases: Object.fromEntries(registry.map((useCase) => [useCase.metadata.id, { mode: 'alert' }])),
  } as Parameters<typeof parseConfig>[0]);
}

describe('the synthesized stacks are inside every deploy quota', () => {
  it('the bundled configuration', () => {
    const { template } = synthesize(loadConfig(resolve(PROJECT_ROOT, 'buildwatch.config.json')));
    expect(QUOTA_CHECKS.flatMap((check) => check(contextOf(template)))).toEqual([]);
  });

  it('every use case enabled, every endpoint type routed, a 30-character resource prefix', () => {
    const config = extremeConfig();
    expect(config.monitor.resourcePrefix).toHaveLength(30);
    const { template, bytes } = synthesize(config);
    const ctx = contextOf(template, bytes);
    expect(QUOTA_CHECKS.flatMap((check) => check(ctx))).toEqual([]);
    expect(checkNames(ctx)).toEqual([]);
    // The checks measured something real: one rule per enabled use case, each name with the long prefix.
    const rules = Object.values(template.Resources!).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.length).toBeGreaterThan(registry.length);
    for (const rule of rules) expect(String(rule.Properties!.Name)).toMatch(new RegExp(`^${LONG_PREFIX}`));
    // The dead-letter queue's policy no longer grows with the number of rules.
    const dlqPolicies = Object.values(template.Resources!).filter((r) => r.Type === 'AWS::SQS::QueuePolicy');
    for (const policy of dlqPolicies) expect((policy.Properties!.PolicyDocument as { Statement: Json[] }).Statement.length).toBeLessThanOrEqual(3);
  });
});

describe('the organisation deployment is inside every deploy quota', () => {
  const fixture = () => JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'test', 'fixtures', 'organization.config.json'), 'utf8')) as Record<string, unknown>;

  it('the organisation fixture: central, member and StackSet templates', () => {
    const templates = synthesizeOrganization(loadConfig(resolve(PROJECT_ROOT, 'test', 'fixtures', 'organization.config.json')));
    expect([...templates.keys()]).toEqual(['Buildwatch', 'BuildwatchMember', 'BuildwatchMemberStackSet']);
    for (const [name, { template, bytes }] of templates) {
      const ctx = contextOf(template, bytes);
      expect(QUOTA_CHECKS.flatMap((check) => check(ctx)), name).toEqual([]);
      expect(checkNames(ctx), name).toEqual([]);
    }
  });

  it('every use case enabled and a 30-character prefix: the StackSet body still fits its own limit', () => {
    const config = parseConfig({ ...(extremeConfig() as unknown as Record<string, unknown>), organization: fixture().organization } as Parameters<typeof parseConfig>[0]);
    const templates = synthesizeOrganization(config);
    for (const [name, { template, bytes }] of templates) expect(QUOTA_CHECKS.flatMap((check) => check(contextOf(template, bytes))), name).toEqual([]);
    const stackSet = templates.get('BuildwatchMemberStackSet')!.template;
    const all = checkTemplate({ ...contextOf(stackSet), all: true });
    const body = all.find((f) => f.quota.id === 'cloudformation.stackset-template-body-bytes')!;
    // Measured, and the member template it carries has a rule per enabled use case.
    expect(body.measured).toBeGreaterThan(10_000);
    expect(body.measured).toBeLessThanOrEqual(51_200);
    const member = templates.get('BuildwatchMember')!.template;
    const memberRules = Object.values(member.Resources!).filter((r) => r.Type === 'AWS::Events::Rule');
    for (const rule of memberRules) expect(String(rule.Properties!.Name)).toMatch(new RegExp(`^${LONG_PREFIX}`));
  });

  it('fails the synthesis when a StackSet body is over 51,200 bytes', () => {
    const template: CfnTemplate = { Resources: { Set: { Type: 'AWS::CloudFormation::StackSet', Properties: { StackSetName: 'buildwatch-members', TemplateBody: 'x'.repeat(51_201) } } } };
    expect(checkTemplate(contextOf(template)).map((f) => [f.quota.id, f.measured, f.logicalId])).toEqual([['cloudformation.stackset-template-body-bytes', 51_201, 'Set']]);
  });
});

describe('the resource prefix is valid in every physical name', () => {
  it('rejects prefixes over 30 characters or with characters some service refuses', () => {
    expect(() => parseConfig({ monitor: { resourcePrefix: `${LONG_PREFIX}x` } })).toThrow(/30/);
    expect(() => parseConfig({ monitor: { resourcePrefix: 'build_watch.' } })).toThrow(/letters, digits and hyphens/);
    expect(parseConfig({ monitor: { resourcePrefix: LONG_PREFIX } }).monitor.resourcePrefix).toBe(LONG_PREFIX);
  });
});

describe('synthesis fails on an over-limit resource', () => {
  function appWith(build: (stack: Stack) => void, context: Record<string, unknown> = {}): () => void {
    const app = new App({ context });
    const stack = new Stack(app, 'Tiny');
    build(stack);
    Validations.of(app).addPlugins(new DeployQuotaChecks());
    return () => app.synth();
  }

  it('names the construct, the quota, the limit and the measured value', () => {
    const synth = appWith((stack) => {
      const queue = new sqs.Queue(stack, 'Intake', { queueName: 'intake' });
      for (let i = 0; i < 21; i += 1) {
        queue.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: `Rule${i}`,
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['sqs:SendMessage'],
            resources: [queue.queueArn],
            conditions: { ArnEquals: { 'aws:SourceArn': `arn:aws:events:eu-west-1:111122223333:rule/r${i}` } },
          }),
        );
      }
    });
    expect(synth).toThrow(/Tiny\/Intake\/Policy\/Resource: statements in an SQS queue policy is 21 statements .*the limit is 20/);
    expect(synth).toThrow(/Quota-sqs\.policy-conditions/);
  });

  it('fails on a physical name too long for its service once its tokens resolve', () => {
    // CDK cannot check a name holding a token; the plugin measures it with the stack's name filled in.
    const synth = appWith((stack) => {
      new events.Rule(stack, 'Rule', { ruleName: `${Aws.STACK_NAME}-${'x'.repeat(60)}`, schedule: events.Schedule.expression('rate(1 hour)') });
    });
    expect(synth).toThrow(/Tiny\/Rule\/Resource: Name is 65 characters; the limit is 64/);
  });

  it('honours a raised adjustable quota declared in the context, and only for adjustable quotas', () => {
    const pattern = { source: ['aws.codebuild'], detail: { projectName: Array.from({ length: 200 }, (_, i) => `project-${i}`) } };
    const build = (stack: Stack) => void new events.Rule(stack, 'Big', { eventPattern: pattern });
    expect(appWith(build)).toThrow(/event pattern size is \d+ characters .*the limit is 2048/);
    expect(appWith(build, { [RAISED_QUOTAS_CONTEXT]: { 'eventbridge.event-pattern-chars': 4096 } })).not.toThrow();
    const hard = appWith((stack) => new sqs.Queue(stack, 'Q', { queueName: 'q'.repeat(81) }), { [RAISED_QUOTAS_CONTEXT]: { 'sqs.policy-statements': 100 } });
    expect(hard).toThrow(/QueueName is 81 characters; the limit is 80/);
  });
});

describe('the checks, on templates written by hand', () => {
  const queuePolicy = (statements: number, conditionValues = 1): CfnTemplate => ({
    Resources: {
      Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'buildwatch-dead-letter' } },
      DlqPolicy: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [{ Ref: 'Dlq' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: Array.from({ length: statements }, (_, i) => ({
              Sid: `AllowEventRuleBuildwatchRules${i}`,
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['Dlq', 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': Array.from({ length: conditionValues }, (_, j) => ({ 'Fn::GetAtt': [`Rule${i}x${j}`, 'Arn'] })) } },
            })),
          },
        },
      },
    },
  });

  it('measure the old per-rule dead-letter policy: 33 statements and over 8 KB once ARNs resolve', () => {
    const findings = checkSqsPolicies(contextOf(queuePolicy(33)));
    const byId = new Map(findings.map((f) => [f.quota.id, f]));
    expect(byId.get('sqs.policy-statements')).toMatchObject({ measured: 33, limit: 20, logicalId: 'DlqPolicy' });
    expect(byId.get('sqs.policy-bytes')!.measured).toBeGreaterThan(8_192);
    expect(byId.get('sqs.policy-conditions')).toMatchObject({ measured: 33, limit: 10 });
  });

  it('count every value of a condition key as one condition (the 34-value ArnNotEquals was 34)', () => {
    expect(conditionCount({ Condition: { ArnNotEquals: { 'aws:SourceArn': Array.from({ length: 34 }, (_, i) => `arn:${i}`) } } })).toBe(34);
    expect(conditionCount({ Condition: { ArnLike: { 'aws:SourceArn': 'arn:*' }, StringEquals: { 'aws:SourceAccount': '1', 'aws:SourceOrgID': ['a', 'b'] } } })).toBe(4);
    expect(checkSqsPolicies(contextOf(queuePolicy(1, 11))).map((f) => f.quota.id)).toEqual(['sqs.policy-conditions']);
  });

  it('resolve ARNs to their longest deployed form before measuring', () => {
    const render = new WorstCase({ template: queuePolicy(1), stackName: 'Buildwatch' });
    expect(render.render({ 'Fn::GetAtt': ['Dlq', 'Arn'] })).toBe('arn:aws-us-gov:sqs:ap-southeast-5:123456789012:buildwatch-dead-letter');
    expect(render.render({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':rule/x']] })).toBe('arn:aws-us-gov:events:ap-southeast-5:rule/x');
    expect(render.render({ 'Fn::Sub': ['${Dlq.QueueName}-${AWS::AccountId}-${!Literal}-${X}', { X: 'y' }] })).toBe('buildwatch-dead-letter-123456789012-${Literal}-y');
    // An unnamed resource: the name CloudFormation generates, cut to its type's maximum (Lambda: 64).
    const unnamed = (stackName: string) => new WorstCase({ template: { Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: {} } } }, stackName });
    expect(unnamed('Buildwatch').render({ Ref: 'Fn' })).toBe('Buildwatch-Fn-ABCDEFGHIJKLM');
    expect(String(unnamed('B'.repeat(100)).render({ Ref: 'Fn' }))).toHaveLength(64);
    expect(render.render({ a: { Ref: 'AWS::NoValue' }, b: 1 })).toEqual({ b: 1 });
  });

  it('measure environment variables, permissions per function, inline policies per role', () => {
    const template: CfnTemplate = {
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'f', Environment: { Variables: { BIG: 'v'.repeat(4_100) } } } },
        ...Object.fromEntries(
          Array.from({ length: 80 }, (_, i) => [
            `Perm${i}`,
            { Type: 'AWS::Lambda::Permission', Properties: { FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction', SourceArn: { 'Fn::GetAtt': [`Rule${i}`, 'Arn'] } } },
          ]),
        ),
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } } },
        ...Object.fromEntries(
          Array.from({ length: 3 }, (_, i) => [
            `Policy${i}`,
            { Type: 'AWS::IAM::Policy', Properties: { PolicyName: `p${i}`, Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'x:Y', Resource: 'r'.repeat(4_000) }] } } },
          ]),
        ),
      },
    };
    const ctx = contextOf(template);
    expect(checkLambda(ctx).map((f) => [f.quota.id, f.logicalId])).toEqual([
      ['lambda.environment-bytes', 'Fn'],
      ['lambda.resource-policy-bytes', 'Perm0'],
    ]);
    expect(checkIam(ctx).map((f) => [f.quota.id, f.logicalId])).toEqual([['iam.role-inline-policies-chars', 'Role']]);
  });

  it('measure event rules: targets, input templates, input paths, rules per bus (a warning)', () => {
    const target = (i: number) => ({ Id: `T${i}`, Arn: 'arn:aws:sqs:eu-west-1:1:q', InputTransformer: { InputTemplate: 'x'.repeat(9_000), InputPathsMap: Object.fromEntries(Array.from({ length: 101 }, (_, j) => [`f${j}`, '$'])) } });
    const template: CfnTemplate = {
      Resources: Object.fromEntries(Array.from({ length: 151 }, (_, i) => [`Rule${i}`, { Type: 'AWS::Events::Rule', Properties: { Name: `r${i}`, EventPattern: { source: ['x'] }, Targets: i === 0 ? Array.from({ length: 6 }, (_, j) => target(j)) : [] } }])),
    };
    const findings = checkEventBridge(contextOf(template));
    const ids = findings.map((f) => f.quota.id);
    expect(ids.filter((id) => id === 'eventbridge.targets-per-rule')).toHaveLength(1);
    expect(ids.filter((id) => id === 'eventbridge.target-input-chars')).toHaveLength(6);
    expect(ids.filter((id) => id === 'eventbridge.input-paths')).toHaveLength(6);
    const perBus = findings.find((f) => f.quota.id === 'eventbridge.rules-per-bus')!;
    expect(perBus).toMatchObject({ measured: 151 });
    expect(perBus.quota.warning).toBe(true);
  });

  it('measure subscription filter policies: keys per level and value combinations', () => {
    const filter = { severity: ['low', 'medium', 'high', 'critical'], useCase: Array.from({ length: 20 }, (_, i) => `u${i}`), stage: ['a', 'b'], a: ['1'], b: ['1'], c: ['1'] };
    const template: CfnTemplate = { Resources: { Sub: { Type: 'AWS::SNS::Subscription', Properties: { FilterPolicy: filter } } } };
    const findings = checkSnsPolicies(contextOf(template));
    expect(findings.map((f) => [f.quota.id, f.measured])).toEqual([
      ['sns.filter-policy-keys', 6],
      ['sns.filter-policy-combinations', 160],
    ]);
  });

  it('measure the template as a whole', () => {
    const template: CfnTemplate = { Resources: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`R${i}`, { Type: 'AWS::SNS::Topic', Properties: {} }])) };
    expect(checkTemplate(contextOf(template, 2_000_000)).map((f) => [f.quota.id, f.measured])).toEqual([
      ['cloudformation.resources', 501],
      ['cloudformation.template-bytes', 2_000_000],
    ]);
  });
});
