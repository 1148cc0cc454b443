/**
 * The Buildwatch stack: targeted template checks (aws-cdk-lib/assertions) and cdk-nag AwsSolutions.
 * Bundling is skipped (context aws:cdk:bundling-stacks = []), so no esbuild run and no handler code is
 * needed; until the lead's handlers exist, this file stands in as the (never bundled) entry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig, type BuildwatchConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import type { EventPattern } from '../../lambdas/engine/event-pattern.js';
import { defineUseCase, type UseCase, type UseCaseMetadata } from '../../lambdas/engine/use-case.js';
import { LEDGER_ENV, SEALS_TABLE } from '../../lambdas/ledger/seal-store.js';
import { ENV, FINDINGS_TABLE, STATE_TABLE } from '../../lambdas/store/schema.js';
import { CANARY_DETAIL_TYPE, CANARY_SOURCE, HEARTBEAT_ENV } from '../../lambdas/use-cases/monitor/constants.js';
import { LIVENESS_PARTITION } from '../../lambdas/use-cases/monitor/liveness.js';
import { MONITOR_RESOURCES_ENV } from '../../lambdas/use-cases/monitor/own-resources.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { HEARTBEAT_PRINCIPAL } from '../../lambdas/use-cases/monitor/constants.js';
import { BuildwatchStack } from '../../lib/buildwatch-stack.js';
import { ALL_MANAGEMENT_EVENTS_STATE, enabledUseCases } from '../../lib/constructs/detection-rules.js';
import { AUDITOR_SEAL_KEY_ACTIONS, AUDITOR_TABLE_ACTIONS } from '../../lib/constructs/auditor-access.js';
import { SWEEP_CODEARTIFACT_ACTIONS, correlationSweepEntry } from '../../lib/constructs/correlation-sweep.js';
import { FINDINGS_TABLE_ACTIONS, SWEEP_STATE_TABLE_ACTIONS, TABLE_KEY_ACTIONS } from '../../lib/constructs/detector.js';
import { CONFIG_DEFINE, PROJECT_ROOT, bundlingOptions, handlerEntry } from '../../lib/constructs/handler-function.js';
import { SEALS_TABLE_ACTIONS, sealEntry } from '../../lib/constructs/ledger-seal.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown; Sid?: string };

const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const standIn = fileURLToPath(import.meta.url);
const entries = {
  detect: existsSync(handlerEntry('detect')) ? handlerEntry('detect') : standIn,
  notify: existsSync(handlerEntry('notify')) ? handlerEntry('notify') : standIn,
  heartbeat: existsSync(handlerEntry('heartbeat')) ? handlerEntry('heartbeat') : standIn,
  seal: existsSync(sealEntry()) ? sealEntry() : standIn,
  sweep: existsSync(correlationSweepEntry()) ? correlationSweepEntry() : standIn,
};

function useCase(id: string, metadata: Partial<UseCaseMetadata>, pattern: EventPattern): UseCase {
  return defineUseCase({
    metadata: {
      id,
      answers: 'monitor.tamper',
      title: `Test use case ${id}`,
      stage: id.split('.')[0] as UseCaseMetadata['stage'],
      description: 'A use case defined inline for the stack tests.',
      severity: 'high',
      defaultMode: 'alert',
      riskReduction: 3,
      effort: 2,
      mitre: ['T1562.008'],
      falsePositives: ['test'],
      runbook: 'Nothing to do: a test fixture.',
      ...metadata,
    },
    pattern,
    logic: { kind: 'match', evaluate: () => undefined },
  });
}

const pushPattern = {
  source: ['aws.codecommit'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: { eventSource: ['codecommit.amazonaws.com'], eventName: ['GitPush'], errorCode: [{ exists: false }] },
};
const tamperPattern = {
  source: ['aws.cloudtrail', 'aws.events'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: { eventName: ['StopLogging', 'DeleteTrail', { prefix: 'PutEventSelectors' }] },
};
const driftPattern = {
  source: ['aws.codebuild'],
  $or: [{ 'detail-type': ['CodeBuild Build State Change'] }, { detail: { eventName: ['UpdateProject'] } }],
};
const testUseCases: readonly UseCase[] = [
  useCase('source.test-pusher', { readOnlyEvents: true }, pushPattern),
  useCase('monitor.test-tamper', { defaultMode: 'attest' }, tamperPattern),
  useCase('build.test-drift', { defaultMode: 'off' }, driftPattern),
];

interface Synth {
  app: App;
  stack: BuildwatchStack;
  template: Template;
  json: { Resources: Record<string, Resource>; Outputs?: Record<string, unknown> };
}

function synth(options: { config?: BuildwatchConfigInput | BuildwatchConfig; useCases?: readonly UseCase[]; nag?: boolean; tweak?: (stack: BuildwatchStack) => void } = {}): Synth {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const config = parseConfig(options.config ?? {});
  const stack = new BuildwatchStack(app, 'Buildwatch', { config, useCases: options.useCases ?? testUseCases, entries });
  options.tweak?.(stack);
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as Synth['json'] };
}

let defaultSynth: Synth | undefined;
const base = (): Synth => (defaultSynth ??= synth());

function resourcesOf(s: Synth, type: string): Array<[string, Resource]> {
  return Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
}
function only(s: Synth, type: string, predicate: (r: Resource) => boolean = () => true): [string, Resource] {
  const matches = resourcesOf(s, type).filter(([, r]) => predicate(r));
  expect(matches, `exactly one ${type}`).toHaveLength(1);
  return matches[0]!;
}
const logicalIdOf = (s: Synth, type: string, predicate: (r: Resource) => boolean): string => only(s, type, predicate)[0];
const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });
const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The monitor's symmetric data key (tables, queues, topics, logs); the ledger's seal key is the SIGN_VERIFY one. */
const isDataKey = (r: Resource) => r.Properties.KeyUsage !== 'SIGN_VERIFY';
const isSealKey = (r: Resource) => r.Properties.KeyUsage === 'SIGN_VERIFY';
const dataKey = (s: Synth): [string, Resource] => only(s, 'AWS::KMS::Key', isDataKey);
const sealKey = (s: Synth): [string, Resource] => only(s, 'AWS::KMS::Key', isSealKey);

/** Every rule, scheduled ones included (the heartbeat, the daily seal, the correlation sweep). */
function rulesByName(s: Synth): Map<string, Resource> {
  return new Map(resourcesOf(s, 'AWS::Events::Rule').map(([, r]) => [r.Properties.Name as string, r]));
}
const isScheduled = (r: Resource) => r.Properties.ScheduleExpression !== undefined;
/** The rules that match events (detection and direct tamper-alert rules): no scheduled rule. */
function eventRulesByName(s: Synth): Map<string, Resource> {
  return new Map([...rulesByName(s)].filter(([, r]) => !isScheduled(r)));
}

