/**
 * Chat cards (AWS Chatbot custom notifications), console links and routing: hostile event text must
 * neither ping, link, restyle nor reshape a card, and each route gets exactly its alerts.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { QUESTIONS } from '../../lambdas/engine/model.js';
import { ChatNotifier, parseChatTopics } from '../../lambdas/notify/chat-notifier.js';
import { consoleLink } from '../../lambdas/notify/console-links.js';
import { CHAT_LIMITS, chatText, firstStep, formatChatNotification, runbookSteps } from '../../lambdas/notify/format.js';
import { chatRoutesFor, routes, subscriptionFilterPolicy } from '../../lambdas/notify/routing.js';
import { finding } from './fixtures.js';

const MB = 1_000_000;
const HOSTILE = [
  '<!channel> <!here> <!everyone> <@U024BE7LH> <!subteam^S123|devs> <at>Bob</at> @channel @here @everyone',
  '[click me](https://evil.example/x) ![p](https://evil.example/p.png) <https://evil.example|login> www.evil.example',
  '*bold* _italic_ ~strike~ `code` ```block``` > quote # heading | table |',
  'line1\nline2\r\n\u2028line3 \u001b[2J \u0000 \u202eevil \u200bzero',
  ':rotating_light: @aws lambda invoke --function-name x',
].join(' ');
const MENTIONS = /<[!@]|(^|[^\u200b\w])@(channel|here|everyone)\b|<at>/;
const LINKS = /\]\(|\]\[|https?:\/\/evil|www\.evil/;
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;

/** Every string of the card, with where it is. */
function strings(value: unknown, path = '$'): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, index) => strings(item, `${path}[${index}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => strings(item, `${path}.${key}`));
  return [];
}

describe('chat cards', () => {
  it('follow the custom notification schema and say what, who, where, when, from where, the question, why, and the console link', () => {
    const card = formatChatNotification(finding({ cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10' }), { notes: { 'source.new-pusher': { description: 'New access is how SUNSPOT-style attacks start.' } } });
    expect(card).toMatchObject({ version: '1.0', source: 'custom', id: '5f0c3a9e2b7d4c1e8a6f0b3d9c2e7a41', content: { textType: 'client-markdown' } });
    expect(card.content.title).toBe(':red_circle: HIGH: New principal pushed to payments-service');
    const d = card.content.description;
    expect(d).toContain('*What:* `alice pushed refs/heads/main to payments-service for the first time`');
    expect(d).toContain('*Who:* `arn:aws:iam::111122223333:user/alice`');
    expect(d).toContain('*Where:* `arn:aws:codecommit:eu-west-1:111122223333:payments-service`, account `111122223333`, region `eu-west-1`');
    expect(d).toContain('*When:* `2026-03-02T09:14:27Z`');
    expect(d).toContain('*From:* `198.51.100.23`, user agent `git/2.43.0`');
    expect(d).toContain(`*Question:* ${QUESTIONS['source.new-contributor']}`);
    expect(d).toContain('*Why it matters:* New access is how SUNSPOT-style attacks start.');
    expect(d).toContain('*Console:* https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10');
    expect(card.content.nextSteps).toEqual(['Confirm with the repository owner that alice should push here.', 'If not, revoke her Git credentials.']);
    expect(card.content.keywords).toEqual(['high', 'source', 'source.new-pusher', 'payments']);
    expect(card.metadata).toMatchObject({ eventType: 'source.new-pusher', relatedResources: ['arn:aws:codecommit:eu-west-1:111122223333:payments-service'] });
    expect(card.metadata.threadId).toMatch(/^[0-9a-f]{32}$/);
    expect(card.metadata.additionalContext).toMatchObject({ findingId: '5f0c3a9e2b7d4c1e8a6f0b3d9c2e7a41', severity: 'high', team: 'payments' });
  });

  it('cannot be used to ping, link, restyle or add lines, whatever the event says', () => {
    const card = formatChatNotification(
      finding({ title: HOSTILE, summary: HOSTILE, principal: HOSTILE, resource: HOSTILE, userAgent: HOSTILE, sourceIp: HOSTILE, team: HOSTILE, runbook: `Check it. ${HOSTILE}`, evidence: { note: HOSTILE } }),
    );
    const lines = formatChatNotification(finding()).content.description.split('\n').length;
    expect(card.content.description.split('\n')).toHaveLength(lines);
    for (const [path, text] of strings(card)) {
      expect(text, path).not.toMatch(MENTIONS);
      expect(text, path).not.toMatch(LINKS);
      expect(text, path).not.toMatch(CONTROL);
      expect(text, path).not.toContain('\u202e');
    }
    // Outside our own markup, no formatting character survives; inside code spans nothing is formatted.
    const ownEmoji = /^:[a-z_]+: /;
    for (const text of [card.content.title.replace(ownEmoji, ''), ...card.content.nextSteps, ...card.content.keywords]) expect(text).not.toMatch(/[*_~`|#<>]/);
    const codeSpans = card.content.description.match(/`[^`]*`/g) ?? [];
    expect(codeSpans.length).toBeGreaterThan(5);
    for (const span of codeSpans) expect(span.slice(1, -1)).not.toContain('`');
    expect(card.content.description.replace(/`[^`]*`/g, '')).not.toMatch(/[_~|#<>]/);
  });

  it('bounds every part, even with 1 MB fields', () => {
    const huge = `${'A'.repeat(MB)}<!channel>`;
    const card = formatChatNotification(finding({ title: huge, summary: huge, principal: huge, resource: huge, userAgent: huge, runbook: `${huge}. ${huge}. ${huge}. ${huge}. ${huge}.` }));
    expect(card.content.title.length).toBeLessThanOrEqual(CHAT_LIMITS.title);
    expect(card.content.description.length).toBeLessThanOrEqual(CHAT_LIMITS.description);
    expect(card.content.nextSteps.length).toBeLessThanOrEqual(CHAT_LIMITS.steps);
    for (const step of card.content.nextSteps) expect(step.length).toBeLessThanOrEqual(CHAT_LIMITS.step);
    expect(card.metadata.summary.length).toBeLessThanOrEqual(CHAT_LIMITS.summary);
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(16 * 1024);
  });

  it('masks secrets in chat too', () => {
    const card = formatChatNotification(finding({ summary: 'token ghp_0123456789abcdefghijABCDEFGHIJ012345 used' }));
    expect(JSON.stringify(card)).not.toContain('0123456789abcdefghij');
  });

  it('chatText swaps chat markup for look-alikes', () => {
    expect(chatText('*a* _b_ ~c~ |d| #e `f` <g>', 100)).not.toMatch(/[*_~|#`<>]/);
  });

  it('splits the runbook into steps: the first sentence is the first triage step', () => {
    expect(firstStep('Ask the owners (e.g. the lead) first. Then revoke. Finally review.')).toBe('Ask the owners (e.g. the lead) first.');
    expect(runbookSteps('Ask. Then revoke it! Review?', 2)).toEqual(['Ask.', 'Then revoke it!']);
    expect(firstStep('No full stop here')).toBe('No full stop here');
  });
});

