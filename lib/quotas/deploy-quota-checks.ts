/**
 * Service quotas checked at synth, the way cdk-nag checks security rules: a CDK validation plugin that
 * reads every synthesized template and reports what CloudFormation would otherwise only refuse at
 * deploy time (queue policies over 20 statements, names over their limit, …). Any error fails
 * `cdk synth` (and `Template.fromStack` in tests) with the construct path, the limit and the measured
 * value. Warnings (quotas the account shares with resources outside the stack) are printed only.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CfnResource, Stack, type IPolicyValidationContext, type IPolicyValidationPlugin, type PolicyValidationPluginReport, type PolicyViolation } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { QUOTA_CHECKS, checkNames, type QuotaFinding } from './checks.js';
import { WorstCase, type Template } from './worst-case.js';

/** CDK context key: quotas raised with Service Quotas, `{"<quota id>": <new limit>}`. */
export const RAISED_QUOTAS_CONTEXT = 'buildwatch:quotas';

export interface DeployQuotaChecksProps {
  /** Raised adjustable quotas; default: the app's `buildwatch:quotas` context. */
  readonly raised?: Readonly<Record<string, number>>;
}

export class DeployQuotaChecks implements IPolicyValidationPlugin {
  readonly name = 'BuildwatchDeployQuotas';
  readonly version = '1.0.0';

  constructor(private readonly props: DeployQuotaChecksProps = {}) {}

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const paths = constructPaths(context.appConstruct);
    const raised = new Map(Object.entries(this.props.raised ?? raisedFromContext(context.appConstruct)));
    const violations: PolicyViolation[] = [];

    for (const stack of context.stackTemplates) {
      const text = readFileSync(stack.templatePath, 'utf8');
      const template = JSON.parse(text) as Template;
      const stackName = stackNameOf(context.appConstruct, stack.stackConstructPath);
      const ctx = {
        template,
        templateBytes: Buffer.byteLength(text),
        render: new WorstCase({ template, stackName, ...(stack.accountId ? { account: stack.accountId } : {}), ...(stack.region ? { region: stack.region } : {}) }),
        raised,
      };
      const where = (logicalId: string | undefined) => ({
        templatePath: stack.templatePath,
        ...(logicalId ? { resourceLogicalId: logicalId } : {}),
        constructPath: (logicalId && paths.get(`${basename(stack.templatePath)}\0${logicalId}`)) || stack.stackConstructPath,
      });

      for (const finding of QUOTA_CHECKS.flatMap((check) => check(ctx))) {
        const resource = where(finding.logicalId);
        violations.push({
          ruleName: `Quota-${finding.quota.id}`,
          description: describe(finding, resource.constructPath),
          fix: finding.quota.adjustable
            ? `Reduce it, or raise the quota with Service Quotas and declare the new limit in the CDK context "${RAISED_QUOTAS_CONTEXT}": {"${finding.quota.id}": <limit>}.`
            : 'Reduce it: this is a hard limit.',
          severity: finding.quota.warning ? 'warning' : 'error',
          ruleMetadata: { source: finding.quota.source },
          violatingResources: [{ ...resource, locations: finding.location ? [finding.location] : [] }],
        });
      }
      for (const finding of checkNames(ctx)) {
        const resource = where(finding.logicalId);
        violations.push({
          ruleName: 'Quota-resource-name',
          description: `${resource.constructPath}: ${finding.problem} ("${finding.name}"; ${finding.source}).`,
          fix: 'Shorten monitor.resourcePrefix (or the name) so every physical name fits.',
          severity: 'error',
          ruleMetadata: { source: finding.source },
          violatingResources: [{ ...resource, locations: [finding.location] }],
        });
      }
    }
    return { success: violations.every((v) => v.severity === 'warning'), violations };
  }
}

export function describe(finding: QuotaFinding, constructPath: string): string {
  const { quota, limit, measured, subject } = finding;
  const raised = limit !== quota.limit ? ` (raised from ${quota.limit})` : '';
  return `${constructPath}: ${quota.title} is ${measured} ${quota.unit} (${subject}); the limit is ${limit}${raised} (${quota.source}).`;
}

function raisedFromContext(app: IConstruct): Record<string, number> {
  const value: unknown = app.node.tryGetContext(RAISED_QUOTAS_CONTEXT);
  const raw = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`CDK context "${RAISED_QUOTAS_CONTEXT}" must be an object of quota id to number, e.g. {"eventbridge.event-pattern-chars": 4096}`);
  }
  return raw as Record<string, number>;
}

/** `<template file name>\0<logical id>` → construct path, for readable messages. */
function constructPaths(app: IConstruct): Map<string, string> {
  const out = new Map<string, string>();
  for (const node of app.node.findAll()) {
    if (!CfnResource.isCfnResource(node)) continue;
    const stack = Stack.of(node);
    out.set(`${stack.templateFile}\0${stack.resolve(node.logicalId) as string}`, node.node.path);
  }
  return out;
}

function stackNameOf(app: IConstruct, constructPath: string): string {
  const node = app.node.findAll().find((c) => c.node.path === constructPath);
  return node && Stack.isStack(node) ? node.stackName : constructPath.split('/').pop() ?? 'stack';
}
