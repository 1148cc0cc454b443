/**
 * The detect Lambda: consumes the detect queue in batches (partial-batch failures reported), runs the
 * engine, reads/writes the state table, writes findings (conditional put) and forwards poison
 * messages to the dead-letter queue itself with a reason.
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import { ENV } from '../../lambdas/store/schema.js';
import { normaliseNamespace } from '../../lambdas/use-cases/artifact/codeartifact.js';
import { optionsSchema as hostAccessOptionsSchema } from '../../lambdas/use-cases/build/host-access/use-case.js';
import { selectsBeyondIds } from '../../lambdas/use-cases/build/hosts.js';
import { sbomBucketArns, sbomObjectArns } from '../../lambdas/use-cases/dependencies/sbom-locations.js';
import { HandlerFunction } from './handler-function.js';

export const DETECT_TIMEOUT = Duration.seconds(60);
export const DETECT_BATCH_SIZE = 10;
export const DETECT_BATCHING_WINDOW = Duration.seconds(5);
/** AWS: queue visibility timeout ≥ 6 × function timeout (+ batching window) for SQS event sources. */
export const DETECT_QUEUE_VISIBILITY = Duration.seconds(6 * DETECT_TIMEOUT.toSeconds() + DETECT_BATCHING_WINDOW.toSeconds());

/**
 * What the state store calls (lambdas/store/state-store.ts: Get, Query, Put, Update, all conditional
 * where it matters, and BatchWriteItem for the unconditional puts of a correlate record's items); no
 * Scan, no DeleteItem (TTL expires items), no table-level actions. BatchWriteItem could also delete,
 * which gives nothing an unconditional PutItem on the same table does not: the state table only.
 */
export const STATE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'] as const;

/** The correlation sweep's: it judges and settles pending checks, and never writes a record (no batch writes). */
export const SWEEP_STATE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** The findings ledger is append-only for the detector: a conditional put, and a get to read back a duplicate. */
export const FINDINGS_TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem'] as const;

/** What DynamoDB needs from the caller for a table encrypted with a customer-managed key (as CDK's table grants). */
export const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] as const;

export interface DetectorProps {
  readonly config: BuildwatchConfig;
  readonly entry: string;
  readonly key: kms.IKey;
  readonly stateTable: dynamodb.ITable;
  readonly findingsTable: dynamodb.ITable;
  readonly detectQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** More environment: the monitor's own resources for the tamper use cases (BUILDWATCH_MONITOR_RESOURCES). */
  readonly environment?: Record<string, string>;
  /** A fixed execution role name (organisations: member look-up roles trust it by name). */
  readonly roleName?: string;
}

export class Detector extends Construct {
  readonly function: lambda.IFunction;
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: DetectorProps) {
    super(scope, id);
    const prefix = props.config.monitor.resourcePrefix;

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry,
      config: props.config,
      functionName: `${prefix}detect`,
      description: 'Buildwatch: evaluates pipeline events against the use cases and records findings',
      memorySize: 512,
      timeout: DETECT_TIMEOUT,
      key: props.key,
      ...(props.roleName ? { roleName: props.roleName } : {}),
      environment: {
        [ENV.stateTable]: props.stateTable.tableName,
        [ENV.findingsTable]: props.findingsTable.tableName,
        [ENV.deadLetterQueueUrl]: props.deadLetterQueue.queueUrl,
        POWERTOOLS_SERVICE_NAME: `${prefix}detect`,
        ...props.environment,
      },
    });
    this.function = this.handler.function;
    const role = this.handler.role;

    this.handler.function.addEventSource(
      new SqsEventSource(props.detectQueue, {
        batchSize: DETECT_BATCH_SIZE,
        maxBatchingWindow: DETECT_BATCHING_WINDOW,
        reportBatchItemFailures: true,
      }),
    );

    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StateTableItems',
        actions: [...STATE_TABLE_ACTIONS],
        resources: [props.stateTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindingsTablePutGet',
        actions: [...FINDINGS_TABLE_ACTIONS],
        resources: [props.findingsTable.tableArn],
      }),
    );
    props.key.grant(role, ...TABLE_KEY_ACTIONS);
    props.deadLetterQueue.grantSendMessages(role);
    for (const statement of lookupStatements(props.config, Stack.of(this))) role.addToPrincipalPolicy(statement);
    // monitor.trail-archive-tamper learns which buckets and keys are the trails'. DescribeTrails has no
    // resource-level permissions (it lists the region's trails), hence "*"; read-only, detector only.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'TrailLookups', actions: ['cloudtrail:DescribeTrails'], resources: ['*'] }));
  }
}

/** What an ARN is built from: the stack's (possibly unresolved) pseudo parameters, or how cdk-nag renders them. */
export interface ArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The stack's partition, region and account (tokens unless the stack has an explicit environment). */
export function arnParts(stack: Stack): ArnParts {
  return { partition: stack.partition, region: stack.region, account: stack.account };
}

