/**
 * The two DynamoDB tables (ARCHITECTURE.md, data model). Key names come from lambdas/store/schema.ts,
 * the same constants the stores and the embedded (dynalite) bootstrap use, so the layouts cannot drift.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FINDINGS_TABLE, STATE_TABLE } from '../../lambdas/store/schema.js';

export interface TablesProps {
  /** Customer-managed key for both tables (and their streams). */
  readonly key: kms.IKey;
  /** Physical-name prefix (config `monitor.resourcePrefix`), so tamper rules can recognise the monitor's own tables. */
  readonly resourcePrefix: string;
  /**
   * Keep the legacy `byDay` index (ALL) next to `byDayKeys` (config `ledger.keepLegacyDayIndex`): the
   * first of the two deploys that upgrade a stack made before byDayKeys.
   * @default false
   */
  readonly keepLegacyDayIndex?: boolean;
}

/** The findings table's by-day indexes the readers may query: byDayKeys, and the legacy byDay while it is kept. */
export function findingsDayIndexes(keepLegacyDayIndex: boolean): string[] {
  return keepLegacyDayIndex ? [FINDINGS_TABLE.byDayIndex, FINDINGS_TABLE.legacyByDayIndex] : [FINDINGS_TABLE.byDayIndex];
}

export class Tables extends Construct {
  /** Baselines, scope metadata, drift snapshots, build records. TTL on `expiresAt`. */
  readonly state: dynamodb.Table;
  /** The findings ledger: PITR, deletion protection, retained, stream of new images for the notifier. */
  readonly findings: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);

    this.state = new dynamodb.Table(this, 'State', {
      tableName: `${props.resourcePrefix}state`,
      partitionKey: { name: STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Baselines are costly to relearn (every scope restarts its learning period): keep them.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.findings = new dynamodb.Table(this, 'Findings', {
      tableName: `${props.resourcePrefix}findings`,
      partitionKey: { name: FINDINGS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    // Keys only: a ledger write costs one small index write, not a second copy of the item. Its rare
    // readers (seal, verify, export) read the items themselves (lambdas/store/day-index.ts).
    this.findings.addGlobalSecondaryIndex({
      indexName: FINDINGS_TABLE.byDayIndex,
      partitionKey: { name: FINDINGS_TABLE.byDayPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: FINDINGS_TABLE.byDaySortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // CloudFormation cannot change an index's projection, nor create one index and delete another in
    // one update: an upgrade keeps the old index for one deploy while byDayKeys is created.
    if (props.keepLegacyDayIndex) {
      this.findings.addGlobalSecondaryIndex({
        indexName: FINDINGS_TABLE.legacyByDayIndex,
        partitionKey: { name: FINDINGS_TABLE.byDayPartitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: FINDINGS_TABLE.byDaySortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
