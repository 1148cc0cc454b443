import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { discoverArchive, type ArchiveFilters } from '../../lambdas/backfill/archive.js';
import { mergeArchive, type StreamCursor } from '../../lambdas/backfill/archive-merge.js';
import { checkLogFile, folderKind } from '../../lambdas/backfill/trail-layout.js';
import { runBackfill } from '../../lambdas/backfill/backfill.js';
import { FileCheckpoint, MemoryCheckpoint, newCheckpointData } from '../../lambdas/backfill/checkpoint.js';
import { parseConfig } from '../../lambdas/config/config.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import sourceNewPusher from '../../lambdas/use-cases/source/new-pusher/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { at, capture, fakeClock, fakeS3, gitPush, trailFile, trailKey, userArn, workdir, writeConfig, type CloudTrailRecord } from './fixtures.js';

const ORG = 'o-a1b2c3d4e5';
const TOOLING = '111122223333';
const ARTIFACTS = '444455556666';
const SECURITY = '777788889999';
const ACCOUNTS = [TOOLING, ARTIFACTS, SECURITY];
const REGIONS = ['eu-west-1', 'us-east-1'];
const CONFIG = { pipeline: { repositories: ['payments-service'] }, defaults: { learningDays: 14, forgetAfterDays: 90 } };

/**
 * Twenty days of an organisation: in every account and region two developers push twice a day at hours
 * that interleave across accounts (so a file-by-file read would be out of order), and mallory first
 * pushes in the artifacts account, us-east-1, on day 18 (after learning: the one finding).
 */
function organisationHistory(): CloudTrailRecord[] {
  const records: CloudTrailRecord[] = [];
  for (let day = 1; day <= 20; day += 1) {
    ACCOUNTS.forEach((account, a) =>
      REGIONS.forEach((region, r) => {
        const lane = a * 2 + r;
        records.push(gitPush({ user: 'alice', account, region, time: at(day, 6 + lane, lane * 7) }));
        records.push(gitPush({ user: 'alice', account, region, time: at(day, 6 + lane, lane * 7 + 20) }));
        records.push(gitPush({ user: 'bob', account, region, time: at(day, 18 - lane, 10) }));
        records.push(gitPush({ user: 'bob', account, region, time: at(day, 18 - lane, 59 - lane) }));
      }),
    );
    if (day === 18) records.push(gitPush({ user: 'mallory', account: ARTIFACTS, region: 'us-east-1', time: at(day, 23, 10) }));
  }
  return records;
}

/** Keys of the organisation trail: per account, region and day a noon file and an end-of-day file. */
function organisationArchive(records: readonly CloudTrailRecord[]): Map<string, Buffer> {
  const groups = new Map<string, CloudTrailRecord[]>();
  for (const record of records) {
    const account = String(record['recipientAccountId']);
    const delivered = `${record.eventTime.slice(0, 10)}T${record.eventTime.slice(11, 13) < '12' ? '12:05' : '23:55'}:00Z`;
    const key = trailKey(delivered, record.awsRegion, 'Mu0KsOhtH1ar15ZZ', account, ORG);
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return new Map([...groups].map(([key, group]) => [key, trailFile(group)]));
}

function writeLocal(dir: string, objects: ReadonlyMap<string, Buffer>): string {
  for (const [key, bytes] of objects) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), bytes);
  }
  return dir;
}

interface Seen {
  readonly id: string;
  readonly time: string;
  readonly account: string;
  readonly region: string;
}

/** Merges the archive under `root`, recording every event handed over; `stopAfter` interrupts. */
async function merge(root: string, cursors: Map<string, StreamCursor>, options: { filters?: ArchiveFilters; stopAfter?: number } = {}) {
  const discovery = await discoverArchive([root], { s3: () => { throw new Error('no S3 here'); }, ...(options.filters ? { filters: options.filters } : {}) });
  const seen: Seen[] = [];
  const problems: string[] = [];
  const done: string[] = [];
  const run = mergeArchive(discovery.streams, cursors, options.filters ?? {}, {
    event: async (envelope: EventBridgeEvent) => {
      if (seen.length === options.stopAfter) throw new Error('interrupted');
      seen.push({ id: envelope.id, time: String((envelope.detail as { eventTime: string }).eventTime), account: envelope.account, region: envelope.region });
    },
    fileDone: async (file) => {
      done.push(file);
    },
    problem: (problem) => problems.push(problem.reason),
  });
  return { discovery, seen, problems, done, run };
}

const isSorted = (times: readonly string[]): boolean => times.every((time, index) => index === 0 || Date.parse(times[index - 1] ?? '') <= Date.parse(time));

