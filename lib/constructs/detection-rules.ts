/**
 * One EventBridge rule per enabled use case, on the default bus (or, in an organisation's central
 * stack, a second set on the central bus), delivering
 * `{"useCase": "<id>", "event": <the whole event>}` to the detect queue. The rule's pattern is the use
 * case's own pattern object (the same data the local router matches with), passed through unchanged.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import type { EventPattern as RawEventPattern } from '../../lambdas/engine/event-pattern.js';
import type { Mode } from '../../lambdas/engine/model.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { stackRuleArnPattern, withDeadLetter } from './queues.js';

/** The rule state that also delivers read-only CloudTrail management events (EVENTS.md section 2). */
export const ALL_MANAGEMENT_EVENTS_STATE = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

/** The effective mode of a use case: the configuration's override, else the use case's default. */
export function effectiveMode(useCase: UseCase, config: BuildwatchConfig): Mode {
  return config.useCases[useCase.metadata.id]?.mode ?? useCase.metadata.defaultMode;
}

/** The use cases that get a rule: every one whose effective mode is not 'off'. */
export function enabledUseCases(useCases: readonly UseCase[], config: BuildwatchConfig): UseCase[] {
  return useCases.filter((useCase) => effectiveMode(useCase, config) !== 'off');
}

/** `source.new-pusher` → `source-new-pusher`: construct id and (with the prefix) the rule name. */
export function ruleSlug(useCaseId: string): string {
  return useCaseId.replaceAll('.', '-');
}

/**
 * The L2 `EventPattern` spells the one dashed top-level key `detail-type` as `detailType` and renders it
 * back; every other key (including `detail` and EventBridge operators) passes through as is. The
 * pattern is cloned so the shared use-case object is never mutated by CDK's pattern merging.
 */
export function toCdkEventPattern(raw: RawEventPattern): events.EventPattern {
  const cloned = structuredClone(raw) as Record<string, unknown>;
  const mapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cloned)) {
    mapped[key === 'detail-type' ? 'detailType' : key] = value;
  }
  return mapped as events.EventPattern;
}

/**
 * The pattern restricted to events of `accounts`. A pattern that already names accounts keeps only
 * those also listed (EventBridge ANDs keys, so an account outside both can never match either way).
 */
export function onlyAccounts(raw: RawEventPattern, accounts: readonly string[]): RawEventPattern {
  const own = (raw as Record<string, unknown>)['account'];
  const allowed = Array.isArray(own) ? accounts.filter((account) => own.includes(account)) : [...accounts];
  return { ...raw, account: allowed } as RawEventPattern;
}

/** The target input: exactly `{"useCase": "<id>", "event": <aws.events.event>}`. */
export function detectInput(useCaseId: string): events.RuleTargetInput {
  return events.RuleTargetInput.fromObject({ useCase: useCaseId, event: events.EventField.fromPath('$') });
}

export interface DetectionRulesProps {
  readonly useCases: readonly UseCase[];
  readonly config: BuildwatchConfig;
  readonly detectQueue: sqs.IQueue;
  /** Receives events EventBridge could not deliver to the detect queue after its retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The bus the rules watch (default: the account's default bus). */
  readonly eventBus?: events.IEventBus;
  /** Only events of these accounts (default: any account the bus accepts events from). */
  readonly accounts?: readonly string[];
  /**
   * Add the detect queue's "only Buildwatch rules may send" statement (default true). A second set of
   * rules (another bus) leaves it to the first: its pattern already covers every `<prefix>…` rule.
   */
  readonly guardQueue?: boolean;
}

export class DetectionRules extends Construct {
  /** Rules by use-case id (enabled use cases only). */
  readonly rules = new Map<string, events.Rule>();

  constructor(scope: Construct, id: string, props: DetectionRulesProps) {
    super(scope, id);
    const prefix = props.config.monitor.resourcePrefix;

    for (const useCase of enabledUseCases(props.useCases, props.config)) {
      const { metadata } = useCase;
      const slug = ruleSlug(metadata.id);
      const rule = new events.Rule(this, slug, {
        ruleName: `${prefix}${slug}`,
        description: `Buildwatch ${metadata.id}: ${metadata.title}`.slice(0, 512),
        eventPattern: toCdkEventPattern(props.accounts ? onlyAccounts(useCase.pattern, props.accounts) : useCase.pattern),
        ...(props.eventBus ? { eventBus: props.eventBus } : {}),
        targets: [
          withDeadLetter(
            new targets.SqsQueue(props.detectQueue, { message: detectInput(metadata.id), retryAttempts: 185, maxEventAge: Duration.hours(24) }),
            props.deadLetterQueue,
          ),
        ],
      });
      if (metadata.readOnlyEvents) {
        // The L2 Rule only knows ENABLED/DISABLED; the L1 property accepts the CloudTrail state.
        (rule.node.defaultChild as events.CfnRule).state = ALL_MANAGEMENT_EVENTS_STATE;
      }
      this.rules.set(metadata.id, rule);
    }

    // The SQS target lets any rule of this account send to the (KMS-encrypted) queue (aws:SourceAccount).
    // Only Buildwatch's own rules may: a foreign rule with a constant input could forge pipeline events.
    // One pattern, not a list of rule ARNs: a list is one condition value per rule, and SQS allows 10
    // conditions per policy (counted strictly: every value of every key).
    if (this.rules.size > 0 && (props.guardQueue ?? true)) {
      props.detectQueue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyBuildwatchRulesMaySend',
          effect: iam.Effect.DENY,
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [props.detectQueue.queueArn],
          conditions: { ArnNotLike: { 'aws:SourceArn': stackRuleArnPattern(this, prefix) } },
        }),
      );
    }
  }
}
