/** One JSON object per finding per line (`replay --json`, file sinks). The finding as stored: evidence is already redacted. */
import type { Finding } from '../engine/model.js';
import { writeTo, type Notifier } from './notifier.js';
import { safeJson } from './safe-text.js';

export class JsonLinesNotifier implements Notifier {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  async notify(finding: Finding): Promise<void> {
    // One finding, one line; controls, bidi and invisible characters escaped (\u202e), so a terminal
    // showing the line cannot be driven or fooled, and parsers read back the same values.
    await writeTo(this.stream, `${safeJson(finding)}\n`);
  }
}
