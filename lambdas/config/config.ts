/**
 * buildwatch.config.json: one file read by the CDK app and by the CLI. Every field has a default,
 * so an empty file (or none) is a valid configuration; unknown fields are rejected by name.
 */
import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { modeSchema, severitySchema } from '../engine/model.js';

const nonEmpty = z.string().min(1);

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
});

const suppressionSchema = z.strictObject({
  useCase: nonEmpty,
  principal: z.string().optional(),
  resource: z.string().optional(),
  expires: z.iso.date(),
  reason: z.string().min(3),
});

const teamSchema = z.strictObject({
  repositories: z.array(nonEmpty).default([]),
  buildProjects: z.array(nonEmpty).default([]),
  packages: z.array(nonEmpty).default([]),
});

export const configSchema = z.strictObject({
  pipeline: z
    .strictObject({
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
    })
    .prefault({}),
  monitor: z
    .strictObject({
      /** Offline, names starting with it are the monitor's own; in the cloud the stack passes real names. */
      resourcePrefix: nonEmpty.default('buildwatch-'),
    })
    .prefault({}),
  /** CI/CD roles and users: known contributors, exempt from first-seen and MFA alerts. ARN or ARN glob with *. */
  automationPrincipals: z.array(nonEmpty).default([]),
  defaults: z
    .strictObject({
      learningDays: z.number().int().min(0).max(365).default(14),
      forgetAfterDays: z.number().int().min(1).max(3650).default(90),
    })
    .prefault({}),
  useCases: z.record(z.string(), useCaseSettingsSchema).default({}),
  suppressions: z.array(suppressionSchema).default([]),
  routing: z
    .strictObject({
      teams: z.record(z.string(), teamSchema).default({}),
    })
    .prefault({}),
});

export type BuildwatchConfig = z.output<typeof configSchema>;
export type BuildwatchConfigInput = z.input<typeof configSchema>;
export type UseCaseSettings = z.output<typeof useCaseSettingsSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses a configuration object; the error names every offending field. */
export function parseConfig(input: unknown, origin = 'configuration'): BuildwatchConfig {
  const parsed = configSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
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
