import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { runReplay } from '../../bin/commands/replay.js';
import { CURRENT_STATE_EVENT_PREFIX } from '../../lambdas/backfill/collecting-sink.js';
import { currentStateEvents } from '../../lambdas/backfill/current-state.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { at, capture, createProject, fakeClock, jsonLines, project, updateProject, workdir, writeArchive, writeConfig } from './fixtures.js';

const PROJECT = 'payments-service-build';
const CONFIG = {
  pipeline: {
    repositories: ['payments-service'],
    buildProjects: [{ name: PROJECT }, { name: 'retired-build' }],
    signing: { kmsKeys: ['alias/release-signing'] },
  },
};

/** A recorded-responses directory where BatchGetProjects knows the project with `image`. */
function recorded(dir: string, image: string): string {
  const root = join(dir, 'recorded');
  mkdirSync(join(root, 'codebuild', 'BatchGetProjects'), { recursive: true });
  writeFileSync(join(root, 'codebuild', 'BatchGetProjects', `${PROJECT}.json`), JSON.stringify({ projects: [project(PROJECT, image)], projectsNotFound: [] }));
  writeFileSync(join(root, 'codebuild', 'BatchGetProjects', 'retired-build.json'), JSON.stringify({ projects: [], projectsNotFound: ['retired-build'] }));
  return root;
}

describe('backfill: current state through the look-ups', () => {
  let dynamo: EmbeddedDynamo;
  beforeEach(async () => {
    dynamo = await startEmbeddedDynamo();
  });
  afterEach(async () => {
    await dynamo.close();
  });

  it('turns BatchGetProjects answers into CreateProject records stamped now, and says what it could not read', async () => {
    const dir = workdir();
    const { events, notes, problems } = await currentStateEvents(parseConfig(CONFIG), createRecordedLookups(recorded(dir, 'aws/codebuild/standard:7.0')), '2026-10-01T00:00:00Z');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: `${CURRENT_STATE_EVENT_PREFIX}codebuild:${PROJECT}:2026-10-01T00:00:00Z`,
      source: 'aws.codebuild',
      'detail-type': 'AWS API Call via CloudTrail',
      account: '111122223333',
      region: 'eu-west-1',
      detail: { eventName: 'CreateProject', requestParameters: { name: PROJECT }, responseElements: { project: { name: PROJECT } } },
    });
    expect(notes).toEqual([
      'CodeBuild project retired-build: does not exist (BatchGetProjects)',
      'signing keys (1): key policies and aliases not seeded: the look-up interface has no KMS methods yet',
    ]);
    expect(problems).toEqual([]);
    const unavailable = await currentStateEvents(parseConfig(CONFIG), noLookups, '2026-10-01T00:00:00Z');
    expect(unavailable.problems.map((p) => p.reason)).toEqual([
      expect.stringMatching(/current state: CodeBuild project payments-service-build: look-up unavailable/),
      expect.stringMatching(/current state: CodeBuild project retired-build: look-up unavailable/),
    ]);
  });

  it('seeds the drift snapshot of a watched project, so the first change after deployment is diffed against it', async () => {
    const dir = workdir();
    const config = writeConfig(dir, CONFIG);
    const run = capture();
    const { exitCode } = await runBackfillCommand([], { config, currentState: true, recorded: recorded(dir, 'aws/codebuild/standard:7.0'), endpoint: dynamo.endpoint, checkpoint: join(dir, 'cp.json') }, run.io, { clock: fakeClock(Date.parse('2026-10-01T00:00:00Z')) });
    expect(exitCode).toBe(0);
    expect(run.err()).toContain('buildwatch: note: signing keys (1): key policies and aliases not seeded');
    expect(run.err()).toMatch(/backfilled 0 events \(1 current state\) into the local tables at .*: 0 received by use cases; 0 would-be alerts/);

    const change = join(dir, 'change.json');
    writeFileSync(change, JSON.stringify({ Records: [updateProject({ user: 'mallory', time: '2026-10-03T02:00:00Z', name: PROJECT, image: 'evil/image:latest' })] }));
    const replay = capture();
    await runReplay([change], { config, endpoint: dynamo.endpoint, json: true }, replay.io);
    const drift = jsonLines(replay.out()).filter((finding) => finding['useCase'] === 'build.project-drift');
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({
      mode: 'alert',
      severity: 'high',
      evidence: { diff: [{ path: 'environment.image', change: 'changed', before: 'aws/codebuild/standard:7.0', after: 'evil/image:latest' }] },
    });
  });

  it('in a what-if, reports where the live state differs from the history\'s last known state', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    // History: created with image 7.0 on day 2; nothing since, yet today the project runs 8.0
    // (changed before the history began, or by a path the trail did not record).
    writeArchive(archive, [createProject({ user: 'alice', time: at(2, 8), project: project(PROJECT, 'aws/codebuild/standard:7.0') })]);
    const run = capture();
    const { exitCode } = await runBackfillCommand(
      [archive],
      { config: writeConfig(dir, CONFIG), currentState: true, recorded: recorded(dir, 'aws/codebuild/standard:8.0'), whatIf: true, json: true },
      run.io,
      { clock: fakeClock(Date.parse('2026-10-01T00:00:00Z')) },
    );
    expect(exitCode).toBe(0);
    const report = JSON.parse(run.out()) as { useCases: Array<Record<string, unknown>> };
    expect(report.useCases.find((u) => u['id'] === 'build.project-drift')).toMatchObject({
      alerts: 1,
      fromCurrentState: 1,
      firstEventTime: '2026-10-01T00:00:00Z',
      topResources: [{ key: PROJECT, count: 1 }],
    });
    // A history-only use case saw nothing of the synthetic event.
    expect(report.useCases.find((u) => u['id'] === 'source.new-pusher')).toMatchObject({ alerts: 0 });
  });

  it('names look-ups that failed and exits 1', async () => {
    const dir = workdir();
    const run = capture();
    const { exitCode } = await runBackfillCommand([], { config: writeConfig(dir, CONFIG), currentState: true, whatIf: true }, run.io, { lookups: noLookups });
    expect(exitCode).toBe(1);
    expect(run.err()).toContain('buildwatch: current state: CodeBuild project payments-service-build: look-up unavailable');
  });
});
