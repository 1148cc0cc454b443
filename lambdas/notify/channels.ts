/**
 * The notifier of the Lambdas that alert people (notify, heartbeat): the alerts topic (text and
 * routing attributes, for e-mail, HTTPS, SQS and Lambda subscribers), plus the chat topics of the
 * routes that want the finding, when the stack made any.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { BuildwatchConfig } from '../config/config.js';
import type { Finding } from '../engine/model.js';
import { ENV } from '../store/schema.js';
import { ChatNotifier, parseChatTopics } from './chat-notifier.js';
import type { UseCaseNotes } from './format.js';
import { MultiNotifier, type Notifier } from './notifier.js';
import { SnsNotifier } from './sns-notifier.js';

/**
 * The alerts topic (its delivery is what the stream retries) and the chat topics, best effort: a chat
 * topic that fails (deleted, its key policy changed) is reported through `onChatFailure` instead of
 * repeating every alert on the other channels and holding back the ones after it.
 */
export function alertChannels(
  client: SNSClient,
  env: Readonly<Record<string, string | undefined>>,
  config: BuildwatchConfig,
  notes: UseCaseNotes = {},
  onChatFailure?: (finding: Finding, error: unknown) => void,
): Notifier {
  const alertsTopicArn = env[ENV.alertsTopicArn];
  if (!alertsTopicArn) throw new Error(`environment variable ${ENV.alertsTopicArn} is not set`);
  const organization = config.organization !== undefined;
  const alerts = new SnsNotifier(client, alertsTopicArn, { notes, organization });
  const topics = parseChatTopics(env[ENV.chatTopicArns]);
  if (Object.keys(topics).length === 0) return alerts;
  return new MultiNotifier([alerts], { bestEffort: [new ChatNotifier(client, config, topics, { notes, organization })], ...(onChatFailure ? { onBestEffortFailure: onChatFailure } : {}) });
}
