/**
 * Lambda bundle sizes and cold import times (issue #15, goal 4: detect bundle <= 600 KB, cold import
 * <= 1.3x a bundle of only the AWS SDK clients it uses).
 *
 * The bundles measured are the synthesized assets: the app (bin/app.ts, what `cdk synth` runs) is
 * synthesized once into a temporary directory, so what is measured is what would be deployed, with
 * the stack's own esbuild options, defines and banner, and no second copy of those options here to
 * drift from lib/constructs/handler-function.ts. BENCH_CDK_OUT=DIR measures an existing synthesis.
 *
 * The SDK-only bundle of a function is built in the same run: the @aws-sdk imports of the project
 * files in the asset's source map (the files the asset was built from), re-exported from one entry and
 * bundled with esbuild with the options the stack gives NodejsFunction (bundlingOptions), translated
 * the way NodejsFunction translates them into esbuild flags.
 *
 * Cold import: a fresh `node` process per import, with the function's NODE_OPTIONS and environment,
 * timing `await import(bundle)` inside the process (node's own start-up is the same for both and
 * not counted); the median of several runs, the bundles alternating.
 *
 * The alternative to bundling the pinned SDK, for the detect function: the same entry built with the
 * same options but `@aws-sdk/*` external, imported from inside the project so that the SDK resolves
 * from its node_modules, as Lambda's runtime would resolve it from /var/runtime/node_modules. Its
 * size is also the function's size without the SDK (its own code and other dependencies).
 */
import { execFile as execFileCallback } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import ts from 'typescript';
import { loadConfig } from '../lambdas/config/config.js';
import { bundlingOptions, handlerEntry } from '../lib/constructs/handler-function.js';

const execFile = promisify(execFileCallback);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const BUNDLE_TARGETS = { detectBytes: 600 * 1024, coldImportRatio: 1.3 } as const;

export interface BundleFigures {
  readonly functionName: string;
  readonly bytes: number;
  readonly sdkOnlyBytes: number;
  /** The @aws-sdk modules (and names) the function imports. */
  readonly sdkImports: Record<string, string[]>;
  /** Medians of `await import(bundle)` in fresh processes: wall-clock time, and CPU time (user + system). */
  readonly coldImport: ImportTime;
  readonly sdkOnlyColdImport: ImportTime;
  /** The same function with `@aws-sdk/*` external (measured for the functions given `externalSdk`). */
  readonly externalSdk?: ExternalSdkFigures;
  /** Its import without --enable-source-maps in NODE_OPTIONS (measured with `externalSdk`): node parses the map at load. */
  readonly coldImportWithoutSourceMaps?: ImportTime;
}

export interface ExternalSdkFigures {
  /** The bundle without the SDK: the function's own code and its other dependencies. */
  readonly bytes: number;
  /** Its import, the SDK loaded from the project's node_modules. */
  readonly coldImport: ImportTime;
}

export interface ImportTime {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface BundleReport {
  readonly source: string;
  readonly functions: BundleFigures[];
}

interface SynthesizedFunction {
  readonly functionName: string;
  readonly bundle: string;
  readonly environment: Record<string, string>;
}

/** Synthesizes the app into dir (as `cdk synth -o dir` does: the CLI only sets CDK_OUTDIR and runs the app). */
async function synthesize(dir: string): Promise<void> {
  await execFile(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bin', 'app.ts')], {
    cwd: ROOT,
    env: { ...process.env, CDK_OUTDIR: dir },
    maxBuffer: 64 * 1024 * 1024,
  });
}

interface TemplateFunction {
  readonly Type: string;
  readonly Properties?: { FunctionName?: unknown; Code?: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } };
}

