/**
 * Security Hub in the stack: off by default; with routing.securityHub the notify role may only
 * BatchImportFindings into the account's default product, the function knows that product, and
 * dedup-window repeats (MODIFY) reach it. cdk-nag stays clean.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig, type BuildwatchConfigInput } from '../../lambdas/config/config.js';
import { ENV } from '../../lambdas/store/schema.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { BuildwatchStack } from '../../lib/buildwatch-stack.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const standIn = fileURLToPath(import.meta.url);
const entries = { detect: standIn, notify: standIn, heartbeat: standIn, seal: standIn, sweep: standIn };

function synth(config: BuildwatchConfigInput) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new BuildwatchStack(app, 'Buildwatch', { config: parseConfig(config), useCases: registry, entries });
  const template = Template.fromStack(stack);
  return { app, stack, resources: (template.toJSON() as { Resources: Record<string, Resource> }).Resources };
}

const PRODUCT_ARN = {
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':securityhub:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':product/', { Ref: 'AWS::AccountId' }, '/default'],
  ],
};

function notifyFunction(resources: Record<string, Resource>): [string, Resource] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'buildwatch-notify');
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** Every identity-policy statement that mentions Security Hub, with the roles it is attached to. */
function securityHubStatements(resources: Record<string, Resource>): Array<{ roles: unknown; statement: Statement }> {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) => (r.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({ roles: r.Properties.Roles, statement })))
    .filter(({ statement }) => [statement.Action].flat().some((a) => a.startsWith('securityhub:') || a === '*'));
}

let enabled: ReturnType<typeof synth> | undefined;
const withSecurityHub = () => (enabled ??= synth({ routing: { securityHub: true, security: { email: ['secops@example.com'] } } }));

describe('Security Hub in the stack', () => {
  it('grants the notify role BatchImportFindings on the default product ARN, and nothing else in Security Hub', () => {
    const { resources } = withSecurityHub();
    const [, notify] = notifyFunction(resources);
    const role = notify.Properties.Role['Fn::GetAtt'][0] as string;
    expect(securityHubStatements(resources)).toEqual([{ roles: [{ Ref: role }], statement: { Effect: 'Allow', Action: 'securityhub:BatchImportFindings', Resource: PRODUCT_ARN } }]);
  });

  it('gives the notify function the product ARN and the dedup-window repeats', () => {
    const { resources } = withSecurityHub();
    const [notifyId, notify] = notifyFunction(resources);
    expect(notify.Properties.Environment.Variables[ENV.securityHubProductArn]).toEqual(PRODUCT_ARN);
    const mapping = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: notifyId }));
    const patterns = (mapping?.Properties.FilterCriteria.Filters as Array<{ Pattern: string }>).map((f) => JSON.parse(f.Pattern) as { eventName: string[]; dynamodb: { NewImage: { principal: { S: unknown[] } } } });
    expect(patterns.map((p) => p.eventName)).toEqual([['INSERT'], ['MODIFY'], ['INSERT', 'MODIFY']]);
    // The third takes the heartbeat's own findings, for Security Hub only (the heartbeat announces them).
    expect(patterns[2]!.dynamodb.NewImage.principal.S).toEqual(['buildwatch heartbeat']);
  });

  it('is off by default: no grant, no product ARN, no MODIFY records', () => {
    const { resources } = synth({ routing: { security: { email: ['secops@example.com'] } } });
    const [, notify] = notifyFunction(resources);
    expect(securityHubStatements(resources)).toEqual([]);
    expect(notify.Properties.Environment.Variables[ENV.securityHubProductArn]).toBeUndefined();
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding and no CDK warning', () => {
    const { app, stack } = withSecurityHub();
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app).violations).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});
