/**
 * Routing alerts to people (issue #8): the configuration's `routing` becomes
 * - subscriptions on the alerts topic (e-mail, HTTPS, SQS, Lambda), each with a filter policy on the
 *   message attributes the notifier sets: a team gets the alerts about its own resources from its
 *   minimum severity up, security everything from its minimum severity up plus the direct tamper
 *   alerts (which carry no attributes); the canary reaches no human;
 * - one chat topic per distinct Slack or Microsoft Teams channel, subscribed by an AWS Chatbot channel
 *   configuration. Chatbot subscribes without a filter policy, so the notify Lambda publishes each
 *   card only to the chat topics of the routes that want it (lambdas/notify/routing.ts decides both).
 *
 * The channels are for reading alerts, not for running AWS commands: their role has no permissions
 * and their guardrail policy denies every action, so whatever a channel member types, AWS refuses.
 */
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Annotations, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import { chatTopicName, hasChat, routes, subscriptionFilterPolicy, type Route } from '../../lambdas/notify/routing.js';
import { ENV } from '../../lambdas/store/schema.js';
import type { HandlerFunction } from './handler-function.js';

export interface AlertRoutingProps {
  readonly config: BuildwatchConfig;
  readonly key: kms.IKey;
  readonly alertsTopic: sns.ITopic;
}

/** One chat channel (Slack or Microsoft Teams) and the routes that post to it. */
interface Channel {
  readonly id: string;
  readonly kind: 'slack' | 'microsoftTeams';
  readonly routeKeys: string[];
  readonly route: Route;
}

function channelsOf(config: BuildwatchConfig): Channel[] {
  const byId = new Map<string, Channel>();
  for (const route of routes(config).filter(hasChat)) {
    const { slack, microsoftTeams } = route.endpoints;
    const found: Array<[string, Channel['kind']]> = [];
    if (slack) found.push([`slack:${slack.workspaceId}/${slack.channelId}`, 'slack']);
    if (microsoftTeams) found.push([`teams:${microsoftTeams.tenantId}/${microsoftTeams.teamId}/${microsoftTeams.channelId}`, 'microsoftTeams']);
    for (const [id, kind] of found) {
      const channel = byId.get(id);
      if (channel) channel.routeKeys.push(route.key);
      else byId.set(id, { id, kind, routeKeys: [route.key], route });
    }
  }
  return [...byId.values()];
}