/** The Lambda functions of the synthesized stack and their asset bundles. */
function synthesizedFunctions(dir: string): SynthesizedFunction[] {
  // One template per stack (the stack name can be changed with the buildwatch:stackName context).
  const templates = readdirSync(dir).filter((name) => name.endsWith('.template.json'));
  if (templates.length === 0) throw new Error(`${dir}: no *.template.json (not a cdk synthesis?)`);
  const resources = templates.flatMap((name) => Object.entries((JSON.parse(readFileSync(join(dir, name), 'utf8')) as { Resources?: Record<string, TemplateFunction> }).Resources ?? {}));
  const functions: SynthesizedFunction[] = [];
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const key = resource.Properties?.Code?.S3Key;
    if (typeof key !== 'string' || !key.endsWith('.zip')) continue;
    const bundle = join(dir, `asset.${key.slice(0, -'.zip'.length)}`, 'index.mjs');
    if (!existsSync(bundle)) continue;
    const name = resource.Properties?.FunctionName;
    // Tokens (Ref, GetAtt) stand for names the import does not resolve: any string will do.
    const environment: Record<string, string> = {};
    for (const [variable, value] of Object.entries(resource.Properties?.Environment?.Variables ?? {})) environment[variable] = typeof value === 'string' ? value : `bench-${variable.toLowerCase()}`;
    functions.push({ functionName: typeof name === 'string' ? name : logicalId, bundle, environment });
  }
  return functions.sort((a, b) => a.functionName.localeCompare(b.functionName));
}

/** The project's own source files a bundle was built from (from its source map). */
function projectSources(bundle: string): string[] {
  const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
  return map.sources
    .map((source) => resolve(dirname(bundle), source))
    .map((path) => {
      // The asset was bundled from the project root; its map's paths are relative to the staging directory.
      const inProject = path.lastIndexOf('/lambdas/');
      return inProject >= 0 ? join(ROOT, path.slice(inProject + 1)) : path;
    })
    .filter((path) => path.startsWith(join(ROOT, 'lambdas')) && existsSync(path));
}

/** The value (not type-only) names each file imports from @aws-sdk packages. */
export function sdkImportsOf(files: readonly string[]): Map<string, Set<string>> {
  const imports = new Map<string, Set<string>>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const module = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (!module.startsWith('@aws-sdk/') || !clause || clause.isTypeOnly) continue;
      const names = imports.get(module) ?? new Set<string>();
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) if (!element.isTypeOnly) names.add((element.propertyName ?? element.name).text);
      } else if (bindings) {
        names.add('*');
      }
      if (clause.name) names.add('default');
      if (names.size > 0) imports.set(module, names);
    }
  }
  return imports;
}

/** An entry that re-exports exactly these names (so nothing else of the SDK is kept). */
function sdkOnlyEntry(imports: Map<string, Set<string>>): string {
  return [...imports]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([module, names], i) => {
      const named = [...names].filter((name) => name !== '*' && name !== 'default').sort();
      const lines = named.length > 0 ? [`export { ${named.join(', ')} } from '${module}';`] : [];
      if (names.has('*')) lines.push(`export * as sdk${i} from '${module}';`);
      if (names.has('default')) lines.push(`export { default as sdkDefault${i} } from '${module}';`);
      return lines.join('\n');
    })
    .join('\n');
}

/** esbuild options equal to the flags NodejsFunction builds from the stack's bundlingOptions. */
export function stackEsbuildOptions(): BuildOptions {
  const options = bundlingOptions(loadConfig(join(ROOT, 'buildwatch.config.json')));
  return {
    bundle: true,
    platform: 'node',
    format: options.format === 'esm' ? 'esm' : 'cjs',
    target: options.target ?? 'node22',
    minify: Boolean(options.minify),
    sourcemap: Boolean(options.sourceMap),
    sourcesContent: options.sourcesContent ?? true,
    mainFields: [...(options.mainFields ?? [])],
    external: [...(options.externalModules ?? [])],
    define: { ...(options.define ?? {}) },
    ...(options.banner ? { banner: { js: options.banner } } : {}),
    logLevel: 'error',
  };
}

/** Bundles source (resolved from the project root) with the stack's options. */
async function buildLikeTheStack(source: string, outfile: string): Promise<void> {
  await build({ ...stackEsbuildOptions(), stdin: { contents: source, resolveDir: ROOT, sourcefile: 'sdk-only.ts', loader: 'ts' }, outfile });
}

/** The SDK the Lambda runtime provides (/var/runtime/node_modules): what an external-SDK bundle leaves out. */
export const RUNTIME_SDK = '@aws-sdk/*';

