/**
 * A Buildwatch Lambda: an ESM NodejsFunction (Node 22, arm64) with the validated configuration
 * inlined at bundle time, its own encrypted log group with a retention, and its own role with no
 * managed policy (only "write to this log group" plus what the caller grants).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { parseConfig, type BuildwatchConfig } from '../../lambdas/config/config.js';
import { validatedMetadata } from '../../lambdas/engine/use-case.js';
import { useCases } from '../../lambdas/use-cases/index.js';

/** The repository root (this file is lib/constructs/handler-function.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the Lambda entry points live. */
export function handlerEntry(name: 'detect' | 'notify' | 'heartbeat'): string {
  return resolve(PROJECT_ROOT, 'lambdas', 'handlers', `${name}.ts`);
}

/**
 * The bundle reads the configuration from this identifier (lambdas/handlers/runtime.ts), which esbuild
 * replaces with the JSON of the configuration as validated here: the Lambdas trust it without
 * building a schema at their cold start.
 */
export const CONFIG_DEFINE = 'BUILDWATCH_VALIDATED_CONFIG';

/**
 * Defined (true) in every bundle: the use cases' metadata was validated here, so the bundled use cases
 * take it as written (lambdas/engine/use-case.ts) instead of validating it at each cold start.
 */
export const CATALOGUE_DEFINE = 'BUILDWATCH_VALIDATED_CATALOGUE';

/** esbuild's ESM output has no `require`; some CommonJS dependencies still call it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __buildwatchCreateRequire } from 'node:module'; const require = __buildwatchCreateRequire(import.meta.url);";

/** The notify bundle reads the use cases' descriptions ("why it matters") from this literal. */
export const USE_CASE_NOTES_DEFINE = 'process.env.BUILDWATCH_USE_CASE_NOTES_JSON';

/** `defines`: more string literals to inline (JavaScript source, e.g. JSON.stringify(JSON.stringify(x))). */
export function bundlingOptions(config: BuildwatchConfig, defines: Record<string, string> = {}): nodejs.BundlingOptions {
  // The bundles validate neither the configuration nor the use cases' metadata (the catalogue they
  // bundle): check both here, whoever built the objects, so a malformed one stops the synth.
  const validConfig = parseConfig(config, 'stack configuration');
  for (const useCase of useCases) validatedMetadata(useCase.metadata);
  return {
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    // Bundle the pinned AWS SDK rather than the runtime's (whatever version that is that day).
    externalModules: [],
    define: { ...defines, [CONFIG_DEFINE]: JSON.stringify(JSON.stringify(validConfig)), [CATALOGUE_DEFINE]: 'true' },
  };
}

export interface HandlerFunctionProps {
  readonly entry: string;
  readonly config: BuildwatchConfig;
  readonly functionName: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Encrypts the log group (its key policy must let CloudWatch Logs use it; the stack adds that). */
  readonly key: kms.IKey;
  readonly logRetention?: logs.RetentionDays;
  /** More literals inlined at bundle time (see bundlingOptions). */
  readonly defines?: Record<string, string>;
  /** A fixed role name, for roles other accounts must name before they exist (default: generated). */
  readonly roleName?: string;
}

export class HandlerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: execution role`,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    // Instead of AWSLambdaBasicExecutionRole: the function writes to its own log group only.
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: props.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      bundling: bundlingOptions(props.config, props.defines),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
  }
}
