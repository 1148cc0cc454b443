/**
 * The ledger constructs in a bare stack (the stack wires them in separately): the seal key, the
 * seals table, the seal Lambda and its schedule, and the auditor's read-only role; cdk-nag clean.
 * Bundling is skipped (context aws:cdk:bundling-stacks = []), as in the stack tests.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { LEDGER_ENV } from '../../lambdas/ledger/seal-store.js';
import { AuditorAccess } from '../../lib/constructs/auditor-access.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { LedgerSeal } from '../../lib/constructs/ledger-seal.js';
import { Tables } from '../../lib/constructs/tables.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };

const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

function synth(options: { nag?: boolean; alarms?: boolean } = {}) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'LedgerTest', { env: { account: '111122223333', region: 'eu-west-1' } });
  const config = parseConfig({});
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const tables = new Tables(stack, 'Tables', { key, resourcePrefix: config.monitor.resourcePrefix });
  const ops = options.alarms ? new sns.Topic(stack, 'Ops', { masterKey: key, enforceSSL: true }) : undefined;
  const ledger = new LedgerSeal(stack, 'Ledger', { config, key, findingsTable: tables.findings, ...(ops ? { alarmTopic: ops } : {}) });
  const auditor = new AuditorAccess(stack, 'Auditor', {
    resourcePrefix: config.monitor.resourcePrefix,
    findingsTable: tables.findings,
    sealsTable: ledger.sealsTable,
    tableKey: key,
    sealKey: ledger.sealKey,
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Record<string, Resource> };
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  return { app, stack, template, json, ids: { key: id(key), findings: id(tables.findings), sealKey: id(ledger.sealKey), seals: id(ledger.sealsTable), sealRole: id(ledger.handler.role), auditorRole: id(auditor.role), fn: id(ledger.handler.function) } };
}

function statementsOfRole(json: { Resources: Record<string, Resource> }, roleId: string): Statement[] {
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}

describe('LedgerSeal', () => {
  const s = synth({ alarms: true });

  it('an asymmetric P-256 signing key, retained, that only the seal function may sign with', () => {
    const key = s.json.Resources[s.ids.sealKey]!;
    expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', PendingWindowInDays: 30 });
    expect(key.Properties.EnableKeyRotation).not.toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    const deny = (key.Properties.KeyPolicy.Statement as Statement[]).find((st) => st.Sid === 'OnlyTheSealFunctionSigns');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Sign', Condition: { ArnNotEquals: { 'aws:PrincipalArn': getAtt(s.ids.sealRole) } } });
    s.template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/buildwatch-ledger-seal', TargetKeyId: getAtt(s.ids.sealKey) });
  });

  it('a seals table: pk/sk strings, PITR, deletion protection, retained, encrypted with the stack key', () => {
    const table = s.json.Resources[s.ids.seals]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'buildwatch-seals',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(s.ids.key) },
    });
  });

  it('the seal function: Node 22 arm64, its tables and key in the environment, daily at 03:00 UTC, an errors alarm', () => {
    const fn = s.json.Resources[s.ids.fn]!;
    expect(fn.Properties).toMatchObject({ FunctionName: 'buildwatch-seal', Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 300 });
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [LEDGER_ENV.findingsTable]: { Ref: s.ids.findings },
      [LEDGER_ENV.sealsTable]: { Ref: s.ids.seals },
      [LEDGER_ENV.sealKeyArn]: getAtt(s.ids.sealKey),
    });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'buildwatch-seal-daily',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Targets: [Match.objectLike({ Arn: getAtt(s.ids.fn), RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 } })],
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'buildwatch-seal-errors', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: s.ids.fn } }] });
  });

  it('the seal function reads the by-day index and the findings it names only, adds seals only, and may only Sign with the seal key', () => {
    const statements = statementsOfRole(s.json, s.ids.sealRole);
    const dynamo = statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      expect.objectContaining({ Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [getAtt(s.ids.findings), '/index/byDayKeys']] } }),
      expect.objectContaining({ Action: 'dynamodb:BatchGetItem', Resource: getAtt(s.ids.findings) }),
      expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], Resource: getAtt(s.ids.seals) }),
    ]);
    const onSealKey = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify(getAtt(s.ids.sealKey)));
    expect(onSealKey.flatMap((st) => asArray(st.Action))).toEqual(['kms:Sign']);
    const all = statements.flatMap((st) => asArray(st.Action));
    for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Scan', 'dynamodb:BatchWriteItem', 'kms:Decrypt*']) expect(all).not.toContain(forbidden);
  });
});

describe('AuditorAccess', () => {
  const s = synth();

  it('a role for this account, one-hour sessions, no managed policy', () => {
    const role = s.json.Resources[s.ids.auditorRole]!;
    expect(role.Properties.RoleName).toBe('buildwatch-auditor');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(':iam::111122223333:root');
  });

  it('read-only: query and get the ledger and seals, the by-day index, PITR status; decrypt via DynamoDB only; the public key', () => {
    const statements = statementsOfRole(s.json, s.ids.auditorRole);
    expect(statements).toEqual([
      expect.objectContaining({
        Sid: 'ReadLedgerAndSeals',
        Action: ['dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query'],
        Resource: expect.arrayContaining([getAtt(s.ids.findings), getAtt(s.ids.seals)]),
      }),
      expect.objectContaining({ Sid: 'QueryFindingsByDay', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [getAtt(s.ids.findings), '/index/byDayKeys']] } }),
      expect.objectContaining({ Sid: 'ReadFindingsOfDay', Action: 'dynamodb:BatchGetItem', Resource: getAtt(s.ids.findings) }),
      expect.objectContaining({
        Sid: 'DecryptTablesThroughDynamoDB',
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: getAtt(s.ids.key),
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
      }),
      expect.objectContaining({ Sid: 'SealPublicKey', Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Verify'], Resource: getAtt(s.ids.sealKey) }),
    ]);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      expect(asArray(st.Resource)).not.toContain('*');
      for (const action of asArray(st.Action)) expect(action, action).toMatch(/^(dynamodb:(Describe|Get|BatchGetItem$|Query)|kms:(Decrypt|DescribeKey|GetPublicKey|Verify)$)/);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('the ledger constructs have no unacknowledged finding and no CDK warning', () => {
    const s = synth({ nag: true, alarms: true });
    const violations = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s.app).violations;
    expect(violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(Annotations.fromStack(s.stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});
