/**
 * Defect 4 (issue 13): secrets outside evidence. The summary, every other stored string field and the
 * state table must be redacted, and URL passwords with '/', '#', '?' or '@' in them masked.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { storableState } from '../../lambdas/engine/bounds.js';
import { redactText } from '../../lambdas/engine/redact.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { formatAlert, formatChatNotification } from '../../lambdas/notify/format.js';
import { useCaseById } from '../../lambdas/use-cases/index.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { loadCase, type Json } from './support.js';

const dynamo = useLocalDynamo();
const TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

async function scan(doc: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient, table: string): Promise<string> {
  const { Items } = await doc.send(new ScanCommand({ TableName: table }));
  return JSON.stringify(Items ?? []);
}

describe('secrets outside evidence', () => {
  it.each([
    ['https://ci:abc/def@github.com/o/r.git', 'https://ci:****@github.com/o/r.git'],
    ['git clone https://ci:p#ss@git.example.com/r', 'git clone https://ci:****@git.example.com/r'],
    ['https://ci:a?b@c/d@git.example.com', 'https://ci:****@git.example.com'],
    [`https://x-access-token:${TOKEN}@github.com/o/r`, 'https://x-access-token:****@github.com/o/r'],
    ['https://bob:s3cr3t@git.example.com/repo.git', 'https://bob:****@git.example.com/repo.git'],
    // A port and a path are not a password; neither is a mail address after the URL.
    ['https://host:8080/path?to=a@b.com', 'https://host:8080/path?to=a@b.com'],
    ['see https://a:b@c then mail x@y.com', 'see https://a:****@c then mail x@y.com'],
  ])('masks the password in %s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('masks a password in hostile megabyte strings too', () => {
    const many = `${'https://a:b/'.repeat(100_000)}@host`;
    // Passwords are at most 1024 characters: the URL nearest the '@' is the one masked.
    expect(redactText(many)).toMatch(/^(https:\/\/a:b\/)+https:\/\/a:\*{4}@host$/);
    expect(redactText(`${'x@y '.repeat(200_000)}https://u:p/w@h`)).toMatch(/https:\/\/u:\*{4}@h$/);
  });

  it('drift state is masked as stored, idempotently (a stored state compares equal to itself)', () => {
    const state = { source: { location: `https://ci:${TOKEN}@github.com/o/r` }, notes: ['password=hunter2', 'plain'], count: 3, tags: { deploy: TOKEN } };
    const stored = storableState(state);
    expect(JSON.stringify(stored)).not.toContain(TOKEN.slice(4));
    expect(JSON.stringify(stored)).not.toContain('hunter2');
    expect(stored).toMatchObject({ count: 3, notes: ['password=****', 'plain'] });
    expect(storableState(stored)).toEqual(stored);
  });

  it('a token in a sourceLocationOverride URL reaches neither the findings table, its summary, nor the alert', async () => {
    const { events } = loadCase('build/build-override/cases/batch-with-source-override.json');
    const event = structuredClone(events[0]) as { detail: { requestParameters: Json } };
    event.detail.requestParameters['sourceLocationOverride'] = `https://ci:${TOKEN}@github.com/attacker-org/payments-service`;
    const { engine, doc, tables } = await dynamo.freshEngine({});
    const outcomes = await engine.evaluate(useCaseById('build.build-override')!, toPipelineEvent(event as never));
    const findings = outcomes.flatMap((o) => (o.status === 'finding' ? [o.finding] : []));
    expect(findings.map((f) => f.severity)).toEqual(['high']);
    const raw = await scan(doc, tables.findings);
    expect(raw).toContain('github.com/attacker-org');
    expect(raw).not.toContain(TOKEN.slice(4));
    for (const finding of findings) {
      expect(JSON.stringify(finding)).not.toContain(TOKEN.slice(4));
      expect(formatAlert(finding).text).not.toContain(TOKEN.slice(4));
      expect(JSON.stringify(formatChatNotification(finding))).not.toContain(TOKEN.slice(4));
    }
  });

  it('CodeBuild tag values and descriptions reach the state table masked', async () => {
    const { history, events } = loadCase('build/project-drift/cases/inline-buildspec-and-secret-variable.json');
    const { engine, doc, tables } = await dynamo.freshEngine({});
    const useCase = useCaseById('build.project-drift')!;
    const create = structuredClone(history[0]) as { detail: { responseElements: { project: Json } } };
    create.detail.responseElements.project['tags'] = [{ key: 'deploy-token', value: TOKEN }, { key: 'owner', value: `contact https://ci:hunter2/x@git.example.com` }];
    create.detail.responseElements.project['description'] = `uses ${TOKEN}`;
    await engine.evaluate(useCase, toPipelineEvent(create as never));
    const update = structuredClone(events[0]) as { detail: { requestParameters: Json } };
    update.detail.requestParameters['tags'] = [{ key: 'deploy-token', value: `${TOKEN.slice(0, -1)}X` }];
    const outcomes = await engine.evaluate(useCase, toPipelineEvent(update as never));
    expect(outcomes.some((o) => o.status === 'finding' && o.finding.severity === 'critical')).toBe(true);
    const state = await scan(doc, tables.state);
    expect(state).toContain('deploy-token');
    expect(state).not.toContain(TOKEN.slice(4, -1));
    expect(state).not.toContain('hunter2');
    const stored = await scan(doc, tables.findings);
    expect(stored).not.toContain(TOKEN.slice(4, -1));
    expect(stored).not.toContain('hunter2');
  });
});