/** The function's environment without --enable-source-maps (the stack sets it in NODE_OPTIONS). */
function withoutSourceMaps(environment: Record<string, string>): Record<string, string> {
  const { NODE_OPTIONS: options = '', ...rest } = environment;
  const kept = options.split(/\s+/).filter((option) => option !== '' && option !== '--enable-source-maps');
  return { ...rest, ...(kept.length > 0 ? { NODE_OPTIONS: kept.join(' ') } : {}) };
}

/** Bundles entry with the stack's options, but the SDK left to be resolved at run time. */
async function buildWithExternalSdk(entry: string, outfile: string): Promise<void> {
  const options = stackEsbuildOptions();
  await build({ ...options, entryPoints: [entry], external: [...(options.external ?? []), RUNTIME_SDK], outfile });
}

/** The input files of a handler's bundle and the bytes each adds (esbuild's metafile; nothing written). */
export async function bundleInputs(entry: string): Promise<Map<string, number>> {
  const result = await build({ ...stackEsbuildOptions(), entryPoints: [entry], outfile: join(tmpdir(), 'buildwatch-bundle-inputs', 'index.mjs'), write: false, metafile: true });
  const inputs = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) for (const [path, input] of Object.entries(output.inputs)) inputs.set(path, (inputs.get(path) ?? 0) + input.bytesInOutput);
  return inputs;
}

/**
 * Wall-clock and CPU milliseconds `await import(bundle)` takes in a fresh node process. CPU time is
 * what a Lambda init with its fraction of a vCPU pays for, and does not grow with other processes'
 * load on the machine running the bench; wall-clock time does.
 */
async function coldImport(bundle: string, environment: Record<string, string>): Promise<ImportTime> {
  const script = [
    'const wall = performance.now(); const cpu = process.cpuUsage();',
    'await import(process.argv[1]);',
    'const used = process.cpuUsage(cpu);',
    'process.stdout.write(JSON.stringify({ wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 }));',
  ].join(' ');
  const { stdout } = await execFile(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(bundle).href], {
    env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-1', ...environment },
  });
  const time = JSON.parse(stdout) as Partial<ImportTime>;
  if (typeof time.wallMs !== 'number' || typeof time.cpuMs !== 'number') throw new Error(`${bundle}: unexpected output of the import timing: ${stdout.slice(0, 200)}`);
  return { wallMs: time.wallMs, cpuMs: time.cpuMs };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
};

const medianTime = (times: ImportTime[]): ImportTime => ({ wallMs: median(times.map((t) => t.wallMs)), cpuMs: median(times.map((t) => t.cpuMs)) });

export interface BundleOptions {
  /** An existing synthesis to measure (default: synthesize into a temporary directory). */
  readonly cdkOut?: string;
  /** Fresh processes per bundle for the cold import median. */
  readonly runs?: number;
  /** Only these functions (default: all). */
  readonly only?: readonly string[];
  /** Functions (by name) to measure with the SDK external too, and their entries (default: buildwatch-detect). */
  readonly externalSdk?: Readonly<Record<string, string>>;
}

/** The detect function: the one whose bundle issue #15 sets a target for. */
export const DETECT_FUNCTION = 'buildwatch-detect';

