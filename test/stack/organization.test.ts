/**
 * The organisation deployment synthesized from test/fixtures/organization.config.json (three accounts,
 * two regions): the central stack (today's stack plus the central bus), the member stack and the
 * member StackSet. One synthesis for the file, with cdk-nag and the deploy-quota checks as in bin/app.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig, type BuildwatchConfig } from '../../lambdas/config/config.js';
import { centralBusName, centralDetectRoleName, centralSweepRoleName, lookupExternalId, memberLookupRoleName } from '../../lambdas/config/organization.js';
import type { EventPattern } from '../../lambdas/engine/event-pattern.js';
import { matchesPattern } from '../../lambdas/engine/event-pattern.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { CANARY_USE_CASE, HEARTBEAT_USE_CASE } from '../../lambdas/use-cases/monitor/constants.js';
import { addBuildwatchStacks, type BuildwatchStacks } from '../../lib/app-stacks.js';
import { enabledUseCases, ruleSlug } from '../../lib/constructs/detection-rules.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { BuildwatchMemberStack, forwardRoleName } from '../../lib/member-stack.js';
import { BuildwatchMemberStackSet } from '../../lib/organization/member-stack-set.js';
import { memberHeartbeatPattern, memberTamperRules } from '../../lib/organization/shared.js';
import { DeployQuotaChecks } from '../../lib/quotas/deploy-quota-checks.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

type Resource = { Type: string; Properties: Record<string, any>; Condition?: string };
type Json = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown>; Outputs?: Record<string, { Condition?: string }> };

const FIXTURE = resolve(PROJECT_ROOT, 'test', 'fixtures', 'organization.config.json');
const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const context = { ...cdkContext, 'aws:cdk:bundling-stacks': [] };
const standIn = fileURLToPath(import.meta.url);
const entries = { detect: standIn, notify: standIn, heartbeat: standIn, seal: standIn, sweep: standIn };

interface Synth {
  app: App;
  config: BuildwatchConfig;
  stacks: BuildwatchStacks;
  central: Json;
  member: Json;
  stackSet: Json;
}

let shared: Synth | undefined;
/** The fixture's stacks, synthesized once with cdk-nag and the quota checks (either failing throws here). */
function org(): Synth {
  if (shared) return shared;
  const config = loadConfig(FIXTURE);
  const app = new App({ context });
  const stacks = addBuildwatchStacks(app, { config, useCases: registry, stackName: 'Buildwatch', entries, memberTemplateContext: context });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new DeployQuotaChecks());
  const json = (stack: NonNullable<BuildwatchStacks['member']> | BuildwatchStacks['central'] | NonNullable<BuildwatchStacks['stackSet']>) => Template.fromStack(stack).toJSON() as Json;
  shared = { app, config, stacks, central: json(stacks.central), member: json(stacks.member!), stackSet: json(stacks.stackSet!) };
  return shared;
}

const resourcesOf = (t: Json, type: string): Array<[string, Resource]> => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const rulesOn = (t: Json, busLogicalId?: string) =>
  resourcesOf(t, 'AWS::Events::Rule').filter(([, r]) => (busLogicalId ? JSON.stringify(r.Properties.EventBusName) === JSON.stringify({ Ref: busLogicalId }) : r.Properties.EventBusName === undefined));
const centralBusId = (s: Synth) => resourcesOf(s.central, 'AWS::Events::EventBus')[0]![0];
/** A template value with Fn::Join of literals and pseudo parameters, as text (`${AWS::Partition}`). */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v && typeof v === 'object' && 'Ref' in v) return `\${${String(v.Ref)}}`;
  if (v && typeof v === 'object' && 'Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(text).join(sep);
  }
  return JSON.stringify(value);
}
const toList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('the organisation fixture', () => {
  it('is a valid configuration: three named accounts, two regions, a pipeline per account', () => {
    const { config } = org();
    expect(config.organization!.accounts.map((a) => a.name)).toEqual(['tooling', 'artifacts', 'security']);
    expect(config.organization!.members.regions).toHaveLength(2);
    expect(config.organization!.accounts.every((a) => a.pipeline !== undefined)).toBe(true);
  });

  it('synthesizes the central, member and StackSet stacks, nag- and quota-clean, with no CDK error annotation', () => {
    const s = org();
    const violations = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s.app).violations;
    expect(violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    for (const stack of [s.stacks.central, s.stacks.member!, s.stacks.stackSet!]) expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(s.stacks.central.account).toBe('444455556666');
    expect(s.stacks.central.region).toBe('eu-west-1');
    expect(s.stacks.stackSet!.account).toBe('444455556666'); // the delegated administrator
  });
});