/** Every statement of every identity policy (AWS::IAM::Policy, inline role policies, managed policies). */
function identityStatements(s: Synth): Array<{ policy: string; statement: Statement }> {
  const out: Array<{ policy: string; statement: Statement }> = [];
  for (const [id, r] of Object.entries(s.json.Resources)) {
    const documents: unknown[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') documents.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') for (const p of asArray(r.Properties.Policies as Array<{ PolicyDocument: unknown }>)) documents.push(p.PolicyDocument);
    for (const document of documents) {
      for (const statement of (document as { Statement: Statement[] }).Statement) out.push({ policy: id, statement });
    }
  }
  return out;
}
function resourcePolicyStatements(s: Synth): Array<{ policy: string; statement: Statement }> {
  const out: Array<{ policy: string; statement: Statement }> = [];
  for (const [id, r] of Object.entries(s.json.Resources)) {
    if (r.Type === 'AWS::SQS::QueuePolicy' || r.Type === 'AWS::SNS::TopicPolicy') {
      for (const statement of (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement) out.push({ policy: id, statement });
    }
  }
  return out;
}

const isDetectFunction = (r: Resource) => r.Properties.FunctionName === 'buildwatch-detect';
const isNotifyFunction = (r: Resource) => r.Properties.FunctionName === 'buildwatch-notify';
const isSealFunction = (r: Resource) => r.Properties.FunctionName === 'buildwatch-seal';
const isSweepFunction = (r: Resource) => r.Properties.FunctionName === 'buildwatch-correlation-sweep';
const roleOf = (s: Synth, isFunction: (r: Resource) => boolean) => (only(s, 'AWS::Lambda::Function', isFunction)[1].Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
function statementsOfRole(s: Synth, roleId: string): Statement[] {
  return resourcesOf(s, 'AWS::IAM::Policy')
    .filter(([, r]) => (r.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[]);
}

describe('detection rules', () => {
  it('creates one rule per enabled use case, named after the id, with the pattern passed through unchanged', () => {
    const s = base();
    const rules = eventRulesByName(s);
    expect([...rules.keys()].sort()).toEqual(['buildwatch-monitor-test-tamper', 'buildwatch-source-test-pusher']);
    expect(rules.get('buildwatch-source-test-pusher')!.Properties.EventPattern).toEqual(pushPattern);
    expect(rules.get('buildwatch-monitor-test-tamper')!.Properties.EventPattern).toEqual(tamperPattern);
    for (const rule of rules.values()) expect(rule.Properties.EventBusName).toBeUndefined(); // default bus
  });

  it('sets ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS exactly when the use case needs read-only events', () => {
    const rules = rulesByName(base());
    expect(rules.get('buildwatch-source-test-pusher')!.Properties.State).toBe(ALL_MANAGEMENT_EVENTS_STATE);
    expect(rules.get('buildwatch-monitor-test-tamper')!.Properties.State).toBe('ENABLED');
  });

  it('delivers {"useCase": id, "event": <the whole event, detail included>} to the detect queue, with a DLQ and retries', () => {
    const s = base();
    const detectQueue = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-detect');
    const deadLetter = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    for (const [name, id] of [['buildwatch-source-test-pusher', 'source.test-pusher'], ['buildwatch-monitor-test-tamper', 'monitor.test-tamper']] as const) {
      const targets = rulesByName(s).get(name)!.Properties.Targets as Array<Record<string, any>>;
      expect(targets).toHaveLength(1);
      const [target] = targets;
      expect(target!.Arn).toEqual(getAtt(detectQueue));
      expect(target!.DeadLetterConfig).toEqual({ Arn: getAtt(deadLetter) });
      expect(target!.RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 });
      // "$" is the whole event. (The predefined <aws.events.event> would drop `detail`.)
      expect(target!.InputTransformer).toEqual({ InputPathsMap: { f1: '$' }, InputTemplate: `{"useCase":"${id}","event":<f1>}` });
      const event = { version: '0', id: 'e1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.codecommit', detail: { eventName: 'GitPush' } };
      const delivered = JSON.parse((target!.InputTransformer.InputTemplate as string).replace('<f1>', JSON.stringify(event)));
      expect(delivered).toEqual({ useCase: id, event });
    }
  });

  it('lets only its own rules send to the detect queue, and all of them dead-letter through one statement', () => {
    const s = base();
    const rulePattern = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':rule/buildwatch-*']] };
    const statements = resourcePolicyStatements(s).map((x) => x.statement);
    const deny = statements.find((st) => st.Sid === 'OnlyBuildwatchRulesMaySend')!;
    expect(deny.Effect).toBe('Deny');
    expect(deny.Condition).toEqual({ ArnNotLike: { 'aws:SourceArn': rulePattern } });
    const deadLetter = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    const [, dlqPolicy] = only(s, 'AWS::SQS::QueuePolicy', (r) => JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: deadLetter }]));
    const sends = (dlqPolicy.Properties.PolicyDocument.Statement as Statement[]).filter((st) => st.Effect === 'Allow');
    // One statement, whatever the number of rules (SQS allows 20 per policy).
    expect(sends).toEqual([expect.objectContaining({ Sid: 'AllowBuildwatchRulesToDeadLetter', Action: 'sqs:SendMessage', Condition: { ArnLike: { 'aws:SourceArn': rulePattern } } })]);
    // Every rule that dead-letters is named inside that pattern.
    for (const [, rule] of resourcesOf(s, 'AWS::Events::Rule')) {
      const dlq = (rule.Properties.Targets as Array<Record<string, any>>).some((t) => t.DeadLetterConfig);
      if (dlq) expect(rule.Properties.Name).toMatch(/^buildwatch-/);
    }
  });

  it("follows the configuration: mode 'off' removes a rule, another mode enables a default-off use case", () => {
    const s = synth({ config: { useCases: { 'source.test-pusher': { mode: 'off' }, 'build.test-drift': { mode: 'attest' } } } });
    const rules = eventRulesByName(s);
    expect([...rules.keys()].sort()).toEqual(['buildwatch-build-test-drift', 'buildwatch-monitor-test-tamper']);
    expect(rules.get('buildwatch-build-test-drift')!.Properties.EventPattern).toEqual(driftPattern);
  });

  it('names rules with the configured resource prefix and never mutates the use-case pattern', () => {
    const frozen = useCase('source.frozen', {}, deepFreeze(structuredClone(pushPattern)));
    const s = synth({ config: { monitor: { resourcePrefix: 'bw2-' } }, useCases: [frozen] });
    expect([...eventRulesByName(s).keys()]).toEqual(['bw2-source-frozen']);
    // The scheduled rules follow the prefix too.
    expect([...rulesByName(s).keys()].sort()).toEqual(['bw2-correlation-sweep', 'bw2-seal-daily', 'bw2-source-frozen']);
    expect(frozen.pattern).toEqual(pushPattern);
  });

  it('has one rule per enabled use case of the real registry and configuration', () => {
    const config = loadConfig(resolve(PROJECT_ROOT, 'buildwatch.config.json'));
    const s = synth({ config, useCases: registry });
    const detectQueue = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-detect');
    // Detection rules feed the detect queue; the direct tamper-alert and heartbeat rules do not.
    const rules = new Map([...rulesByName(s)].filter(([, r]) => JSON.stringify(r.Properties.Targets ?? []).includes(detectQueue)));
    const enabled = enabledUseCases(registry, config);
    expect(rules.size).toBe(enabled.length);
    for (const uc of enabled) {
      const rule = rules.get(`${config.monitor.resourcePrefix}${uc.metadata.id.replaceAll('.', '-')}`);
      expect(rule, uc.metadata.id).toBeDefined();
      expect(rule!.Properties.EventPattern).toEqual(uc.pattern);
      expect(rule!.Properties.State).toBe(uc.metadata.readOnlyEvents ? ALL_MANAGEMENT_EVENTS_STATE : 'ENABLED');
    }
  });
});

