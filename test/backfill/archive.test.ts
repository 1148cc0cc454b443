import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type GetObjectCommandOutput, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { runReplay } from '../../bin/commands/replay.js';
import { discoverArchive, inTimeOrder } from '../../lambdas/backfill/archive.js';
import { runBackfill } from '../../lambdas/backfill/backfill.js';
import { FileCheckpoint, MemoryCheckpoint, newCheckpointData } from '../../lambdas/backfill/checkpoint.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import sourceNewPusher from '../../lambdas/use-cases/source/new-pusher/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import {
  at,
  capture,
  describeSomething,
  fakeS3,
  fakeClock,
  gitPush,
  jsonLines,
  trailFile,
  trailKey,
  userArn,
  workdir,
  writeArchive,
  writeConfig,
  type CloudTrailRecord,
} from './fixtures.js';

const CONFIG = { pipeline: { repositories: ['payments-service'] }, defaults: { learningDays: 14, forgetAfterDays: 90 } };

/**
 * Thirty days of September: alice pushes every weekday, bob from day 3 to day 25, and mallory
 * first appears on day 20 (after the 14-day learning period: the backtest's one finding).
 */
function history(): CloudTrailRecord[] {
  const records: CloudTrailRecord[] = [];
  for (let day = 1; day <= 30; day += 1) {
    records.push(gitPush({ user: 'alice', time: at(day, 9) }), describeSomething(at(day, 10)));
    if (day >= 3 && day <= 25) records.push(gitPush({ user: 'bob', time: at(day, 11) }));
    if (day === 20) records.push(gitPush({ user: 'mallory', time: at(day, 23, 30) }));
  }
  return records;
}

/** October 2nd: alice, bob and mallory (all in the history) push again, carol pushes for the first time. */
function newer(): CloudTrailRecord[] {
  const time = (hour: number) => `2026-10-02T${String(hour).padStart(2, '0')}:00:00Z`;
  return [
    gitPush({ user: 'alice', time: time(9) }),
    gitPush({ user: 'bob', time: time(10) }),
    gitPush({ user: 'mallory', time: time(11) }),
    gitPush({ user: 'carol', time: time(12) }),
  ];
}

function pusherAlerts(stdout: string): string[] {
  return jsonLines(stdout)
    .filter((finding) => finding['useCase'] === 'source.new-pusher' && finding['mode'] === 'alert')
    .map((finding) => String(finding['principal']));
}