export async function measureBundles(options: BundleOptions = {}): Promise<BundleReport> {
  const work = mkdtempSync(join(tmpdir(), 'buildwatch-bundle-'));
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const externalDir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'buildwatch-bundle-external-'));
  try {
    const cdkOut = options.cdkOut ?? join(work, 'cdk.out');
    if (!options.cdkOut) await synthesize(cdkOut);
    const runs = options.runs ?? 7;
    const externalSdk = options.externalSdk ?? { [DETECT_FUNCTION]: handlerEntry('detect') };
    const figures: BundleFigures[] = [];
    for (const fn of synthesizedFunctions(cdkOut)) {
      if (options.only && !options.only.includes(fn.functionName)) continue;
      const imports = sdkImportsOf(projectSources(fn.bundle));
      const sdkDir = join(work, `sdk-only-${fn.functionName}`);
      mkdirSync(sdkDir, { recursive: true });
      const sdkBundle = join(sdkDir, 'index.mjs');
      await buildLikeTheStack(sdkOnlyEntry(imports), sdkBundle);
      // Inside the project (its node_modules are where the import finds the SDK), removed below.
      const externalEntry = externalSdk[fn.functionName];
      const externalBundle = externalEntry ? join(externalDir, fn.functionName, 'index.mjs') : undefined;
      if (externalEntry && externalBundle) await buildWithExternalSdk(externalEntry, externalBundle);
      // The external-SDK function's own bundle is also imported without source maps (what they cost at load).
      const withoutMaps = externalBundle ? withoutSourceMaps(fn.environment) : undefined;
      const timed: { readonly bundle: string; readonly environment: Record<string, string> }[] = [
        { bundle: fn.bundle, environment: fn.environment },
        { bundle: sdkBundle, environment: fn.environment },
        ...(externalBundle ? [{ bundle: externalBundle, environment: fn.environment }] : []),
        ...(withoutMaps ? [{ bundle: fn.bundle, environment: withoutMaps }] : []),
      ];
      const times = timed.map((): ImportTime[] => []);
      for (const { bundle, environment } of timed) await coldImport(bundle, environment); // warm the file cache for all
      for (let i = 0; i < runs; i += 1) {
        for (const [index, { bundle, environment }] of timed.entries()) times[index]?.push(await coldImport(bundle, environment));
      }
      const [own = [], sdk = [], external = [], unmapped = []] = times;
      figures.push({
        functionName: fn.functionName,
        bytes: statSync(fn.bundle).size,
        sdkOnlyBytes: statSync(sdkBundle).size,
        sdkImports: Object.fromEntries([...imports].map(([module, names]) => [module, [...names].sort()])),
        coldImport: medianTime(own),
        sdkOnlyColdImport: medianTime(sdk),
        ...(externalBundle ? { externalSdk: { bytes: statSync(externalBundle).size, coldImport: medianTime(external) } } : {}),
        ...(withoutMaps ? { coldImportWithoutSourceMaps: medianTime(unmapped) } : {}),
      });
    }
    return { source: options.cdkOut ? `synthesis in ${options.cdkOut}` : 'fresh synthesis of bin/app.ts', functions: figures };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(externalDir, { recursive: true, force: true });
  }
}

export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** Lines for the bench output: every function's size and cold import against its SDK-only bundle. */
export function bundleLines(report: BundleReport): string[] {
  const ms = (time: ImportTime): string => `${time.cpuMs.toFixed(0).padStart(4)} ms CPU ${time.wallMs.toFixed(0).padStart(4)} ms wall`;
  const lines = [`bundles (${report.source}; cold import: medians over fresh node processes with the function's NODE_OPTIONS; KB = 1,024 bytes):`];
  lines.push(`  ${'function'.padEnd(30)} ${'size'.padStart(8)}  ${'cold import'.padEnd(24)} | ${'SDK-only bundle'.padEnd(33)} | ratio CPU, wall`);
  for (const fn of report.functions) {
    lines.push(
      `  ${fn.functionName.padEnd(30)} ${kb(fn.bytes).padStart(8)}  ${ms(fn.coldImport)} | ${kb(fn.sdkOnlyBytes).padStart(7)} ${ms(fn.sdkOnlyColdImport)} | ${(fn.coldImport.cpuMs / fn.sdkOnlyColdImport.cpuMs).toFixed(2)}x, ${(fn.coldImport.wallMs / fn.sdkOnlyColdImport.wallMs).toFixed(2)}x`,
    );
    const external = fn.externalSdk;
    if (external) {
      lines.push(
        `  ${`  ${RUNTIME_SDK} external`.padEnd(30)} ${kb(external.bytes).padStart(8)}  ${ms(external.coldImport)} | the SDK from node_modules (as from Lambda's /var/runtime/node_modules): ${(external.coldImport.cpuMs / fn.coldImport.cpuMs).toFixed(2)}x, ${(external.coldImport.wallMs / fn.coldImport.wallMs).toFixed(2)}x the bundled`,
      );
    }
  }
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await measureBundles({ ...(process.env['BENCH_CDK_OUT'] ? { cdkOut: resolve(process.env['BENCH_CDK_OUT']) } : {}) });
  for (const line of bundleLines(report)) console.log(line);
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
}