describe('tables', () => {
  it('state table: pk/sk strings, TTL, on-demand, PITR, customer-managed key', () => {
    const s = base();
    const keyId = dataKey(s)[0];
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        TableName: 'buildwatch-state',
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
        ],
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId) },
      },
    });
  });

  it('findings table: id key, keys-only byDayKeys index (no legacy byDay), PITR, deletion protection, retained, NEW_IMAGE stream, customer-managed key', () => {
    const s = base();
    const keyId = dataKey(s)[0];
    const [, findings] = only(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings');
    expect(findings.DeletionPolicy).toBe('Retain');
    expect(findings.UpdateReplacePolicy).toBe('Retain');
    expect(findings.Properties).toMatchObject({
      KeySchema: [{ AttributeName: FINDINGS_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId) },
      GlobalSecondaryIndexes: [
        {
          IndexName: FINDINGS_TABLE.byDayIndex,
          KeySchema: [
            { AttributeName: FINDINGS_TABLE.byDayPartitionKey, KeyType: 'HASH' },
            { AttributeName: FINDINGS_TABLE.byDaySortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
    expect(findings.Properties.GlobalSecondaryIndexes).toHaveLength(1);
    expect(findings.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: FINDINGS_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: FINDINGS_TABLE.byDayPartitionKey, AttributeType: 'S' },
        { AttributeName: FINDINGS_TABLE.byDaySortKey, AttributeType: 'S' },
      ]),
    );
  });

  it('ledger.keepLegacyDayIndex keeps the legacy byDay index (ALL) next to byDayKeys, and lets the seal and auditor roles query both', () => {
    const s = synth({ config: { ledger: { keepLegacyDayIndex: true } } });
    const findingsId = tableId(s, 'buildwatch-findings');
    const [, findings] = only(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings');
    const keys = [
      { AttributeName: FINDINGS_TABLE.byDayPartitionKey, KeyType: 'HASH' },
      { AttributeName: FINDINGS_TABLE.byDaySortKey, KeyType: 'RANGE' },
    ];
    expect(findings.Properties.GlobalSecondaryIndexes).toEqual([
      { IndexName: FINDINGS_TABLE.byDayIndex, KeySchema: keys, Projection: { ProjectionType: 'KEYS_ONLY' } },
      { IndexName: FINDINGS_TABLE.legacyByDayIndex, KeySchema: keys, Projection: { ProjectionType: 'ALL' } },
    ]);
    // Exactly the two index ARNs (CDK orders a statement's resources itself).
    const both = expect.toSatisfy((resources: unknown) => Array.isArray(resources) && resources.length === 2 && expect.arrayContaining([byDayIndexArn(findingsId), indexArn(findingsId, FINDINGS_TABLE.legacyByDayIndex)]).asymmetricMatch(resources));
    expect(statementsOfRole(s, roleOf(s, isSealFunction))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'FindingsByDayQuery', Action: 'dynamodb:Query', Resource: both }),
        expect.objectContaining({ Sid: 'FindingsOfDayGet', Action: 'dynamodb:BatchGetItem', Resource: getAtt(findingsId) }),
      ]),
    );
    const [auditorId] = only(s, 'AWS::IAM::Role', (r) => r.Properties.RoleName === 'buildwatch-auditor');
    expect(statementsOfRole(s, auditorId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'QueryFindingsByDay', Action: 'dynamodb:Query', Resource: both }),
        expect.objectContaining({ Sid: 'ReadFindingsOfDay', Action: 'dynamodb:BatchGetItem', Resource: getAtt(findingsId) }),
      ]),
    );
  });

  it('the key rotates and is retained (the retained ledger is encrypted with it)', () => {
    const [, key] = dataKey(base());
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
  });
});

describe('queues', () => {
  it('detect queue: KMS, visibility ≥ 6 × the detect timeout, redrive after 8 receives (above the 5 attempts of the handler); DLQ kept 14 days, 1 MiB messages; SSL only', () => {
    const s = base();
    const keyId = dataKey(s)[0];
    const [deadLetterId, deadLetter] = only(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    const [detectId, detect] = only(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-detect');
    const [, detectFn] = only(s, 'AWS::Lambda::Function', isDetectFunction);
    expect(detect.Properties.KmsMasterKeyId).toEqual(getAtt(keyId));
    expect(deadLetter.Properties.KmsMasterKeyId).toEqual(getAtt(keyId));
    expect(detect.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (detectFn.Properties.Timeout as number));
    expect(detect.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: getAtt(deadLetterId), maxReceiveCount: 8 });
    expect(deadLetter.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    // Room for a forwarded message of the detect queue's largest size plus its reason attributes.
    expect(deadLetter.Properties.MaximumMessageSize).toBe(1_048_576);
    expect(detect.Properties.MaximumMessageSize ?? 262_144).toBeLessThanOrEqual(262_144);
    for (const queueId of [detectId, deadLetterId]) {
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('EventBridge may use the key (delivery to the encrypted detect and dead-letter queues)', () => {
    const [, key] = dataKey(base());
    const statements = key.Properties.KeyPolicy.Statement as Statement[];
    const events = statements.find((st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }));
    expect(events).toBeDefined();
    expect(asArray(events!.Action)).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });
});

describe('functions', () => {
  it('detect: Node 22 on arm64, 512 MB, 60 s, environment, SQS batches with partial failures', () => {
    const s = base();
    const [detectId, detect] = only(s, 'AWS::Lambda::Function', isDetectFunction);
    expect(detect.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 512, Timeout: 60, Handler: 'index.handler' });
    const variables = detect.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toMatchObject({
      [ENV.stateTable]: { Ref: logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-state') },
      [ENV.findingsTable]: { Ref: logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings') },
      [ENV.deadLetterQueueUrl]: { Ref: logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter') },
      POWERTOOLS_SERVICE_NAME: expect.any(String),
    });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: detectId },
      EventSourceArn: getAtt(logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-detect')),
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('notify: Node 22 on arm64, the alerts topic ARN, and a filtered findings stream with retries and a DLQ', () => {
    const s = base();
    const [notifyId, notify] = only(s, 'AWS::Lambda::Function', isNotifyFunction);
    const alerts = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
    expect(notify.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect(notify.Properties.Environment.Variables).toMatchObject({ [ENV.alertsTopicArn]: { Ref: alerts } });
    const findings = logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings');
    const deadLetter = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    const [, mapping] = only(s, 'AWS::Lambda::EventSourceMapping', (r) => JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: notifyId }));
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: getAtt(findings, 'StreamArn'),
      StartingPosition: expect.stringMatching(/^(TRIM_HORIZON|LATEST)$/),
      BatchSize: 10,
      // Findings of one event arrive together, to fold into one alert per question.
      MaximumBatchingWindowInSeconds: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: getAtt(deadLetter) } },
    });
    const filters = mapping.Properties.FilterCriteria.Filters as Array<{ Pattern: string }>;
    // The heartbeat publishes its own findings (the path it reports on may be broken): the notifier skips them.
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { mode: { S: ['alert'] }, principal: { S: [{ 'anything-but': [HEARTBEAT_PRINCIPAL] }] } } } },
    ]);
  });

  it('each function has its own encrypted log group with a retention, and a role with no managed policy', () => {
    const s = base();
    const keyId = dataKey(s)[0];
    for (const isFunction of [isDetectFunction, isNotifyFunction, isSealFunction, isSweepFunction]) {
      const [, fn] = only(s, 'AWS::Lambda::Function', isFunction);
      const logGroupId = (fn.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref;
      const logGroup = s.json.Resources[logGroupId]!;
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBeGreaterThanOrEqual(365);
      expect(logGroup.Properties.KmsKeyId).toEqual(getAtt(keyId));
      const role = s.json.Resources[roleOf(s, isFunction)]!;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(statementsOfRole(s, roleOf(s, isFunction))).toContainEqual(
        expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logGroupId) }),
      );
    }
  });

  it('bundles ESM for node22, minified with source maps, a require shim, and the validated config inlined', () => {
    const config = parseConfig({ monitor: { resourcePrefix: 'x-' }, automationPrincipals: ["arn:aws:iam::1:role/a'b$c\"d"] });
    const options = bundlingOptions(config);
    expect(options).toMatchObject({ format: 'esm', target: 'node22', minify: true, sourceMap: true });
    expect(options.banner).toMatch(/createRequire.*import\.meta\.url/);
    expect(options.banner).toMatch(/const require\s*=/);
    // define takes JavaScript source: a string literal whose value is the configuration's JSON.
    expect(JSON.parse(JSON.parse(options.define![CONFIG_DEFINE]!))).toEqual(config);
  });
});

