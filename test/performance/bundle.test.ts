/**
 * The Lambda bundles (issue #15, goal 4), built with the stack's own esbuild options:
 * - zod's locales stay out: `import * as z from 'zod'` lets esbuild drop the unused `z.locales`
 *   namespace (264 KB of the detect bundle), while `import { z } from 'zod'` keeps every locale;
 * - the detect function's EC2 client is bundled but not evaluated when the handler is imported
 *   (deferred-ec2-lookup-clients.ts): a probe added to client modules records their evaluation, and
 *   a fresh node process imports the bundle, then makes an EC2 look-up the same way.
 */
import { execFile as execFileCallback } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleInputs, stackEsbuildOptions } from '../../bench/bundle.js';
import { handlerEntry, PROJECT_ROOT } from '../../lib/constructs/handler-function.js';

const execFile = promisify(execFileCallback);

describe('Lambda bundles', () => {
  for (const name of ['detect', 'notify', 'heartbeat'] as const) {
    it(`${name}: zod without its locales, except the English messages`, { timeout: 60_000 }, async () => {
      const inputs = [...(await bundleInputs(handlerEntry(name)))].filter(([, bytes]) => bytes > 0).map(([path]) => path);
      // The bundle does use zod (so the check below is about something that is there).
      expect(inputs.some((path) => /node_modules\/zod\/v4\/core\//.test(path))).toBe(true);
      // The locales' index is the namespace object (a few bytes) a module evaluated on first use keeps; the locales are what weigh.
      const locales = inputs.filter((path) => /node_modules\/zod\/v4\/locales\//.test(path) && !path.endsWith('/locales/index.js'));
      expect(locales.map((path) => path.replace(/^.*\/locales\//, ''))).toEqual(['en.js']);
    });
  }
});

/** The client class modules probed: the detect function's, evaluated at import, and EC2's, on first use. */
const EAGER = ['client-dynamodb/dist-es/DynamoDBClient.js', 'client-sqs/dist-es/SQSClient.js', 'client-s3/dist-es/S3Client.js', 'client-codebuild/dist-es/CodeBuildClient.js'];
const DEFERRED = ['client-ec2/dist-es/EC2Client.js'];

/** Appends to each probed module a statement recording that the module was evaluated. */
const probe: Plugin = {
  name: 'evaluation-probe',
  setup(builder) {
    builder.onLoad({ filter: /@aws-sdk\/client-[a-z0-9-]+\/dist-es\/[A-Za-z0-9]+Client\.js$/ }, (args) => {
      const module = [...EAGER, ...DEFERRED].find((path) => args.path.endsWith(`@aws-sdk/${path}`));
      if (!module) return undefined;
      return { contents: `${readFileSync(args.path, 'utf8')}\n(globalThis.evaluatedClients ??= []).push(${JSON.stringify(module)});`, loader: 'js', resolveDir: join(args.path, '..') };
    });
  },
};

/** The modules evaluated by importing the bundle, and then by an EC2 look-up through withDeferredEc2Lookups. */
const script = [
  'const detect = await import(process.argv[1]);',
  'const atImport = [...(globalThis.evaluatedClients ?? [])];',
  'const lookups = await import(process.argv[2]);',
  "await lookups.awsLookupsFor(lookups.parseConfig({}), lookups.withDeferredEc2Lookups).ec2Instance({ instanceId: 'i-0123456789abcdef0', region: 'eu-west-1' });",
  'process.stdout.write(JSON.stringify({ handler: typeof detect.handler, atImport, afterLookup: globalThis.evaluatedClients ?? [] }));',
].join(' ');

describe('detect bundle: the EC2 client evaluated on first use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buildwatch-deferred-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('evaluates the other clients at import, EC2\'s only when an EC2 look-up needs it', { timeout: 120_000 }, async () => {
    const options = { ...stackEsbuildOptions(), plugins: [probe], sourcemap: false, absWorkingDir: PROJECT_ROOT };
    await build({ ...options, entryPoints: [handlerEntry('detect')], outfile: join(dir, 'detect', 'index.mjs') });
    // The same look-ups in a bundle of their own, to make a look-up with (the handler's are inside it).
    await build({
      ...options,
      stdin: {
        contents: [
          "export { awsLookupsFor } from './lambdas/handlers/lookup-clients.ts';",
          "export { withDeferredEc2Lookups } from './lambdas/handlers/deferred-ec2-lookup-clients.ts';",
          "export { parseConfig } from './lambdas/config/config.ts';",
        ].join('\n'),
        resolveDir: PROJECT_ROOT,
        loader: 'ts',
      },
      outfile: join(dir, 'lookups', 'index.mjs'),
    });
    const { stdout } = await execFile(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(join(dir, 'detect', 'index.mjs')).href, pathToFileURL(join(dir, 'lookups', 'index.mjs')).href], {
      // Dummy credentials and an endpoint that refuses at once: the look-up is made (and fails fast), which is all it takes.
      env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
    });
    const result = JSON.parse(stdout) as { handler: string; atImport: string[]; afterLookup: string[] };
    expect(result.handler).toBe('function');
    // The probe works: the other clients are evaluated by the import itself; EC2's is not.
    expect([...result.atImport].sort()).toEqual([...EAGER].sort());
    // The EC2 look-up (in the look-ups' bundle) evaluated EC2's client.
    expect(result.afterLookup.filter((module) => DEFERRED.includes(module))).toEqual(DEFERRED);
  });
});
