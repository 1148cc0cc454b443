/**
 * Current build-image digests as build.image-change baselines, the last step of a backfill's current
 * state (after the project records, so the project-drift snapshots name today's images).
 *
 * Which tags: those the watched projects follow, read as build.image-change reads them (the project's
 * build.project-drift snapshot, else `projectImages`); projects pinned by digest follow no tag.
 *
 * How: not as an event. A synthetic push would be judged as one (a push by the backfill's identity),
 * so the digest ECR DescribeImages gives is written the way the engine writes a look-up baseline: a
 * change of kind 'baseline' at the look-up time in the key's change log, then the head at that
 * position. A later push is diffed against it ("known since: look-up"); an older push delivered
 * afterwards is judged at its own time and cannot overwrite it (the baseline is a full state, newer
 * than that push). A head newer than the look-up time is left alone.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { storableState } from '../engine/bounds.js';
import type { InputProblem } from '../engine/normalise-input.js';
import type { JsonObject } from '../engine/use-case.js';
import type { Lookups } from '../lookups/lookups.js';
import type { StateStorage } from '../store/store-contract.js';
import { IMAGE_CHANGE_ID, imageUsers, type ImageUser } from '../use-cases/build/ecr.js';
import { writeLookupBaseline } from './lookup-baseline.js';

export interface ImageDigestSeeding {
  /** Tags whose digest was written as a baseline. */
  readonly seeded: number;
  readonly notes: string[];
  readonly problems: InputProblem[];
}

export interface ImageDigestDeps {
  readonly config: BuildwatchConfig;
  readonly lookups: Lookups;
  readonly state: StateStorage;
  /** The look-up time (ISO), after everything the history holds. */
  readonly at: string;
  /** build.image-change's forgetAfterDays: how long the change-log entry is kept. */
  readonly keepDays: number;
}

/** The snapshot key build.image-change keeps a tag's digest under. */
export function imageKey(user: ImageUser, tag: string): string {
  return `image/${user.image.account}/${user.image.region}/${user.image.repository}:${tag}`;
}

export async function seedImageDigests(deps: ImageDigestDeps): Promise<ImageDigestSeeding> {
  const { config, lookups, state, at } = deps;
  const notes: string[] = [];
  const problems: InputProblem[] = [];
  const users = await imageUsers(config, { get: (useCase, key) => state.getSnapshot(useCase, key) });

  // One look-up per followed tag, however many projects follow it.
  const tags = new Map<string, { user: ImageUser; tag: string; projects: string[] }>();
  for (const user of users) {
    const tag = user.image.tag;
    if (user.image.digest !== undefined || tag === undefined) continue;
    const key = imageKey(user, tag);
    const entry = tags.get(key) ?? { user, tag, projects: [] };
    entry.projects.push(user.project);
    tags.set(key, entry);
  }

  let seeded = 0;
  for (const [key, { user, tag, projects }] of tags) {
    const uri = `${user.image.account}.dkr.ecr.${user.image.region}.amazonaws.com/${user.image.repository}:${tag}`;
    if (!lookups.ecrImage) {
      problems.push({ file: 'current state', reason: `current state: build image ${uri}: look-up unavailable: the look-ups have no DescribeImages` });
      continue;
    }
    const result = await lookups.ecrImage({ registryId: user.image.account, region: user.image.region, repository: user.image.repository, tag });
    if (result.status === 'missing') {
      notes.push(`build image ${uri} (used by ${projects.join(', ')}): the tag does not exist (DescribeImages)`);
      continue;
    }
    if (result.status === 'unavailable') {
      problems.push({ file: 'current state', reason: `current state: build image ${uri}: look-up unavailable: ${result.reason}` });
      continue;
    }
    const digest = result.value.digest;
    const head = await state.getSnapshot(IMAGE_CHANGE_ID, key);
    if (head && Date.parse(head.updatedAt) >= Date.parse(at)) {
      notes.push(`build image ${uri}: not seeded: its snapshot (${head.updatedAt}) is not older than the look-up`);
      continue;
    }
    if (head && head.state['digest'] === digest) continue; // The history already knows this digest.
    if (head && typeof head.state['digest'] === 'string') {
      notes.push(`build image ${uri}: the tag now points to ${digest}, not ${head.state['digest']} as last pushed in the history (${head.updatedAt}): a push the history does not hold`);
    }
    // The look-up confirms the digest with no push left to attribute: a later PutImage of the same
    // digest is no move (build.image-change attributes only digests it has not yet attributed).
    // Masked and bounded as the engine stores state, so it compares equal to its stored self.
    const after: JsonObject = storableState({ digest, attributedDigest: digest });
    const written = await writeLookupBaseline(state, { useCase: IMAGE_CHANGE_ID, key, source: 'ecr', state: after, at, keepDays: deps.keepDays, head });
    if (!written) {
      // Another writer (a live event) moved the head meanwhile; the baseline stays in the change log.
      notes.push(`build image ${uri}: its snapshot changed while seeding; the newer state was kept`);
      continue;
    }
    seeded += 1;
  }
  return { seeded, notes, problems };
}
