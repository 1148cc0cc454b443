/** seedImageDigests against the real state store (dynalite): which tags are read, and what is written when. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedImageDigests } from '../../lambdas/backfill/image-digests.js';
import { parseConfig } from '../../lambdas/config/config.js';
import type { EcrImageRef, Lookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { ACCOUNT, workdir } from './fixtures.js';

const dynamo = useLocalDynamo();
const REPO = 'build-images/node20';
const REGISTRY = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
const KEY = `image/${ACCOUNT}/eu-west-1/${REPO}:stable`;
const LIVE = `sha256:${'a'.repeat(64)}`;
const OLD = `sha256:${'b'.repeat(64)}`;
const AT = '2026-10-01T00:00:00Z';
const ID = 'build.image-change';

/** Recorded DescribeImages (`stable` → LIVE), counting the look-ups asked. */
function lookups(): { lookups: Lookups; asked: EcrImageRef[] } {
  const root = join(workdir(), 'recorded');
  mkdirSync(join(root, 'ecr', 'DescribeImages', 'build-images'), { recursive: true });
  writeFileSync(join(root, 'ecr', 'DescribeImages', 'build-images', 'node20.json'), JSON.stringify({ imageDetails: [{ registryId: ACCOUNT, imageDigest: LIVE, imageTags: ['stable'] }] }));
  const recorded = createRecordedLookups(root);
  const asked: EcrImageRef[] = [];
  return { asked, lookups: { ...recorded, ecrImage: async (ref) => (asked.push(ref), recorded.ecrImage!(ref)) } };
}

const config = parseConfig({
  pipeline: { buildProjects: [{ name: 'payments-build' }, { name: 'billing-build' }, { name: 'pinned-build' }] },
  useCases: {
    [ID]: {
      options: {
        projectImages: {
          'payments-build': `${REGISTRY}/${REPO}:stable`,
          'billing-build': `${REGISTRY}/${REPO}:stable`,
          'pinned-build': `${REGISTRY}/${REPO}@sha256:${'d'.repeat(64)}`,
        },
      },
    },
  },
});

describe('seedImageDigests', () => {
  it('reads each followed tag once, skips projects pinned by digest, and writes a look-up baseline and the head', async () => {
    const { state } = await dynamo.freshStores();
    const { lookups: answers, asked } = lookups();
    const result = await seedImageDigests({ config, lookups: answers, state, at: AT, keepDays: 30 });
    expect(result).toEqual({ seeded: 1, notes: [], problems: [] });
    expect(asked).toEqual([{ registryId: ACCOUNT, region: 'eu-west-1', repository: REPO, tag: 'stable' }]);
    expect(await state.getSnapshot(ID, KEY)).toMatchObject({ state: { digest: LIVE, attributedDigest: LIVE }, updatedAt: AT });
    const { prior } = await state.stateChangesAround(ID, KEY, { at: '2026-10-02T00:00:00Z', eventId: 'later', kind: 'event' });
    expect(prior).toMatchObject({ kind: 'baseline', at: AT, partial: false, after: { digest: LIVE } });

    // Run again (a resumed or repeated backfill): the digest is known, nothing is rewritten.
    const again = await seedImageDigests({ config, lookups: answers, state, at: '2026-10-05T00:00:00Z', keepDays: 30 });
    expect(again).toEqual({ seeded: 0, notes: [], problems: [] });
    expect(await state.getSnapshot(ID, KEY)).toMatchObject({ updatedAt: AT, version: 1 });
  });

  it('says when the live digest differs from the history\'s last push, and seeds the live one', async () => {
    const { state } = await dynamo.freshStores();
    await state.putSnapshot(ID, KEY, { state: { digest: OLD, attributedDigest: OLD, pushedBy: 'arn:aws:iam::111122223333:role/build-image-pipeline' }, version: 1, updatedAt: '2026-09-20T10:00:00Z', lastEventId: 'push-1' }, undefined);
    const result = await seedImageDigests({ config, lookups: lookups().lookups, state, at: AT, keepDays: 30 });
    expect(result.seeded).toBe(1);
    expect(result.notes).toEqual([`build image ${REGISTRY}/${REPO}:stable: the tag now points to ${LIVE}, not ${OLD} as last pushed in the history (2026-09-20T10:00:00Z): a push the history does not hold`]);
    expect(await state.getSnapshot(ID, KEY)).toMatchObject({ state: { digest: LIVE, attributedDigest: LIVE }, version: 2, updatedAt: AT });
  });

  it('leaves a head newer than the look-up alone', async () => {
    const { state } = await dynamo.freshStores();
    await state.putSnapshot(ID, KEY, { state: { digest: OLD }, version: 3, updatedAt: '2026-10-01T00:00:05Z', lastEventId: 'native-1' }, undefined);
    const result = await seedImageDigests({ config, lookups: lookups().lookups, state, at: AT, keepDays: 30 });
    expect(result).toEqual({ seeded: 0, notes: [`build image ${REGISTRY}/${REPO}:stable: not seeded: its snapshot (2026-10-01T00:00:05Z) is not older than the look-up`], problems: [] });
    expect(await state.getSnapshot(ID, KEY)).toMatchObject({ state: { digest: OLD }, version: 3 });
  });
});
