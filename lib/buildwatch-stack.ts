/**
 * Buildwatch in the cloud (ARCHITECTURE.md, data flow): EventBridge rules (one per enabled use case)
 * → detect queue → detect Lambda → findings table → stream → notify Lambda → alerts topic; direct
 * tamper-alert rules to the alerts topic; the hourly canary and the heartbeat; alarms on the monitor's
 * own health. Composed from a validated configuration and the use-case list. With an `organization`
 * section it is the central stack: the same, plus the central event bus member accounts forward to
 * (lib/organization/central-bus.ts) and a named detect role that may assume their look-up roles.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct, IConstruct } from 'constructs';
import type { BuildwatchConfig } from '../lambdas/config/config.js';
import { centralDetectRoleName, centralSweepRoleName } from '../lambdas/config/organization.js';
import type { UseCase } from '../lambdas/engine/use-case.js';
import { CANARY_USE_CASE, HEARTBEAT_USE_CASE } from '../lambdas/use-cases/monitor/constants.js';
import { directAlertRules } from '../lambdas/use-cases/monitor/direct-alerts.js';
import { sbomObjectArns } from '../lambdas/use-cases/dependencies/sbom-locations.js';
import { MONITOR_RESOURCES_ENV } from '../lambdas/use-cases/monitor/own-resources.js';
import { AlertRouting, publishChatCards } from './constructs/alert-routing.js';
import { Alarms } from './constructs/alarms.js';
import { Dashboard } from './constructs/dashboard.js';
import { AuditorAccess } from './constructs/auditor-access.js';
import { CorrelationSweep } from './constructs/correlation-sweep.js';
import { DetectionRules, effectiveMode, enabledUseCases } from './constructs/detection-rules.js';
import { DETECT_QUEUE_VISIBILITY, Detector, buildProjectArns, hostLookupStatements, nagArnParts } from './constructs/detector.js';
import { handlerEntry } from './constructs/handler-function.js';
import { Heartbeat } from './constructs/heartbeat.js';
import { LedgerSeal, sealEntry } from './constructs/ledger-seal.js';
import { Notifier } from './constructs/notifier.js';
import { Queues } from './constructs/queues.js';
import { Tables } from './constructs/tables.js';
import { TamperAlerts } from './constructs/tamper-alerts.js';
import { CentralBus } from './organization/central-bus.js';
import { assumeLookupRoleStatements, memberLookupRoleArn } from './organization/lookup-access.js';

export interface BuildwatchStackProps extends StackProps {
  readonly config: BuildwatchConfig;
  readonly useCases: readonly UseCase[];
  /** Lambda entry files; default lambdas/handlers/{detect,notify,heartbeat,seal,correlation-sweep}.ts. */
  readonly entries?: { readonly detect?: string; readonly notify?: string; readonly heartbeat?: string; readonly seal?: string; readonly sweep?: string };
}

export class BuildwatchStack extends Stack {
  readonly key: kms.Key;
  /** `alias/<prefix>key`: how people (and the tamper use cases, offline) recognise the monitor's key. */
  readonly keyAlias: kms.Alias;
  readonly tables: Tables;
  readonly queues: Queues;
  readonly rules: DetectionRules;
  readonly detector: Detector;
  readonly notifier: Notifier;
  /** Subscriptions with filter policies, chat topics and AWS Chatbot channels (configuration `routing`). */
  readonly routing: AlertRouting;
  readonly tamperAlerts: TamperAlerts;
  /** Absent when monitor.heartbeat is off (or not among the use cases). */
  readonly heartbeat?: Heartbeat;
  readonly alarms: Alarms;
  readonly ledger: LedgerSeal;
  readonly auditor: AuditorAccess;
  readonly correlationSweep: CorrelationSweep;
  readonly dashboard: Dashboard;
  /** Organisation deployments only: the bus member accounts forward to, and its rules. */
  readonly centralBus?: CentralBus;

