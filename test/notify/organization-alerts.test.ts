/**
 * Alerts of an organisation deployment (#16): the account with its configured name and the region in
 * text, chat cards, SNS attributes and the terminal; the console link goes to the event's region and
 * says which account to switch to. A single-account alert is unchanged.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsoleNotifier } from '../../lambdas/notify/console-notifier.js';
import { formatAlert, formatChatNotification } from '../../lambdas/notify/format.js';
import { finding } from './fixtures.js';

const CT_EVENT = '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10';
const member = finding({ account: '222233334444', accountName: 'tooling', region: 'us-east-1', resource: 'payments-service', cloudTrailEventId: CT_EVENT });

describe('organisation alerts', () => {
  it('say the account by name and id, the region, and which account the console link needs', () => {
    const { text, attributes } = formatAlert(member, { organization: true });
    expect(text).toContain('Where:    payments-service, account tooling (222233334444), region us-east-1');
    expect(text).toContain(`Console:  https://us-east-1.console.aws.amazon.com/cloudtrail/home?region=us-east-1#/events/${CT_EVENT} (switch to account tooling (222233334444) first)`);
    expect(attributes).toMatchObject({ account: '222233334444', region: 'us-east-1' });
    expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
  });

  it('put the same in chat cards', () => {
    const card = formatChatNotification(member, { organization: true });
    expect(card.content.description).toContain('*Where:* `payments-service`, account `tooling (222233334444)`, region `us-east-1`');
    expect(card.content.description).toContain('(switch to account `tooling (222233334444)` first)');
    expect(card.metadata.additionalContext).toMatchObject({ account: 'tooling (222233334444)', region: 'us-east-1' });
  });

  it('name an unconfigured account by its id', () => {
    const { text } = formatAlert(finding({ account: '444455556666', resource: 'payments-service', cloudTrailEventId: CT_EVENT }), { organization: true });
    expect(text).toContain('(switch to account 444455556666 first)');
  });

  it('leave single-account alerts as they were', () => {
    const plain = finding({ cloudTrailEventId: CT_EVENT });
    const { text, attributes } = formatAlert(plain);
    expect(text).not.toContain('switch to account');
    expect(attributes['account']).toBeUndefined();
    expect(formatChatNotification(plain).metadata.additionalContext['account']).toBeUndefined();
  });

  it('show the account on the terminal when it has a name', async () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new ConsoleNotifier(stream, { color: false }).notify(member);
    expect(out).toMatch(/in\s+tooling \(222233334444\) us-east-1/);
    out = '';
    await new ConsoleNotifier(stream, { color: false }).notify(finding());
    expect(out).not.toMatch(/\n\s+in\s/);
  });
});
