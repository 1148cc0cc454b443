/**
 * `npm run new-use-case -- <stage> <name>`: scaffolds lambdas/use-cases/<stage>/<name>/ with metadata,
 * an EventBridge pattern for a typical API call of the stage, a logic stub, and two labelled cases:
 * a positive one that fails until the logic is written, and a negative one (a refused call). It
 * registers the use case in lambdas/use-cases/index.ts (one import, one array entry). Nothing else
 * changes: the stack creates the rule and test/use-cases.test.ts runs the cases.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGES, type QuestionId, type Stage } from '../lambdas/engine/model.js';

/** A typical management API call of each stage: the scaffold's example, to replace with yours. */
const EXAMPLES: Record<Stage, { service: string; eventName: string; answers: QuestionId; requestParameters: Record<string, string>; mitre: string }> = {
  source: { service: 'codecommit', eventName: 'DeleteRepository', answers: 'source.protection-change', requestParameters: { repositoryName: 'payments-service' }, mitre: 'T1485' },
  dependencies: {
    service: 'codeartifact',
    eventName: 'AssociateExternalConnection',
    answers: 'dependencies.library-change',
    requestParameters: { domain: 'acme', repository: 'internal-releases', externalConnection: 'public:npmjs' },
    mitre: 'T1195.001',
  },
  build: { service: 'codebuild', eventName: 'DeleteProject', answers: 'build.server-change', requestParameters: { name: 'payments-service-build' }, mitre: 'T1195.002' },
  artifact: { service: 'codeartifact', eventName: 'DeleteRepository', answers: 'artifact.hash-mismatch', requestParameters: { domain: 'acme', repository: 'internal-releases' }, mitre: 'T1485' },
  monitor: { service: 'cloudtrail', eventName: 'DeleteTrail', answers: 'monitor.tamper', requestParameters: { name: 'management-events' }, mitre: 'T1562.008' },
};

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
}

export interface Scaffolded {
  readonly id: string;
  readonly folder: string;
  readonly files: readonly string[];
}

/** `artifact` + `repository-deleted` → `artifactRepositoryDeleted`. */
function identifierOf(stage: string, name: string): string {
  return stage + name.split('-').map((part) => part[0]!.toUpperCase() + part.slice(1)).join('');
}

function titleOf(name: string): string {
  const words = name.split('-').join(' ');
  return `TODO: ${words[0]!.toUpperCase()}${words.slice(1)}`;
}

/** Writes the folder and registers the use case; refuses an invalid stage or name, or one that exists. */
export function scaffoldUseCase(root: string, stage: string, name: string): Scaffolded {
  if (!(STAGES as readonly string[]).includes(stage)) throw new ScaffoldError(`unknown stage "${stage}": one of ${STAGES.join(', ')}`);
  if (!NAME.test(name)) throw new ScaffoldError(`invalid name "${name}": lower-case words joined by "-", named by behaviour (e.g. repository-deleted)`);
  const id = `${stage}.${name}`;
  const folder = join(root, 'lambdas', 'use-cases', stage, name);
  const indexFile = join(root, 'lambdas', 'use-cases', 'index.ts');
  if (existsSync(folder)) throw new ScaffoldError(`${relative(root, folder)} exists already: choose another name`);
  const index = readFileSync(indexFile, 'utf8');
  const identifier = identifierOf(stage, name);
  const importPath = `./${stage}/${name}/use-case.js`;
  if (index.includes(importPath) || new RegExp(`\\b${identifier}\\b`).test(index)) throw new ScaffoldError(`${id} is registered already in lambdas/use-cases/index.ts`);

  const example = EXAMPLES[stage as Stage];
  mkdirSync(join(folder, 'cases'), { recursive: true });
  const files = [
    [join(folder, 'use-case.ts'), useCaseSource(id, stage as Stage, name, example)],
    [join(folder, 'cases', `reports-${kebab(example.eventName)}.json`), `${JSON.stringify(positiveCase(example), null, 2)}\n`],
    [join(folder, 'cases', `ignores-refused-${kebab(example.eventName)}.json`), `${JSON.stringify(negativeCase(example), null, 2)}\n`],
  ] as const;
  for (const [file, text] of files) writeFileSync(file, text, { flag: 'wx' });
  writeFileSync(indexFile, register(index, identifier, importPath));
  return { id, folder, files: [...files.map(([file]) => file), indexFile] };
}

/** Adds the import after the last use-case import and the identifier at the end of the list. */
function register(index: string, identifier: string, importPath: string): string {
  const lines = index.split('\n');
  const lastImport = lines.reduce((last, line, i) => (/^import \w+ from '\.\/.+\/use-case\.js';$/.test(line) ? i : last), -1);
  if (lastImport < 0) throw new ScaffoldError('lambdas/use-cases/index.ts: no use-case import found to add to');
  lines.splice(lastImport + 1, 0, `import ${identifier} from '${importPath}';`);
  const list = lines.findIndex((line) => line.startsWith('export const useCases'));
  const close = lines.findIndex((line, i) => i >= list && line.includes('];'));
  if (list < 0 || close < 0) throw new ScaffoldError('lambdas/use-cases/index.ts: the useCases list was not found');
  lines[close] = lines[close]!.replace(/,?\s*\];/, `, ${identifier}];`);
  return lines.join('\n');
}