describe('backfill from a trail archive, then replay', () => {
  let dynamo: EmbeddedDynamo;
  beforeEach(async () => {
    // replay and backfill use the fixed local table names, so each test gets its own server.
    dynamo = await startEmbeddedDynamo();
  });
  afterEach(async () => {
    await dynamo.close();
  });

  it('alerts only on principals absent from the history; without the backfill the repository would still be learning', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    const files = writeArchive(archive, history());
    expect(files.length).toBe(30);
    const later = join(dir, 'later.json.gz');
    writeFileSync(later, trailFile(newer()));
    const config = writeConfig(dir, CONFIG);

    const backfill = capture();
    const { exitCode, result } = await runBackfillCommand([archive], { config, endpoint: dynamo.endpoint, checkpoint: join(dir, 'checkpoint.json') }, backfill.io);
    expect(backfill.err()).toMatch(/backfilled 84 events \(30 archive files\) into the local tables at http:\/\/127\.0\.0\.1:\d+: 54 received by use cases/);
    expect(exitCode).toBe(0);
    // Nothing alerted while backfilling (the would-be finding on mallory went to the collector).
    expect(backfill.out()).toBe('');
    expect(result?.tallies.byUseCase['source.new-pusher']?.alerts).toBe(1);

    const replay = capture();
    const replayed = await runReplay([later], { config, endpoint: dynamo.endpoint, json: true }, replay.io);
    expect(replayed.exitCode).toBe(0);
    expect(pusherAlerts(replay.out())).toEqual([userArn('carol')]);
    expect(replay.err()).toContain('pushed to payments-service for the first time (3 known contributors, watched since 2026-09-01)');

    // The same newer events on a monitor deployed without a backfill: the repository is first seen
    // on October 2nd, so it is learning and even carol passes unnoticed.
    const fresh = await startEmbeddedDynamo();
    try {
      const blind = capture();
      await runReplay([later], { config, endpoint: fresh.endpoint, json: true }, blind.io);
      expect(pusherAlerts(blind.out())).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('keeps the learning period of a scope whose history is too short', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    // Only the last five days of history: the repository is still learning on October 2nd.
    writeArchive(archive, history().filter((record) => record.eventTime >= at(26)));
    const later = join(dir, 'later.json');
    writeFileSync(later, JSON.stringify({ Records: newer() }));
    const config = writeConfig(dir, CONFIG);
    expect((await runBackfillCommand([archive], { config, endpoint: dynamo.endpoint, checkpoint: join(dir, 'cp.json') }, capture().io)).exitCode).toBe(0);
    const replay = capture();
    await runReplay([later], { config, endpoint: dynamo.endpoint, json: true }, replay.io);
    expect(pusherAlerts(replay.out())).toEqual([]);
  });
});

describe('backfill: the archive path', () => {
  const local = useLocalDynamo();

  it('orders CloudTrail files by their delivery stamp across regions, and lexically otherwise', () => {
    const file = (name: string) => ({ name, read: async () => ({ file: name, events: [], problems: [] }) });
    const names = [
      `a/${trailKey('2026-09-02T10:00:00Z', 'eu-west-1')}`,
      `a/${trailKey('2026-09-01T10:00:00Z', 'eu-west-1')}`,
      `a/${trailKey('2026-09-01T12:00:00Z', 'us-east-1')}`,
    ].sort();
    expect(inTimeOrder(names.map(file)).map((f) => f.name)).toEqual([names[0], names[2], names[1]]);
    const plain = ['b/day-2.json', 'a/day-1.json'];
    expect(inTimeOrder(plain.map(file)).map((f) => f.name)).toEqual(plain);
  });

  it('reads an S3 prefix page by page, skipping digest files, one object at a time', async () => {
    const objects = new Map<string, Buffer>();
    const records = history();
    for (let day = 1; day <= 30; day += 1) {
      const dayRecords = records.filter((record) => record.eventTime.startsWith(at(day).slice(0, 10)));
      objects.set(`trail/${trailKey(`${at(day).slice(0, 10)}T23:55:00Z`)}`, trailFile(dayRecords));
    }
    objects.set(`trail/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/09/01/digest.json.gz`, Buffer.from('not read'));
    const { s3, mock: s3Mock, maxInFlight } = fakeS3(objects);

    const discovery = await discoverArchive(['s3://archive-bucket/trail/'], { s3: () => s3 });
    expect(discovery.streams.map((stream) => stream.key)).toEqual(['s3://archive-bucket/trail/AWSLogs/111122223333/CloudTrail/eu-west-1/']);
    // One listing per level of the layout (trail/, AWSLogs/, the account, CloudTrail/), none into the digests.
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix)).toEqual([
      'trail/',
      'trail/AWSLogs/',
      'trail/AWSLogs/111122223333/',
      'trail/AWSLogs/111122223333/CloudTrail/',
    ]);
    s3Mock.resetHistory();

    const stores = await local.freshStores();
    const result = await runBackfill(
      { archive: ['s3://archive-bucket/trail/'] },
      {
        config: parseConfig(CONFIG),
        useCases: [sourceNewPusher],
        state: stores.state,
        lookups: noLookups,
        checkpoint: new MemoryCheckpoint(newCheckpointData('test', at(1))),
        clock: fakeClock(),
        s3: () => s3,
      },
    );
    expect(result.counters).toMatchObject({ files: 30, events: 84, routed: 54, problems: 0 });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(30);
    // The walk again (4 levels), then the prefix's 30 files, 10 keys a page.
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(7);
    // This file plus the next one being fetched, never more.
    expect(maxInFlight()).toBeLessThanOrEqual(2);
    expect(result.tallies.byUseCase['source.new-pusher']).toMatchObject({ alerts: 1, principals: { [userArn('mallory')]: 1 } });
  });

  it('resumes after the last archive file done, and refuses an archive that changed', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    writeArchive(archive, history());
    const stores = await local.freshStores();
    const checkpointPath = join(dir, 'checkpoint.json');
    const deps = (checkpoint: FileCheckpoint, stopAfter?: number) => {
      let ticks = 0;
      return {
        config: parseConfig(CONFIG),
        useCases: [sourceNewPusher],
        state: stores.state,
        lookups: noLookups,
        checkpoint,
        clock: fakeClock(),
        progress: {
          phase: () => undefined,
          tick: () => {
            ticks += 1;
            if (ticks === stopAfter) throw new Error('interrupted');
          },
        },
      };
    };
    const first = await FileCheckpoint.create(checkpointPath, newCheckpointData('args', at(1)));
    await expect(runBackfill({ archive: [archive] }, deps(first, 12))).rejects.toThrow('interrupted');
    await expect(FileCheckpoint.create(checkpointPath, newCheckpointData('args', at(1)))).rejects.toThrow(/pass --resume/);
    await expect(FileCheckpoint.load(checkpointPath, 'other args')).rejects.toThrow(/other arguments/);

    const resumed = (await FileCheckpoint.load(checkpointPath, 'args'))!;
    // Stopped as day 13 began: day 12's file is the prefix's last done, day 13's is being read.
    const prefix = join(archive, 'AWSLogs', '111122223333', 'CloudTrail', 'eu-west-1');
    expect(resumed.data.archive).toMatchObject({ complete: false, prefixes: { [prefix]: { lastDone: join(archive, trailKey(`${at(12).slice(0, 10)}T23:55:00Z`)), complete: false } } });
    const result = await runBackfill({ archive: [archive] }, deps(resumed));
    // Counters carry over from the interrupted run: every file exactly once.
    expect(result.counters).toMatchObject({ files: 30, events: 84 });
    expect(result.tallies.byUseCase['source.new-pusher']?.alerts).toBe(1);

    // A checkpoint whose files are no longer where it left them is refused.
    const stale = await FileCheckpoint.load(checkpointPath, 'args');
    stale!.data.archive = { prefixes: { [prefix]: { lastDone: join(archive, trailKey(`${at(4).slice(0, 10)}T23:55:00Z`)), file: join(prefix, 'elsewhere.json.gz'), offset: 3, complete: false } }, complete: false };
    await expect(runBackfill({ archive: [archive] }, deps(stale!))).rejects.toThrow(/archive changed since the checkpoint/);
    stale!.data.archive = { prefixes: { [join(archive, 'AWSLogs', '444455556666', 'CloudTrail', 'eu-west-1')]: { offset: 0, complete: false } }, complete: false };
    await expect(runBackfill({ archive: [archive] }, deps(stale!))).rejects.toThrow(/archive changed since the checkpoint: .*444455556666.* no longer found/);
  });

  it('names a broken archive file and processes the others (exit 1)', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    writeArchive(archive, history().filter((record) => record.eventTime < at(4)));
    mkdirSync(join(archive, 'extra'), { recursive: true });
    writeFileSync(join(archive, 'extra', 'broken.json.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    const config = writeConfig(dir, CONFIG);
    const run = capture();
    const { exitCode, result } = await runBackfillCommand([archive], { config, whatIf: true }, run.io);
    expect(exitCode).toBe(1);
    expect(run.err()).toMatch(/buildwatch: .*broken\.json\.gz: is not valid gzip data/);
    expect(result?.counters.files).toBe(4);
  });
});
