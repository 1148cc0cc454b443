/**
 * The central event bus of an organisation deployment (in the central stack): member accounts'
 * forwarding rules target it; it accepts PutEvents only from principals of the organisation
 * (aws:PrincipalOrgID) and of the listed member accounts, so EventBridge refuses everyone else's.
 * On it: the same detection rules as on the default bus, the member heartbeat (to the detect queue,
 * where liveness is recorded per account and region), the member-tamper alerts (straight to the
 * alerts topic), and a counting rule for events of accounts the configuration does not name.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BuildwatchConfig, OrganizationConfig } from '../../lambdas/config/config.js';
import { centralBusName } from '../../lambdas/config/organization.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { HEARTBEAT_USE_CASE } from '../../lambdas/use-cases/monitor/constants.js';
import { DetectionRules, detectInput, enabledUseCases, toCdkEventPattern } from '../constructs/detection-rules.js';
import { withDeadLetter } from '../constructs/queues.js';
import { TamperAlerts } from '../constructs/tamper-alerts.js';
import { CENTRAL_ONLY_USE_CASES, MEMBER_HEARTBEAT_SLUG, memberHeartbeatPattern, memberTamperRules, namedAccounts } from './shared.js';

/** The rule on the central bus that counts events of accounts the configuration does not name. */
export const UNLISTED_SLUG = 'central-unlisted-accounts';

export interface CentralBusProps {
  readonly config: BuildwatchConfig;
  readonly organization: OrganizationConfig;
  readonly useCases: readonly UseCase[];
  readonly detectQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alertsTopic: sns.ITopic;
  readonly opsTopic: sns.ITopic;
}

export class CentralBus extends Construct {
  readonly bus: events.EventBus;
  readonly rules: DetectionRules;
  readonly memberTamper: TamperAlerts;
  readonly memberHeartbeat?: events.Rule;
  readonly unlisted: events.Rule;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly resourcePrefix: string;

  constructor(scope: Construct, id: string, props: CentralBusProps) {
    super(scope, id);
    const { config, organization: org } = props;
    const prefix = config.monitor.resourcePrefix;
    this.resourcePrefix = prefix;

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: centralBusName(prefix),
      description: 'Buildwatch: pipeline events forwarded by the member accounts of the organisation',
    });
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationMembersMayPutEvents',
        principals: [new iam.StarPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': org.id } },
      }),
    );
    // Listed accounts are trusted by id too: a member deployed with `cdk deploy` may sit outside the organisation.
    if (org.members.accounts.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ListedMemberAccountsMayPutEvents',
          principals: org.members.accounts.map((account) => new iam.AccountPrincipal(account)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }

    const named = namedAccounts(org);
    // Without organisational units every member is listed: events of any other account are dropped
    // (they match no detection rule) and counted. With OUs, StackSets add accounts nobody listed,
    // and their events must be watched: they are only counted, as a prompt to name the account.
    const onlyNamed = org.members.organizationalUnits.length === 0;
    this.rules = new DetectionRules(this, 'Rules', {
      useCases: props.useCases.filter((useCase) => !CENTRAL_ONLY_USE_CASES.has(useCase.metadata.id)),
      config,
      detectQueue: props.detectQueue,
      deadLetterQueue: props.deadLetterQueue,
      eventBus: this.bus,
      guardQueue: false,
      ...(onlyNamed ? { accounts: named } : {}),
    });

    const enabled = enabledUseCases(props.useCases, config);
    if (enabled.some((useCase) => useCase.metadata.id === HEARTBEAT_USE_CASE)) {
      // The detect handler records the member's liveness (account, region) from it, like any event.
      this.memberHeartbeat = new events.Rule(this, 'MemberHeartbeat', {
        ruleName: `${prefix}${MEMBER_HEARTBEAT_SLUG}`,
        description: 'Buildwatch: member accounts\' heartbeats, to the detector (liveness per account and region)',
        eventBus: this.bus,
        eventPattern: toCdkEventPattern(memberHeartbeatPattern(prefix)),
        targets: [
          withDeadLetter(
            new targets.SqsQueue(props.detectQueue, { message: detectInput(HEARTBEAT_USE_CASE), retryAttempts: 185, maxEventAge: Duration.hours(24) }),
            props.deadLetterQueue,
          ),
        ],
      });
    }

    this.memberTamper = new TamperAlerts(this, 'MemberTamper', {
      resourcePrefix: prefix,
      rules: memberTamperRules(prefix),
      useCases: enabled,
      alertsTopic: props.alertsTopic,
      deadLetterQueue: props.deadLetterQueue,
      eventBus: this.bus,
      statementId: 'AllowMemberTamperAlertRules',
    });

    // No target: the rule exists for its MatchedEvents metric.
    this.unlisted = new events.Rule(this, 'UnlistedAccounts', {
      ruleName: `${prefix}${UNLISTED_SLUG}`,
      description: onlyNamed
        ? 'Buildwatch: counts events from accounts the configuration does not name (they match no detection rule)'
        : 'Buildwatch: counts events from accounts the configuration does not name (still watched: add them to organization.accounts)',
      eventBus: this.bus,
      eventPattern: toCdkEventPattern({ account: [{ 'anything-but': named }] }),
    });

    const fiveMinutes = Duration.minutes(5);
    const onBus = (metricName: string, rule: events.IRule) =>
      new cloudwatch.Metric({ namespace: 'AWS/Events', metricName, dimensionsMap: { EventBusName: this.bus.eventBusName, RuleName: rule.ruleName }, period: fiveMinutes, statistic: 'Sum' });
    this.addAlarm(props.opsTopic, 'central-unlisted-events', onlyNamed
      ? 'Events from an account the configuration does not name reached the central bus and were dropped: a member outside organization.members, or a misdirected forwarder.'
      : 'Events from an account the configuration does not name reached the central bus: name it in organization.accounts (or find out why it forwards).', onBus('MatchedEvents', this.unlisted));
    if (this.memberTamper.rules.length > 0) {
      const metrics = Object.fromEntries(this.memberTamper.rules.map((rule, index) => [`m${index}`, onBus('FailedInvocations', rule)]));
      this.addAlarm(
        props.opsTopic,
        'member-tamper-failed',
        "A member tamper alert could not be delivered to the alerts topic (see the dead-letter queue): the alerts topic or its key policy may have been changed.",
        new cloudwatch.MathExpression({ expression: Object.keys(metrics).map((m) => `FILL(${m}, 0)`).join(' + '), usingMetrics: metrics, period: fiveMinutes, label: 'FailedInvocations of the member tamper-alert rules' }),
      );
    }
  }

  private addAlarm(topic: sns.ITopic, name: string, description: string, metric: cloudwatch.IMetric): void {
    const alarm = new cloudwatch.Alarm(this, name, {
      // `<prefix>…`: the ops topic accepts alarms of that name only.
      alarmName: `${this.resourcePrefix}${name}`,
      alarmDescription: description,
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}
