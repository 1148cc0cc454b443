/**
 * The correlation sweep: a scheduled Lambda that gives pending correlations (artifact.hash-mismatch,
 * and build.build-override's native builds waiting for a late project change) their final judgement
 * once their deadline has passed on the wall clock. It reads and writes the state table like the
 * detector, writes findings (conditional put), and may repeat the look-ups those judgements make:
 * a package version's assets (CodeArtifact ListPackageVersionAssets, DescribePackageVersion on the
 * configured packages only) and a watched build project (CodeBuild BatchGetProjects).
 */
import { resolve } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import { ENV } from '../../lambdas/store/schema.js';
import { FINDINGS_TABLE_ACTIONS, PACKAGE_LOOKUP_ACTIONS, SWEEP_STATE_TABLE_ACTIONS, TABLE_KEY_ACTIONS, arnParts, buildProjectArns, nagArnParts, packageArns } from './detector.js';
import { HandlerFunction, PROJECT_ROOT } from './handler-function.js';

export const SWEEP_TIMEOUT = Duration.minutes(5);
/** Deadlines are in minutes (default 60): a five-minute sweep alerts at most five minutes late. */
export const SWEEP_SCHEDULE = events.Schedule.rate(Duration.minutes(5));
/** The look-ups a deferred judgement may repeat. */
export const SWEEP_CODEARTIFACT_ACTIONS = PACKAGE_LOOKUP_ACTIONS;

export function correlationSweepEntry(): string {
  return resolve(PROJECT_ROOT, 'lambdas', 'handlers', 'correlation-sweep.ts');
}

export interface CorrelationSweepProps {
  readonly config: BuildwatchConfig;
  /** The stack's key: the tables' encryption and the function's logs. */
  readonly key: kms.IKey;
  readonly stateTable: dynamodb.ITable;
  readonly findingsTable: dynamodb.ITable;
  /** Lambda entry; default lambdas/handlers/correlation-sweep.ts. */
  readonly entry?: string;
  readonly schedule?: events.Schedule;
  /** When given, an alarm on the sweep's errors publishes here (the ops topic). */
  readonly alarmTopic?: sns.ITopic;
  /** A fixed role name (organisation deployments: member look-up roles name it in their trust). */
  readonly roleName?: string;
}

export class CorrelationSweep extends Construct {
  readonly handler: HandlerFunction;
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;
  readonly errorsAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CorrelationSweepProps) {
    super(scope, id);
    const prefix = props.config.monitor.resourcePrefix;

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? correlationSweepEntry(),
      config: props.config,
      functionName: `${prefix}correlation-sweep`,
      description: 'Buildwatch: final judgement of pending correlations whose deadline has passed',
      memorySize: 256,
      timeout: SWEEP_TIMEOUT,
      key: props.key,
      ...(props.roleName ? { roleName: props.roleName } : {}),
      environment: {
        [ENV.stateTable]: props.stateTable.tableName,
        [ENV.findingsTable]: props.findingsTable.tableName,
        POWERTOOLS_SERVICE_NAME: `${prefix}correlation-sweep`,
      },
    });
    this.function = this.handler.function;
    const role = this.handler.role;

    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'StateTableItems', actions: [...SWEEP_STATE_TABLE_ACTIONS], resources: [props.stateTable.tableArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindingsTablePutGet', actions: [...FINDINGS_TABLE_ACTIONS], resources: [props.findingsTable.tableArn] }));
    props.key.grant(role, ...TABLE_KEY_ACTIONS);

    // The configured packages only: the sweep judges nothing else (exact ARNs, no wildcard).
    const packages = packageArns(props.config, arnParts(Stack.of(this)));
    if (packages.length > 0) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PackageVersionLookups', actions: [...SWEEP_CODEARTIFACT_ACTIONS], resources: packages }));
    }
    // A native build judged at the end of its wait may fill gaps in its project's state (the watched projects only).
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'BuildProjectLookups', actions: ['codebuild:BatchGetProjects'], resources: buildProjectArns(props.config, arnParts(Stack.of(this))) }));

    this.schedule = new events.Rule(this, 'Schedule', {
      ruleName: `${prefix}correlation-sweep`,
      description: 'Buildwatch: settle pending correlations whose deadline has passed',
      schedule: props.schedule ?? SWEEP_SCHEDULE,
      // A missed run is caught up by the next one: no long retries.
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 1, maxEventAge: Duration.minutes(10) })],
    });

    if (props.alarmTopic) {
      this.errorsAlarm = new cloudwatch.Alarm(this, 'Errors', {
        alarmName: `${prefix}correlation-sweep-errors`,
        alarmDescription: 'The correlation sweep failed: package versions whose build never arrived are not being reported.',
        metric: this.function.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.errorsAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    }

    this.acknowledgeNagFindings(props.config);
  }

  private acknowledgeNagFindings(config: BuildwatchConfig): void {
    const ack = (scope: Construct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });
    ack(this.handler.function, 'AwsSolutions-L1', 'Node.js 22 is the runtime the handlers are built and tested for (bundle target node22); moving to a newer runtime is a deliberate upgrade.');
    const policy = this.handler.role.node.findChild('DefaultPolicy');
    ack(policy, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', "DynamoDB customer-managed-key usage (as CDK's table grants) for the Buildwatch key only; resource is the key ARN.");
    ack(policy, 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', "DynamoDB customer-managed-key usage (as CDK's table grants) for the Buildwatch key only; resource is the key ARN.");
    for (const arn of buildProjectArns(config, nagArnParts(Stack.of(this))).filter((a) => a.endsWith('/*'))) {
      ack(policy, `AwsSolutions-IAM5[Resource::${arn}]`, 'No build project is configured, so every CodeBuild project of this account and region is watched; codebuild:BatchGetProjects only (read-only), for native builds judged at the end of their wait.');
    }
  }
}
