/**
 * The StackSet that deploys the member stack to the organisation: service-managed permissions (the
 * organisation's trusted access), auto-deployment to accounts that join the organisational units, the
 * configured regions. Created in the management account or the StackSets delegated administrator
 * (the `callAs` follows), as a small stack of its own; the member template travels as its body, or
 * as a file asset in the bootstrap bucket (TemplateURL) once it outgrows what a body may hold.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, DefaultStackSynthesizer, Names, Stack, Stage, type StackProps } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { BuildwatchConfig, OrganizationConfig } from '../../lambdas/config/config.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { BuildwatchMemberStack } from '../member-stack.js';
import { QUOTAS } from '../quotas/limits.js';

/**
 * Member stacks check no bootstrap version: StackSet instances deploy into accounts nobody bootstrapped
 * (and the member stack has no assets to fetch).
 */
export function memberSynthesizer(): DefaultStackSynthesizer {
  return new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });
}

/**
 * The member template as the StackSet deploys it: synthesized in an app of its own (its own output
 * directory) from the same configuration and use cases, compact JSON, without path metadata.
 */
export function memberTemplateBody(config: BuildwatchConfig, useCases: readonly UseCase[], context: Record<string, unknown> = {}): string {
  const outdir = mkdtempSync(join(tmpdir(), 'buildwatch-member-'));
  try {
    const app = new App({ outdir, analyticsReporting: false, context, postCliContext: { 'aws:cdk:enable-path-metadata': false } });
    const stack = new BuildwatchMemberStack(app, 'BuildwatchMember', { config, useCases, synthesizer: memberSynthesizer() });
    const template: unknown = app.synth().getStackArtifact(stack.artifactId).template;
    return JSON.stringify(template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** `callAs`: a delegated administrator calls as one; the management account as itself. */
export function stackSetCaller(org: OrganizationConfig): 'SELF' | 'DELEGATED_ADMIN' {
  return org.delegatedAdminAccount && org.delegatedAdminAccount !== org.managementAccount ? 'DELEGATED_ADMIN' : 'SELF';
}

/** The account that administers the StackSet. */
export function stackSetAdministrator(org: OrganizationConfig): string {
  return org.delegatedAdminAccount ?? org.managementAccount;
}

export interface BuildwatchMemberStackSetProps extends StackProps {
  readonly config: BuildwatchConfig;
  /** The member template (memberTemplateBody). */
  readonly templateBody: string;
  /** Larger templates go by TemplateURL (default: CreateStackSet's TemplateBody limit). */
  readonly inlineTemplateLimit?: number;
}

export class BuildwatchMemberStackSet extends Stack {
  readonly stackSet: cloudformation.CfnStackSet;
  /** The member template as a file asset, when it is too large to travel inline. */
  readonly templateAsset: s3assets.Asset | undefined;

  constructor(scope: Construct, id: string, props: BuildwatchMemberStackSetProps) {
    super(scope, id, { description: 'Buildwatch: deploys the member stack to the organisational units (service-managed StackSet)', ...props });
    const org = props.config.organization;
    if (!org) throw new Error("the member StackSet needs the configuration's organization section");
    if (org.members.organizationalUnits.length === 0) throw new Error('organization.members.organizationalUnits is empty: deploy the member stack with `cdk deploy` in each listed account instead');

    const inline = Buffer.byteLength(props.templateBody) <= (props.inlineTemplateLimit ?? QUOTAS.stackSetTemplateBodyBytes.limit);
    this.templateAsset = inline ? undefined : templateFileAsset(this, props.templateBody);

    this.stackSet = new cloudformation.CfnStackSet(this, 'Members', {
      stackSetName: `${props.config.monitor.resourcePrefix}members`,
      description: 'Buildwatch member stacks: forwarding rules, heartbeat, read-only look-up role',
      permissionModel: 'SERVICE_MANAGED',
      callAs: stackSetCaller(org),
      // Accounts that join an OU get the member stack; an account that leaves loses it.
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      // The look-up and forwarding roles are named (the central stack names them).
      capabilities: ['CAPABILITY_NAMED_IAM'],
      // Operations queue instead of failing while another one runs.
      managedExecution: { Active: true },
      operationPreferences: { regionConcurrencyType: 'PARALLEL', maxConcurrentPercentage: 25, failureTolerancePercentage: 10 },
      stackInstancesGroup: [{ deploymentTargets: { organizationalUnitIds: [...org.members.organizationalUnits] }, regions: [...org.members.regions] }],
      ...(this.templateAsset ? { templateUrl: this.templateAsset.httpUrl } : { templateBody: props.templateBody }),
    });
  }
}

/**
 * The template as a file in the bootstrap bucket. Its source file is written into the app's output
 * directory (the cloud assembly, regenerated at each synth) rather than a temporary directory nobody
 * removes; it stays there because with asset staging off the asset points at it.
 */
function templateFileAsset(scope: Construct, body: string): s3assets.Asset {
  const outdir = Stage.of(scope)?.outdir;
  if (!outdir) throw new Error('the member StackSet must be created in an App (its template file goes into the cloud assembly)');
  const file = join(outdir, `${Names.uniqueId(scope)}.member.template.json`);
  writeFileSync(file, body);
  return new s3assets.Asset(scope, 'MemberTemplate', { path: file });
}