describe('the central stack', () => {
  it('has a central bus whose policy allows PutEvents to the organisation (aws:PrincipalOrgID) and the listed member accounts only', () => {
    const s = org();
    const [busId, bus] = resourcesOf(s.central, 'AWS::Events::EventBus')[0]!;
    expect(bus.Properties.Name).toBe(centralBusName('buildwatch-'));
    const statements = resourcesOf(s.central, 'AWS::Events::EventBusPolicy').map(([, r]) => {
      expect(r.Properties.EventBusName).toEqual({ Ref: busId });
      return r.Properties.Statement as { Effect: string; Action: string; Principal: unknown; Condition?: unknown; Resource: unknown };
    });
    expect(statements).toHaveLength(2);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Action).toBe('events:PutEvents');
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    }
    const open = statements.filter((st) => st.Principal === '*');
    expect(open).toHaveLength(1);
    expect(open[0]!.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } });
    const listed = statements.find((st) => st.Principal !== '*')!;
    expect(listed.Principal).toEqual({ AWS: ['arn:aws:iam::111122223333:root', 'arn:aws:iam::222233334444:root'] });
  });

  it('matches every enabled use case on the central bus as well as on its own default bus, both to the detect queue', () => {
    const s = org();
    const enabled = enabledUseCases(registry, s.config).filter((u) => u.metadata.id !== CANARY_USE_CASE && u.metadata.id !== HEARTBEAT_USE_CASE);
    const onBus = new Map(rulesOn(s.central, centralBusId(s)).map(([, r]) => [r.Properties.Name as string, r]));
    const onDefault = new Map(rulesOn(s.central).map(([, r]) => [r.Properties.Name as string, r]));
    for (const useCase of enabled) {
      const name = `buildwatch-${ruleSlug(useCase.metadata.id)}`;
      expect(onDefault.has(name), name).toBe(true);
      const rule = onBus.get(name);
      expect(rule, name).toBeDefined();
      expect(rule!.Properties.Targets[0].Arn).toEqual(onDefault.get(name)!.Properties.Targets[0].Arn);
      // With organisational units, accounts nobody listed are still watched (no account filter).
      expect(rule!.Properties.EventPattern.account).toBeUndefined();
    }
    // The canary is the central stack's own: a member's forged canary must not count.
    expect(onBus.has(`buildwatch-${ruleSlug(CANARY_USE_CASE)}`)).toBe(false);
  });

  it('routes member heartbeats to the detector and member tampering straight to the alerts topic', () => {
    const s = org();
    const onBus = new Map(rulesOn(s.central, centralBusId(s)).map(([, r]) => [r.Properties.Name as string, r]));
    const heartbeat = onBus.get('buildwatch-member-heartbeat')!;
    expect(heartbeat.Properties.EventPattern).toEqual(memberHeartbeatPattern('buildwatch-'));
    const transformer = heartbeat.Properties.Targets[0].InputTransformer as { InputPathsMap: Record<string, string>; InputTemplate: string };
    const [[placeholder, path]] = Object.entries(transformer.InputPathsMap) as [[string, string]];
    expect(path).toBe('$');
    expect(JSON.parse(transformer.InputTemplate.replace(`<${placeholder}>`, 'null'))).toEqual({ useCase: HEARTBEAT_USE_CASE, event: null });
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', account: '111122223333', region: 'us-east-1', resources: ['arn:aws:events:us-east-1:111122223333:rule/buildwatch-member-heartbeat'], detail: {} };
    expect(matchesPattern(heartbeat.Properties.EventPattern as EventPattern, scheduled)).toBe(true);
    expect(matchesPattern(heartbeat.Properties.EventPattern as EventPattern, { ...scheduled, resources: ['arn:aws:events:us-east-1:111122223333:rule/someone-elses'] })).toBe(false);

    const [topicId] = resourcesOf(s.central, 'AWS::SNS::Topic').find(([, r]) => r.Properties.TopicName === 'buildwatch-alerts')!;
    for (const spec of memberTamperRules('buildwatch-')) {
      const rule = onBus.get(`buildwatch-${spec.slug}`)!;
      expect(rule, spec.slug).toBeDefined();
      expect(rule.Properties.Targets[0].Arn).toEqual({ Ref: topicId });
    }
    const policy = resourcesOf(s.central, 'AWS::SNS::TopicPolicy').flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Array<{ Sid: string; Condition: any }>);
    const memberStatement = policy.find((st) => st.Sid === 'AllowMemberTamperAlertRules')!;
    expect(memberStatement.Condition.ArnEquals['aws:SourceArn']).toHaveLength(memberTamperRules('buildwatch-').length);
  });

  it('counts events of accounts the configuration does not name, with an alarm to the ops topic', () => {
    const s = org();
    const unlisted = rulesOn(s.central, centralBusId(s)).find(([, r]) => r.Properties.Name === 'buildwatch-central-unlisted-accounts')![1];
    expect(unlisted.Properties.Targets).toBeUndefined();
    const named = ['111122223333', '222233334444', '444455556666'];
    expect(unlisted.Properties.EventPattern).toEqual({ account: [{ 'anything-but': named }] });
    expect(matchesPattern(unlisted.Properties.EventPattern as EventPattern, { account: '555566667777' })).toBe(true);
    expect(matchesPattern(unlisted.Properties.EventPattern as EventPattern, { account: '111122223333' })).toBe(false);
    const alarm = resourcesOf(s.central, 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.AlarmName === 'buildwatch-central-unlisted-events')![1];
    expect(alarm.Properties.MetricName).toBe('MatchedEvents');
    expect(alarm.Properties.Dimensions).toEqual(expect.arrayContaining([{ Name: 'RuleName', Value: expect.anything() }, { Name: 'EventBusName', Value: expect.anything() }]));
  });

  it('names the detect role and lets it assume only the members\' look-up role, in the organisation or a listed account', () => {
    const s = org();
    const [roleId, role] = resourcesOf(s.central, 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === centralDetectRoleName('buildwatch-'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'lambda.amazonaws.com' });
    const statements = resourcesOf(s.central, 'AWS::IAM::Policy')
      .filter(([, r]) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }>);
    const assume = statements.filter((st) => toList(st.Action).includes('sts:AssumeRole'));
    expect(assume).toHaveLength(2);
    const inOrg = assume.find((st) => st.Condition !== undefined)!;
    // The central stack has an explicit environment: its partition is known.
    expect(text(inOrg.Resource)).toBe(`arn:aws:iam::*:role/${memberLookupRoleName('buildwatch-')}`);
    expect(inOrg.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } });
    const listed = assume.find((st) => st.Condition === undefined)!;
    expect(toList(listed.Resource).map(text)).toEqual(['111122223333', '222233334444'].map((a) => `arn:aws:iam::${a}:role/buildwatch-member-lookup`));
    // sts:AssumeRole appears nowhere else.
    expect(statements.flatMap((st) => toList(st.Action)).filter((a) => a.startsWith('sts:'))).toEqual(['sts:AssumeRole', 'sts:AssumeRole']);
  });
});

