/** The human-readable block `npm start` users see on stderr, one per finding. */
import type { Finding, Severity } from '../engine/model.js';
import { redactText } from '../engine/redact.js';
import { accountLabel, sanitizeLine } from './format.js';
import { writeTo, type Notifier } from './notifier.js';

export interface ConsoleNotifierOptions {
  /**
   * ANSI colours for the severity label.
   * @default true when the stream is a TTY and NO_COLOR is unset
   */
  readonly color?: boolean;
}

const COLORS: Record<Severity, string> = {
  critical: '\u001b[1;97;41m',
  high: '\u001b[1;31m',
  medium: '\u001b[1;33m',
  low: '\u001b[36m',
  info: '\u001b[2m',
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const INDENT = '    ';

export class ConsoleNotifier implements Notifier {
  private readonly color: boolean;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: ConsoleNotifierOptions = {},
  ) {
    const isTTY = (stream as { isTTY?: unknown }).isTTY === true;
    this.color = options.color ?? (isTTY && !process.env['NO_COLOR']);
  }

  async notify(finding: Finding): Promise<void> {
    await writeTo(this.stream, this.render(finding));
  }

  private render(finding: Finding): string {
    const label = `${finding.severity.toUpperCase()}${finding.heldBack ? ` (would alert; held back by ${finding.heldBack === 'staging' ? 'staging' : 'attest mode'})` : finding.mode === 'attest' ? ' (attest)' : ''}`;
    const head = `${this.paint(COLORS[finding.severity] ?? '', label)} ${line(finding.title, 200)} ${this.paint(DIM, `[${line(finding.useCase, 100)}]`)}`;
    const rows: Array<[string, string | undefined]> = [
      ['who', finding.principal],
      ['when', finding.eventTime],
      ['where', finding.resource],
      // Organisation deployments name the account (only they set accountName): single-account output is unchanged.
      ['in', finding.accountName ? `${accountLabel(finding)}${finding.region ? ` ${finding.region}` : ''}` : undefined],
      ['from', finding.sourceIp],
      ['id', finding.id],
    ];
    return [
      head,
      `${INDENT}${line(finding.summary, 500)}`,
      ...rows.filter(([, value]) => value).map(([name, value]) => `${INDENT}${this.paint(DIM, name.padEnd(6))}${line(value, 300)}`),
      '',
    ].join('\n') + '\n';
  }

  private paint(code: string, text: string): string {
    return this.color && code ? `${code}${text}${RESET}` : text;
  }
}

/** Event text on a terminal: secrets masked, escape sequences stripped (no ANSI injection), bounded. */
function line(text: string | undefined, maxLength: number): string {
  return sanitizeLine(redactText(text ?? ''), maxLength);
}
