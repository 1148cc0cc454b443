/**
 * Publishes chat cards (AWS Chatbot custom notifications) to the chat topics of the routes that want
 * the finding: the team that owns its resource, and security. Chatbot channel configurations
 * subscribe to a topic without a filter policy, so each route with a chat channel has its own topic
 * and the routing decision is made here, with the same rule as the alerts topic's filter policies.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { BuildwatchConfig } from '../config/config.js';
import type { Finding } from '../engine/model.js';
import { formatChatNotification, type UseCaseNotes } from './format.js';
import { NotifyError, type Notifier } from './notifier.js';
import { chatRoutesFor } from './routing.js';

export class ChatNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly config: BuildwatchConfig,
    /** Route key (`security`, `team-<name>`) → chat topic ARNs (one per channel; routes may share a channel). */
    private readonly topics: Readonly<Record<string, readonly string[]>>,
    private readonly options: { readonly notes?: UseCaseNotes; readonly organization?: boolean } = {},
  ) {}

  /** The chat topics this finding goes to, each once (a channel shared by security and a team gets one card). */
  targets(finding: Finding): string[] {
    const arns = chatRoutesFor(this.config, finding).flatMap((key) => (Object.hasOwn(this.topics, key) ? (this.topics[key] ?? []) : []));
    return [...new Set(arns)];
  }

  async notify(finding: Finding): Promise<void> {
    const targets = this.targets(finding);
    if (targets.length === 0) return;
    const message = JSON.stringify(formatChatNotification(finding, this.options));
    const results = await Promise.allSettled(targets.map((topicArn) => this.client.send(new PublishCommand({ TopicArn: topicArn, Message: message }))));
    const failed = results.flatMap((result, index) => (result.status === 'rejected' ? [`${targets[index]}: ${(result.reason as Error)?.name ?? 'Error'}: ${(result.reason as Error)?.message ?? String(result.reason)}`] : []));
    if (failed.length > 0) throw new NotifyError(`chat publish failed for finding ${finding.id}: ${failed.join('; ')}`);
  }
}

/** Reads the chat topics map the stack sets (JSON: route key → topic ARNs); absent means no chat. */
export function parseChatTopics(json: string | undefined): Record<string, string[]> {
  if (!json) return {};
  const parsed: unknown = JSON.parse(json);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('chat topics: expected a JSON object of route → topic ARNs');
  return Object.fromEntries(
    Object.entries(parsed).map(([key, value]) => [key, (Array.isArray(value) ? value : [value]).filter((arn): arn is string => typeof arn === 'string' && arn !== '')]),
  );
}