describe('the member stack', () => {
  it('forwards each enabled use case\'s pattern to the central bus, with a role that may only put events there', () => {
    const s = org();
    const [forwardRoleId, forwardRole] = resourcesOf(s.member, 'AWS::IAM::Role').find(([, r]) => text(r.Properties.RoleName) === forwardRoleName('buildwatch-', '${AWS::Region}'))!;
    expect(forwardRole.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
    const busArn = `arn:\${AWS::Partition}:events:eu-west-1:444455556666:event-bus/${centralBusName('buildwatch-')}`;
    const policy = forwardRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(policy).toHaveLength(1);
    expect(policy[0].Action).toBe('events:PutEvents');
    expect(text(policy[0].Resource)).toBe(busArn);

    const rules = new Map(resourcesOf(s.member, 'AWS::Events::Rule').map(([, r]) => [r.Properties.Name as string, r]));
    const forwarded = enabledUseCases(registry, s.config).filter((u) => u.metadata.id !== CANARY_USE_CASE && u.metadata.id !== HEARTBEAT_USE_CASE);
    const patternRules = [...rules.values()].filter((r) => r.Properties.EventPattern !== undefined);
    for (const useCase of forwarded) {
      // Every enabled use case's pattern is forwarded by exactly one rule (use cases sharing a pattern share it).
      const matching = patternRules.filter((r) => JSON.stringify(r.Properties.EventPattern) === JSON.stringify(JSON.parse(JSON.stringify(useCase.pattern))));
      expect(matching, useCase.metadata.id).toHaveLength(1);
      const rule = matching[0]!;
      expect(rule.Properties.EventBusName).toBeUndefined(); // the member's default bus
      expect(rule.Properties.Targets).toHaveLength(1);
      expect(text(rule.Properties.Targets[0].Arn)).toBe(busArn);
      expect(rule.Properties.Targets[0].RoleArn).toEqual({ 'Fn::GetAtt': [forwardRoleId, 'Arn'] });
      if (useCase.metadata.readOnlyEvents) expect(rule.Properties.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
      // The central account's central region is watched by the central stack itself.
      expect(rule.Condition).toBe('ForwardsToCentralBus');
    }
    // The dependency use cases share one pattern, hence one forwarder.
    const sbom = s.stacks.member!.forwarders.get('dependencies.sbom');
    expect(sbom).toBeDefined();
    expect(s.stacks.member!.forwarders.get('dependencies.library-change')).toBe(sbom);
    expect(new Set(s.stacks.member!.forwarders.values()).size).toBe(new Set(forwarded.map((u) => JSON.stringify(u.pattern))).size);
    expect(rules.has(`buildwatch-${ruleSlug(CANARY_USE_CASE)}`)).toBe(false);
    expect(s.member.Conditions!.IsCentralAccountAndRegion).toEqual({
      'Fn::And': [{ 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, '444455556666'] }, { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }],
    });
    // Every rule, the tamper forwarders and the heartbeat included, goes to the central bus and nowhere else.
    for (const [name, rule] of rules) expect(rule.Properties.Targets.map((t: { Arn: unknown }) => text(t.Arn)), name).toEqual([busArn]);
  });

  it('has a heartbeat schedule and forwards tampering with its own rules and roles', () => {
    const s = org();
    const rules = new Map(resourcesOf(s.member, 'AWS::Events::Rule').map(([, r]) => [r.Properties.Name as string, r]));
    expect(rules.get('buildwatch-member-heartbeat')!.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    for (const spec of memberTamperRules('buildwatch-')) expect(rules.get(`buildwatch-${spec.slug}`)!.Properties.EventPattern).toEqual(JSON.parse(JSON.stringify(spec.pattern)));
    const roleTamper = memberTamperRules('buildwatch-').find((r) => r.slug === 'member-role-tamper')!.pattern;
    const deleteRole = (roleName: string, sourceIPAddress = '203.0.113.9') => ({
      source: 'aws.iam',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: { eventSource: 'iam.amazonaws.com', eventName: 'DeleteRolePolicy', sourceIPAddress, requestParameters: { roleName, policyName: 'lookups' } },
    });
    expect(matchesPattern(roleTamper, deleteRole('buildwatch-member-lookup'))).toBe(true);
    expect(matchesPattern(roleTamper, deleteRole('buildwatch-forward-us-east-1'))).toBe(true);
    expect(matchesPattern(roleTamper, deleteRole('someone-elses-role'))).toBe(false);
    expect(matchesPattern(roleTamper, deleteRole('buildwatch-member-lookup', 'cloudformation.amazonaws.com'))).toBe(false);
    const ruleTamper = memberTamperRules('buildwatch-').find((r) => r.slug === 'member-rule-tamper')!.pattern;
    const disable = { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.events', detail: { eventSource: 'events.amazonaws.com', eventName: 'DisableRule', sourceIPAddress: '203.0.113.9', requestParameters: { name: 'buildwatch-member-heartbeat' } } };
    expect(matchesPattern(ruleTamper, disable)).toBe(true);
  });

  it('has a look-up role trusting only the central detect and sweep roles, with the external id, created in one region per account', () => {
    const s = org();
    const [, role] = resourcesOf(s.member, 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === memberLookupRoleName('buildwatch-'))!;
    const trust = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0].Action).toBe('sts:AssumeRole');
    expect(text(trust[0].Principal.AWS)).toBe('arn:${AWS::Partition}:iam::444455556666:root');
    expect((trust[0].Condition.ArnEquals['aws:PrincipalArn'] as unknown[]).map(text)).toEqual([
      `arn:\${AWS::Partition}:iam::444455556666:role/${centralDetectRoleName('buildwatch-')}`,
      `arn:\${AWS::Partition}:iam::444455556666:role/${centralSweepRoleName('buildwatch-')}`,
    ]);
    expect(trust[0].Condition.StringEquals).toEqual({ 'sts:ExternalId': lookupExternalId('o-a1b2c3d4e5') });
    expect(role.Condition).toBe('OwnsLookupRole');
    expect(s.member.Conditions!.OwnsLookupRole).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] });
  });

  it('lets the look-up role read exactly what the look-ups read, scoped to the configured pipelines', () => {
    const s = org();
    const [, role] = resourcesOf(s.member, 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === memberLookupRoleName('buildwatch-'))!;
    const statements = role.Properties.Policies.flatMap((p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement) as Array<{ Action: string | string[]; Resource: unknown; Effect: string }>;
    const byAction = new Map(statements.flatMap((st) => toList(st.Action).map((a) => [a, toList(st.Resource).map(text)] as const)));
    expect([...byAction.keys()].sort()).toEqual([
      'cloudtrail:DescribeTrails',
      'codeartifact:DescribePackageVersion',
      'codeartifact:ListPackageVersionAssets',
      'codebuild:BatchGetFleets',
      'codebuild:BatchGetProjects',
      'ecr:DescribeImages',
      's3:GetObject',
      's3:ListBucket',
    ]);
    expect(statements.every((st) => st.Effect === 'Allow')).toBe(true);
    // The top-level pipeline lists no project (watch all): every project of the member's own account.
    expect(byAction.get('codebuild:BatchGetProjects')).toEqual(['arn:${AWS::Partition}:codebuild:*:${AWS::AccountId}:project/*']);
    expect(byAction.get('codeartifact:DescribePackageVersion')).toEqual(['arn:${AWS::Partition}:codeartifact:*:${AWS::AccountId}:package/acme/internal-releases/generic/acme/payments-service']);
    expect(byAction.get('s3:GetObject')).toEqual(['arn:${AWS::Partition}:s3:::acme-tooling-sbom/sbom/*']);
    expect(byAction.get('s3:ListBucket')).toEqual(['arn:${AWS::Partition}:s3:::acme-tooling-sbom']);
    expect(byAction.get('ecr:DescribeImages')).toEqual(['arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/*']);
  });

  it('holds no data: only rules and roles', () => {
    const s = org();
    const types = new Set(Object.values(s.member.Resources).map((r) => r.Type));
    expect([...types].sort()).toEqual(['AWS::Events::Rule', 'AWS::IAM::Role']);
  });
});