function kebab(eventName: string): string {
  return eventName.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function useCaseSource(id: string, stage: Stage, name: string, example: (typeof EXAMPLES)[Stage]): string {
  return `/**
 * ${id}: TODO say in two sentences what this use case detects and why it matters.
 * Scaffolded by \`npm run new-use-case -- ${stage} ${name}\`; see the README's "Write your first use case".
 */
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, type Observation } from '../../../engine/use-case.js';

/**
 * The logic: one event in, an observation out (or undefined: nothing to report). The engine applies
 * mode, severity overrides, exclusions, suppressions, staging and dedup windows from configuration.
 */
function observe(event: PipelineEvent): Observation | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  // TODO: read what the call did (record.requestParameters, record.responseElements) with stringAt()
  // from '../../../engine/pipeline-event.js', decide whether it is worth a finding, and return
  // { resource, summary, evidence }. Until then the positive case in cases/ fails.
  return undefined;
}

export default defineUseCase({
  metadata: {
    id: '${id}',
    // The question this use case answers (stable ids: lambdas/engine/model.ts QUESTIONS).
    answers: '${example.answers}',
    title: '${titleOf(name)}',
    stage: '${stage}',
    description: 'TODO: what the use case detects, and why it matters (alerts show this as "why it matters").',
    severity: 'medium',
    defaultMode: 'alert',
    // 1-5: how much risk it removes, how much it costs to run and tune (the catalogue sorts by them).
    riskReduction: 3,
    effort: 2,
    mitre: ['${example.mitre}'],
    falsePositives: ['TODO: who does this legitimately, and how to tell.'],
    runbook: 'TODO: the first triage step, as one sentence. Then what to do next.',
    references: [],
  },
  // An EventBridge pattern (data): the stack makes the rule from it, replay routes with it.
  pattern: {
    source: ['aws.${example.service}'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['${example.service}.amazonaws.com'], eventName: ['${example.eventName}'], errorCode: [{ exists: false }] },
  },
  logic: { kind: 'match', evaluate: observe },
});
`;
}

let eventCounter = 0;
function exampleEvent(example: (typeof EXAMPLES)[Stage], errorCode?: string): Record<string, unknown> {
  eventCounter += 1;
  const suffix = String(eventCounter).padStart(12, '0');
  return {
    version: '0',
    id: `5c1d0b6e-3f0a-4b7e-9d2c-${suffix}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: `aws.${example.service}`,
    account: '111122223333',
    time: '2026-10-20T14:02:11Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.10',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROA3RIXI6RYK5M5UUXZO:mallory',
        arn: 'arn:aws:sts::111122223333:assumed-role/developer/mallory',
        accountId: '111122223333',
        sessionContext: { attributes: { mfaAuthenticated: 'false', creationDate: '2026-10-20T13:58:40Z' } },
      },
      eventTime: '2026-10-20T14:02:11Z',
      eventSource: `${example.service}.amazonaws.com`,
      eventName: example.eventName,
      awsRegion: 'eu-west-1',
      sourceIPAddress: '198.51.100.77',
      userAgent: 'aws-cli/2.17.0',
      ...(errorCode ? { errorCode, errorMessage: `User is not authorized to perform: ${example.service}:${example.eventName}` } : {}),
      requestParameters: example.requestParameters,
      responseElements: null,
      requestID: `0e9b7d3c-2a1f-4c5e-8b6d-${suffix}`,
      eventID: `7d2e4f60-1b3c-4a5d-9e8f-${suffix}`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '111122223333',
      eventCategory: 'Management',
    },
  };
}

function positiveCase(example: (typeof EXAMPLES)[Stage]): Record<string, unknown> {
  return {
    description: `A developer's ${example.eventName}: reported. TODO: say why this one matters, and add "resource" and a "summary" fragment to the expectation.`,
    events: [exampleEvent(example)],
    expect: [{ mode: 'alert' }],
  };
}

function negativeCase(example: (typeof EXAMPLES)[Stage]): Record<string, unknown> {
  return {
    description: `The same ${example.eventName}, refused by IAM: nothing changed, nothing to report.`,
    events: [exampleEvent(example, 'AccessDenied')],
    expect: [],
  };
}

/** The repository root (this file is bin/new-use-case.ts). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function main(argv: readonly string[]): number {
  const [stage, name, ...rest] = argv;
  if (!stage || !name || rest.length > 0) {
    process.stderr.write(`usage: npm run new-use-case -- <stage> <name>   (stage: ${STAGES.join(' | ')}; name: e.g. repository-deleted)\n`);
    return 2;
  }
  try {
    const created = scaffoldUseCase(ROOT, stage, name);
    process.stdout.write(`${created.id}: created\n${created.files.map((file) => `  ${relative(ROOT, file)}`).join('\n')}\n`);
    process.stdout.write(`Next: write the logic in ${relative(ROOT, created.files[0]!)}, then run: npx vitest run test/use-cases.test.ts -t "${created.id}"\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`new-use-case: ${(error as Error).message}\n`);
    return error instanceof ScaffoldError ? 2 : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
