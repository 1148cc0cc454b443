/** What to do with a finding: one method, so SNS, console, JSONL and fan-out are interchangeable. */
import type { Finding } from '../engine/model.js';

export interface Notifier {
  notify(finding: Finding): Promise<void>;
}

/** A delivery failure the caller should retry; `cause` holds the transport's own error. */
export class NotifyError extends Error {
  override readonly name = 'NotifyError';
}

/**
 * Sends every finding to all notifiers, concurrently. One channel failing does not starve the
 * others; the failure is rethrown afterwards (an AggregateError when several failed) so the caller
 * retries, accepting a repeat on the channels that succeeded.
 */
export class MultiNotifier implements Notifier {
  private readonly notifiers: readonly Notifier[];

  constructor(notifiers: readonly Notifier[]) {
    this.notifiers = [...notifiers];
  }

  async notify(finding: Finding): Promise<void> {
    const results = await Promise.allSettled(this.notifiers.map((notifier) => notifier.notify(finding)));
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of ${this.notifiers.length} notifiers failed for finding ${finding.id}`);
  }
}

/** Resolves once the stream has taken the chunk, so a caller awaiting notify() knows it was written. */
export function writeTo(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}
