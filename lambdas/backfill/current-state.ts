/**
 * Current state through the look-up interface, as the last step of a backfill: history says how
 * things changed, the look-ups say how they are now (and cover what changed before the history).
 *
 * Each look-up answer becomes the CloudTrail record AWS would have written had the thing been
 * created now with that state (for a CodeBuild project, `CreateProject` with the whole project in
 * `responseElements.project`, as BatchGetProjects returns it). The caller routes it to the drift
 * use cases only, so each use case's own `report` picks the key and normalises the state (masking
 * secrets) exactly as for live events: a project never seen gets its baseline, and one whose live
 * state differs from the history's last known state yields a would-be finding saying so.
 *
 * Compute fleets the watched projects build on (their `environment.fleet.fleetArn`, as just read)
 * and the fleets named in build.fleet-drift's `fleets` option become `CreateFleet` records with the
 * BatchGetFleets answer in `responseElements.fleet`, the same way. Build-image digests are seeded by
 * image-digests.ts after these records, from the project snapshots they leave.
 *
 * Signing keys (key policies and aliases of `pipeline.signing.kmsKeys`) need KMS look-ups the
 * interface does not have yet; they are reported as not seeded.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { envelopeForCloudTrail, type CloudTrailRecord, type EventBridgeEvent } from '../engine/events.js';
import type { InputProblem } from '../engine/normalise-input.js';
import { fleetNameFromArn, type CodeBuildProject, type Lookups } from '../lookups/lookups.js';
import { optionsSchema as fleetOptionsSchema } from '../use-cases/build/fleet-drift/use-case.js';
import { CURRENT_STATE_EVENT_PREFIX } from './collecting-sink.js';

export interface CurrentState {
  readonly events: EventBridgeEvent[];
  /** What was not seeded and why, one line each (not errors). */
  readonly notes: string[];
  readonly problems: InputProblem[];
}

const ARN = /^arn:[^:]+:[^:]+:([^:]*):(\d{12}):/;

/** Synthetic records carry this identity, so findings show where they came from. */
export const CURRENT_STATE_IDENTITY = { type: 'Unknown', userName: 'buildwatch-backfill (current state)' } as const;

function syntheticRecord(fields: { at: string; eventSource: string; eventName: string; id: string; arn?: string; requestParameters: Record<string, unknown>; responseElements: Record<string, unknown> }): CloudTrailRecord {
  const [, region, account] = (fields.arn && ARN.exec(fields.arn)) || [];
  return {
    eventVersion: '1.11',
    eventTime: fields.at,
    eventSource: fields.eventSource,
    eventName: fields.eventName,
    ...(region ? { awsRegion: region } : {}),
    eventID: `${CURRENT_STATE_EVENT_PREFIX}${fields.id}:${fields.at}`,
    eventType: 'AwsApiCall',
    userIdentity: { ...CURRENT_STATE_IDENTITY },
    requestParameters: fields.requestParameters,
    responseElements: fields.responseElements,
    readOnly: false,
    managementEvent: true,
    ...(account ? { recipientAccountId: account } : {}),
  };
}

const FLEET_DRIFT_ID = 'build.fleet-drift';

/** Fleets to read: those the projects build on (by ARN, as BatchGetProjects gives it), then the configured ones. */
function watchedFleets(config: BuildwatchConfig, projects: readonly CodeBuildProject[]): Map<string, string> {
  // Fleet name → what to ask BatchGetFleets for; a Map, since names come from look-up answers.
  const fleets = new Map<string, string>();
  for (const project of projects) {
    const environment = project['environment'];
    const fleet = typeof environment === 'object' && environment !== null ? (environment as Record<string, unknown>)['fleet'] : undefined;
    const arn = typeof fleet === 'object' && fleet !== null ? (fleet as Record<string, unknown>)['fleetArn'] : undefined;
    if (typeof arn === 'string' && arn !== '' && !fleets.has(fleetNameFromArn(arn))) fleets.set(fleetNameFromArn(arn), arn);
  }
  // Invalid options are the engine's to report; here they only mean no configured fleets.
  const options = fleetOptionsSchema.safeParse(config.useCases[FLEET_DRIFT_ID]?.options ?? {});
  for (const entry of options.success ? options.data.fleets : []) {
    if (!fleets.has(fleetNameFromArn(entry))) fleets.set(fleetNameFromArn(entry), entry);
  }
  return fleets;
}

/** The current state of the configured resources, as events stamped `at` (ISO). */
export async function currentStateEvents(config: BuildwatchConfig, lookups: Lookups, at: string): Promise<CurrentState> {
  const events: EventBridgeEvent[] = [];
  const notes: string[] = [];
  const problems: InputProblem[] = [];

  const found: CodeBuildProject[] = [];
  const projects = config.pipeline.buildProjects.map((project) => project.name);
  if (projects.length === 0) notes.push('CodeBuild projects: none named in pipeline.buildProjects, so no current state was read (the look-ups cannot list projects)');
  for (const name of projects) {
    const result = await lookups.codeBuildProject(name);
    if (result.status === 'missing') {
      notes.push(`CodeBuild project ${name}: does not exist (BatchGetProjects)`);
      continue;
    }
    if (result.status === 'unavailable') {
      problems.push({ file: 'current state', reason: `current state: CodeBuild project ${name}: look-up unavailable: ${result.reason}` });
      continue;
    }
    const project = result.value;
    found.push(project);
    const arn = typeof project['arn'] === 'string' ? project['arn'] : undefined;
    events.push(
      envelopeForCloudTrail(
        syntheticRecord({
          at,
          eventSource: 'codebuild.amazonaws.com',
          eventName: 'CreateProject',
          id: `codebuild:${name}`,
          ...(arn ? { arn } : {}),
          requestParameters: { name },
          responseElements: { project: { ...project } },
        }),
      ),
    );
  }

  for (const [name, ask] of watchedFleets(config, found)) {
    const result = lookups.codeBuildFleet ? await lookups.codeBuildFleet(ask) : { status: 'unavailable' as const, reason: 'the look-ups have no BatchGetFleets' };
    if (result.status === 'missing') {
      notes.push(`CodeBuild fleet ${name}: does not exist (BatchGetFleets)`);
      continue;
    }
    if (result.status === 'unavailable') {
      problems.push({ file: 'current state', reason: `current state: CodeBuild fleet ${name}: look-up unavailable: ${result.reason}` });
      continue;
    }
    const fleet = result.value;
    const arn = typeof fleet['arn'] === 'string' ? fleet['arn'] : ask.startsWith('arn:') ? ask : undefined;
    events.push(
      envelopeForCloudTrail(
        syntheticRecord({
          at,
          eventSource: 'codebuild.amazonaws.com',
          eventName: 'CreateFleet',
          id: `codebuild-fleet:${name}`,
          ...(arn ? { arn } : {}),
          requestParameters: { name },
          responseElements: { fleet: { ...fleet } },
        }),
      ),
    );
  }

  const keys = config.pipeline.signing.kmsKeys;
  if (keys.length > 0) {
    notes.push(`signing keys (${keys.length}): key policies and aliases not seeded: the look-up interface has no KMS methods yet`);
  }
  return { events, notes, problems };
}
