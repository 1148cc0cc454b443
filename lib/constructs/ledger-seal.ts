/**
 * The ledger's daily seal (ARCHITECTURE.md, findings table as evidence): an asymmetric KMS key that
 * only the seal Lambda may sign with, a retained seals table, and the seal Lambda on a daily
 * schedule. The Lambda reads the findings table's by-day index and the items it names (BatchGetItem)
 * and writes seals only; it cannot change a finding, and nothing else can sign a seal without first
 * changing the key policy (itself a CloudTrail management event).
 */
import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import { LEDGER_ENV, SEALS_TABLE } from '../../lambdas/ledger/seal-store.js';
import { TABLE_KEY_ACTIONS } from './detector.js';
import { HandlerFunction, PROJECT_ROOT } from './handler-function.js';
import { findingsDayIndexes } from './tables.js';

export const SEAL_TIMEOUT = Duration.minutes(5);
/** 03:00 UTC: the day before yesterday has settled (lambdas/ledger/seal.ts SETTLE_HOURS = 26). */
export const SEAL_SCHEDULE = events.Schedule.cron({ minute: '0', hour: '3' });

/** What the seal Lambda does with the seals table: read seals, add seals (conditional put). No update, no delete. */
export const SEALS_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'] as const;

export function sealEntry(): string {
  return resolve(PROJECT_ROOT, 'lambdas', 'handlers', 'seal.ts');
}

export interface LedgerSealProps {
  readonly config: BuildwatchConfig;
  /** The stack's key: encrypts the seals table and the function's logs (and the findings table it reads). */
  readonly key: kms.IKey;
  readonly findingsTable: dynamodb.ITable;
  /** Lambda entry; default lambdas/handlers/seal.ts. */
  readonly entry?: string;
  readonly schedule?: events.Schedule;
  /** When given, an alarm on the seal function's errors publishes here (the ops topic). */
  readonly alarmTopic?: sns.ITopic;
}

export class LedgerSeal extends Construct {
  /** ECC_NIST_P256 SIGN_VERIFY: seals are verified with its public key (kms:GetPublicKey). */
  readonly sealKey: kms.Key;
  readonly sealsTable: dynamodb.Table;
  readonly handler: HandlerFunction;
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;
  errorsAlarm?: cloudwatch.Alarm;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: LedgerSealProps) {
    super(scope, id);
    const prefix = props.config.monitor.resourcePrefix;
    this.prefix = prefix;

    this.sealKey = new kms.Key(this, 'SealKey', {
      description: 'Buildwatch: signs the daily seals of the findings ledger (ECDSA P-256)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      alias: `alias/${prefix}ledger-seal`,
      // Seals stay verifiable only while the public key can be read: keep the key when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    this.sealsTable = new dynamodb.Table(this, 'Seals', {
      tableName: `${prefix}seals`,
      partitionKey: { name: SEALS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SEALS_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? sealEntry(),
      config: props.config,
      functionName: `${prefix}seal`,
      description: 'Buildwatch: seals each settled day of the findings ledger (Merkle root signed with KMS)',
      memorySize: 512,
      timeout: SEAL_TIMEOUT,
      key: props.key,
      environment: {
        [LEDGER_ENV.findingsTable]: props.findingsTable.tableName,
        [LEDGER_ENV.sealsTable]: this.sealsTable.tableName,
        [LEDGER_ENV.sealKeyArn]: this.sealKey.keyArn,
        POWERTOOLS_SERVICE_NAME: `${prefix}seal`,
      },
    });
    this.function = this.handler.function;
    const role = this.handler.role;

    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindingsByDayQuery',
        actions: ['dynamodb:Query'],
        resources: findingsDayIndexes(props.config.ledger.keepLegacyDayIndex).map((index) => `${props.findingsTable.tableArn}/index/${index}`),
      }),
    );
    // The by-day index holds keys only: the day's items are read from the table (consistently).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindingsOfDayGet',
        actions: ['dynamodb:BatchGetItem'],
        resources: [props.findingsTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SealsReadAndAdd',
        actions: [...SEALS_TABLE_ACTIONS],
        resources: [this.sealsTable.tableArn],
      }),
    );
    props.key.grant(role, ...TABLE_KEY_ACTIONS);
    this.sealKey.grant(role, 'kms:Sign');
    // Only the seal function may sign: anyone else (an administrator included) must first change the
    // key policy, which CloudTrail records, before a forged seal could be made with this key.
    this.sealKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheSealFunctionSigns',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );

    this.schedule = new events.Rule(this, 'Daily', {
      ruleName: `${prefix}seal-daily`,
      description: 'Buildwatch: seal the findings ledger once a day',
      schedule: props.schedule ?? SEAL_SCHEDULE,
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.hours(6) })],
    });

    if (props.alarmTopic) this.addErrorsAlarm(props.alarmTopic);

    this.acknowledgeNagFindings();
  }

  /** An alarm on the seal function's errors, to the ops topic (here or later, when the topic exists). */
  addErrorsAlarm(topic: sns.ITopic): cloudwatch.Alarm {
    if (this.errorsAlarm) throw new Error('the seal errors alarm exists already');
    this.errorsAlarm = new cloudwatch.Alarm(this, 'Errors', {
      alarmName: `${this.prefix}seal-errors`,
      alarmDescription: 'The ledger seal function failed: days stay unsealed until it succeeds (it catches up on the next run).',
      metric: this.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm.addAlarmAction(new actions.SnsAction(topic));
    this.errorsAlarm.addOkAction(new actions.SnsAction(topic));
    return this.errorsAlarm;
  }

  private acknowledgeNagFindings(): void {
    const ack = (scope: Construct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });
    ack(this.sealKey, 'AwsSolutions-KMS5', 'Asymmetric KMS keys cannot rotate automatically (AWS KMS supports rotation for symmetric encryption keys only); old seals must stay verifiable with this public key.');
    ack(this.handler.function, 'AwsSolutions-L1', 'Node.js 22 is the runtime the handlers are built and tested for (bundle target node22); moving to a newer runtime is a deliberate upgrade.');
    const policy = this.handler.role.node.findChild('DefaultPolicy');
    ack(policy, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', "DynamoDB customer-managed-key usage (as CDK's table grants) for the Buildwatch table key only; resource is the key ARN.");
    ack(policy, 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', "DynamoDB customer-managed-key usage (as CDK's table grants) for the Buildwatch table key only; resource is the key ARN.");
  }
}