describe('least privilege', () => {
  it('the detector writes findings with PutItem/GetItem only, on the findings table only', () => {
    const s = base();
    const findings = logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings');
    const state = logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-state');
    const statements = statementsOfRole(s, roleOf(s, isDetectFunction));
    const onFindings = statements.filter((st) => JSON.stringify(asArray(st.Resource)).includes(findings));
    expect(onFindings).toHaveLength(1);
    expect(asArray(onFindings[0]!.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(asArray(onFindings[0]!.Resource)).toEqual([getAtt(findings)]);
    const onState = statements.filter((st) => JSON.stringify(asArray(st.Resource)).includes(state));
    expect(onState).toHaveLength(1);
    // Exactly what the state store calls: no Scan, no DeleteItem (TTL), no table-level actions; batch
    // writes for a correlate record's items.
    expect(asArray(onState[0]!.Action).sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(asArray(onState[0]!.Resource)).toEqual([getAtt(state)]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']), Resource: getAtt(logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter')) }));
  });

  it('the notifier publishes to the alerts topic only', () => {
    const s = base();
    const alerts = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
    const publish = statementsOfRole(s, roleOf(s, isNotifyFunction)).filter((st) => asArray(st.Action).includes('sns:Publish'));
    expect(publish).toEqual([expect.objectContaining({ Resource: { Ref: alerts } })]);
    expect(statementsOfRole(s, roleOf(s, isDetectFunction)).some((st) => asArray(st.Action).some((a) => a.startsWith('sns:')))).toBe(false);
  });

  it('no identity-policy statement grants Resource "*" except the listed ones; no action wildcard beyond the KMS data-key families', () => {
    /** Allowed Resource "*" statements, with the reason. */
    const allowedStar: Record<string, string> = {
      'dynamodb:ListStreams': 'ListStreams has no resource-level permissions; needed by the stream event source mapping',
      'cloudtrail:DescribeTrails': 'DescribeTrails has no resource-level permissions; the trail look-up of monitor.trail-archive-tamper',
      'ec2:DescribeInstances': "EC2 Describe* has no resource-level permissions; build.host-access ties an instance to its host group (held to the stack's region)",
      'ec2:DescribeLaunchTemplateVersions': "EC2 Describe* has no resource-level permissions; a host group's launch template named by name (held to the stack's region)",
    };
    const allowedActionWildcards = ['kms:GenerateDataKey*', 'kms:ReEncrypt*'];
    // Every use case with nothing configured (look-ups on every build project), and the real configuration.
    const statements = [...identityStatements(synth({ config: {}, useCases: [...testUseCases, ...registry] })), ...identityStatements(real())];
    expect(statements.length).toBeGreaterThan(0);
    for (const { policy, statement } of statements) {
      const actions = asArray(statement.Action);
      if (asArray(statement.Resource).includes('*')) {
        expect(actions.every((a) => a in allowedStar), `${policy}: ${actions.join(',')} on "*"`).toBe(true);
        // EC2's reads on "*" are held to the stack's region.
        if (actions.some((a) => a.startsWith('ec2:'))) expect(statement.Condition, policy).toEqual({ StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } });
      }
      for (const action of actions.filter((a) => a.includes('*'))) expect(allowedActionWildcards, `${policy}: ${action}`).toContain(action);
    }
  });

  it('resource policies never allow a wildcard principal', () => {
    for (const { policy, statement } of resourcePolicyStatements(base())) {
      if (statement.Effect === 'Allow') expect(JSON.stringify(statement.Principal), policy).not.toMatch(/"\*"/);
    }
  });
});

describe('topics, alarms and outputs', () => {
  it('alerts and ops topics are encrypted with the key and SSL-only; alarms may publish to ops', () => {
    const s = base();
    const keyId = dataKey(s)[0];
    const topics = resourcesOf(s, 'AWS::SNS::Topic');
    expect(topics.map(([, t]) => t.Properties.TopicName).sort()).toEqual(['buildwatch-alerts', 'buildwatch-ops']);
    for (const [topicId, topic] of topics) {
      expect(topic.Properties.KmsMasterKeyId).toEqual(getAtt(keyId));
      s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topicId }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    const ops = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-ops');
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: ops }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' })]) },
    });
    const [, key] = dataKey(s);
    expect((key.Properties.KeyPolicy.Statement as Statement[]).some((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'))).toBe(true);
  });

  it('alarms on the dead-letter queue, errors and throttles of both functions go to the ops topic', () => {
    const s = base();
    const ops = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-ops');
    const deadLetter = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    const detect = logicalIdOf(s, 'AWS::Lambda::Function', isDetectFunction);
    const notify = logicalIdOf(s, 'AWS::Lambda::Function', isNotifyFunction);
    const alarms = resourcesOf(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: ops }]);
    const find = (namespace: string, metric: string, dimension: unknown) =>
      alarms.find((a) => a.Namespace === namespace && a.MetricName === metric && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)));
    const dlq = find('AWS/SQS', 'ApproximateNumberOfMessagesVisible', getAtt(deadLetter, 'QueueName'));
    expect(dlq).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
    for (const fn of [detect, notify]) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(find('AWS/Lambda', metric, { Ref: fn }), `${fn} ${metric}`).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
      }
    }
  });

  it('outputs the table names and topic ARNs', () => {
    const outputs = Object.keys(base().json.Outputs ?? {});
    expect(outputs).toEqual(expect.arrayContaining(['StateTableName', 'FindingsTableName', 'AlertsTopicArn', 'OpsTopicArn', 'SealsTableName', 'SealKeyArn', 'AuditorRoleArn']));
  });
});

const registryConfig = () => loadConfig(resolve(PROJECT_ROOT, 'buildwatch.config.json'));
let registrySynth: Synth | undefined;
/** The real registry and configuration: the monitor's self-protection is built from its use cases. */
const real = (): Synth => (registrySynth ??= synth({ config: registryConfig(), useCases: registry }));
const isHeartbeatFunction = (r: Resource) => r.Properties.FunctionName === 'buildwatch-heartbeat';
const ref = (logicalId: string) => ({ Ref: logicalId });

