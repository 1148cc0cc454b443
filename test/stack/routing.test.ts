/**
 * Routing in the stack, from the sample routing configuration (test/fixtures/routing.config.json):
 * filtered subscriptions on the alerts topic, one chat topic per chat channel with its AWS Chatbot
 * configuration (notifications only), the notify function allowed to publish there and nowhere else,
 * and cdk-nag still clean.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig, type BuildwatchConfig } from '../../lambdas/config/config.js';
import { ENV } from '../../lambdas/store/schema.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { BuildwatchStack } from '../../lib/buildwatch-stack.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { useCaseNotes } from '../../lib/constructs/notifier.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

type Resource = { Type: string; Properties: Record<string, any> };
const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const standIn = fileURLToPath(import.meta.url);
const entries = { detect: standIn, notify: standIn, heartbeat: standIn, seal: standIn, sweep: standIn };
const FIXTURE = resolve(PROJECT_ROOT, 'test', 'fixtures', 'routing.config.json');

function synth(config: BuildwatchConfig, nag = false) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new BuildwatchStack(app, 'Buildwatch', { config, useCases: registry, entries });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: (template.toJSON() as { Resources: Record<string, Resource> }).Resources };
}

let cached: ReturnType<typeof synth> | undefined;
const routed = () => (cached ??= synth(loadConfig(FIXTURE), true));
const ofType = (type: string) => Object.entries(routed().resources).filter(([, r]) => r.Type === type);
const idOf = (type: string, predicate: (r: Resource) => boolean): string => {
  const found = ofType(type).filter(([, r]) => predicate(r));
  expect(found, type).toHaveLength(1);
  return found[0]![0];
};
const alertsTopic = () => idOf('AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
const notCanary = [{ 'anything-but': ['monitor.canary'] }];

describe('routing from the sample configuration', () => {
  it('subscribes security to high and critical alerts and to the attribute-less direct tamper alerts', () => {
    const alerts = alertsTopic();
    const security = ofType('AWS::SNS::Subscription').filter(([id]) => id.startsWith('RoutingSecurity')).map(([, r]) => r.Properties);
    expect(security.map((p) => [p.Protocol, p.Endpoint])).toEqual([
      ['email', 'secops@example.com'],
      ['https', 'https://siem.example.com/ingest/buildwatch'],
      ['sqs', 'arn:aws:sqs:eu-west-1:111122223333:siem-intake'],
    ]);
    for (const p of security) {
      expect(p).toMatchObject({ TopicArn: { Ref: alerts }, FilterPolicyScope: 'MessageAttributes' });
      expect(p.FilterPolicy).toEqual({ $or: [{ severity: ['high', 'critical'], useCase: notCanary }, { severity: [{ exists: false }] }] });
    }
  });

  it('subscribes each team to its own alerts from its minimum severity, and lets the alerts topic invoke the team\'s function', () => {
    const alerts = alertsTopic();
    const subscriptions = ofType('AWS::SNS::Subscription').map(([, r]) => r.Properties);
    expect(subscriptions).toContainEqual(
      expect.objectContaining({ Protocol: 'email', Endpoint: 'payments-dev@example.com', TopicArn: { Ref: alerts }, FilterPolicy: { team: ['payments'], severity: ['medium', 'high', 'critical'], useCase: notCanary } }),
    );
    expect(subscriptions).toContainEqual(
      expect.objectContaining({ Protocol: 'lambda', Endpoint: 'arn:aws:lambda:eu-west-1:111122223333:function:web-team-pager', FilterPolicy: { team: ['web'], severity: ['low', 'medium', 'high', 'critical'], useCase: notCanary } }),
    );
    routed().template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: 'arn:aws:lambda:eu-west-1:111122223333:function:web-team-pager',
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: alerts },
    });
    // The canary's own receipts subscription is still the only unfiltered-by-team one that takes the canary.
    expect(subscriptions.filter((p) => JSON.stringify(p.FilterPolicy).includes('"monitor.canary"]') && !JSON.stringify(p.FilterPolicy).includes('anything-but'))).toHaveLength(1);
  });

  it('gives each chat channel its own encrypted, SSL-only topic and an AWS Chatbot configuration subscribed to it', () => {
    const { template } = routed();
    const key = idOf('AWS::KMS::Key', (r) => r.Properties.KeyUsage !== 'SIGN_VERIFY');
    const chatTopics = ofType('AWS::SNS::Topic').filter(([, r]) => String(r.Properties.TopicName).startsWith('buildwatch-chat-'));
    expect(chatTopics.map(([, r]) => r.Properties.TopicName).sort()).toEqual(['buildwatch-chat-security', 'buildwatch-chat-team-payments', 'buildwatch-chat-team-web-teams']);
    for (const [id, topic] of chatTopics) {
      expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    const topicId = (name: string) => chatTopics.find(([, r]) => r.Properties.TopicName === name)![0];
    const slack = ofType('AWS::Chatbot::SlackChannelConfiguration').map(([, r]) => r.Properties);
    expect(slack).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ConfigurationName: 'buildwatch-security', SlackWorkspaceId: 'T07EA123LEP', SlackChannelId: 'C07SECOPS1', SnsTopicArns: [{ Ref: topicId('buildwatch-chat-security') }] }),
        expect.objectContaining({ ConfigurationName: 'buildwatch-team-payments', SlackChannelId: 'C07PAYDEV1', SnsTopicArns: [{ Ref: topicId('buildwatch-chat-team-payments') }] }),
      ]),
    );
    expect(slack).toHaveLength(2);
    const [teams] = ofType('AWS::Chatbot::MicrosoftTeamsChannelConfiguration').map(([, r]) => r.Properties);
    expect(teams).toMatchObject({
      ConfigurationName: 'buildwatch-team-web-teams',
      TeamId: '5b4a1a52-8c1d-4c4e-9a57-3f1f2b8c9d10',
      TeamsTenantId: '0d3b6a3e-7d7e-4a3a-9f8e-2b1c4d5e6f70',
      TeamsChannelId: '19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2',
      SnsTopicArns: [{ Ref: topicId('buildwatch-chat-team-web-teams') }],
    });
  });

  it('makes the channels notification-only: a role without permissions, a deny-everything guardrail, no user roles', () => {
    const guardrail = idOf('AWS::IAM::ManagedPolicy', (r) => r.Properties.ManagedPolicyName === 'buildwatch-chat-guardrail');
    const policy = routed().resources[guardrail]!.Properties.PolicyDocument as { Statement: unknown[] };
    expect(policy.Statement).toEqual([{ Sid: 'NotificationsOnly', Effect: 'Deny', Action: '*', Resource: '*' }]);
    const role = idOf('AWS::IAM::Role', (r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('chatbot.amazonaws.com'));
    expect(routed().resources[role]!.Properties.ManagedPolicyArns).toBeUndefined();
    expect(routed().resources[role]!.Properties.Policies).toBeUndefined();
    expect(ofType('AWS::IAM::Policy').filter(([, r]) => JSON.stringify(r.Properties.Roles).includes(role))).toEqual([]);
    const configurations = [...ofType('AWS::Chatbot::SlackChannelConfiguration'), ...ofType('AWS::Chatbot::MicrosoftTeamsChannelConfiguration')].map(([, r]) => r.Properties);
    for (const c of configurations) {
      expect(c.GuardrailPolicies).toEqual([{ Ref: guardrail }]);
      expect(c.IamRoleArn).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
      expect(c.UserRoleRequired).toBe(false);
    }
  });

  it('tells the notify and heartbeat functions which chat topics serve which route, and lets them publish there and to the alerts topic only', () => {
    const { resources } = routed();
    const chatTopics = ofType('AWS::SNS::Topic').filter(([, r]) => String(r.Properties.TopicName).startsWith('buildwatch-chat-')).map(([id]) => ({ Ref: id }));
    for (const name of ['buildwatch-notify', 'buildwatch-heartbeat']) {
      const fn = resources[idOf('AWS::Lambda::Function', (r) => r.Properties.FunctionName === name)]!;
      const env = JSON.stringify(fn.Properties.Environment.Variables[ENV.chatTopicArns]);
      for (const route of ['security', 'team-payments', 'team-web']) expect(env, name).toContain(`\\"${route}\\":[\\"`);
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const publish = ofType('AWS::IAM::Policy')
        .filter(([, r]) => JSON.stringify(r.Properties.Roles).includes(roleId))
        .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
        .filter((st) => [st.Action].flat().includes('sns:Publish'))
        .flatMap((st) => [st.Resource].flat());
      expect(publish, name).toEqual(expect.arrayContaining([{ Ref: alertsTopic() }, ...chatTopics]));
      expect(publish, name).toHaveLength(1 + chatTopics.length);
    }
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding and no CDK warning', () => {
    const { app, stack } = routed();
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app).violations).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('without routing endpoints: no subscription but the canary receipts, no chat topic, no Chatbot resource, and a synth warning', () => {
    const { resources, stack } = synth(parseConfig({ routing: { teams: { payments: { repositories: ['payments-service'] } } } }));
    // Deployable, but nobody would hear of an alert: the deployer is told at synth.
    const warnings = Annotations.fromStack(stack).findWarning('/Buildwatch/Routing', Match.stringLikeRegexp('no `routing` endpoint'));
    expect(warnings).toHaveLength(1);
    const types = Object.values(resources).map((r) => r.Type);
    expect(types.filter((t) => t.startsWith('AWS::Chatbot::'))).toEqual([]);
    expect(types.filter((t) => t === 'AWS::SNS::Subscription')).toHaveLength(1);
    expect(Object.values(resources).filter((r) => String(r.Properties?.['TopicName'] ?? '').includes('chat'))).toEqual([]);
  });

  it('inlines each use case\'s description (why it matters) for the notify bundle, not its code', () => {
    const notes = useCaseNotes(registry);
    expect(Object.keys(notes).sort()).toEqual(registry.map((u) => u.metadata.id).sort());
    expect(notes['source.new-pusher']!.description).toBe(registry.find((u) => u.metadata.id === 'source.new-pusher')!.metadata.description);
  });
});
