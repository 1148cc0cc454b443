/**
 * The correlation sweep: the handler settles due checks with the wall clock (dynalite), and its
 * construct synthesises cdk-nag clean with least-privilege grants (bundling skipped).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { sweep } from '../../lambdas/handlers/correlation-sweep.js';
import hashMismatch from '../../lambdas/use-cases/artifact/hash-mismatch/use-case.js';
import { CorrelationSweep, SWEEP_CODEARTIFACT_ACTIONS } from '../../lib/constructs/correlation-sweep.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { Tables } from '../../lib/constructs/tables.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const dynamo = useLocalDynamo();
const CASES = join(PROJECT_ROOT, 'lambdas', 'use-cases', 'artifact', 'hash-mismatch', 'cases');
const waiting = JSON.parse(readFileSync(join(CASES, 'publish-waits-for-its-build.json'), 'utf8')) as { config: Record<string, unknown>; events: unknown[] };

describe('correlation-sweep handler', () => {
  it('settles the checks due on the wall clock, once, and leaves the others pending', async () => {
    const { engine, findings } = await dynamo.freshEngine(waiting.config);
    for (const envelope of normaliseContent('case.json', JSON.stringify(waiting.events)).events) await engine.evaluate(hashMismatch, toPipelineEvent(envelope));

    // The publish was at 01:16:15 with a 60-minute deadline.
    expect(await sweep({ engine, useCases: [hashMismatch], clock: () => new Date('2026-11-04T02:00:00.123Z') })).toEqual({ created: 0, repeats: 0, quiet: 0 });
    expect(await sweep({ engine, useCases: [hashMismatch], clock: () => new Date('2026-11-04T02:20:00Z') })).toEqual({ created: 1, repeats: 0, quiet: 0 });
    expect(await sweep({ engine, useCases: [hashMismatch], clock: () => new Date('2026-11-04T02:25:00Z') })).toEqual({ created: 0, repeats: 0, quiet: 0 });

    const recorded = await findings.byDay('2026-11-04').next();
    expect(recorded.value).toMatchObject({ useCase: 'artifact.hash-mismatch', severity: 'high', eventTime: '2026-11-04T01:16:15Z' });
  });
});

describe('CorrelationSweep construct', () => {
  const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

  function synth(config = parseConfig(waiting.config)) {
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'SweepTest');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const tables = new Tables(stack, 'Tables', { key, resourcePrefix: config.monitor.resourcePrefix });
    // Bundling is skipped, so any existing file stands in as the entry.
    const sweepConstruct = new CorrelationSweep(stack, 'Sweep', { config, key, stateTable: tables.state, findingsTable: tables.findings, entry: fileURLToPath(import.meta.url) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    return { app, stack, sweepConstruct, template: Template.fromStack(stack) };
  }

  it('runs every five minutes and may look up only the configured packages', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'buildwatch-correlation-sweep', Timeout: 300 });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        // In the order the construct adds them.
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'StateTableItems', Action: Match.arrayWith(['dynamodb:Query', 'dynamodb:UpdateItem']) }),
          Match.objectLike({
            Sid: 'PackageVersionLookups',
            Action: [...SWEEP_CODEARTIFACT_ACTIONS].sort(),
            Resource: {
              // package/<domain>/<repository>/<format>/<namespace>/<name>: the one configured package, no wildcard.
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':package/acme/internal-releases/generic/acme/payments-service$')])],
            },
          }),
        ]),
      },
    });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const { app } = synth();
    const violations = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app).violations;
    expect(violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('grants no CodeArtifact look-up when no package is configured', () => {
    const { template } = synth(parseConfig({}));
    expect(JSON.stringify(template.toJSON())).not.toContain('codeartifact:');
  });
});