describe('tamper alerts that survive the tampering', () => {
  const directNames = [
    'buildwatch-monitor-cloudtrail-tamper-direct',
    'buildwatch-monitor-rule-tamper-direct',
    'buildwatch-monitor-function-tamper-direct',
    'buildwatch-monitor-resource-tamper-direct',
    'buildwatch-monitor-table-tamper-direct',
    'buildwatch-monitor-key-tamper-direct',
  ];

  it('adds a second rule per tamper use case, straight to the alerts topic with a readable JSON message, a DLQ and retries', () => {
    const s = real();
    const rules = rulesByName(s);
    const alerts = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
    const deadLetter = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    for (const name of directNames) {
      const rule = rules.get(name);
      expect(rule, name).toBeDefined();
      const [target] = rule!.Properties.Targets as Array<Record<string, any>>;
      expect(target).toMatchObject({ Arn: ref(alerts), DeadLetterConfig: { Arn: getAtt(deadLetter) }, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } });
      expect(target!.RoleArn).toBeUndefined();
      const transformer = target!.InputTransformer as { InputPathsMap: Record<string, string>; InputTemplate: string };
      // Placeholders are JSON values: the template with them filled in is a JSON document.
      let message = transformer.InputTemplate;
      for (const key of Object.keys(transformer.InputPathsMap)) message = message.replaceAll(`<${key}>`, JSON.stringify(`value of ${key}`));
      expect(JSON.parse(message)).toMatchObject({ severity: 'critical', mode: 'alert', answers: 'monitor.tamper', direct: true, what: 'value of detail-eventName' });
      expect(transformer.InputPathsMap).not.toHaveProperty('detail-requestParameters');
    }
  });

  it('filters on the prefix, the stack account and the stack keys (tokens resolved at deploy time)', () => {
    const rules = rulesByName(real());
    const key = dataKey(real())[0];
    const seal = sealKey(real())[0];
    for (const name of directNames) expect(rules.get(name)!.Properties.EventPattern.account).toEqual([{ Ref: 'AWS::AccountId' }]);
    // Both keys, by id and by ARN: tampering with the seal key is tampering with the ledger's evidence.
    const keyTamper = JSON.stringify(rules.get('buildwatch-monitor-key-tamper-direct')!.Properties.EventPattern);
    for (const id of [key, seal]) {
      expect(keyTamper).toContain(JSON.stringify(ref(id)));
      expect(keyTamper).toContain(JSON.stringify(getAtt(id)));
    }
    expect(JSON.stringify(rules.get('buildwatch-monitor-rule-tamper-direct')!.Properties.EventPattern)).toContain('{"prefix":"buildwatch-"}');
  });

  it('lets only those rules publish to the alerts topic (and EventBridge use the key), and send their failures to the dead-letter queue', () => {
    const s = real();
    const directIds = resourcesOf(s, 'AWS::Events::Rule').filter(([, r]) => directNames.includes(r.Properties.Name)).map(([id]) => id);
    expect(directIds).toHaveLength(directNames.length);
    const statements = resourcePolicyStatements(s).map((x) => x.statement);
    const publish = statements.find((st) => st.Sid === 'AllowDirectTamperAlertRules')!;
    expect(publish).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' });
    expect((publish.Condition as any).ArnEquals['aws:SourceArn']).toEqual(directIds.map((id) => getAtt(id)));
    expect((publish.Condition as any).StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    // Their dead letters go through the queue's one statement for every `buildwatch-…` rule.
    const deadLetters = statements.find((st) => st.Sid === 'AllowBuildwatchRulesToDeadLetter')!;
    expect(JSON.stringify(deadLetters.Condition)).toContain(':rule/buildwatch-*');
    for (const name of directNames) expect(name.startsWith('buildwatch-')).toBe(true);
    const [, key] = dataKey(s);
    const events = (key.Properties.KeyPolicy.Statement as Statement[]).find((st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }));
    expect(asArray(events!.Action)).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  it("has no direct rule for a tamper use case whose mode is 'off', and none for use cases that are not tamper use cases", () => {
    const s = synth({ config: { useCases: { 'monitor.function-tamper': { mode: 'off' } } }, useCases: registry });
    const names = [...rulesByName(s).keys()];
    expect(names).not.toContain('buildwatch-monitor-function-tamper-direct');
    expect(names).toContain('buildwatch-monitor-rule-tamper-direct');
    expect([...rulesByName(base()).keys()].some((name) => name.endsWith('-direct'))).toBe(false);
  });

  it("passes the monitor's account and keys to the detect function, and names the key alias/<prefix>key", () => {
    const s = real();
    const key = dataKey(s)[0];
    const [, detect] = only(s, 'AWS::Lambda::Function', isDetectFunction);
    const resources = JSON.stringify(detect.Properties.Environment.Variables[MONITOR_RESOURCES_ENV]);
    expect(resources).toContain('AWS::AccountId');
    expect(resources).toContain(JSON.stringify(getAtt(key)));
    expect(resources).toContain(JSON.stringify(getAtt(sealKey(s)[0])));
    s.template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/buildwatch-key', TargetKeyId: getAtt(key) });
  });
});

describe('canary and heartbeat', () => {
  it('schedules the canary hourly: PutEvents of buildwatch.canary on the default bus, by a role that may only do that', () => {
    const s = real();
    const [, schedule] = only(s, 'AWS::Scheduler::Schedule');
    expect(schedule.Properties).toMatchObject({
      Name: 'buildwatch-canary',
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: { EventBridgeParameters: { Source: CANARY_SOURCE, DetailType: CANARY_DETAIL_TYPE } },
    });
    expect(JSON.stringify(schedule.Properties.Target.Arn)).toContain(':event-bus/default');
    expect(JSON.parse(schedule.Properties.Target.Input as string)).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>', executionId: '<aws.scheduler.execution-id>', schedule: 'buildwatch-canary' });
    const roleId = (schedule.Properties.Target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(s, roleId);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'events:PutEvents' });
    expect(JSON.stringify(statements[0]!.Resource)).toContain(':event-bus/default');
    // The canary rule itself is the monitor.canary use case's detection rule.
    expect(rulesByName(s).get('buildwatch-monitor-canary')!.Properties.EventPattern).toEqual({ source: [CANARY_SOURCE], 'detail-type': [CANARY_DETAIL_TYPE] });
  });

  it('runs the heartbeat every 15 minutes, with what it needs in its environment', () => {
    const s = real();
    const [heartbeatId, heartbeat] = only(s, 'AWS::Lambda::Function', isHeartbeatFunction);
    expect(heartbeat.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 60 });
    const receipts = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-canary-receipts');
    expect(heartbeat.Properties.Environment.Variables).toMatchObject({
      [ENV.stateTable]: ref(logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-state')),
      [ENV.findingsTable]: ref(logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings')),
      [ENV.alertsTopicArn]: ref(logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts')),
      [ENV.deadLetterQueueUrl]: ref(logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter')),
      [HEARTBEAT_ENV.receiptsQueueUrl]: ref(receipts),
      [MONITOR_RESOURCES_ENV]: expect.anything(),
    });
    const rule = rulesByName(s).get('buildwatch-heartbeat')!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect((rule.Properties.Targets as Array<Record<string, unknown>>)[0]).toMatchObject({ Arn: getAtt(heartbeatId), RetryPolicy: { MaximumRetryAttempts: 2 } });
  });

  it('receives the canary alerts back: the receipts queue subscribes to the alerts topic, filtered to monitor.canary, with SNS allowed to use the key', () => {
    const s = real();
    const alerts = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
    const receipts = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-canary-receipts');
    const [, subscription] = only(s, 'AWS::SNS::Subscription');
    expect(subscription.Properties).toMatchObject({ Protocol: 'sqs', TopicArn: ref(alerts), Endpoint: getAtt(receipts), FilterPolicy: { useCase: ['monitor.canary'] } });
    expect(resourcePolicyStatements(s).map((x) => x.statement)).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': ref(alerts) } } }),
    );
    const [, key] = dataKey(s);
    const sns = (key.Properties.KeyPolicy.Statement as Statement[]).find((st) => st.Sid === 'AllowAlertsTopicToEncryptCanaryReceipts')!;
    expect(JSON.stringify(sns.Condition)).toContain(':buildwatch-alerts');
  });

  it('gives the heartbeat least privilege: its markers only, the ledger get/put, the dead-letter depth, the receipts queue, the alerts topic', () => {
    const s = real();
    const statements = statementsOfRole(s, roleOf(s, isHeartbeatFunction));
    const state = logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-state');
    const findings = logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-findings');
    const deadLetter = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-dead-letter');
    const receipts = logicalIdOf(s, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === 'buildwatch-canary-receipts');
    const alerts = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: ['dynamodb:Query', 'dynamodb:UpdateItem'], Resource: getAtt(state), Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [LIVENESS_PARTITION] } } }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: getAtt(findings) }));
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sqs:GetQueueAttributes', Resource: getAtt(deadLetter) }));
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['sqs:DeleteMessage', 'sqs:ReceiveMessage', 'sqs:TagQueue'], Resource: getAtt(receipts) }));
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: ref(alerts) }));
    const onState = statements.filter((st) => JSON.stringify(st.Resource).includes(state));
    expect(onState).toHaveLength(1);
  });

  it('follows the configuration: no heartbeat when monitor.heartbeat is off; no canary when monitor.canary is off; no receipts subscription when it only attests', () => {
    const noHeartbeat = synth({ config: { useCases: { 'monitor.heartbeat': { mode: 'off' } } }, useCases: registry });
    expect(resourcesOf(noHeartbeat, 'AWS::Lambda::Function').some(([, r]) => isHeartbeatFunction(r))).toBe(false);
    expect(rulesByName(noHeartbeat).has('buildwatch-heartbeat')).toBe(false);
    const noCanary = synth({ config: { useCases: { 'monitor.canary': { mode: 'off' } } }, useCases: registry });
    expect(resourcesOf(noCanary, 'AWS::Scheduler::Schedule')).toEqual([]);
    const attest = synth({ config: { useCases: { 'monitor.canary': { mode: 'attest' } } }, useCases: registry });
    expect(resourcesOf(attest, 'AWS::Scheduler::Schedule')).toHaveLength(1);
    expect(resourcesOf(attest, 'AWS::SNS::Subscription')).toEqual([]);
    expect(resourcesOf(base(), 'AWS::Lambda::Function').some(([, r]) => isHeartbeatFunction(r))).toBe(false);
  });

  it('alarms to the ops topic: heartbeat errors, throttles and missing runs, SNS delivery failures, failed direct alerts', () => {
    const s = real();
    const ops = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-ops');
    const alerts = logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-alerts');
    const heartbeat = logicalIdOf(s, 'AWS::Lambda::Function', isHeartbeatFunction);
    const alarms = new Map(resourcesOf(s, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties.AlarmName as string, a.Properties]));
    for (const alarm of alarms.values()) expect(alarm.AlarmActions).toEqual([ref(ops)]);
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarms.get(`buildwatch-heartbeat-${metric.toLowerCase()}`)).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: ref(heartbeat) }], Threshold: 0 });
    }
    expect(alarms.get('buildwatch-heartbeat-missing')).toMatchObject({
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: ref(heartbeat) }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      Period: 1800,
      EvaluationPeriods: 2,
      TreatMissingData: 'breaching',
    });
    expect(alarms.get('buildwatch-alerts-delivery-failed')).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Dimensions: [{ Name: 'TopicName', Value: getAtt(alerts, 'TopicName') }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
    const direct = alarms.get('buildwatch-tamper-direct-failed')!;
    const queries = direct.Metrics as Array<Record<string, any>>;
    expect(queries.filter((q) => q.MetricStat?.Metric?.MetricName === 'FailedInvocations')).toHaveLength(6);
    expect(queries.find((q) => q.Expression)!.Expression).toMatch(/^FILL\(m0, 0\)( \+ FILL\(m\d, 0\)){5}$/);
  });
});