/** CloudFormation-safe id fragment of a route key (`team-web-frontend` → `TeamWebFrontend`). */
function idOf(key: string): string {
  return key
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

export class AlertRouting extends Construct {
  /** Route key → the chat topics its cards go to (one per channel; routes may share a channel). */
  readonly chatTopicsByRoute: Record<string, sns.Topic[]> = {};
  readonly chatTopics: sns.Topic[] = [];
  readonly subscriptions: sns.CfnSubscription[] = [];
  /** The channels' role (no permissions) and deny-all guardrail; absent without chat. */
  readonly channelRole?: iam.Role;
  readonly guardrail?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    const { config, alertsTopic } = props;
    const prefix = config.monitor.resourcePrefix;

    for (const route of routes(config)) {
      const { email, https, sqs, lambda: functions } = route.endpoints;
      const filterPolicy = subscriptionFilterPolicy(route);
      const subscribe = (protocol: string, endpoint: string, index: number): sns.CfnSubscription => {
        const subscription = new sns.CfnSubscription(this, `${idOf(route.key)}${idOf(protocol)}${index}`, {
          topicArn: alertsTopic.topicArn,
          protocol,
          endpoint,
          filterPolicyScope: 'MessageAttributes',
          filterPolicy,
        });
        this.subscriptions.push(subscription);
        return subscription;
      };
      email.forEach((address, index) => subscribe('email', address, index));
      https.forEach((url, index) => subscribe('https', url, index));
      // The queue's policy (and its key's, if encrypted) must let SNS send: the stack cannot change a queue it does not own.
      sqs.forEach((queueArn, index) => subscribe('sqs', queueArn, index));
      functions.forEach((functionArn, index) => {
        subscribe('lambda', functionArn, index);
        new lambda.CfnPermission(this, `${idOf(route.key)}LambdaInvoke${index}`, {
          action: 'lambda:InvokeFunction',
          functionName: functionArn,
          principal: 'sns.amazonaws.com',
          sourceArn: alertsTopic.topicArn,
        });
      });
    }

    const channels = channelsOf(config);
    if (this.subscriptions.length === 0 && channels.length === 0) {
      // A deployable stack, but one that tells nobody: say so where the deployer looks.
      Annotations.of(this).addWarningV2(
        'buildwatch:no-alert-recipients',
        'The configuration has no `routing` endpoint: alerts reach the alerts topic (output AlertsTopicArn) but no person. Add routing.security (email, Slack, Microsoft Teams, HTTPS, SQS or Lambda), or subscribe to the topic yourself.',
      );
    }
    if (channels.length === 0) return;

    this.channelRole = new iam.Role(this, 'ChannelRole', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: 'Buildwatch chat channels: notifications only; no permissions (the guardrail denies everything too)',
    });
    this.guardrail = new iam.ManagedPolicy(this, 'ChannelGuardrail', {
      managedPolicyName: `${prefix}chat-guardrail`,
      description: 'Buildwatch chat channels: no AWS command may run from them (they carry alerts only)',
      statements: [new iam.PolicyStatement({ sid: 'NotificationsOnly', effect: iam.Effect.DENY, actions: ['*'], resources: ['*'] })],
    });

    for (const channel of channels) {
      const name = `${prefix}${channel.routeKeys[0]}${channel.kind === 'slack' ? '' : '-teams'}`;
      const topic = new sns.Topic(this, `${idOf(name)}Topic`, {
        topicName: chatTopicName(prefix, `${channel.routeKeys[0]}${channel.kind === 'slack' ? '' : '-teams'}`),
        displayName: `Buildwatch chat cards: ${channel.routeKeys.join(', ')}`,
        masterKey: props.key,
        enforceSSL: true,
      });
      this.chatTopics.push(topic);
      for (const key of channel.routeKeys) (this.chatTopicsByRoute[key] ??= []).push(topic);
      if (channel.kind === 'slack') {
        const slack = channel.route.endpoints.slack!;
        new chatbot.SlackChannelConfiguration(this, `${idOf(name)}Slack`, {
          slackChannelConfigurationName: name.slice(0, 128),
          slackWorkspaceId: slack.workspaceId,
          slackChannelId: slack.channelId,
          notificationTopics: [topic],
          role: this.channelRole,
          guardrailPolicies: [this.guardrail],
          loggingLevel: chatbot.LoggingLevel.ERROR,
          userRoleRequired: false,
        });
      } else {
        const teams = channel.route.endpoints.microsoftTeams!;
        new chatbot.CfnMicrosoftTeamsChannelConfiguration(this, `${idOf(name)}Teams`, {
          configurationName: name.slice(0, 128),
          teamId: teams.teamId,
          teamsTenantId: teams.tenantId,
          teamsChannelId: teams.channelId,
          iamRoleArn: this.channelRole.roleArn,
          snsTopicArns: [topic.topicArn],
          guardrailPolicies: [this.guardrail.managedPolicyArn],
          loggingLevel: 'ERROR',
          userRoleRequired: false,
        });
      }
    }
  }
}

/**
 * Lets a function that alerts people (notify, heartbeat) publish chat cards: the route → topics map
 * in its environment, and sns:Publish on those topics (and no other).
 */
export function publishChatCards(handler: HandlerFunction, byRoute: Readonly<Record<string, readonly sns.ITopic[]>>): void {
  const topics = [...new Set(Object.values(byRoute).flat())];
  if (topics.length === 0) return;
  const arns = Object.fromEntries(Object.entries(byRoute).map(([key, list]) => [key, list.map((topic) => topic.topicArn)]));
  handler.function.addEnvironment(ENV.chatTopicArns, Stack.of(handler).toJsonString(arns));
  for (const topic of topics) topic.grantPublish(handler.role);
}