describe('console links', () => {
  const base = { stage: 'source' as const, region: 'eu-west-1', account: '111122223333' };

  it('never carries event text into the URL unchecked', () => {
    const hostile = ['x/../../evil', 'x?y=1#z', 'x" onclick="a', 'https://evil.example', 'a b', 'x\nSet-Cookie: a'];
    for (const value of hostile) {
      const links = [
        consoleLink({ ...base, resource: value }),
        consoleLink({ ...base, cloudTrailEventId: value }),
        consoleLink({ ...base, region: value, cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10' }),
        consoleLink({ ...base, resource: `arn:aws:codecommit:eu-west-1:111122223333:${value}` }),
        consoleLink({ ...base, stage: 'build', resource: `arn:aws:codebuild:eu-west-1:111122223333:project/${value}` }),
      ];
      for (const link of links) {
        if (link === undefined) continue;
        expect(link).not.toContain(value);
        expect(link).toMatch(/^https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\/[A-Za-z0-9/._?=#&%-]+$/);
      }
    }
  });

  it('uses the partition of the region', () => {
    expect(consoleLink({ ...base, region: 'cn-north-1', cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10' })).toMatch(/^https:\/\/cn-north-1\.console\.amazonaws\.cn\//);
    expect(consoleLink({ ...base, region: 'us-gov-west-1', cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10' })).toMatch(/^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\//);
  });

  it('gives no link for what it cannot name (a KMS key, a bare name outside source)', () => {
    expect(consoleLink({ ...base, stage: 'build', resource: 'arn:aws:kms:eu-west-1:111122223333:key/abc' })).toBeUndefined();
    expect(consoleLink({ ...base, stage: 'build', resource: 'payments-pipeline' })).toBeUndefined();
  });
});

const routingConfig = parseConfig({
  routing: {
    security: { email: ['secops@example.com'], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07SECOPS1' } },
    teams: {
      payments: { repositories: ['payments-service'], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07PAYDEV1' }, minSeverity: 'medium' },
      web: { repositories: ['web-frontend'], email: ['web@example.com'] },
      // Shares security's channel: one card, not two.
      platform: { buildProjects: ['base-images'], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07SECOPS1' } },
    },
  },
});

describe('routing', () => {
  it('security gets high and critical plus the attribute-less direct tamper alerts; teams their own from their minimum; never the canary', () => {
    const [security, ...teams] = routes(routingConfig);
    expect(subscriptionFilterPolicy(security!)).toEqual({
      $or: [{ severity: ['high', 'critical'], useCase: [{ 'anything-but': ['monitor.canary'] }] }, { severity: [{ exists: false }] }],
    });
    expect(teams.map((route) => route.key)).toEqual(['team-payments', 'team-platform', 'team-web']);
    expect(subscriptionFilterPolicy(teams[0]!)).toEqual({ team: ['payments'], severity: ['medium', 'high', 'critical'], useCase: [{ 'anything-but': ['monitor.canary'] }] });
    expect(subscriptionFilterPolicy(teams[2]!)).toEqual({ team: ['web'], severity: ['low', 'medium', 'high', 'critical'], useCase: [{ 'anything-but': ['monitor.canary'] }] });
  });

  it('decides the chat routes with the same rule', () => {
    expect(chatRoutesFor(routingConfig, finding({ severity: 'high', team: 'payments' }))).toEqual(['security', 'team-payments']);
    expect(chatRoutesFor(routingConfig, finding({ severity: 'low', team: 'payments' }))).toEqual([]);
    expect(chatRoutesFor(routingConfig, finding({ severity: 'medium', team: 'payments' }))).toEqual(['team-payments']);
    expect(chatRoutesFor(routingConfig, finding({ severity: 'critical', team: undefined }))).toEqual(['security']);
    expect(chatRoutesFor(routingConfig, finding({ severity: 'critical', useCase: 'monitor.canary' }))).toEqual([]);
    expect(chatRoutesFor(routingConfig, finding({ severity: 'critical', mode: 'attest' }))).toEqual([]);
  });

  it('rejects team names that cannot name a topic or an attribute', () => {
    expect(() => parseConfig({ routing: { teams: { 'pay ments': {} } } })).toThrow(/routing\.teams/);
    expect(() => parseConfig({ routing: { security: { https: ['http://siem.example.com'] } } })).toThrow(/routing\.security\.https/);
    expect(() => parseConfig({ routing: { security: { sqs: ['arn:aws:sns:eu-west-1:111122223333:x'] } } })).toThrow(/SQS queue ARN/);
    expect(() => parseConfig({ routing: { teams: { a: { slack: { workspaceId: 'T1', channelId: '<!here>' } } } } })).toThrow(/Slack channel id/);
  });
});

describe('ChatNotifier', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
  });
  const topics = parseChatTopics(
    JSON.stringify({ security: ['arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-security'], 'team-payments': ['arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-team-payments'], 'team-platform': ['arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-security'] }),
  );

  it('publishes one card per channel that wants the finding', async () => {
    const notifier = new ChatNotifier(new SNSClient({ region: 'eu-west-1' }), routingConfig, topics);
    await notifier.notify(finding({ severity: 'critical', team: 'platform' }));
    const calls = sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
    // security and platform share a channel: one card there.
    expect(calls.map((input) => input.TopicArn)).toEqual(['arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-security']);
    const card = JSON.parse(calls[0]!.Message!) as { version: string; source: string };
    expect(card).toMatchObject({ version: '1.0', source: 'custom' });
  });

  it('publishes nothing for a finding no chat route wants, and fails loudly when a publish fails', async () => {
    const notifier = new ChatNotifier(new SNSClient({ region: 'eu-west-1' }), routingConfig, topics);
    await notifier.notify(finding({ severity: 'low', team: 'web' }));
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    sns.on(PublishCommand).rejects(new Error('KMS.AccessDenied'));
    await expect(notifier.notify(finding({ severity: 'high', team: 'payments' }))).rejects.toThrow(/chat publish failed.*KMS\.AccessDenied/);
  });
});