/** `arn:<partition>:<service>:<region>:<account>:<resource>` as the template renders the stack's pseudo parameters. */
const regionalArn = (service: string, resource: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]],
});
const s3Arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${resource}`]] });
const indexArn = (findings: string, index: string) => ({ 'Fn::Join': ['', [getAtt(findings), `/index/${index}`]] });
const byDayIndexArn = (findings: string) => indexArn(findings, FINDINGS_TABLE.byDayIndex);
const tableId = (s: Synth, name: string) => logicalIdOf(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === name);
const sorted = (actions: readonly string[]) => [...actions].sort();
const isLookupAction = (action: string) => /^(codebuild|codeartifact|s3):/.test(action);
/** The ids acknowledged (Validations.acknowledge) on one construct, e.g. 'AwsSolutions::AwsSolutions-IAM5[Resource::…]'. */
const acknowledgedIds = (scope: IConstruct): string[] =>
  scope.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.keys(m.data as Record<string, string>));
const PACKAGE = 'package/acme/internal-releases/generic/acme/payments-service';

describe('ledger seal, auditor access and correlation sweep', () => {
  it('the seal key: ECC_NIST_P256 SIGN_VERIFY, retained, and no principal but the seal role may sign with it', () => {
    const s = real();
    const [sealKeyId, key] = sealKey(s);
    const sealRole = roleOf(s, isSealFunction);
    expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', PendingWindowInDays: 30 });
    expect(key.Properties.EnableKeyRotation).not.toBe(true); // asymmetric keys do not rotate (AwsSolutions-KMS5 acknowledged)
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
    const statements = key.Properties.KeyPolicy.Statement as Statement[];
    expect(statements.find((st) => st.Sid === 'OnlyTheSealFunctionSigns')).toEqual({
      Sid: 'OnlyTheSealFunctionSigns',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:Sign',
      Resource: '*',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': getAtt(sealRole) } },
    });
    // The key policy allows only the account (IAM decides); Sign itself is the seal role's identity grant.
    for (const st of statements.filter((x) => x.Effect === 'Allow')) expect(JSON.stringify(st.Principal)).toMatch(/:root"\]\]\}\}$/);
    s.template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/buildwatch-ledger-seal', TargetKeyId: getAtt(sealKeyId) });
    // The data key is a different, rotating, symmetric key.
    expect(dataKey(s)[0]).not.toBe(sealKeyId);
    expect(dataKey(s)[1].Properties.KeySpec).toBeUndefined();
  });

  it('the seals table: pk/sk strings, on-demand, PITR, deletion protection, retained, encrypted with the stack key', () => {
    const s = real();
    const [, seals] = only(s, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === 'buildwatch-seals');
    expect(seals.DeletionPolicy).toBe('Retain');
    expect(seals.UpdateReplacePolicy).toBe('Retain');
    expect(seals.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: SEALS_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: SEALS_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: SEALS_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: SEALS_TABLE.sortKey, AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(dataKey(s)[0]) },
    });
  });

  it('the seal function: Node 22 on arm64, five minutes, its tables and key in the environment, daily at 03:00 UTC', () => {
    const s = real();
    const [sealFn, fn] = only(s, 'AWS::Lambda::Function', isSealFunction);
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 300 });
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [LEDGER_ENV.findingsTable]: ref(tableId(s, 'buildwatch-findings')),
      [LEDGER_ENV.sealsTable]: ref(tableId(s, 'buildwatch-seals')),
      [LEDGER_ENV.sealKeyArn]: getAtt(sealKey(s)[0]),
    });
    const rule = rulesByName(s).get('buildwatch-seal-daily')!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'cron(0 3 * * ? *)', State: 'ENABLED' });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: getAtt(sealFn), RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 } })]);
  });

  it('the seal role: the by-day index query, the day\'s findings by BatchGetItem, seals get/query/put, the table key for DynamoDB, kms:Sign on the seal key, and nothing else', () => {
    const s = real();
    const [, fn] = only(s, 'AWS::Lambda::Function', isSealFunction);
    const statements = statementsOfRole(s, roleOf(s, isSealFunction));
    expect(statements).toHaveLength(6);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt((fn.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref) }),
        expect.objectContaining({ Sid: 'FindingsByDayQuery', Action: 'dynamodb:Query', Resource: byDayIndexArn(tableId(s, 'buildwatch-findings')) }),
        expect.objectContaining({ Sid: 'FindingsOfDayGet', Action: 'dynamodb:BatchGetItem', Resource: getAtt(tableId(s, 'buildwatch-findings')) }),
        expect.objectContaining({ Sid: 'SealsReadAndAdd', Action: sorted(SEALS_TABLE_ACTIONS), Resource: getAtt(tableId(s, 'buildwatch-seals')) }),
        expect.objectContaining({ Action: sorted(TABLE_KEY_ACTIONS), Resource: getAtt(dataKey(s)[0]) }),
        expect.objectContaining({ Action: 'kms:Sign', Resource: getAtt(sealKey(s)[0]) }),
      ]),
    );
    for (const st of statements) expect(st.Effect).toBe('Allow');
    // On the findings table itself only BatchGetItem (reads), nothing on the state table: it cannot change what it seals.
    const onTables = statements.filter((st) => asArray(st.Resource).some((r) => [getAtt(tableId(s, 'buildwatch-findings')), getAtt(tableId(s, 'buildwatch-state'))].some((t) => JSON.stringify(t) === JSON.stringify(r))));
    expect(onTables.flatMap((st) => asArray(st.Action))).toEqual(['dynamodb:BatchGetItem']);
    expect(onTables.flatMap((st) => asArray(st.Resource))).toEqual([getAtt(tableId(s, 'buildwatch-findings'))]);
    for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Scan', 'dynamodb:BatchWriteItem']) expect(statements.flatMap((st) => asArray(st.Action))).not.toContain(forbidden);
  });

  it('alarms on the seal function errors to the ops topic (alarm and recovery)', () => {
    const s = real();
    const ops = ref(logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-ops'));
    const [, alarm] = only(s, 'AWS::CloudWatch::Alarm', (r) => r.Properties.AlarmName === 'buildwatch-seal-errors');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(logicalIdOf(s, 'AWS::Lambda::Function', isSealFunction)) }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [ops],
      OKActions: [ops],
    });
  });

  it('the auditor role: this account, one-hour sessions, no managed policy, read-only statements on the ledger, the seals and the seal public key', () => {
    const s = real();
    const [auditorId, role] = only(s, 'AWS::IAM::Role', (r) => r.Properties.RoleName === 'buildwatch-auditor');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toMatch(/"AWS::AccountId"\},":root"/);
    const findings = tableId(s, 'buildwatch-findings');
    const statements = statementsOfRole(s, auditorId);
    expect(statements).toEqual([
      expect.objectContaining({ Sid: 'ReadLedgerAndSeals', Action: sorted(AUDITOR_TABLE_ACTIONS), Resource: expect.arrayContaining([getAtt(findings), getAtt(tableId(s, 'buildwatch-seals'))]) }),
      expect.objectContaining({ Sid: 'QueryFindingsByDay', Action: 'dynamodb:Query', Resource: byDayIndexArn(findings) }),
      expect.objectContaining({ Sid: 'ReadFindingsOfDay', Action: 'dynamodb:BatchGetItem', Resource: getAtt(findings) }),
      expect.objectContaining({
        Sid: 'DecryptTablesThroughDynamoDB',
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: getAtt(dataKey(s)[0]),
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      }),
      expect.objectContaining({ Sid: 'SealPublicKey', Action: sorted(AUDITOR_SEAL_KEY_ACTIONS), Resource: getAtt(sealKey(s)[0]) }),
    ]);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      expect(asArray(st.Resource)).not.toContain('*');
      for (const action of asArray(st.Action)) expect(action, action).toMatch(/^(dynamodb:(Describe|Get|BatchGetItem$|Query)|kms:(Decrypt|DescribeKey|GetPublicKey|Verify)$)/);
    }
  });

  it('outputs the seals table, the seal key ARN and the auditor role ARN', () => {
    const s = real();
    expect(s.json.Outputs).toMatchObject({
      SealsTableName: { Value: ref(tableId(s, 'buildwatch-seals')) },
      SealKeyArn: { Value: getAtt(sealKey(s)[0]) },
      AuditorRoleArn: { Value: getAtt(logicalIdOf(s, 'AWS::IAM::Role', (r) => r.Properties.RoleName === 'buildwatch-auditor')) },
    });
  });

  it('the correlation sweep: every five minutes, its tables in the environment, an errors alarm to ops', () => {
    const s = real();
    const [sweepFn, fn] = only(s, 'AWS::Lambda::Function', isSweepFunction);
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 300 });
    expect(fn.Properties.Environment.Variables).toMatchObject({ [ENV.stateTable]: ref(tableId(s, 'buildwatch-state')), [ENV.findingsTable]: ref(tableId(s, 'buildwatch-findings')) });
    const rule = rulesByName(s).get('buildwatch-correlation-sweep')!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: getAtt(sweepFn), RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 600 } })]);
    const [, alarm] = only(s, 'AWS::CloudWatch::Alarm', (r) => r.Properties.AlarmName === 'buildwatch-correlation-sweep-errors');
    expect(alarm.Properties).toMatchObject({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(sweepFn) }],
      AlarmActions: [ref(logicalIdOf(s, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'buildwatch-ops'))],
    });
  });

  it("the sweep role: the detector's table actions but batch writes, CodeArtifact look-ups on the configured package's ARN and BatchGetProjects on the watched projects only", () => {
    const s = real();
    const statements = statementsOfRole(s, roleOf(s, isSweepFunction));
    expect(statements).toHaveLength(6); // with its log group's statement
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'StateTableItems', Action: sorted(SWEEP_STATE_TABLE_ACTIONS), Resource: getAtt(tableId(s, 'buildwatch-state')) }),
        expect.objectContaining({ Sid: 'FindingsTablePutGet', Action: sorted(FINDINGS_TABLE_ACTIONS), Resource: getAtt(tableId(s, 'buildwatch-findings')) }),
        expect.objectContaining({ Action: sorted(TABLE_KEY_ACTIONS), Resource: getAtt(dataKey(s)[0]) }),
        expect.objectContaining({ Sid: 'PackageVersionLookups', Action: sorted(SWEEP_CODEARTIFACT_ACTIONS), Resource: regionalArn('codeartifact', PACKAGE) }),
        expect.objectContaining({
          Sid: 'BuildProjectLookups',
          Action: 'codebuild:BatchGetProjects',
          Resource: [regionalArn('codebuild', 'project/payments-integration-tests'), regionalArn('codebuild', 'project/payments-service-build'), regionalArn('codebuild', 'project/web-frontend-build')],
        }),
      ]),
    );
  });

  it("the detect role's look-ups follow the configuration: the watched projects, the configured package, the SBOM prefix and its bucket", () => {
    const s = real();
    const lookups = statementsOfRole(s, roleOf(s, isDetectFunction)).filter((st) => asArray(st.Action).some(isLookupAction));
    expect(lookups).toEqual([
      {
        Sid: 'BuildProjectLookups',
        Effect: 'Allow',
        Action: 'codebuild:BatchGetProjects',
        Resource: [regionalArn('codebuild', 'project/payments-integration-tests'), regionalArn('codebuild', 'project/payments-service-build'), regionalArn('codebuild', 'project/web-frontend-build')],
      },
      { Sid: 'PackageVersionLookups', Effect: 'Allow', Action: sorted(SWEEP_CODEARTIFACT_ACTIONS), Resource: regionalArn('codeartifact', PACKAGE) },
      { Sid: 'SbomObjects', Effect: 'Allow', Action: 's3:GetObject', Resource: s3Arn('acme-artifacts/sbom/*') },
      { Sid: 'SbomBuckets', Effect: 'Allow', Action: 's3:ListBucket', Resource: s3Arn('acme-artifacts') },
    ]);
  });

  it('with nothing configured: BatchGetProjects on every project of the account and region, no CodeArtifact or S3 look-up', () => {
    const s = base();
    const lookups = [isDetectFunction, isSweepFunction].flatMap((isFunction) => statementsOfRole(s, roleOf(s, isFunction))).filter((st) => asArray(st.Action).some(isLookupAction));
    const everyProject = { Sid: 'BuildProjectLookups', Effect: 'Allow', Action: 'codebuild:BatchGetProjects', Resource: regionalArn('codebuild', 'project/*') };
    // The detector's, and the sweep's for native builds judged at the end of their wait.
    expect(lookups).toEqual([everyProject, everyProject]);
  });

  it("build.host-access's EC2 look-ups: DescribeInstances (and DescribeLaunchTemplateVersions for templates named by name) on *, held to the stack's region, and only when a host group selects beyond instance ids", () => {
    const hostGroups = (groups: unknown[]) => ({ useCases: { 'build.host-access': { options: { hostGroups: groups } } } });
    const ec2Statements = (s: Synth) =>
      [isDetectFunction, isSweepFunction].flatMap((isFunction) => statementsOfRole(s, roleOf(s, isFunction))).filter((st) => asArray(st.Action).some((action) => action.startsWith('ec2:')));
    const region = { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } };

    const byAsgAndName = synth({ config: hostGroups([{ name: 'gitlab-runners', autoScalingGroups: ['gitlab-runner-asg'] }, { name: 'teamcity-agents', launchTemplates: ['teamcity-agents'] }]) });
    expect(ec2Statements(byAsgAndName)).toEqual([
      { Sid: 'HostInstanceLookups', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeLaunchTemplateVersions'], Resource: '*', Condition: region },
    ]);
    const detectPolicy = byAsgAndName.stack.detector.handler.role.node.findChild('DefaultPolicy');
    const reasons = detectPolicy.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .filter(([id]) => id.endsWith('AwsSolutions-IAM5[Resource::*]'))
      .map(([, reason]) => reason);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain("ec2:DescribeInstances and ec2:DescribeLaunchTemplateVersions (read-only, build.host-access ties an instance to its host group): EC2 Describe* actions cannot be scoped to resources, so they are held to the stack's region");

    const byTemplateId = synth({ config: hostGroups([{ name: 'runners', tags: [{ key: 'Role', values: ['runner'] }], launchTemplates: ['lt-0a1b2c3d4e5f60718'] }]) });
    expect(ec2Statements(byTemplateId)).toEqual([{ Sid: 'HostInstanceLookups', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*', Condition: region }]);
    // Listed instance ids need no look-up; nor does a host-access switched off; nor the default configuration.
    expect(ec2Statements(synth({ config: hostGroups([{ name: 'runners', instanceIds: ['i-0a1b2c3d4e5f60718'] }]) }))).toEqual([]);
    expect(ec2Statements(synth({ config: { useCases: { 'build.host-access': { mode: 'off', options: { hostGroups: [{ name: 'runners', autoScalingGroups: ['asg'] }] } } } } }))).toEqual([]);
    expect(ec2Statements(base())).toEqual([]);
  });

  it('acknowledges the look-ups\' wildcards narrowly: project/* only when no project is configured, the SBOM prefix only when one is', () => {
    const detectPolicy = (s: Synth) => s.stack.detector.handler.role.node.findChild('DefaultPolicy');
    const projectWildcard = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/*]';
    const sbomPrefix = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::acme-artifacts/sbom/*]';
    const unconfigured = acknowledgedIds(detectPolicy(base()));
    // DescribeTrails (no resource-level permissions) is the one Resource "*".
    const trails = 'AwsSolutions-IAM5[Resource::*]';
    expect(unconfigured.filter((id) => id.includes('[Resource::'))).toEqual([expect.stringContaining(trails), expect.stringContaining(projectWildcard)]);
    const configured = acknowledgedIds(detectPolicy(real()));
    expect(configured.filter((id) => id.includes('[Resource::'))).toEqual([expect.stringContaining(trails), expect.stringContaining(sbomPrefix)]);
    // The configured packages are exact ARNs: nothing to acknowledge, for the detector or the sweep.
    const sweepPolicy = real().stack.correlationSweep.handler.role.node.findChild('DefaultPolicy');
    expect(acknowledgedIds(sweepPolicy).filter((id) => id.includes('[Resource::'))).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  const violationsOf = (app: App) => new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app).violations;

  it('has no unacknowledged error or warning, and no CDK warning or error annotation (test use cases)', () => {
    const s = synth({ nag: true }); // the plugin fails this synthesis on any violation
    expect(violationsOf(s.app).map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    const annotations = Annotations.fromStack(s.stack);
    // The one expected warning: this configuration routes alerts to nobody (test/stack/routing.test.ts).
    const warnings = annotations.findWarning('*', Match.anyValue()).filter((w) => !String(w.entry.data).includes('no `routing` endpoint'));
    expect(warnings).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });

  it('has no unacknowledged finding with the real registry and configuration', () => {
    const s = synth({ nag: true, config: loadConfig(resolve(PROJECT_ROOT, 'buildwatch.config.json')), useCases: registry });
    expect(violationsOf(s.app)).toEqual([]);
  });

  it('fails the synthesis on an unacknowledged finding', () => {
    const addUnencryptedQueue = (stack: BuildwatchStack) => {
      new sqs.Queue(stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    };
    expect(() => synth({ nag: true, tweak: addUnencryptedQueue })).toThrow(/AwsSolutions-SQS4/);
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
