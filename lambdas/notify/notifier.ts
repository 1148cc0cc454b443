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
export interface MultiNotifierOptions {
  /**
   * Channels whose failure does not fail the delivery (it is handed to `onBestEffortFailure`): a
   * failure there would make the caller retry every channel, repeating the alert on those that took
   * it, and hold back the alerts after it until its retries run out.
   */
  readonly bestEffort?: readonly Notifier[];
  readonly onBestEffortFailure?: (finding: Finding, error: unknown) => void;
}

export class MultiNotifier implements Notifier {
  private readonly notifiers: readonly Notifier[];
  private readonly bestEffort: readonly Notifier[];

  constructor(notifiers: readonly Notifier[], private readonly options: MultiNotifierOptions = {}) {
    this.notifiers = [...notifiers];
    this.bestEffort = [...(options.bestEffort ?? [])];
  }

  async notify(finding: Finding): Promise<void> {
    const [required, optional] = await Promise.all([
      Promise.allSettled(this.notifiers.map((notifier) => notifier.notify(finding))),
      Promise.allSettled(this.bestEffort.map((notifier) => notifier.notify(finding))),
    ]);
    for (const result of optional) if (result.status === 'rejected') this.options.onBestEffortFailure?.(finding, result.reason);
    const errors = required.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
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
