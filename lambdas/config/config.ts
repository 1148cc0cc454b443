/**
 * buildwatch.config.json: one file read by the CDK app and by the CLI. Every field has a default,
 * so an empty file (or none) is a valid configuration; unknown fields are rejected by name.
 */
import { readFileSync, existsSync } from 'node:fs';
import * as z from 'zod';
import { modeSchema, severitySchema } from '../engine/model.js';
import { describeIssues } from './suggest.js';

/** Dedup windows stay within a day, so a count update lands before the first finding's day is sealed. */
export const MAX_DEDUP_WINDOW_MINUTES = 1440;
/** Team names become SNS attribute values, topic names and construct ids. */
export const TEAM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const ACCOUNT_ID = /^\d{12}$/;
export const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/**
 * The schemas, built on first use rather than at import: zod builds many closures per schema, and
 * a Lambda runs with the configuration its stack validated at synth (handlers/runtime.ts), so its
 * cold start need not build them at all.
 */
function buildSchemas() {
  const nonEmpty = z.string().min(1);

  const dedupWindowSchema = z.number().int().min(0).max(MAX_DEDUP_WINDOW_MINUTES);
  const stagingDaysSchema = z.number().int().min(0).max(365);

  const buildProjectSchema = z.strictObject({
    name: nonEmpty,
    /** SBOM location templates: {project}, {buildId}, {buildUuid}, {buildNumber}; the first that exists wins. */
    sbom: z.array(z.string().regex(/^s3:\/\/[^/]+\/.+/, 's3://bucket/key template')).default([]),
  });

  const packageSchema = z.strictObject({
    format: nonEmpty,
    namespace: z.string().optional(),
    name: nonEmpty,
    /** The CodeBuild project whose outputs this package publishes. */
    buildProject: nonEmpty,
  });

  const artifactRepositorySchema = z.strictObject({
    domain: nonEmpty,
    repository: nonEmpty,
    packages: z.array(packageSchema).default([]),
  });

  const useCaseSettingsSchema = z.strictObject({
    mode: modeSchema.optional(),
    severity: severitySchema.optional(),
    learningDays: z.number().int().min(0).max(365).optional(),
    forgetAfterDays: z.number().int().min(1).max(3650).optional(),
    /** Principals (ARN, ARN glob with *, or principal key) this use case never reports. */
    excludePrincipals: z.array(nonEmpty).default([]),
    /** Use-case specific knobs, validated against the use case's own options schema. */
    options: z.record(z.string(), z.unknown()).default({}),
    /** Repeats (same use case, dedup key, mode and severity) within this many minutes of the first update its count instead of alerting. */
    dedupWindowMinutes: dedupWindowSchema.optional(),
    /** Days a newly enabled use case records attestations instead of alerts (overrides defaults.stagingDays). */
    stagingDays: stagingDaysSchema.optional(),
    /** Managed services that already answer this use case's question (e.g. "GuardDuty Stealth:IAMUser/CloudTrailLoggingDisabled"); shown by `buildwatch use-cases`. */
    coveredBy: z
      .union([nonEmpty, z.array(nonEmpty)])
      .transform((value) => (typeof value === 'string' ? [value] : value))
      .optional(),
  });

  const suppressionSchema = z.strictObject({
    useCase: nonEmpty,
    principal: z.string().optional(),
    resource: z.string().optional(),
    expires: z.iso.date(),
    reason: z.string().min(3),
  });

  /** A Slack channel authorised in AWS Chatbot (the workspace id comes from the Chatbot console). */
  const slackChannelSchema = z.strictObject({
    workspaceId: z.string().regex(/^[0-9A-Z]{1,255}$/, 'Slack workspace id as the AWS Chatbot console shows it, e.g. T07EA123LEP'),
    channelId: z.string().regex(/^[A-Za-z0-9]{1,255}$/, 'Slack channel id, e.g. C07EZ1ABC23'),
  });

  /** A Microsoft Teams channel authorised in AWS Chatbot. */
  const microsoftTeamsChannelSchema = z.strictObject({
    teamId: z.uuid(),
    tenantId: z.uuid(),
    /** The channel id as it appears (URL-encoded) in the channel's link, e.g. 19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2. */
    channelId: z.string().regex(/^[A-Za-z0-9\-_=+/.,%:@]{1,256}$/, 'Microsoft Teams channel id from the channel link'),
  });

  const endpointsShape = {
    /** E-mail addresses (each confirms its subscription once). */
    email: z.array(z.email()).default([]),
    /** HTTPS endpoints (a SIEM, a webhook relay); they confirm their subscription. */
    https: z.array(z.url({ protocol: /^https$/ })).default([]),
    /** SQS queues (their policy, and key policy if encrypted, must let SNS send). */
    sqs: z.array(z.string().regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/, 'SQS queue ARN')).default([]),
    /** Lambda functions (the stack lets the alerts topic invoke them). */
    lambda: z.array(z.string().regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$/, 'Lambda function ARN')).default([]),
    /** AWS Chatbot Slack channel: receives chat cards. */
    slack: slackChannelSchema.optional(),
    /** AWS Chatbot Microsoft Teams channel: receives chat cards. */
    microsoftTeams: microsoftTeamsChannelSchema.optional(),
  };

  const teamSchema = z.strictObject({
    /** Alerts of these accounts go to the team (organisation deployments), besides its resources below. */
    accounts: z.array(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id')).default([]),
    repositories: z.array(nonEmpty).default([]),
    buildProjects: z.array(nonEmpty).default([]),
    packages: z.array(nonEmpty).default([]),
    ...endpointsShape,
    /** The team's endpoints receive its alerts of this severity and above. */
    minSeverity: severitySchema.default('low'),
  });

  const securitySchema = z.strictObject({
    ...endpointsShape,
    /** Security receives every alert of this severity and above, whatever the team, and the direct tamper alerts. */
    minSeverity: severitySchema.default('high'),
  });

  /** The pipeline Buildwatch watches: what a use case means by "watched" (empty lists watch everything). */
  const pipelineSchema = z.strictObject({
    /** Repositories to watch; empty watches every repository. */
    repositories: z.array(nonEmpty).default([]),
    /** Build projects to watch; empty watches every project. */
    buildProjects: z.array(buildProjectSchema).default([]),
    signing: z
      .strictObject({
        kmsKeys: z.array(nonEmpty).default([]),
        signerProfiles: z.array(nonEmpty).default([]),
        certificates: z.array(nonEmpty).default([]),
      })
      .prefault({}),
    artifacts: z.array(artifactRepositorySchema).default([]),
  });

  /** A required field's message when it is absent: what is missing, in words, rather than a type error. */
  const missing = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? `missing: ${what}` : undefined) });
  const accountIdSchema = z.string().regex(ACCOUNT_ID, 'a 12-digit AWS account id');
  const requiredAccountId = (what: string) => z.string(missing(what)).regex(ACCOUNT_ID, 'a 12-digit AWS account id');
  const regionSchema = z.string().regex(REGION, 'an AWS region, e.g. eu-west-1');

  /** An account of the organisation: its name for findings, and the pipeline parts that live in it. */
  const organizationAccountSchema = z.strictObject({
    id: requiredAccountId('the account id'),
    /** Shown in findings and alerts next to the id ("tooling (111122223333)"). */
    name: z.string(missing('the account\'s name, shown in findings (e.g. "tooling")')).min(1),
    /** This account's pipeline: replaces the top-level `pipeline` for events of this account. */
    pipeline: pipelineSchema.optional(),
  });

  /**
   * One Buildwatch for an AWS Organization: the central stack (engine, tables, topics, ledger) in the
   * security account and region, a member stack (forwarding rules, look-up role, heartbeat source) in
   * every watched account and region. Absent: today's single-account stack.
   */
  const organizationSchema = z
    .strictObject({
      /** The organisation id: the central bus accepts events only from its accounts (aws:PrincipalOrgID). */
      id: z.string(missing('the organisation id (o-…), from `aws organizations describe-organization`')).regex(/^o-[a-z0-9]{10,32}$/, 'an organisation id, e.g. o-a1b2c3d4e5'),
      managementAccount: requiredAccountId("the organisation's management account id"),
      /** The delegated administrator of CloudFormation StackSets (service-managed), if not the management account. */
      delegatedAdminAccount: accountIdSchema.optional(),
      /** Where the central stack runs: the security-tooling account and its region. */
      central: z.strictObject(
        {
          account: requiredAccountId('the account of the central stack (the security-tooling account)'),
          region: z.string(missing('the region of the central stack and its event bus')).regex(REGION, 'an AWS region, e.g. eu-west-1'),
        },
        missing('the central account and region: {"account": "<12 digits>", "region": "<region>"}'),
      ),
      /** Where member stacks go: organisational units (StackSet auto-deployment) and/or listed accounts, in these regions. */
      members: z.strictObject(
        {
          organizationalUnits: z.array(z.string().regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, 'an OU id (ou-…) or root id (r-…)')).default([]),
          accounts: z.array(accountIdSchema).default([]),
          regions: z.array(regionSchema, missing('the regions to watch in every member account')).min(1, 'at least one region to watch'),
        },
        missing('the member targets: {"organizationalUnits": […], "accounts": […], "regions": […]}'),
      ),
      /** The organisation's accounts Buildwatch knows (names, per-account pipelines); "ours" for artifact.new-accessor. */
      accounts: z.array(organizationAccountSchema).default([]),
    })
    .superRefine((org, ctx) => {
      const seen = new Set<string>();
      org.accounts.forEach((account, index) => {
        if (seen.has(account.id)) ctx.addIssue({ code: 'custom', path: ['accounts', index, 'id'], message: `account ${account.id} is listed twice` });
        seen.add(account.id);
      });
      const regions = new Set<string>();
      org.members.regions.forEach((region, index) => {
        if (regions.has(region)) ctx.addIssue({ code: 'custom', path: ['members', 'regions', index], message: `region ${region} is listed twice` });
        regions.add(region);
      });
      if (org.members.organizationalUnits.length === 0 && org.members.accounts.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['members'], message: 'name the member targets: organizationalUnits (StackSet) or accounts (or both)' });
      }
    });

  const configSchema = z.strictObject({
    pipeline: pipelineSchema.prefault({}),
    /** Absent: one account and region (today's stack). Present: the central stack of an organisation. */
    organization: organizationSchema.optional(),
    monitor: z
      .strictObject({
        /**
         * Offline, names starting with it are the monitor's own; in the cloud the stack passes real names.
         * Every physical name is `<prefix><suffix>`: letters, digits and hyphens are valid in all of them,
         * and 30 characters leave room for the longest rule name within EventBridge's 64.
         */
        resourcePrefix: z
          .string()
          .min(1)
          .max(30)
          .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and hyphens only (it starts every queue, table, function and rule name)')
          .default('buildwatch-'),
      })
      .prefault({}),
    ledger: z
      .strictObject({
        /** The stack's seal key (output SealKeyArn): `verify` pins every seal to it by default. */
        sealKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)').optional(),
        /**
         * Also keep the findings table's by-day index of earlier versions (`byDay`, projection ALL) next
         * to the keys-only `byDayKeys`. Only to upgrade a stack deployed before byDayKeys: CloudFormation
         * creates or deletes one index per update and cannot change a projection, so deploy once with
         * true (adds byDayKeys; readers use byDay until it has backfilled), then with false (drops byDay).
         */
        keepLegacyDayIndex: z.boolean().default(false),
      })
      .prefault({}),
    /** CI/CD roles and users: known contributors, exempt from first-seen and MFA alerts. ARN or ARN glob with *. */
    automationPrincipals: z.array(nonEmpty).default([]),
    defaults: z
      .strictObject({
        learningDays: z.number().int().min(0).max(365).default(14),
        forgetAfterDays: z.number().int().min(1).max(3650).default(90),
        /** Dedup window of every use case without its own (0: every occurrence is its own finding). */
        dedupWindowMinutes: dedupWindowSchema.default(0),
        /** Days a newly enabled use case attests instead of alerting (0: alert from the start). */
        stagingDays: stagingDaysSchema.default(0),
      })
      .prefault({}),
    useCases: z.record(z.string(), useCaseSettingsSchema).default({}),
    suppressions: z.array(suppressionSchema).default([]),
    routing: z
      .strictObject({
        teams: z.record(z.string().regex(TEAM_NAME, 'team name: letters, digits, - and _ (at most 64)'), teamSchema).default({}),
        /** The security team: everything from minSeverity up, plus the direct tamper alerts. */
        security: securitySchema.optional(),
        /** Also import every alert (never attestations) into this account's Security Hub CSPM as an ASFF finding. */
        securityHub: z.boolean().default(false),
      })
      .prefault({}),
  });

  return { config: configSchema, pipeline: pipelineSchema, organization: organizationSchema, organizationAccount: organizationAccountSchema, useCaseSettings: useCaseSettingsSchema, team: teamSchema, security: securitySchema };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;

