/**
 * Tamper alerts that survive the tampering (lambdas/use-cases/monitor/direct-alerts.ts): one more rule
 * per tamper use case whose target is the alerts topic itself, with an input transformer writing a
 * readable JSON message. No queue, no Lambda on this path, so disabling the detect path still alerts once.
 * Only fields AWS sets (event name and source, times, ids, the caller's ARN and IP) are inserted:
 * request parameters are attacker-controlled text, and nothing on this path could neutralise them.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import type { DirectAlertRule } from '../../lambdas/use-cases/monitor/direct-alerts.js';
import { toCdkEventPattern } from './detection-rules.js';

export interface TamperAlertsProps {
  readonly resourcePrefix: string;
  /** The direct rules whose use case is enabled. */
  readonly rules: readonly DirectAlertRule[];
  readonly useCases: readonly UseCase[];
  readonly alertsTopic: sns.ITopic;
  readonly deadLetterQueue: sqs.IQueue;
  /** The bus the rules watch (default: the account's default bus). */
  readonly eventBus?: events.IEventBus;
  /** The Sid of the alerts-topic statement letting these rules publish (one per set of rules). */
  readonly statementId?: string;
}

/**
 * The alert: a JSON document (EventBridge inserts each value JSON-encoded, so nothing in the event can
 * break out of it) with the same names as the notifier's message attributes, so subscriptions can
 * filter it with a MessageBody-scoped filter policy.
 */
export function directAlertMessage(useCase: UseCase, prefix: string): events.RuleTargetInput {
  const field = (path: string) => events.EventField.fromPath(path);
  return events.RuleTargetInput.fromObject({
    alert: `CRITICAL tamper alert (direct): ${useCase.metadata.title}`,
    severity: 'critical',
    mode: 'alert',
    stage: 'monitor',
    useCase: useCase.metadata.id,
    answers: useCase.metadata.answers,
    direct: true,
    what: field('$.detail.eventName'),
    service: field('$.detail.eventSource'),
    who: field('$.detail.userIdentity.arn'),
    identityType: field('$.detail.userIdentity.type'),
    when: field('$.detail.eventTime'),
    account: events.EventField.account,
    region: events.EventField.region,
    from: field('$.detail.sourceIPAddress'),
    cloudTrailEventId: field('$.detail.eventID'),
    eventBridgeEventId: events.EventField.eventId,
    note: `This alert comes straight from EventBridge, bypassing Buildwatch's detection path, because this action can blind the monitor. A full ${useCase.metadata.id} finding should follow from the notifier within minutes; if none does, the detection path itself (rules, queues, functions, tables named ${prefix}*) is impaired: redeploy the stack and replay CloudTrail for the gap.`,
    // Angle brackets would read as placeholders in an input template.
    runbook: useCase.metadata.runbook.replace(/</g, '‹').replace(/>/g, '›'),
  });
}

export class TamperAlerts extends Construct {
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: TamperAlertsProps) {
    super(scope, id);
    const byId = new Map(props.useCases.map((useCase) => [useCase.metadata.id, useCase]));

    for (const spec of props.rules) {
      const useCase = byId.get(spec.useCase);
      if (!useCase) continue;
      const rule = new events.Rule(this, spec.slug, {
        ruleName: `${props.resourcePrefix}${spec.slug}`,
        description: spec.description.slice(0, 512),
        eventPattern: toCdkEventPattern(spec.pattern),
        ...(props.eventBus ? { eventBus: props.eventBus } : {}),
      });
      const message = directAlertMessage(useCase, props.resourcePrefix);
      rule.addTarget({
        // A plain target: the topic policy below is scoped to these rules (the SnsTopic target's is not).
        bind: () => ({
          arn: props.alertsTopic.topicArn,
          input: message,
          targetResource: props.alertsTopic,
          retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: Duration.hours(24).toSeconds() },
          // Queues lets every `<prefix>…` rule dead-letter with one statement (stackRuleArnPattern).
          deadLetterConfig: { arn: props.deadLetterQueue.queueArn },
        }),
      });
      this.rules.push(rule);
    }

    if (this.rules.length > 0) {
      props.alertsTopic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: props.statementId ?? 'AllowDirectTamperAlertRules',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [props.alertsTopic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
            ArnEquals: { 'aws:SourceArn': this.rules.map((rule) => rule.ruleArn) },
          },
        }),
      );
    }
  }
}
