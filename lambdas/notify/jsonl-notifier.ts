/** One JSON object per finding per line (`replay --json`, file sinks). The finding as stored: evidence is already redacted. */
import type { Finding } from '../engine/model.js';
import { writeTo, type Notifier } from './notifier.js';

export class JsonLinesNotifier implements Notifier {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  async notify(finding: Finding): Promise<void> {
    // JSON.stringify escapes newlines inside strings, so one finding is always exactly one line.
    await writeTo(this.stream, `${JSON.stringify(finding)}\n`);
  }
}
