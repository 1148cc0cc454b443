import { describe, expect, it } from 'vitest';
import { QUESTIONS } from '../../lambdas/engine/model.js';
import { SUBJECT_MAX_LENGTH, formatAlert, neutralise } from '../../lambdas/notify/format.js';
import { NPM_TOKEN, codeBuildEvidence, finding } from './fixtures.js';

const MB = 1_000_000;
// Anything a chat client would turn into a ping or a link.
const MENTIONS = /<!(channel|here|everyone)>|<@U|(^|\s)@(channel|here|everyone)\b/;
const MARKDOWN_LINK = /\]\(|\]\[/;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;

describe('formatAlert subject', () => {
  it('reads like "[HIGH] use-case: title" and stays within the SNS limit', () => {
    const { subject } = formatAlert(finding());
    expect(subject).toBe('[HIGH] source.new-pusher: New principal pushed to payments-service');
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX_LENGTH);
  });

  it('names the resource when the title does not, and marks attestations', () => {
    const { subject } = formatAlert(finding({ title: 'Build project changed', mode: 'attest', severity: 'medium', resource: 'arn:aws:codebuild:eu-west-1:111122223333:project/payments-service-build' }));
    expect(subject).toBe('[MEDIUM attest] source.new-pusher: Build project changed (payments-service-build)');
  });

  it('is one line of printable ASCII under 100 characters whatever the title holds', () => {
    const titles = [
      'Pushed\r\nBcc: victim@example.com\u0000\u001b[31m',
      'Ünïcödé 🚨 ‮gnp.exe — 推送',
      `<!channel> @here ${'x'.repeat(MB)}`,
      'y'.repeat(99),
    ];
    for (const title of titles) {
      const { subject } = formatAlert(finding({ title }));
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
      expect(subject).toMatch(/^\[/);
      expect(subject).not.toMatch(MENTIONS);
    }
    expect(formatAlert(finding({ title: 'Ünïcödé' })).subject).toContain('Unicode');
    expect(formatAlert(finding({ title: 'z'.repeat(500) })).subject).toMatch(/\.\.\.$/);
  });

  it('masks secrets that reach the title', () => {
    const { subject } = formatAlert(finding({ title: 'Token ghp_0123456789abcdefghijABCDEFGHIJ012345 leaked' }));
    expect(subject).not.toContain('0123456789abcdef');
  });
});

describe('formatAlert attributes', () => {
  it('carries severity, stage, useCase, answers, mode, team and the resource name for filter policies', () => {
    expect(formatAlert(finding()).attributes).toEqual({
      severity: 'high',
      stage: 'source',
      useCase: 'source.new-pusher',
      answers: 'source.new-contributor',
      mode: 'alert',
      team: 'payments',
      resource: 'payments-service',
    });
    expect(formatAlert(finding({ resource: undefined })).attributes).not.toHaveProperty('resource');
  });

  it('omits team when the finding has none (or an empty one)', () => {
    expect(formatAlert(finding({ team: undefined })).attributes).not.toHaveProperty('team');
    expect(formatAlert(finding({ team: '' })).attributes).not.toHaveProperty('team');
  });

  it('keeps values short, one-line and non-empty', () => {
    const { attributes } = formatAlert(finding({ team: `pay\nments${'t'.repeat(MB)}` }));
    for (const value of Object.values(attributes)) {
      expect(value.length).toBeGreaterThan(0);
      expect(value.length).toBeLessThanOrEqual(256);
      expect(value).not.toMatch(CONTROL);
      expect(value).not.toContain('\n');
    }
  });
});

describe('formatAlert text', () => {
  it('answers who, what, where, when and from where, with the question, runbook, evidence and id', () => {
    const { text } = formatAlert(finding());
    expect(text).toContain(`Question (source.new-contributor): ${QUESTIONS['source.new-contributor']}`);
    expect(text).toContain('What:     alice pushed refs/heads/main to payments-service for the first time');
    expect(text).toContain('Who:      arn:aws:iam::111122223333:user/alice');
    expect(text).toContain('Where:    arn:aws:codecommit:eu-west-1:111122223333:payments-service, account 111122223333, region eu-west-1');
    expect(text).toContain('When:     2026-03-02T09:14:27Z');
    expect(text).toContain('From:     198.51.100.23, user agent git/2.43.0');
    expect(text).toContain('Severity: high (mode alert, stage source, use case source.new-pusher, team payments)');
    expect(text).toContain('Runbook:\nConfirm with the repository owner that alice should push here.\nIf not, revoke her Git credentials.');
    expect(text).toContain('Evidence (compact JSON):\n{"repository":"payments-service","references":[{"ref":"refs/heads/main","commit":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}]}');
    expect(text).toContain('Finding id: 5f0c3a9e2b7d4c1e8a6f0b3d9c2e7a41');
  });

  it('leaves out what the finding does not have', () => {
    const { text } = formatAlert(finding({ sourceIp: undefined, userAgent: undefined, resource: undefined, account: undefined, region: undefined, team: undefined }));
    expect(text).not.toContain('From:');
    expect(text).toContain('Where:    unknown');
    expect(text).not.toContain('team ');
  });

  it('never shows a CodeBuild PLAINTEXT variable, even from unredacted evidence', () => {
    const { text } = formatAlert(finding({ evidence: codeBuildEvidence(), summary: `Build started with NPM_TOKEN=${NPM_TOKEN}` }));
    expect(text).not.toContain(NPM_TOKEN);
    expect(text).toContain('"name":"NPM_TOKEN"');
    expect(text).toMatch(/"value":"\*{4}\(sha256:[0-9a-f]{8}\)"/);
    expect(text).toContain('/payments/db-password');
  });

  it('cannot be reshaped by hostile fields: no extra lines, mentions, links or control characters', () => {
    const hostile = 'x\nSeverity: info\r\n<!channel> <!here> <!everyone> <@U024BE7LH> @channel @here @everyone [click me](https://evil.example/x) ![p](https://evil.example/p.png) `rm -rf` \u001b[2J\u0000\u0085\u2028\u202eevil';
    const base = formatAlert(finding()).text.split('\n').length;
    const { text } = formatAlert(finding({ summary: hostile, principal: hostile, resource: hostile, userAgent: hostile, title: hostile, evidence: { note: hostile } }));
    expect(text.split('\n').length).toBe(base);
    expect(text).not.toMatch(/^Severity: info/m);
    expect(text).not.toMatch(MENTIONS);
    expect(text).not.toMatch(MARKDOWN_LINK);
    expect(text).not.toMatch(CONTROL);
    expect(text).not.toContain('https://evil');
    expect(text).not.toContain('`');
  });

  it('bounds 1 MB fields', () => {
    const huge = 'A'.repeat(MB);
    const { text } = formatAlert(finding({ summary: huge, principal: huge, resource: huge, userAgent: huge, title: huge, eventTime: huge, evidence: { blob: huge } }));
    expect(text.length).toBeLessThan(220_000);
    expect(text).toContain('What:     AAAA');
    expect(text).toMatch(/Evidence \(compact JSON, truncated from \d+ characters\):/);
  });

  it('cuts the evidence to the requested length, or omits it', () => {
    const evidence = { blob: 'b'.repeat(10_000) };
    const cut = formatAlert(finding({ evidence }), { evidenceMaxLength: 100 }).text;
    expect(cut).toMatch(/\{"blob":"b{80,}…\n/);
    expect(cut).not.toContain('b'.repeat(200));
    expect(formatAlert(finding({ evidence }), { evidenceMaxLength: 0 }).text).toContain('Evidence: omitted');
  });

  it('serialises odd evidence without throwing', () => {
    const cyclic: Record<string, unknown> = { n: 10n };
    cyclic['self'] = cyclic;
    const { text } = formatAlert(finding({ evidence: cyclic }));
    expect(text).toContain('{"n":"10","self":"[Circular]"}');
  });
});

describe('neutralise', () => {
  it('defuses Slack and Teams mentions but keeps e-mail addresses', () => {
    const out = neutralise('<!channel> <!here|here> <!everyone> <@U024BE7LH> <!subteam^S123> <at>Bob</at> @channel @here @everyone bob@example.com', 500);
    expect(out).not.toMatch(/[<>]/);
    expect(out).not.toMatch(/(^|\s)@(channel|here|everyone)\b/);
    expect(out).toContain('bob@example.com');
  });

  it('breaks markdown links, images, reference links and auto-links', () => {
    const out = neutralise('[a](https://evil.example) ![i](http://x.example/i.png) [r][1] <https://evil.example|click> www.evil.example', 500);
    expect(out).not.toMatch(MARKDOWN_LINK);
    expect(out).not.toMatch(/https?:\/\//);
    expect(out).not.toMatch(/\bwww\./);
    expect(out).toContain('https[:]//evil.example');
  });

  it('replaces control characters with spaces and drops invisible ones', () => {
    expect(neutralise('a\nb\r\nc\td\u0000e\u001b[31mf\u007fg\u0085h\u2028i', 100)).toBe('a b  c d e [31mf g h i');
    expect(neutralise('pay\u200bments\u202e\u2066x\ufeff', 100)).toBe('paymentsx');
  });

  it('escapes backticks so code spans cannot hide or reshape text', () => {
    expect(neutralise('```code```', 100)).not.toContain('`');
  });

  it('bounds length with an ellipsis, never splitting a surrogate pair', () => {
    expect(neutralise('abcdef', 4)).toBe('abc…');
    expect(neutralise('abc', 3)).toBe('abc');
    expect(neutralise('ab😀cd', 4)).toBe('ab…');
    expect(neutralise('anything', 0)).toBe('…');
    const big = neutralise('x'.repeat(MB), 1000);
    expect(big.length).toBe(1000);
    expect(big.endsWith('…')).toBe(true);
    // Growth from escaping is bounded too.
    expect(neutralise('<'.repeat(MB), 50).length).toBe(50);
  });

  it('replaces lone surrogates, which SNS would reject as invalid UTF-8', () => {
    expect(neutralise('a\ud800b\udc00c', 10)).toBe('a\ufffdb\ufffdc');
  });
});

describe('formatAlert: what people need to act', () => {
  const notes = { 'source.new-pusher': { description: 'A principal never seen writing to this repository pushed code: the SUNSPOT pattern starts with new access.' } };

  it('says why it matters (the use case description; without one the question says it, once), the first step and a console link', () => {
    const { text } = formatAlert(finding({ cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10' }), { notes });
    expect(text).toContain(`Why it matters: ${notes['source.new-pusher'].description}`);
    expect(text).toContain('First step: Confirm with the repository owner that alice should push here.');
    expect(text).toContain('Console:  https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10');
    expect(formatAlert(finding()).text).not.toContain('Why it matters');
  });

  it('links a repository or project from its ARN when the finding has no CloudTrail record, and says so when it has nothing', () => {
    expect(formatAlert(finding()).text).toContain('Console:  https://eu-west-1.console.aws.amazon.com/codesuite/codecommit/repositories/payments-service/browse?region=eu-west-1');
    const project = formatAlert(finding({ stage: 'build', resource: 'arn:aws:codebuild:eu-west-1:111122223333:project/payments-service-build' })).text;
    expect(project).toContain('Console:  https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/111122223333/projects/payments-service-build/history?region=eu-west-1');
    expect(formatAlert(finding({ region: undefined, resource: 'my-key' })).text).toContain('Console:  no direct link for this finding');
  });
});