describe('backfill: an organisation trail archive', () => {
  const local = useLocalDynamo();

  it('knows the layout of account and organisation trails, under any bucket prefix', () => {
    expect(folderKind('s3://b/team/logs/')).toEqual({ kind: 'outside' });
    expect(folderKind('s3://b/team/AWSLogs/')).toEqual({ kind: 'layout' });
    expect(folderKind(`s3://b/AWSLogs/${ORG}/`)).toEqual({ kind: 'layout' });
    expect(folderKind(`s3://b/AWSLogs/${ORG}/${TOOLING}/`)).toEqual({ kind: 'layout', account: TOOLING });
    expect(folderKind(`/data/AWSLogs/${TOOLING}/CloudTrail/us-east-1`)).toEqual({ kind: 'prefix', prefix: { account: TOOLING, region: 'us-east-1' } });
    expect(folderKind(`s3://b/x/AWSLogs/${ORG}/${TOOLING}/CloudTrail/eu-west-1/2026/09/`)).toEqual({ kind: 'prefix', prefix: { organizationId: ORG, account: TOOLING, region: 'eu-west-1' } });
    expect(folderKind(`s3://b/AWSLogs/${ORG}/${TOOLING}/CloudTrail-Digest/`)).toEqual({ kind: 'not-events' });
    expect(folderKind(`s3://b/AWSLogs/${TOOLING}/Config/`)).toEqual({ kind: 'not-events' });
    expect(folderKind('s3://b/AWSLogs/o-short/')).toMatchObject({ kind: 'unknown' });
    const prefix = { account: TOOLING, region: 'eu-west-1' };
    expect(checkLogFile(`AWSLogs/${ORG}/${trailKey('2026-09-02T23:55:00Z', 'eu-west-1', 'Mu0KsOhtH1ar15ZZ', TOOLING).slice('AWSLogs/'.length)}`, prefix)).toEqual({ ok: true, stamp: '20260902T2355Z' });
    expect(checkLogFile(`AWSLogs/${TOOLING}/CloudTrail/eu-west-1/2026/09/03/${TOOLING}_CloudTrail_eu-west-1_20260902T2355Z_x.json.gz`, prefix)).toMatchObject({ ok: false, reason: expect.stringMatching(/day 20260902 is not its folder's/) });
  });

  it('finds one prefix per account and region, and merges them in eventTime order', async () => {
    const records = organisationHistory();
    const root = writeLocal(workdir(), organisationArchive(records));
    const { discovery, seen, problems, done, run } = await merge(root, new Map());
    await run;
    expect(problems).toEqual([]);
    expect(discovery.streams.map((stream) => stream.prefix)).toEqual(
      ACCOUNTS.flatMap((account) => REGIONS.map((region) => ({ organizationId: ORG, account, region }))),
    );
    expect(seen).toHaveLength(records.length);
    expect(new Set(seen.map((event) => event.id)).size).toBe(records.length);
    expect(isSorted(seen.map((event) => event.time))).toBe(true);
    // Interleaved: the first hour of day 1 comes from tooling eu-west-1, the next from us-east-1, then artifacts.
    expect(seen.slice(0, 6).map((event) => `${event.account}/${event.region}`)).toEqual([
      `${TOOLING}/eu-west-1`,
      `${TOOLING}/eu-west-1`,
      `${TOOLING}/us-east-1`,
      `${TOOLING}/us-east-1`,
      `${ARTIFACTS}/eu-west-1`,
      `${ARTIFACTS}/eu-west-1`,
    ]);
    expect(done).toHaveLength(20 * 6 * 2);
  });

  it('holds one file per prefix, plus the one fetched ahead, never the archive', async () => {
    const root = writeLocal(workdir(), organisationArchive(organisationHistory()));
    const discovery = await discoverArchive([root], { s3: () => { throw new Error('no S3 here'); } });
    let inHand = 0;
    let most = 0;
    const streams = discovery.streams.map((stream) => ({
      ...stream,
      store: {
        ...stream.store,
        read: async (file: { name: string }) => {
          inHand += 1;
          most = Math.max(most, inHand);
          return stream.store.read(file);
        },
      },
    }));
    let events = 0;
    await mergeArchive(streams, new Map(), {}, {
      event: async () => {
        events += 1;
      },
      fileDone: async () => {
        inHand -= 1;
      },
      problem: () => undefined,
    });
    expect(events).toBe(organisationHistory().length);
    expect(inHand).toBe(0);
    expect(most).toBeLessThanOrEqual(streams.length + 1);
  });

  it('reads only the accounts and regions asked for, and lists no other account', async () => {
    const records = organisationHistory();
    const { s3, mock } = fakeS3(organisationArchive(records), 25);
    const filters = { accounts: [ARTIFACTS], regions: ['us-east-1'] };
    const discovery = await discoverArchive(['s3://log-archive/'], { s3: () => s3, filters });
    expect(discovery.streams.map((stream) => stream.key)).toEqual([`s3://log-archive/AWSLogs/${ORG}/${ARTIFACTS}/CloudTrail/us-east-1/`]);
    const listed = mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
    expect(listed).toEqual(['', 'AWSLogs/', `AWSLogs/${ORG}/`, `AWSLogs/${ORG}/${ARTIFACTS}/`, `AWSLogs/${ORG}/${ARTIFACTS}/CloudTrail/`]);

    const stores = await local.freshStores();
    const result = await runBackfill(
      { archive: ['s3://log-archive/'], archiveFilters: filters },
      { config: parseConfig(CONFIG), useCases: [sourceNewPusher], state: stores.state, lookups: noLookups, checkpoint: new MemoryCheckpoint(newCheckpointData('t', at(1))), clock: fakeClock(), s3: () => s3 },
    );
    const wanted = records.filter((record) => record['recipientAccountId'] === ARTIFACTS && record.awsRegion === 'us-east-1');
    expect(result.counters).toMatchObject({ events: wanted.length, files: 40, problems: 0 });
    for (const call of mock.commandCalls(GetObjectCommand)) expect(call.args[0].input.Key).toMatch(new RegExp(`^AWSLogs/${ORG}/${ARTIFACTS}/CloudTrail/us-east-1/`));
    expect(result.tallies.byUseCase['source.new-pusher']).toMatchObject({ alerts: 1, principals: { [userArn('mallory', ARTIFACTS)]: 1 } });
  });

  it('filters the events of files outside the layout by the account and region they name', async () => {
    const dir = workdir();
    const records = organisationHistory().filter((record) => record.eventTime < at(3));
    writeFileSync(join(dir, 'exported.json'), JSON.stringify({ Records: records }));
    const { seen, run } = await merge(join(dir, 'exported.json'), new Map(), { filters: { accounts: [SECURITY] } });
    await run;
    expect(seen.length).toBe(records.filter((record) => record['recipientAccountId'] === SECURITY).length);
    expect(new Set(seen.map((event) => event.account))).toEqual(new Set([SECURITY]));
  });

  it('resumes every prefix where it stopped: each event once, in the order of an uninterrupted run', async () => {
    const root = writeLocal(workdir(), organisationArchive(organisationHistory()));
    const whole = await merge(root, new Map());
    await whole.run;

    const cursors = new Map<string, StreamCursor>();
    const first = await merge(root, cursors, { stopAfter: 101 });
    await expect(first.run).rejects.toThrow('interrupted');
    // Saved as JSON, as the checkpoint file does, and read back.
    const saved = new Map<string, StreamCursor>(Object.entries(JSON.parse(JSON.stringify(Object.fromEntries(cursors))) as Record<string, StreamCursor>));
    expect(saved.size).toBe(6);
    // Prefixes stand at different places: some mid-file, each after its own last file done.
    const positions = [...saved.values()];
    expect(positions.filter((cursor) => cursor.file !== undefined && cursor.offset > 0).length).toBeGreaterThan(0);
    expect(new Set(positions.map((cursor) => cursor.lastDone)).size).toBe(6);

    const second = await merge(root, saved);
    await second.run;
    expect([...first.seen, ...second.seen].map((event) => event.id)).toEqual(whole.seen.map((event) => event.id));
    expect([...saved.values()].every((cursor) => cursor.complete)).toBe(true);
  });

  it('resumes a backfill from its checkpoint file with the same counters and findings as one run', async () => {
    const dir = workdir();
    const root = writeLocal(join(dir, 'archive'), organisationArchive(organisationHistory()));
    const deps = async (checkpoint: FileCheckpoint | MemoryCheckpoint, stopAtTick?: number) => {
      let ticks = 0;
      return {
        config: parseConfig(CONFIG),
        useCases: [sourceNewPusher],
        state: (await local.freshStores()).state,
        lookups: noLookups,
        checkpoint,
        clock: fakeClock(),
        progress: {
          phase: () => undefined,
          tick: () => {
            ticks += 1;
            if (ticks === stopAtTick) throw new Error('interrupted');
          },
        },
      };
    };
    const once = await runBackfill({ archive: [root] }, await deps(new MemoryCheckpoint(newCheckpointData('t', at(1)))));

    const path = join(dir, 'checkpoint.json');
    const interruptedDeps = await deps(await FileCheckpoint.create(path, newCheckpointData('args', at(1))), 9);
    await expect(runBackfill({ archive: [root] }, interruptedDeps)).rejects.toThrow('interrupted');
    const resumed = (await FileCheckpoint.load(path, 'args'))!;
    expect(Object.keys(resumed.data.archive?.prefixes ?? {})).toHaveLength(6);
    const result = await runBackfill({ archive: [root] }, { ...interruptedDeps, checkpoint: resumed, progress: { phase: () => undefined, tick: () => undefined } });
    expect(result.counters).toMatchObject({ events: once.counters.events, files: once.counters.files, problems: 0 });
    expect(result.tallies).toEqual(once.tallies);
    expect(result.tallies.byUseCase['source.new-pusher']?.alerts).toBe(1);
  });

  it('reports paths that do not fit the layout and reads the rest (exit 1)', async () => {
    const dir = workdir();
    const records = organisationHistory().filter((record) => record.eventTime < at(3));
    const root = writeLocal(join(dir, 'archive'), organisationArchive(records));
    const odd = (path: string, bytes: Buffer = trailFile(records.slice(0, 2))): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), bytes);
    };
    const good = `AWSLogs/${ORG}/${TOOLING}/CloudTrail/eu-west-1/2026/09/02`;
    odd(`AWSLogs/${ORG}/not-an-account/CloudTrail/eu-west-1/2026/09/01/x.json.gz`);
    odd(`AWSLogs/${ORG}/${TOOLING}/CloudTrail/moon-base-1/2026/09/01/x.json.gz`);
    odd(`AWSLogs/${ORG}/${TOOLING}/CloudTrail/eu-west-1/2026/09/stray.json.gz`);
    odd(`${good}/${ARTIFACTS}_CloudTrail_eu-west-1_20260902T2355Z_Mu0KsOhtH1ar15ZZ.json.gz`);
    odd(`AWSLogs/${ORG}/manifest.json`, Buffer.from('{}'));
    // Not events, and not reported: digests, Insights, other services' logs, files of other kinds.
    odd(`AWSLogs/${ORG}/${TOOLING}/CloudTrail-Digest/eu-west-1/2026/09/01/${TOOLING}_CloudTrail-Digest_eu-west-1_x.json.gz`, Buffer.from('{}'));
    odd(`AWSLogs/${ORG}/${TOOLING}/Config/eu-west-1/2026/9/1/ConfigSnapshot/x.json.gz`, Buffer.from('{}'));
    odd(`${good}/notes.txt`, Buffer.from('hello'));

    const run = capture();
    const { exitCode, result } = await runBackfillCommand([root], { config: writeConfig(dir, CONFIG), whatIf: true }, run.io, { useCases: [sourceNewPusher] });
    expect(exitCode).toBe(1);
    const lines = run.err().split('\n').filter((line) => line.includes('skipped'));
    expect(lines).toEqual([
      expect.stringMatching(/manifest\.json: skipped: not where CloudTrail puts log files/),
      expect.stringMatching(/CloudTrail\/moon-base-1: skipped: moon-base-1 is not a region/),
      expect.stringMatching(/not-an-account: skipped: not-an-account is neither an account id nor an organisation id/),
      // Then, while merging, the files of the prefix in name order.
      expect.stringMatching(/444455556666_CloudTrail_eu-west-1_.*: skipped: not a CloudTrail log file of 111122223333 in eu-west-1: the file name is of 444455556666 in eu-west-1/),
      expect.stringMatching(/stray\.json\.gz: skipped: not a CloudTrail log file of 111122223333 in eu-west-1: not in a <yyyy>\/<mm>\/<dd> folder/),
    ]);
    expect(result?.counters).toMatchObject({ events: records.length, problems: 5 });
  });

  it('checks --account and --region, and reads only the prefixes they name', async () => {
    const dir = workdir();
    const config = writeConfig(dir, CONFIG);
    const bad = capture();
    expect((await runBackfillCommand([dir], { config, whatIf: true, account: ['1111'] }, bad.io)).exitCode).toBe(2);
    expect(bad.err()).toMatch(/^buildwatch: --account takes a 12-digit account id, not 1111\n$/);
    const region = capture();
    expect((await runBackfillCommand([dir], { config, whatIf: true, region: ['Europe'] }, region.io)).exitCode).toBe(2);
    expect(region.err()).toMatch(/--region takes a region such as eu-west-1, not Europe/);
    const noArchive = capture();
    expect((await runBackfillCommand([], { config, lookupEvents: true, region: ['eu-west-1'], account: [TOOLING], whatIf: true }, noArchive.io)).exitCode).toBe(2);
    expect(noArchive.err()).toMatch(/--account selects accounts of a trail archive/);

    const root = writeLocal(join(dir, 'archive'), organisationArchive(organisationHistory()));
    const run = capture();
    const { exitCode, result } = await runBackfillCommand([root], { config, whatIf: true, json: true, account: [SECURITY, TOOLING], region: ['eu-west-1'] }, run.io, { useCases: [sourceNewPusher] });
    expect(exitCode).toBe(0);
    expect(result?.counters).toMatchObject({ events: 2 * 20 * 4, files: 2 * 20 * 2 });
    expect(run.err()).toMatch(/backfilled 160 events \(80 archive files\)/);
  });
});