/**
 * The same parts as cdk-nag names them in a finding (`AwsSolutions-IAM5[Resource::…]`): an
 * unresolved pseudo parameter is shown as `<AWS::Name>`, a literal as itself.
 */
export function nagArnParts(stack: Stack): ArnParts {
  const shown = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return { partition: shown(stack.partition, 'Partition'), region: shown(stack.region, 'Region'), account: shown(stack.account, 'AccountId') };
}

/** The watched build projects' ARNs; with no project listed every project is watched: `project/*`. */
export function buildProjectArns(config: BuildwatchConfig, { partition, region, account }: ArnParts): string[] {
  const projects = config.pipeline.buildProjects.map((project) => project.name);
  return (projects.length > 0 ? projects : ['*']).map((name) => `arn:${partition}:codebuild:${region}:${account}:project/${name}`);
}

/**
 * The configured packages' ARNs (`package/<domain>/<repository>/<format>/<namespace>/<name>`, an empty
 * namespace segment when there is none): the only packages whose versions are ever looked up
 * (lambdas/use-cases/artifact/codeartifact.ts `configuredPackage` comes first). A repository that
 * lists no package is never looked up, so it contributes no ARN. Formats are lowercase in ARNs, npm
 * scopes have no `@`.
 */
export function packageArns(config: BuildwatchConfig, { partition, region, account }: ArnParts): string[] {
  const arns = config.pipeline.artifacts.flatMap((entry) =>
    entry.packages.map(
      (pkg) => `arn:${partition}:codeartifact:${region}:${account}:package/${entry.domain}/${entry.repository}/${pkg.format.toLowerCase()}/${normaliseNamespace(pkg.namespace)}/${pkg.name}`,
    ),
  );
  return [...new Set(arns)].sort();
}

/** The CodeArtifact look-ups of the artifact use cases (asset hashes, origin), for the detector and the correlation sweep. */
export const PACKAGE_LOOKUP_ACTIONS = ['codeartifact:ListPackageVersionAssets', 'codeartifact:DescribePackageVersion'] as const;

/**
 * What the use cases' AWS look-ups read, scoped by the configuration: the watched build projects
 * (BatchGetProjects), the configured packages (asset hashes, origin), and the SBOM locations
 * (GetObject, plus ListBucket so a missing SBOM is NoSuchKey rather than AccessDenied).
 */
export function lookupStatements(config: BuildwatchConfig, stack: Stack): iam.PolicyStatement[] {
  const parts = arnParts(stack);
  const statements: iam.PolicyStatement[] = [];
  statements.push(new iam.PolicyStatement({ sid: 'BuildProjectLookups', actions: ['codebuild:BatchGetProjects'], resources: buildProjectArns(config, parts) }));
  const packages = packageArns(config, parts);
  if (packages.length > 0) {
    statements.push(new iam.PolicyStatement({ sid: 'PackageVersionLookups', actions: [...PACKAGE_LOOKUP_ACTIONS], resources: packages }));
  }
  statements.push(...hostLookupStatements(config, parts));
  const objects = sbomObjectArns(config, parts.partition);
  if (objects.length > 0) {
    statements.push(new iam.PolicyStatement({ sid: 'SbomObjects', actions: ['s3:GetObject'], resources: objects }));
    statements.push(new iam.PolicyStatement({ sid: 'SbomBuckets', actions: ['s3:ListBucket'], resources: sbomBucketArns(config, parts.partition) }));
  }
  return statements;
}

const HOST_ACCESS_ID = 'build.host-access';

/**
 * What build.host-access asks EC2 to tie an unlisted instance to its host group: DescribeInstances
 * when a group selects by tag, Auto Scaling group or launch template, and DescribeLaunchTemplateVersions
 * when a group names a launch template by name (the instance is tagged with the id). EC2 Describe*
 * actions have no resource-level permissions ("*"), so they are held to the stack's region.
 */
export function hostLookupStatements(config: BuildwatchConfig, { region }: { readonly region: string | readonly string[] }): iam.PolicyStatement[] {
  // Invalid options are the engine's to report (and the app refuses them at synth); here they mean no look-up.
  const parsed = hostAccessOptionsSchema.safeParse(config.useCases[HOST_ACCESS_ID]?.options ?? {});
  const groups = parsed.success ? parsed.data.hostGroups : [];
  if (config.useCases[HOST_ACCESS_ID]?.mode === 'off' || !selectsBeyondIds(groups)) return [];
  const actions = ['ec2:DescribeInstances'];
  if (groups.some((group) => group.launchTemplates.some((template) => !template.startsWith('lt-')))) actions.push('ec2:DescribeLaunchTemplateVersions');
  return [new iam.PolicyStatement({ sid: 'HostInstanceLookups', actions, resources: ['*'], conditions: { StringEquals: { 'aws:RequestedRegion': typeof region === 'string' ? region : [...region] } } })];
}