/** The configuration file's schema (built once, on first use). */
export function configSchema(): Schemas['config'] {
  schemas ??= buildSchemas();
  return schemas.config;
}

export type BuildwatchConfig = z.output<Schemas['config']>;
export type BuildwatchConfigInput = z.input<Schemas['config']>;
export type PipelineConfig = z.output<Schemas['pipeline']>;
export type OrganizationConfig = z.output<Schemas['organization']>;
export type OrganizationAccount = z.output<Schemas['organizationAccount']>;
export type UseCaseSettings = z.output<Schemas['useCaseSettings']>;
export type TeamRouting = z.output<Schemas['team']>;
export type SecurityRouting = z.output<Schemas['security']>;
/** What team and security routes share: where alerts go. */
export type RouteEndpoints = Pick<TeamRouting, 'email' | 'https' | 'sqs' | 'lambda' | 'slack' | 'microsoftTeams' | 'minSeverity'>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses a configuration object; the error names every offending field. */
export function parseConfig(input: unknown, origin = 'configuration'): BuildwatchConfig {
  const schema = configSchema();
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = describeIssues(schema, parsed.error.issues);
    throw new ConfigError(`${origin}: invalid configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export const DEFAULT_CONFIG_FILE = 'buildwatch.config.json';

/**
 * Loads the configuration file. An explicitly named file must exist; the default file is optional
 * (the defaults apply without it).
 */
export function loadConfig(path?: string): BuildwatchConfig {
  const file = path ?? DEFAULT_CONFIG_FILE;
  if (!existsSync(file)) {
    if (path) throw new ConfigError(`${file}: configuration file not found`);
    return parseConfig({});
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(raw, file);
}
