/**
 * The `<prefix>overview` dashboard: its layout (widgets, positions, what each graphs) read back from
 * the synthesized template, every alarm of the stack on it, and cdk-nag still clean.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { BuildwatchStack } from '../../lib/buildwatch-stack.js';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';

// CDK synthesis takes seconds, and far longer on a busy 2-core machine: slow is not hung here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

type Resource = { Type: string; Properties: Record<string, any> };
interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: { title?: string; markdown?: string; metrics?: unknown[][]; alarms?: string[]; annotations?: { alarms?: string[] } };
}

const cdkContext = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const standIn = fileURLToPath(import.meta.url);
const entries = { detect: standIn, notify: standIn, heartbeat: standIn, seal: standIn, sweep: standIn };

const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
const stack = new BuildwatchStack(app, 'Buildwatch', { config: parseConfig({ routing: { security: { email: ['secops@example.com'] } } }), useCases: registry, entries });
const resources = (Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> }).Resources;

/** The dashboard body as JSON, each CloudFormation reference inside it as `{Ref:<id>}`/`{GetAtt:<id>}`. */
function body(): { widgets: Widget[] } {
  const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  expect(dashboards[0]!.Properties.DashboardName).toBe('buildwatch-overview');
  const source = dashboards[0]!.Properties.DashboardBody as string | { 'Fn::Join': [string, Array<string | Record<string, unknown>>] };
  const parts = typeof source === 'string' ? [source] : source['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : 'Ref' in p ? `{Ref:${String(p['Ref'])}}` : 'Fn::GetAtt' in p ? `{GetAtt:${(p['Fn::GetAtt'] as string[])[0]}}` : '{token}')).join('');
  return JSON.parse(text) as { widgets: Widget[] };
}

const titles = () => body().widgets.map((w) => w.properties.title).filter(Boolean);

describe('overview dashboard', () => {
  it('graphs events, findings, alerts by severity, skips, dead letters, deliveries, queue age, stream lag and the functions', () => {
    expect(titles()).toEqual(
      expect.arrayContaining([
        'Events evaluated per use case',
        'Findings by severity and mode',
        'Alerts by severity',
        'Evaluations skipped by reason',
        'Dead letters',
        'Deliveries and failures per channel',
        'Detect queue: age of oldest message (s)',
        'Findings stream lag: iterator age (ms)',
        'Lambda duration (p99, ms)',
        'Lambda errors',
        'Lambda throttles',
        'Events evaluated per stage',
        'Findings per stage and mode',
        'Evaluation latency per use case (average, ms)',
        'DynamoDB calls per use case',
        'Look-up failures',
        'Heartbeat: minutes since the last CloudTrail event and canary',
        'Health problems found by the heartbeat',
        'Alarms',
      ]),
    );
    const widget = (title: string) => body().widgets.find((w) => w.properties.title === title)!;
    expect(JSON.stringify(widget('Events evaluated per use case').properties.metrics)).toContain(`SEARCH('{Buildwatch,service,useCase} MetricName=\\"EventsEvaluated\\"', 'Sum', 300)`);
    const alerts = widget('Alerts by severity').properties.metrics!;
    expect(alerts.map((m) => m.slice(0, 8))).toEqual(
      ['info', 'low', 'medium', 'high', 'critical'].map((severity) => ['Buildwatch', 'Findings', 'mode', 'alert', 'service', 'buildwatch-detect', 'severity', severity]),
    );
    expect(JSON.stringify(widget('Dead letters').properties.metrics)).toContain('ApproximateNumberOfMessagesVisible');
    expect(JSON.stringify(widget('Findings stream lag: iterator age (ms)').properties.metrics)).toContain('IteratorAge');
    const functionNames = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName ?? '').startsWith('buildwatch-')).length;
    expect(widget('Lambda errors').properties.metrics).toHaveLength(functionNames);
  });

  it('shows every alarm of the stack, in the status widget and as an alarm widget', () => {
    const alarmIds = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([id]) => `{GetAtt:${id}}`).sort();
    expect(alarmIds.length).toBeGreaterThan(5);
    const widgets = body().widgets;
    expect([...(widgets.find((w) => w.properties.title === 'Alarms')?.properties.alarms ?? [])].sort()).toEqual(alarmIds);
    expect(widgets.flatMap((w) => w.properties.annotations?.alarms ?? []).sort()).toEqual(alarmIds);
  });

  it('lays widgets out on the 24-column grid without overlap', () => {
    const widgets = body().widgets;
    for (const w of widgets) expect(w.x + w.width).toBeLessThanOrEqual(24);
    for (const [i, a] of widgets.entries()) {
      for (const b of widgets.slice(i + 1)) {
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap, `${a.properties.title} overlaps ${b.properties.title}`).toBe(false);
      }
    }
  });

  it('keeps cdk-nag AwsSolutions clean', () => {
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app).violations).toEqual([]);
  });
});
