/**
 * The auditor's read-only role: query and read the findings ledger (table and by-day index) and the
 * seals, confirm point-in-time recovery is on, decrypt through DynamoDB only, and read the seal
 * key's public key. Nothing else: no write, no delete, no scan of other tables, no export (a
 * point-in-time export writes to S3, which an operator runs; see the README's auditor section).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { findingsDayIndexes } from './tables.js';

/** Table-level reads the auditor needs on both tables (verify: GetItem, Query; evidence: PITR status); the findings' day reads are granted apart. */
export const AUDITOR_TABLE_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups', 'dynamodb:GetItem', 'dynamodb:Query'] as const;
export const AUDITOR_SEAL_KEY_ACTIONS = ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Verify'] as const;

export interface AuditorAccessProps {
  readonly resourcePrefix: string;
  readonly findingsTable: dynamodb.ITable;
  /** The findings table keeps its legacy byDay index (config `ledger.keepLegacyDayIndex`): it may be queried too. @default false */
  readonly keepLegacyDayIndex?: boolean;
  readonly sealsTable: dynamodb.ITable;
  /** The key the tables are encrypted with: decrypt only through DynamoDB (kms:ViaService). */
  readonly tableKey: kms.IKey;
  readonly sealKey: kms.IKey;
  /** Who may assume the role; default: principals of this account whose own IAM policy allows sts:AssumeRole on it. */
  readonly assumedBy?: iam.IPrincipal;
}

export class AuditorAccess extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AuditorAccessProps) {
    super(scope, id);
    const { region } = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      roleName: `${props.resourcePrefix}auditor`,
      description: 'Buildwatch auditor: read-only access to the findings ledger, its seals and the seal public key',
      assumedBy: props.assumedBy ?? new iam.AccountRootPrincipal(),
      maxSessionDuration: Duration.hours(1),
    });

    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLedgerAndSeals',
        actions: [...AUDITOR_TABLE_ACTIONS],
        resources: [props.findingsTable.tableArn, props.sealsTable.tableArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueryFindingsByDay',
        actions: ['dynamodb:Query'],
        resources: findingsDayIndexes(props.keepLegacyDayIndex ?? false).map((index) => `${props.findingsTable.tableArn}/index/${index}`),
      }),
    );
    // The by-day index holds keys only: export and verify read the day's items from the table.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadFindingsOfDay',
        actions: ['dynamodb:BatchGetItem'],
        resources: [props.findingsTable.tableArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptTablesThroughDynamoDB',
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [props.tableKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SealPublicKey',
        actions: [...AUDITOR_SEAL_KEY_ACTIONS],
        resources: [props.sealKey.keyArn],
      }),
    );
  }
}