  constructor(scope: Construct, id: string, props: BuildwatchStackProps) {
    super(scope, id, {
      description: 'Buildwatch: security monitor for build pipelines (CodeCommit, CodeBuild, CodeArtifact, KMS)',
      ...props,
    });
    const { config } = props;
    const prefix = config.monitor.resourcePrefix;

    this.key = new kms.Key(this, 'Key', {
      description: 'Buildwatch: encrypts its tables, queues, topics and logs',
      enableKeyRotation: true,
      // The retained findings table is encrypted with it: deleting the key would make the ledger unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.allowServicesToUseKey();
    this.keyAlias = new kms.Alias(this, 'KeyAlias', { aliasName: `alias/${prefix}key`, targetKey: this.key });
    this.tables = new Tables(this, 'Tables', { key: this.key, resourcePrefix: prefix, keepLegacyDayIndex: config.ledger.keepLegacyDayIndex });
    this.ledger = new LedgerSeal(this, 'Ledger', { config, entry: props.entries?.seal ?? sealEntry(), key: this.key, findingsTable: this.tables.findings });
    // What the configuration cannot know and the tamper use cases need: the account and the keys.
    const monitorKeys = [this.key.keyArn, this.ledger.sealKey.keyArn];
    const monitorResources = this.toJsonString({ account: this.account, keys: monitorKeys });

    this.queues = new Queues(this, 'Queues', { key: this.key, resourcePrefix: prefix, visibilityTimeout: DETECT_QUEUE_VISIBILITY });

    this.rules = new DetectionRules(this, 'Rules', {
      useCases: props.useCases,
      config,
      detectQueue: this.queues.detect,
      deadLetterQueue: this.queues.deadLetter,
    });

    this.detector = new Detector(this, 'Detect', {
      config,
      entry: props.entries?.detect ?? handlerEntry('detect'),
      key: this.key,
      stateTable: this.tables.state,
      findingsTable: this.tables.findings,
      detectQueue: this.queues.detect,
      deadLetterQueue: this.queues.deadLetter,
      environment: { [MONITOR_RESOURCES_ENV]: monitorResources },
      // Member look-up roles name this role in their trust (aws:PrincipalArn): it cannot have a generated name.
      ...(config.organization ? { roleName: centralDetectRoleName(prefix) } : {}),
    });
    if (config.organization) {
      for (const statement of assumeLookupRoleStatements(config.organization, prefix, this.partition)) this.detector.handler.role.addToPrincipalPolicy(statement);
      // artifact.new-accessor tells the organisation's accounts from strangers (ListAccounts has no resource-level permissions).
      this.detector.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'OrganizationAccounts', actions: ['organizations:ListAccounts'], resources: ['*'] }));
    }

    this.notifier = new Notifier(this, 'Notify', {
      config,
      useCases: props.useCases,
      entry: props.entries?.notify ?? handlerEntry('notify'),
      key: this.key,
      findingsTable: this.tables.findings,
      deadLetterQueue: this.queues.deadLetter,
    });
    this.routing = new AlertRouting(this, 'Routing', { config, key: this.key, alertsTopic: this.notifier.alertsTopic });
    this.notifier.addChatTopics(this.routing.chatTopicsByRoute);

    const enabled = enabledUseCases(props.useCases, config);
    this.tamperAlerts = new TamperAlerts(this, 'TamperAlerts', {
      resourcePrefix: prefix,
      rules: directAlertRules(prefix, { account: this.account, keys: [this.key.keyId, this.key.keyArn, this.ledger.sealKey.keyId, this.ledger.sealKey.keyArn] }),
      useCases: enabled,
      alertsTopic: this.notifier.alertsTopic,
      deadLetterQueue: this.queues.deadLetter,
    });

    const heartbeatUseCase = enabled.find((useCase) => useCase.metadata.id === HEARTBEAT_USE_CASE);
    const canaryUseCase = enabled.find((useCase) => useCase.metadata.id === CANARY_USE_CASE);
    if (heartbeatUseCase) {
      this.heartbeat = new Heartbeat(this, 'Heartbeat', {
        config,
        entry: props.entries?.heartbeat ?? handlerEntry('heartbeat'),
        key: this.key,
        stateTable: this.tables.state,
        findingsTable: this.tables.findings,
        alertsTopic: this.notifier.alertsTopic,
        deadLetterQueue: this.queues.deadLetter,
        monitorResources,
        canary: canaryUseCase !== undefined,
        canaryAlerts: canaryUseCase !== undefined && effectiveMode(canaryUseCase, config) === 'alert',
      });
      // Its alerts reach the chat channels too (security's, from its minimum severity).
      publishChatCards(this.heartbeat.handler, this.routing.chatTopicsByRoute);
    }

