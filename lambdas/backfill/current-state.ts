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
 * Signing keys (key policies and aliases of `pipeline.signing.kmsKeys`) need KMS look-ups the
 * interface does not have yet; they are reported as not seeded.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { envelopeForCloudTrail, type CloudTrailRecord, type EventBridgeEvent } from '../engine/events.js';
import type { InputProblem } from '../engine/normalise-input.js';
import type { Lookups } from '../lookups/lookups.js';
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

/** The current state of the configured resources, as events stamped `at` (ISO). */
export async function currentStateEvents(config: BuildwatchConfig, lookups: Lookups, at: string): Promise<CurrentState> {
  const events: EventBridgeEvent[] = [];
  const notes: string[] = [];
  const problems: InputProblem[] = [];

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

  const keys = config.pipeline.signing.kmsKeys;
  if (keys.length > 0) {
    notes.push(`signing keys (${keys.length}): key policies and aliases not seeded: the look-up interface has no KMS methods yet`);
  }
  return { events, notes, problems };
}
