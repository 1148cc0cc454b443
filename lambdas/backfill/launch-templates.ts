/**
 * The self-hosted build hosts' launch templates as build.host-drift look-up baselines, a step of a
 * backfill's current state: for each launch template the host groups name (build.host-drift's and
 * build.host-access's hostGroups options, by id or name), EC2 DescribeLaunchTemplateVersions gives the
 * default version, and what it makes the hosts boot (AMI, user data, instance profile, security
 * groups) is written the way the engine writes a look-up baseline: a change of kind 'baseline' at
 * the look-up time in the key's change log, then the head, unless the head is already newer.
 *
 * User data often holds registration tokens: only its SHA-256 and length are kept.
 * build.host-drift reads the baseline at an event's time (knownState), so a later launch-template
 * change is described against the default version as it was looked up.
 */
import { createHash } from 'node:crypto';
import type { BuildwatchConfig } from '../config/config.js';
import { storableState } from '../engine/bounds.js';
import { canonicalJson } from '../engine/canonical.js';
import type { InputProblem } from '../engine/normalise-input.js';
import type { JsonObject } from '../engine/use-case.js';
import type { LaunchTemplateVersionDetail, Lookups } from '../lookups/lookups.js';
import type { StateStorage } from '../store/store-contract.js';
import { optionsSchema as hostAccessOptionsSchema } from '../use-cases/build/host-access/use-case.js';
import { HOST_DRIFT_ID, launchTemplateKey, optionsSchema as hostDriftOptionsSchema } from '../use-cases/build/host-drift/use-case.js';
import { writeLookupBaseline } from './lookup-baseline.js';

export interface LaunchTemplateSeeding {
  /** Launch templates whose default version was written as a baseline. */
  readonly seeded: number;
  readonly notes: string[];
  readonly problems: InputProblem[];
}

export interface LaunchTemplateDeps {
  readonly config: BuildwatchConfig;
  readonly lookups: Lookups;
  readonly state: StateStorage;
  /** The look-up time (ISO), after everything the history holds. */
  readonly at: string;
  /** The region the templates live in (the backfill's first region). */
  readonly region: string | undefined;
  /** build.host-drift's forgetAfterDays: how long the change-log entry is kept. */
  readonly keepDays: number;
}

/** The launch templates the host groups name, in configuration order, each once. */
export function configuredLaunchTemplates(config: BuildwatchConfig): string[] {
  // Invalid options are the engine's to report; here they only mean no templates.
  const drift = hostDriftOptionsSchema.safeParse(config.useCases[HOST_DRIFT_ID]?.options ?? {});
  const access = hostAccessOptionsSchema.safeParse(config.useCases['build.host-access']?.options ?? {});
  const groups = [...(drift.success ? drift.data.hostGroups : []), ...(access.success ? access.data.hostGroups : [])];
  return [...new Set(groups.flatMap((group) => group.launchTemplates))];
}

/** What a default version makes the hosts boot, as build.host-drift keeps it (user data hashed). */
export function launchTemplateState(version: LaunchTemplateVersionDetail): JsonObject {
  const userData = version.userData === undefined ? undefined : Buffer.from(version.userData, 'base64');
  return storableState({
    launchTemplateId: version.launchTemplateId,
    launchTemplateName: version.launchTemplateName ?? null,
    defaultVersion: version.versionNumber,
    imageId: version.imageId ?? null,
    userDataSha256: userData ? createHash('sha256').update(userData).digest('hex') : null,
    userDataBytes: userData ? userData.byteLength : 0,
    instanceProfile: version.instanceProfile ?? null,
    securityGroups: [...version.securityGroups],
    ...(version.createTime ? { versionCreated: version.createTime } : {}),
  });
}

export async function seedLaunchTemplates(deps: LaunchTemplateDeps): Promise<LaunchTemplateSeeding> {
  const { lookups, state, at } = deps;
  const notes: string[] = [];
  const problems: InputProblem[] = [];
  const templates = configuredLaunchTemplates(deps.config);
  let seeded = 0;
  const done = new Set<string>();
  if (templates.length === 0) return { seeded, notes, problems };
  if (!deps.region) {
    problems.push({ file: 'current state', reason: `current state: launch templates (${templates.length}): not seeded: no region to ask EC2 in (give --region)` });
    return { seeded, notes, problems };
  }
  for (const template of templates) {
    if (!lookups.launchTemplateDefaultVersion) {
      problems.push({ file: 'current state', reason: `current state: launch template ${template}: look-up unavailable: the look-ups have no DescribeLaunchTemplateVersions` });
      continue;
    }
    const result = await lookups.launchTemplateDefaultVersion({ idOrName: template, region: deps.region });
    if (result.status === 'missing') {
      notes.push(`launch template ${template}: does not exist (DescribeLaunchTemplateVersions)`);
      continue;
    }
    if (result.status === 'unavailable') {
      problems.push({ file: 'current state', reason: `current state: launch template ${template}: look-up unavailable: ${result.reason}` });
      continue;
    }
    const key = launchTemplateKey(result.value.launchTemplateId);
    // Named by id in one group and by name in another: one template, one baseline.
    if (done.has(key)) continue;
    done.add(key);
    const after = launchTemplateState(result.value);
    const head = await state.getSnapshot(HOST_DRIFT_ID, key);
    if (head && canonicalJson(head.state) === canonicalJson(after)) continue; // Already known as it is.
    if (head && Date.parse(head.updatedAt) >= Date.parse(at)) {
      notes.push(`launch template ${template}: not seeded: its snapshot (${head.updatedAt}) is not older than the look-up`);
      continue;
    }
    const written = await writeLookupBaseline(state, { useCase: HOST_DRIFT_ID, key, source: 'ec2', state: after, at, keepDays: deps.keepDays, head });
    if (!written) {
      notes.push(`launch template ${template}: its snapshot changed while seeding; the newer state was kept`);
      continue;
    }
    seeded += 1;
  }
  return { seeded, notes, problems };
}