    this.alarms = new Alarms(this, 'Alarms', {
      key: this.key,
      resourcePrefix: prefix,
      deadLetterQueue: this.queues.deadLetter,
      detectQueue: this.queues.detect,
      detectFunction: this.detector.function,
      notifyFunction: this.notifier.function,
      alertsTopic: this.notifier.alertsTopic,
      directRules: this.tamperAlerts.rules,
      ...(this.heartbeat ? { heartbeatFunction: this.heartbeat.function } : {}),
    });
    this.ledger.addErrorsAlarm(this.alarms.opsTopic);
    if (config.organization) {
      this.centralBus = new CentralBus(this, 'CentralBus', {
        config,
        organization: config.organization,
        useCases: props.useCases,
        detectQueue: this.queues.detect,
        deadLetterQueue: this.queues.deadLetter,
        alertsTopic: this.notifier.alertsTopic,
        opsTopic: this.alarms.opsTopic,
      });
    }
    this.auditor = new AuditorAccess(this, 'Auditor', {
      resourcePrefix: prefix,
      findingsTable: this.tables.findings,
      keepLegacyDayIndex: config.ledger.keepLegacyDayIndex,
      sealsTable: this.ledger.sealsTable,
      tableKey: this.key,
      sealKey: this.ledger.sealKey,
    });
    this.correlationSweep = new CorrelationSweep(this, 'CorrelationSweep', {
      config,
      ...(props.entries?.sweep ? { entry: props.entries.sweep } : {}),
      key: this.key,
      stateTable: this.tables.state,
      findingsTable: this.tables.findings,
      alarmTopic: this.alarms.opsTopic,
      // Deferred judgements repeat look-ups in the account the package lives in: members trust this role too.
      ...(config.organization ? { roleName: centralSweepRoleName(prefix) } : {}),
    });
    if (config.organization) {
      for (const statement of assumeLookupRoleStatements(config.organization, prefix, this.partition)) this.correlationSweep.handler.role.addToPrincipalPolicy(statement);
    }
    this.dashboard = new Dashboard(this, 'Dashboard', {
      resourcePrefix: prefix,
      functions: {
        detect: this.detector.function,
        notify: this.notifier.function,
        ...(this.heartbeat ? { heartbeat: this.heartbeat.function } : {}),
        seal: this.ledger.function,
        'correlation-sweep': this.correlationSweep.function,
      },
      detectQueue: this.queues.detect,
      deadLetterQueue: this.queues.deadLetter,
      alarms: [...this.alarms.alarms, ...(this.centralBus?.alarms ?? []), ...[this.ledger.errorsAlarm, this.correlationSweep.errorsAlarm].filter((alarm) => alarm !== undefined)],
    });

    new CfnOutput(this, 'StateTableName', { value: this.tables.state.tableName, description: 'state table (baselines, snapshots)' });
    new CfnOutput(this, 'FindingsTableName', { value: this.tables.findings.tableName, description: 'findings ledger' });
    new CfnOutput(this, 'AlertsTopicArn', { value: this.notifier.alertsTopic.topicArn, description: 'subscribe the security team / chat here' });
    new CfnOutput(this, 'OpsTopicArn', { value: this.alarms.opsTopic.topicArn, description: 'monitor health alarms' });
    new CfnOutput(this, 'DetectQueueUrl', { value: this.queues.detect.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetter.queueUrl });
    new CfnOutput(this, 'KeyAliasName', { value: this.keyAlias.aliasName, description: "the monitor's KMS key" });
    new CfnOutput(this, 'SealsTableName', { value: this.ledger.sealsTable.tableName, description: 'daily seals of the findings ledger' });
    new CfnOutput(this, 'SealKeyArn', { value: this.ledger.sealKey.keyArn, description: 'buildwatch verify --key-id <this>' });
    new CfnOutput(this, 'AuditorRoleArn', { value: this.auditor.role.roleArn, description: 'read-only auditor role' });
    if (this.centralBus) new CfnOutput(this, 'CentralBusArn', { value: this.centralBus.bus.eventBusArn, description: 'member accounts forward their pipeline events here' });
    if (this.heartbeat) new CfnOutput(this, 'HeartbeatFunctionName', { value: this.heartbeat.function.functionName, description: 'runs every 15 minutes; its alerts answer monitor.health' });