describe('the member StackSet', () => {
  it('deploys the member template to the organisational units in both regions, with auto-deployment, as the delegated administrator', () => {
    const s = org();
    const [, set] = resourcesOf(s.stackSet, 'AWS::CloudFormation::StackSet')[0]!;
    const p = set.Properties;
    expect(p.PermissionModel).toBe('SERVICE_MANAGED');
    expect(p.CallAs).toBe('DELEGATED_ADMIN');
    expect(p.AutoDeployment).toEqual({ Enabled: true, RetainStacksOnAccountRemoval: false });
    expect(p.Capabilities).toEqual(['CAPABILITY_NAMED_IAM']);
    expect(p.StackInstancesGroup).toEqual([{ DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-cd34ef56'] }, Regions: ['eu-west-1', 'us-east-1'] }]);
    // The body is the member template (no bootstrap check: member accounts are not bootstrapped).
    const body = JSON.parse(p.TemplateBody as string) as Json & { Rules?: unknown; Parameters?: unknown };
    expect(body.Rules).toBeUndefined();
    expect(body.Parameters).toBeUndefined();
    expect(Object.values(body.Resources).map((r) => r.Type).sort()).toEqual(Object.values(s.member.Resources).map((r) => r.Type).sort());
    expect(Object.values(body.Resources).map((r) => r.Properties)).toEqual(Object.values(s.member.Resources).map((r) => r.Properties));
  });
});

describe('members listed by account only (no organisational units)', () => {
  it('makes no StackSet, and the central bus drops (matches no detection rule) events of accounts the configuration does not name', () => {
    const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { organization: { members: Record<string, unknown> } };
    const config = parseConfig({ ...raw, organization: { ...raw.organization, members: { ...raw.organization.members, organizationalUnits: [] } } });
    const app = new App({ context });
    const stacks = addBuildwatchStacks(app, { config, useCases: registry, stackName: 'Buildwatch', entries });
    expect(stacks.stackSet).toBeUndefined();
    expect(stacks.member).toBeDefined();
    const central = Template.fromStack(stacks.central).toJSON() as Json;
    const [busId] = resourcesOf(central, 'AWS::Events::EventBus')[0]!;
    const named = ['111122223333', '222233334444', '444455556666'];
    const onBus = rulesOn(central, busId);
    const detection = onBus.filter(([, r]) => (r.Properties.Targets ?? []).some((t: { Arn: unknown }) => JSON.stringify(t.Arn).includes('Detect')) && r.Properties.Name !== 'buildwatch-member-heartbeat');
    expect(detection.length).toBeGreaterThan(10);
    for (const [, rule] of detection) expect(rule.Properties.EventPattern.account, rule.Properties.Name).toEqual(named);
    const pushed = { source: 'aws.codecommit', 'detail-type': 'AWS API Call via CloudTrail', account: '555566667777', detail: { eventSource: 'codecommit.amazonaws.com', eventName: 'GitPush' } };
    expect(detection.some(([, r]) => matchesPattern(r.Properties.EventPattern as EventPattern, pushed))).toBe(false);
    expect(detection.some(([, r]) => matchesPattern(r.Properties.EventPattern as EventPattern, { ...pushed, account: '111122223333' }))).toBe(true);
  });
});

describe('guards', () => {
  const fixture = () => loadConfig(FIXTURE);

  it('fails the synthesis on an unacknowledged cdk-nag finding in the member stack', () => {
    const app = new App({ context });
    const member = new BuildwatchMemberStack(app, 'BuildwatchMember', { config: fixture(), useCases: registry });
    member.forwardRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: ['*'] }));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });

  it('warns when us-east-1 (where IAM events arrive) is not a member region', () => {
    const config = fixture();
    const app = new App({ context });
    const member = new BuildwatchMemberStack(app, 'BuildwatchMember', {
      config: { ...config, organization: { ...config.organization!, members: { ...config.organization!.members, regions: ['eu-west-1', 'eu-central-1'] } } },
      useCases: registry,
    });
    const warnings = Annotations.fromStack(member).findWarning('*', Match.stringLikeRegexp('us-east-1'));
    expect(warnings).toHaveLength(1);
    expect(Annotations.fromStack(org().stacks.member!).findWarning('*', Match.stringLikeRegexp('us-east-1'))).toEqual([]);
  });

  it('sends a member template too large for a StackSet body as a file asset (TemplateURL)', () => {
    const app = new App({ context });
    const body = org().stackSet.Resources[resourcesOf(org().stackSet, 'AWS::CloudFormation::StackSet')[0]![0]]!.Properties.TemplateBody as string;
    const large = new BuildwatchMemberStackSet(app, 'Large', { config: fixture(), templateBody: body, inlineTemplateLimit: 1_000, env: { account: '444455556666', region: 'eu-west-1' } });
    const [, set] = resourcesOf(Template.fromStack(large).toJSON() as Json, 'AWS::CloudFormation::StackSet')[0]!;
    expect(set.Properties.TemplateBody).toBeUndefined();
    expect(JSON.stringify(set.Properties.TemplateURL)).toContain(`${large.templateAsset!.assetHash}.json`);
    expect(readFileSync(resolve(app.outdir, large.templateAsset!.assetPath), 'utf8')).toBe(body);
  });

  it('refuses a member stack or a StackSet without what they need', () => {
    const app = new App({ context });
    expect(() => new BuildwatchMemberStack(app, 'NoOrg', { config: parseConfig({}), useCases: registry })).toThrow(/organization section/);
    const config = fixture();
    const noOus = { ...config, organization: { ...config.organization!, members: { ...config.organization!.members, organizationalUnits: [] } } };
    expect(() => new BuildwatchMemberStackSet(app, 'NoOus', { config: noOus, templateBody: '{}' })).toThrow(/organizationalUnits is empty/);
  });
});

describe('the single-account path', () => {
  it('is one stack, with neither central bus nor named detect role, when the configuration has no organization', () => {
    const app = new App({ context });
    const stacks = addBuildwatchStacks(app, { config: parseConfig({}), useCases: registry, stackName: 'Buildwatch', entries });
    expect(stacks.member).toBeUndefined();
    expect(stacks.stackSet).toBeUndefined();
    expect(app.node.children.filter((c) => c !== stacks.central && 'templateFile' in c)).toEqual([]);
    const json = Template.fromStack(stacks.central).toJSON() as Json;
    expect(resourcesOf(json, 'AWS::Events::EventBus')).toEqual([]);
    expect(resourcesOf(json, 'AWS::IAM::Role').filter(([, r]) => r.Properties.RoleName === centralDetectRoleName('buildwatch-'))).toEqual([]);
    const policies = resourcesOf(json, 'AWS::IAM::Policy').map(([, r]) => JSON.stringify(r.Properties.PolicyDocument));
    expect(policies.filter((policy) => policy.includes('sts:'))).toEqual([]);
  });
});
