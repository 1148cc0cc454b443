import 'aws-sdk-client-mock-vitest/extend';
import { BatchImportFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { Finding } from '../../lambdas/engine/model.js';
import { handleStream } from '../../lambdas/handlers/notify.js';
import { ASFF_MAX_BYTES, asffResource, parseProductArn, toAsff } from '../../lambdas/notify/asff.js';
import { MAX_FINDINGS_PER_REQUEST, SecurityHubImportError, SecurityHubNotifier } from '../../lambdas/notify/security-hub-notifier.js';
import { SnsNotifier } from '../../lambdas/notify/sns-notifier.js';
import { useCases } from '../../lambdas/use-cases/index.js';
import { useCaseNotes } from '../../lib/constructs/notifier.js';
import { finding } from './fixtures.js';

const PRODUCT_ARN = 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default';
const product = parseProductArn(PRODUCT_ARN);
const notes = useCaseNotes(useCases);
const hub = mockClient(SecurityHubClient);
const sns = mockClient(SNSClient);

const isoTime = z.iso.datetime({ offset: true });
/** The ASFF top-level attributes Security Hub requires, plus the ones Buildwatch promises to fill. */
const asffSchema = z.object({
  SchemaVersion: z.literal('2018-10-08'),
  Id: z.string().min(1).max(512),
  ProductArn: z.string().regex(/^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/),
  GeneratorId: z.string().min(1).max(512),
  AwsAccountId: z.string().regex(/^\d{12}$/),
  Types: z.array(z.string().regex(/^(TTPs|Software and Configuration Checks)\/[A-Za-z &]+(\/T\d{4}(\.\d{3})?)?$/)).min(1).max(50),
  CreatedAt: isoTime,
  UpdatedAt: isoTime,
  FirstObservedAt: isoTime,
  LastObservedAt: isoTime,
  Title: z.string().min(1).max(256),
  Description: z.string().min(1).max(1024),
  FindingProviderFields: z.object({ Severity: z.object({ Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']) }) }),
  Resources: z
    .array(z.object({ Type: z.enum(['AwsCodeBuildProject', 'AwsKmsKey', 'AwsEcrRepository', 'Other']), Id: z.string().min(1).max(512) }))
    .min(1)
    .max(32),
  Remediation: z.object({ Recommendation: z.object({ Text: z.string().min(1).max(512) }) }),
  ProductFields: z
    .record(z.string().max(128), z.string().max(2048))
    .refine((fields) => ['buildwatch/QuestionId', 'buildwatch/UseCase', 'buildwatch/Stage', 'buildwatch/Team'].every((k) => k in fields), 'question, use case, stage and team'),
});

/** A sample alert of a use case, built from its metadata. */
function sampleOf(metadata: (typeof useCases)[number]['metadata']): Finding {
  const resourceByStage: Record<string, string> = {
    source: 'arn:aws:codecommit:eu-west-1:111122223333:payments-service',
    dependencies: 'arn:aws:codebuild:eu-west-1:111122223333:project/payments-build',
    build: 'arn:aws:codebuild:eu-west-1:111122223333:project/payments-build',
    artifact: 'arn:aws:codeartifact:eu-west-1:111122223333:repository/acme/internal',
    monitor: 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail',
  };
  return finding({
    id: `sample-${metadata.id}`,
    useCase: metadata.id,
    answers: metadata.answers,
    stage: metadata.stage,
    severity: metadata.severity,
    title: metadata.title,
    summary: metadata.description,
    runbook: metadata.runbook,
    resource: resourceByStage[metadata.stage] ?? 'payments-service',
  });
}

beforeEach(() => {
  hub.reset();
  sns.reset();
});

describe('ASFF mapping', () => {
  it.each(useCases.map((u) => [u.metadata.id, u.metadata] as const))('maps a sample alert of %s to a valid ASFF finding', (_id, metadata) => {
    const asff = toAsff(sampleOf(metadata), { product, mitre: metadata.mitre });
    const parsed = asffSchema.parse(asff);
    for (const technique of metadata.mitre) expect(parsed.Types.some((t) => t.endsWith(`/${technique}`))).toBe(true);
    expect(parsed.FindingProviderFields.Severity.Label).toBe({ info: 'INFORMATIONAL', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' }[metadata.severity]);
    expect(parsed.ProductFields['buildwatch/UseCase']).toBe(metadata.id);
    expect(parsed.ProductFields['buildwatch/QuestionId']).toBe(metadata.answers);
    expect(Buffer.byteLength(JSON.stringify(asff))).toBeLessThan(ASFF_MAX_BYTES);
  });

  it('types the resource by its ARN and keeps CodeCommit, CodeArtifact and bare names as Other', () => {
    const typeOf = (resource: string | undefined) => asffResource({ resource, region: 'eu-west-1', account: '111122223333' }, product);
    expect(typeOf('arn:aws:codebuild:eu-west-1:111122223333:project/payments-build').Type).toBe('AwsCodeBuildProject');
    expect(typeOf('arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab').Type).toBe('AwsKmsKey');
    expect(typeOf('arn:aws:ecr:eu-west-1:111122223333:repository/payments').Type).toBe('AwsEcrRepository');
    expect(typeOf('arn:aws:codecommit:eu-west-1:111122223333:payments-service').Type).toBe('Other');
    expect(typeOf('arn:aws:codeartifact:eu-west-1:111122223333:repository/acme/internal').Type).toBe('Other');
    expect(typeOf('payments-service')).toEqual({ Type: 'Other', Id: 'payments-service', Partition: 'aws', Region: 'eu-west-1' });
    expect(typeOf(undefined)).toMatchObject({ Type: 'Other', Id: 'AWS::::Account:111122223333' });
  });

  it('bounds every string and redacts secrets, whatever the finding holds', () => {
    const huge = `ghp_${'A'.repeat(36)} \u001b[31m${'é'.repeat(2_000_000)}`;
    const asff = toAsff(finding({ title: huge, summary: huge, runbook: huge, principal: huge, team: huge, resource: huge, useCase: huge }), { product, mitre: ['T1195.002'] });
    expect(Buffer.byteLength(JSON.stringify(asff))).toBeLessThan(64 * 1024);
    expect(asff.Title!.length).toBeLessThanOrEqual(256);
    expect(asff.Description!.length).toBeLessThanOrEqual(1024);
    expect(asff.Remediation!.Recommendation!.Text!.length).toBeLessThanOrEqual(512);
    expect(JSON.stringify(asff)).not.toContain(`ghp_${'A'.repeat(36)}`);
    expect(JSON.stringify(asff)).not.toContain('\u001b');
  });

  it('keeps one Id per finding, and a dedup-window repeat updates count and LastObservedAt', () => {
    const first = toAsff(finding(), { product });
    const repeat = toAsff(finding({ occurrences: 3, lastSeen: '2026-03-02T09:40:00Z' }), { product });
    expect(repeat.Id).toBe(first.Id);
    expect(first.ProductFields?.['buildwatch/Occurrences']).toBe('1');
    expect(repeat.ProductFields?.['buildwatch/Occurrences']).toBe('3');
    expect(first.LastObservedAt).toBe('2026-03-02T09:14:27.000Z');
    expect(repeat.LastObservedAt).toBe('2026-03-02T09:40:00.000Z');
    expect(repeat.FirstObservedAt).toBe(first.FirstObservedAt);
    expect(Date.parse(repeat.UpdatedAt!)).toBeGreaterThan(Date.parse(first.UpdatedAt!));
  });

  it('orders versions by occurrence count, so Security Hub takes each repeat and ignores a stale copy', () => {
    // The repeat's event happened before the first finding was recorded: time alone would not order them.
    const versions = [1, 2, 3].map((occurrences) => toAsff(finding({ occurrences, lastSeen: '2026-03-02T09:14:50Z' }), { product }).UpdatedAt!);
    expect(versions.map(Date.parse)).toEqual([...versions.map(Date.parse)].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(3);
  });

  it('links the console record and takes the recommendation from the runbook', () => {
    const asff = toAsff(finding({ cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10' }), { product });
    expect(asff.SourceUrl).toBe('https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10');
    expect(asff.Remediation?.Recommendation?.Text).toBe('Confirm with the repository owner that alice should push here. If not, revoke her Git credentials.');
  });

  it('files each ATT&CK technique under its tactic, and keeps a check question in its own namespace', () => {
    expect(toAsff(finding({ answers: 'build.signing-key-change' }), { product, mitre: ['T1553.002', 'T1078.004', 'T1485'] }).Types).toEqual([
      'TTPs/Defense Evasion/T1553.002',
      'TTPs/Initial Access/T1078.004',
      'TTPs/Defense Evasion/T1485',
    ]);
    expect(toAsff(finding({ answers: 'dependencies.sbom' }), { product, mitre: ['T1195.001'] }).Types).toEqual([
      'Software and Configuration Checks/Industry and Regulatory Standards',
      'TTPs/Initial Access/T1195.001',
    ]);
  });

  it('rejects a product ARN that is not the account default product', () => {
    expect(() => parseProductArn('arn:aws:securityhub:eu-west-1:111122223333:product/999988887777/default')).toThrow(/default Security Hub product/);
  });

  it('documents a sample finding as Security Hub receives it', async () => {
    const metadata = useCases.find((u) => u.metadata.id === 'build.signing-key-change')!.metadata;
    const sample = finding({
      ...sampleOf(metadata),
      id: '3b8f0c1d9e2a4f6b8c0d1e2f3a4b5c6d',
      summary: 'kms:ScheduleKeyDeletion on the build signing key by arn:aws:iam::111122223333:user/alice',
      resource: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      cloudTrailEventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10',
      team: 'platform',
    });
    const asff = new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { notes }).toAsff(sample);
    asffSchema.parse(asff);
    await expect(`${JSON.stringify(asff, null, 2)}\n`).toMatchFileSnapshot('../../docs/security-hub-sample-finding.json');
  });
});

describe('SecurityHubNotifier', () => {
  const noWait = { sleep: async () => undefined, notes };
  const alerts = (n: number): Finding[] => Array.from({ length: n }, (_, i) => finding({ id: `f-${i}` }));

  it('imports alerts in requests of at most 100 under the default product, never attestations', async () => {
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    await new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, noWait).importFindings([...alerts(250), finding({ id: 'attestation', mode: 'attest' })]);
    const sizes = hub.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings?.length);
    expect(sizes).toEqual([MAX_FINDINGS_PER_REQUEST, MAX_FINDINGS_PER_REQUEST, 50]);
    const ids = hub.commandCalls(BatchImportFindingsCommand).flatMap((c) => (c.args[0].input.Findings ?? []).map((f: AwsSecurityFinding) => f.Id));
    expect(ids).not.toContain('buildwatch/attestation');
    expect(hub.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0]?.ProductArn).toBe(PRODUCT_ARN);
  });

  it('retries a throttled request with backoff', async () => {
    const waits: number[] = [];
    hub
      .on(BatchImportFindingsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ SuccessCount: 2, FailedCount: 0, FailedFindings: [] });
    await new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { sleep: async (ms) => void waits.push(ms) }).importFindings(alerts(2));
    expect(hub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 2);
    expect(waits).toHaveLength(1);
  });

  it('retries only the findings Security Hub listed as failed', async () => {
    hub
      .on(BatchImportFindingsCommand)
      .resolvesOnce({ SuccessCount: 2, FailedCount: 1, FailedFindings: [{ Id: 'buildwatch/f-1', ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    await new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, noWait).importFindings(alerts(3));
    const second = hub.commandCalls(BatchImportFindingsCommand)[1]?.args[0].input.Findings?.map((f: AwsSecurityFinding) => f.Id);
    expect(second).toEqual(['buildwatch/f-1']);
  });

  it('throws a delivery failure naming the findings that keep failing', async () => {
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 1, FailedFindings: [{ Id: 'buildwatch/f-0', ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }] });
    const error = await new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { ...noWait, attempts: 3 }).importFindings(alerts(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecurityHubImportError);
    expect((error as SecurityHubImportError).findingIds).toEqual(['f-0']);
    expect(hub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 3);
  });

  it('does not retry a request Security Hub refuses outright', async () => {
    hub.on(BatchImportFindingsCommand).rejects(Object.assign(new Error('not subscribed'), { name: 'InvalidAccessException' }));
    await expect(new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, noWait).importFindings(alerts(1))).rejects.toThrow(/InvalidAccessException/);
    expect(hub).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 1);
  });
});

describe('notify handler with Security Hub', () => {
  const record = (f: Finding, sequence: string, eventName: 'INSERT' | 'MODIFY'): DynamoDBRecord => ({
    eventName,
    dynamodb: { SequenceNumber: sequence, NewImage: marshall(f, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] },
  });
  const topic = 'arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts';

  it('imports new alerts and repeats, announces only new ones', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 2, FailedCount: 0, FailedFindings: [] });
    const repeat = finding({ id: 'repeat', occurrences: 2, lastSeen: '2026-03-02T09:30:00Z' });
    const result = await handleStream(
      { Records: [record(finding({ id: 'new' }), '1', 'INSERT'), record(repeat, '2', 'MODIFY'), record(finding({ id: 'att', mode: 'attest' }), '3', 'INSERT')] },
      { notifier: new SnsNotifier(new SNSClient({}), topic), securityHub: new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { sleep: async () => undefined }) },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const imported = hub.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings ?? [];
    expect(imported.map((f: AwsSecurityFinding) => [f.Id, f.ProductFields?.['buildwatch/Occurrences']])).toEqual([
      ['buildwatch/new', '1'],
      ['buildwatch/repeat', '2'],
    ]);
  });

  it("imports the heartbeat's health findings without announcing them (the heartbeat did)", async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    const health = finding({ id: 'health', useCase: 'monitor.heartbeat', principal: 'buildwatch heartbeat' });
    const result = await handleStream(
      { Records: [record(health, '1', 'INSERT')] },
      { notifier: new SnsNotifier(new SNSClient({}), topic), securityHub: new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { sleep: async () => undefined }) },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    const imported = hub.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings ?? [];
    expect(imported.map((f: AwsSecurityFinding) => f.Id)).toEqual(['buildwatch/health']);
  });

  it('announces the hourly canary on the alerts topic but never imports it into Security Hub (it reaches no human)', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    const canary = finding({ id: 'canary', useCase: 'monitor.canary', severity: 'info', resource: 'buildwatch-canary', eventId: 'canary-event' });
    const result = await handleStream(
      { Records: [record(canary, '1', 'INSERT'), record(finding({ id: 'real' }), '2', 'INSERT')] },
      { notifier: new SnsNotifier(new SNSClient({}), topic), securityHub: new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { sleep: async () => undefined }) },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    const imported = hub.commandCalls(BatchImportFindingsCommand).flatMap((call) => call.args[0].input.Findings ?? []);
    expect(imported.map((f: AwsSecurityFinding) => f.Id)).toEqual(['buildwatch/real']);
  });

  it('reports the earliest record Security Hub did not take, so the stream retries it', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 1, FailedFindings: [{ Id: 'buildwatch/b', ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const result = await handleStream(
      { Records: [record(finding({ id: 'a', resource: 'repo-a' }), '1', 'INSERT'), record(finding({ id: 'b', resource: 'repo-b' }), '2', 'INSERT')] },
      { notifier: new SnsNotifier(new SNSClient({}), topic), securityHub: new SecurityHubNotifier(new SecurityHubClient({}), PRODUCT_ARN, { sleep: async () => undefined, attempts: 2 }) },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });
});
