/**
 * CDK app entry (`cdk synth` / `cdk deploy`, see cdk.json): the validated configuration and the
 * use-case list make the Buildwatch stack (with an `organization` section: the central stack, the
 * member stack and the member StackSet, lib/app-stacks.ts); cdk-nag's AwsSolutions pack and the deploy-quota checks
 * run as CDK validation plugins, so any unacknowledged finding (error or warning) or quota error
 * fails the synthesis.
 *
 * BUILDWATCH_CONFIG names the configuration file (default: buildwatch.config.json, optional).
 * Context `buildwatch:stackName` overrides the stack name (default Buildwatch; the organisation's
 * other stacks are <name>Member and <name>MemberStackSet).
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, type BuildwatchConfig } from '../lambdas/config/config.js';
import { checkConfigAgainstCatalogue } from '../lambdas/use-cases/check-config.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { addBuildwatchStacks } from '../lib/app-stacks.js';
import { DeployQuotaChecks } from '../lib/quotas/deploy-quota-checks.js';

let config: BuildwatchConfig;
try {
  config = loadConfig(process.env.BUILDWATCH_CONFIG);
  checkConfigAgainstCatalogue(config, useCases, process.env.BUILDWATCH_CONFIG ?? DEFAULT_CONFIG_FILE);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const app = new App();
const stackName = (app.node.tryGetContext('buildwatch:stackName') as string | undefined) ?? 'Buildwatch';

addBuildwatchStacks(app, { config, useCases, stackName });
Tags.of(app).add('application', 'buildwatch');

// cdk-nag v3 is a policy-validation plugin: violations are reported after synthesis, and any
// violation makes the synthesis fail (in-process: an exception; under the CLI: exit code 1). The
// deploy-quota checks work the same way, for the limits CloudFormation would only hit at deploy time.
// Both check every stack of the app (central, member and StackSet alike).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new DeployQuotaChecks());
