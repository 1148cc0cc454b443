/** Publishes alerts to the SNS "alerts" topic, within SNS's limits. */
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { Finding } from '../engine/model.js';
import { formatAlert, neutralise, type Alert, type UseCaseNotes } from './format.js';
import { NotifyError, type Notifier } from './notifier.js';

/** SNS caps a message at 256 KiB, attributes included. */
export const SNS_MAX_BYTES = 256 * 1024;
/** Room for what we cannot measure exactly (request framing, the truncation ellipsis). */
const SAFETY_BYTES = 1024;

export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly options: { readonly notes?: UseCaseNotes; readonly organization?: boolean } = {},
  ) {}

  async notify(finding: Finding): Promise<void> {
    const alert = fitAlert(finding, this.options.notes, this.options.organization);
    const command = new PublishCommand({
      TopicArn: this.topicArn,
      Subject: alert.subject,
      Message: alert.text,
      MessageAttributes: toMessageAttributes(alert.attributes),
    });
    try {
      await this.client.send(command);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new NotifyError(`SNS Publish to ${this.topicArn} failed for finding ${finding.id}: ${reason}`, { cause: error });
    }
  }
}

/**
 * The formatted alert, with the evidence cut down when the whole would exceed SNS's limit. The
 * findings table keeps the full evidence, so the text then points there.
 */
export function fitAlert(finding: Finding, notes?: UseCaseNotes, organization = false): Alert {
  const format = (evidenceMaxLength: number): Alert => formatAlert(finding, { evidenceMaxLength, organization, ...(notes ? { notes } : {}) });
  // No evidence can fit in more code units than SNS has bytes; below that, SNS's limit is the only bound.
  const full = format(SNS_MAX_BYTES);
  if (publishBytes(full) <= SNS_MAX_BYTES - SAFETY_BYTES) return full;

  const pointer = `\nFull finding: findings table id ${neutralise(finding.id, 100)}`;
  const budget = SNS_MAX_BYTES - SAFETY_BYTES - Buffer.byteLength(pointer);
  const withPointer = (alert: Alert): Alert => ({ ...alert, text: `${alert.text}${pointer}` });
  const fixed = publishBytes(format(0));
  // Room for the evidence, less slack for its label, which differs from the "omitted" one.
  const room = budget - fixed - 200;
  let max = room;
  for (let attempt = 0; attempt < 8 && max > 0; attempt++) {
    const alert = format(max);
    const bytes = publishBytes(alert);
    if (bytes <= budget) return withPointer(alert);
    // Scale by the observed bytes per code unit (1 for ASCII, up to 3 for other text).
    max = Math.floor((max * room) / (bytes - fixed)) - 1;
  }
  return withPointer(format(0));
}

/** What SNS counts: the message, the subject, and each attribute's name, type and value. */
export function publishBytes(alert: Alert): number {
  let bytes = Buffer.byteLength(alert.text) + Buffer.byteLength(alert.subject);
  for (const [name, value] of Object.entries(alert.attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength('String') + Buffer.byteLength(value);
  }
  return bytes;
}

function toMessageAttributes(attributes: Record<string, string>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]));
}