    this.acknowledgeNagFindings(config);
  }

  /**
   * Key-policy statements for the AWS services that encrypt with the key on our behalf. (EventBridge's
   * statement, for delivering to the encrypted queues, is added by the SQS target itself.)
   */
  private allowServicesToUseKey(): void {
    const { account, region, partition } = this;
    // CloudWatch alarms publish to the encrypted ops topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    // CloudWatch Logs encrypts the functions' log groups (only log groups of this account and region).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` } },
      }),
    );
  }

  /**
   * cdk-nag AwsSolutions findings that are accepted by design, each acknowledged on the narrowest
   * construct and, for wildcards, the exact finding (RuleId[Action::…] / RuleId[Resource::…]).
   */
  private acknowledgeNagFindings(config: BuildwatchConfig): void {
    const ack = (scope: IConstruct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });

    for (const handler of [this.detector.handler, this.notifier.handler, ...(this.heartbeat ? [this.heartbeat.handler] : [])]) {
      ack(handler.function, 'AwsSolutions-L1', 'Node.js 22 is the runtime the handlers are built and tested for (bundle target node22); moving to a newer runtime is a deliberate upgrade.');
    }
    // CDK's customer-managed-key grants for DynamoDB and SQS/SNS; scoped to the one Buildwatch key ARN.
    const detectPolicy = this.detector.handler.role.node.findChild('DefaultPolicy');
    ack(detectPolicy, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'Data-key generation for the Buildwatch key only (DynamoDB tables, dead-letter queue SSE); resource is the key ARN.');
    ack(detectPolicy, 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'DynamoDB customer-managed-key usage for the Buildwatch key only (as CDK table grants); resource is the key ARN.');
    const hostLookups = hostLookupStatements(config, nagArnParts(this)).flatMap((statement) => statement.actions);
    ack(
      detectPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      `cloudtrail:DescribeTrails only (read-only): it has no resource-level permissions; monitor.trail-archive-tamper learns the trails' buckets and keys from it.${
        hostLookups.length > 0 ? ` Also ${hostLookups.join(' and ')} (read-only, build.host-access ties an instance to its host group): EC2 Describe* actions cannot be scoped to resources, so they are held to the stack's region (aws:RequestedRegion).` : ''
      }${config.organization ? ' Also organizations:ListAccounts (read-only, no resource-level permissions): artifact.new-accessor tells accounts of the organisation from strangers.' : ''}`,
    );
    // The look-ups' wildcards, exactly as cdk-nag renders them (the configured packages are exact ARNs: no finding).
    const rendered = nagArnParts(this);
    for (const arn of buildProjectArns(config, rendered).filter((a) => a.endsWith('/*'))) {
      ack(detectPolicy, `AwsSolutions-IAM5[Resource::${arn}]`, 'No build project is configured, so every CodeBuild project of this account and region is watched; codebuild:BatchGetProjects only (read-only).');
    }
    if (config.organization) {
      ack(detectPolicy, `AwsSolutions-IAM5[Resource::${memberLookupRoleArn(rendered.partition, config.monitor.resourcePrefix)}]`, "sts:AssumeRole on the members' read-only look-up role only (one name), in accounts of the organisation only (aws:ResourceOrgID condition).");
      const sweepPolicy = this.correlationSweep.handler.role.node.findChild('DefaultPolicy');
      ack(sweepPolicy, `AwsSolutions-IAM5[Resource::${memberLookupRoleArn(rendered.partition, config.monitor.resourcePrefix)}]`, "sts:AssumeRole on the members' read-only look-up role only (one name), in accounts of the organisation only (aws:ResourceOrgID condition): deferred hash checks re-list a member's package assets.");
    }
    for (const arn of sbomObjectArns(config, rendered.partition).filter((a) => a.includes('*'))) {
      ack(detectPolicy, `AwsSolutions-IAM5[Resource::${arn}]`, 'SBOM object keys hold per-build placeholders ({project}, {buildUuid}, …) unknown at deploy time; s3:GetObject only, under the configured template\'s fixed prefix.');
    }
    const notifyPolicy = this.notifier.handler.role.node.findChild('DefaultPolicy');
    ack(notifyPolicy, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'SNS SSE publish and dead-letter SSE send with the Buildwatch key only; resource is the key ARN.');
    ack(notifyPolicy, 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', "Part of CDK's SNS/SQS customer-managed-key grant for the Buildwatch key only; resource is the key ARN.");
    ack(notifyPolicy, 'AwsSolutions-IAM5[Resource::*]', 'dynamodb:ListStreams supports no resource-level permission; the stream-read actions are scoped to the findings stream ARN.');
    if (this.heartbeat) {
      const heartbeatPolicy = this.heartbeat.handler.role.node.findChild('DefaultPolicy');
      ack(heartbeatPolicy, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'Data-key generation for the Buildwatch key only (its liveness markers and health findings in the tables, SNS SSE publish); resource is the key ARN.');
      ack(heartbeatPolicy, 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'DynamoDB customer-managed-key usage for the Buildwatch key only (as CDK table grants); resource is the key ARN.');
      ack(this.heartbeat.receipts, 'AwsSolutions-SQS3', 'The canary receipts queue is drained and emptied by the heartbeat every run; a message it cannot parse is deleted, so there is nothing to dead-letter.');
    }
    // The seal and correlation-sweep functions acknowledge their own AwsSolutions-L1 and the KMS
    // data-key action wildcards of their table grants (LedgerSeal, CorrelationSweep): the constructs
    // are nag-clean on their own (test/ledger/constructs.test.ts, test/handlers/correlation-sweep.test.ts).
  }
}
