import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  expandInputPaths,
  MAX_INPUT_BYTES,
  normaliseContent,
  readInputFile,
  type NormalisedFile,
} from '../../lambdas/engine/normalise-input.js';

// ----- builders ---------------------------------------------------------------------------------

function ctRecord(eventID: string, eventTime: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' },
    eventTime,
    eventSource: 'codecommit.amazonaws.com',
    eventName: 'GitPush',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.7',
    userAgent: 'git/2.40.0',
    requestParameters: { references: [{ commit: 'abc', ref: 'refs/heads/main' }] },
    responseElements: null,
    readOnly: false,
    eventID,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    ...extra,
  };
}

function ebEvent(id: string, time: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': 'CodeBuild Build State Change',
    source: 'aws.codebuild',
    account: '111122223333',
    time,
    region: 'eu-west-1',
    resources: ['arn:aws:codebuild:eu-west-1:111122223333:build/app:1'],
    detail: { 'build-status': 'SUCCEEDED', 'project-name': 'app' },
    ...extra,
  };
}

function lookupEvent(record: Record<string, unknown>): Record<string, unknown> {
  return {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: 'false',
    EventTime: record.eventTime,
    EventSource: record.eventSource,
    Username: 'alice',
    Resources: [],
    CloudTrailEvent: JSON.stringify(record),
  };
}

const ids = (result: NormalisedFile): string[] => result.events.map((event) => event.id);

function expectSingleFileProblem(result: NormalisedFile, pattern: RegExp): void {
  expect(result.events).toEqual([]);
  expect(result.problems).toHaveLength(1);
  expect(result.problems[0]?.item).toBeUndefined();
  expect(result.problems[0]?.reason).toMatch(pattern);
  expect(result.problems[0]?.reason).toContain(result.file);
}

// ----- shapes -----------------------------------------------------------------------------------

describe('normaliseContent: accepted shapes', () => {
  it('keeps a single EventBridge event verbatim: all fields, key order and time as given', () => {
    const event = ebEvent('e-1', '2024-03-01T10:00:00.500+01:00', { 'replay-note': 'x', detail: { z: 1, a: { y: 2, b: 3 } } });
    const result = normaliseContent('one.json', JSON.stringify(event));
    expect(result.problems).toEqual([]);
    expect(result.events).toEqual([event]);
    expect(JSON.stringify(result.events[0])).toBe(JSON.stringify(event));
    expect(result.events[0]?.time).toBe('2024-03-01T10:00:00.500+01:00');
  });

  it('defaults a missing resources array without dropping anything else', () => {
    const { resources: _dropped, ...event } = ebEvent('e-2', '2024-03-01T10:00:00Z');
    const result = normaliseContent('one.json', JSON.stringify(event));
    expect(result.events).toEqual([{ ...event, resources: [] }]);
  });

  it('wraps a bare CloudTrail record; the id is its eventID and detail is the record', () => {
    const record = ctRecord('ct-1', '2024-03-01T10:00:00Z', { tlsDetails: { tlsVersion: 'TLSv1.3' } });
    const result = normaliseContent('record.json', JSON.stringify(record));
    expect(result.problems).toEqual([]);
    expect(result.events).toHaveLength(1);
    const event = result.events[0];
    expect(event).toMatchObject({
      id: 'ct-1',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.codecommit',
      account: '111122223333',
      region: 'eu-west-1',
      resources: [],
    });
    expect(event?.detail).toEqual(record);
    // The record keeps its own key order, as in the S3 log.
    expect(JSON.stringify(event?.detail)).toBe(JSON.stringify(record));
  });

  it('sorts a CloudTrail log file by eventTime (stable) and drops repeated eventIDs', () => {
    const file = {
      Records: [
        ctRecord('c', '2024-03-01T10:00:03Z'),
        ctRecord('a', '2024-03-01T10:00:01Z'),
        ctRecord('tie-1', '2024-03-01T10:00:02Z'),
        ctRecord('a', '2024-03-01T09:00:00Z', { note: 'duplicate delivery' }),
        ctRecord('tie-2', '2024-03-01T10:00:02Z'),
        // Same instant written with an offset: compared as a time, not as text.
        ctRecord('b', '2024-03-01T11:00:01.500+01:00'),
      ],
    };
    const result = normaliseContent('AWSLogs/log.json', JSON.stringify(file));
    expect(result.problems).toEqual([]);
    expect(ids(result)).toEqual(['a', 'b', 'tie-1', 'tie-2', 'c']);
    // The first copy of a duplicate wins.
    expect(result.events[0]?.detail.note).toBeUndefined();
  });

  it('parses lookup-events output: CloudTrailEvent strings, sorted, deduplicated, NextToken ignored', () => {
    const page = {
      Events: [
        lookupEvent(ctRecord('l-2', '2024-03-02T00:00:00Z')),
        lookupEvent(ctRecord('l-1', '2024-03-01T00:00:00Z')),
        lookupEvent(ctRecord('l-2', '2024-03-02T00:00:00Z')),
      ],
      NextToken: 'abc==',
    };
    const result = normaliseContent('lookup.json', JSON.stringify(page));
    expect(result.problems).toEqual([]);
    expect(ids(result)).toEqual(['l-1', 'l-2']);
    expect(result.events[0]?.detail).toEqual(ctRecord('l-1', '2024-03-01T00:00:00Z'));
  });

  it('accepts a lookup Event whose CloudTrailEvent was already parsed to an object', () => {
    const record = ctRecord('l-3', '2024-03-01T00:00:00Z');
    const result = normaliseContent('lookup.json', JSON.stringify({ Events: [{ ...lookupEvent(record), CloudTrailEvent: record }] }));
    expect(ids(result)).toEqual(['l-3']);
  });

  it('keeps file order for a JSON array mixing EventBridge events, records and lookup Events', () => {
    const items = [
      ebEvent('eb-late', '2024-03-09T00:00:00Z'),
      ctRecord('ct-early', '2024-03-01T00:00:00Z'),
      lookupEvent(ctRecord('lk-mid', '2024-03-05T00:00:00Z')),
    ];
    const result = normaliseContent('mixed.json', JSON.stringify(items, null, 2));
    expect(result.problems).toEqual([]);
    expect(ids(result)).toEqual(['eb-late', 'ct-early', 'lk-mid']);
  });

  it('accepts an empty array and an empty Records list without problems', () => {
    expect(normaliseContent('a.json', '[]')).toEqual({ file: 'a.json', events: [], problems: [] });
    expect(normaliseContent('b.json', '{"Records":[]}')).toEqual({ file: 'b.json', events: [], problems: [] });
  });

  it('strips a UTF-8 byte order mark', () => {
    const result = normaliseContent('bom.json', Buffer.from(`\uFEFF${JSON.stringify(ctRecord('bom', '2024-03-01T00:00:00Z'))}`));
    expect(ids(result)).toEqual(['bom']);
  });
});

describe('normaliseContent: JSON Lines', () => {
  const lines = [
    JSON.stringify(ebEvent('j-1', '2024-03-03T00:00:00Z')),
    '',
    JSON.stringify(ctRecord('j-2', '2024-03-01T00:00:00Z')),
    JSON.stringify(lookupEvent(ctRecord('j-3', '2024-03-02T00:00:00Z'))),
  ].join('\r\n');

  it.each(['events.jsonl', 'events.ndjson', 'events.JSONL'])('reads %s line by line, in file order', (name) => {
    const result = normaliseContent(name, `${lines}\n`);
    expect(result.problems).toEqual([]);
    expect(ids(result)).toEqual(['j-1', 'j-2', 'j-3']);
  });

  it('detects one-value-per-line content in a .json file', () => {
    expect(ids(normaliseContent('events.json', lines))).toEqual(['j-1', 'j-2', 'j-3']);
  });

  it('reports a bad line by its 1-based line number and keeps the other lines', () => {
    const content = [
      JSON.stringify(ctRecord('ok-1', '2024-03-01T00:00:00Z')),
      '{"eventID": "broken",',
      '[1, 2]',
      JSON.stringify(ctRecord('ok-2', '2024-03-01T00:00:00Z')),
    ].join('\n');
    const result = normaliseContent('bad.ndjson', content);
    expect(ids(result)).toEqual(['ok-1', 'ok-2']);
    expect(result.problems.map((problem) => problem.item)).toEqual([2, 3]);
    expect(result.problems[0]?.reason).toMatch(/^bad\.ndjson: line 2: not valid JSON/);
    expect(result.problems[1]?.reason).toMatch(/^bad\.ndjson: line 3: is an array/);
  });

  it('reads a .jsonl file with only blank lines as no events, without a problem (a quiet hour)', () => {
    expect(normaliseContent('blank.jsonl', '\n  \n')).toEqual({ file: 'blank.jsonl', events: [], problems: [] });
    expectSingleFileProblem(normaliseContent('blank.json', '\n  \n'), /is empty/);
  });
});

describe('normaliseContent: gzip', () => {
  const logFile = { Records: [ctRecord('g-2', '2024-03-01T00:00:02Z'), ctRecord('g-1', '2024-03-01T00:00:01Z')] };

  it('gunzips a .json.gz CloudTrail log file', () => {
    const result = normaliseContent('111122223333_CloudTrail_eu-west-1_20240301T0000Z_x.json.gz', gzipSync(JSON.stringify(logFile)));
    expect(result.problems).toEqual([]);
    expect(ids(result)).toEqual(['g-1', 'g-2']);
  });

  it('recognises gzip by its magic bytes whatever the name', () => {
    expect(ids(normaliseContent('download', gzipSync(JSON.stringify(logFile))))).toEqual(['g-1', 'g-2']);
  });

  it('reads gzipped JSON Lines named .jsonl.gz line by line', () => {
    const content = gzipSync(`${JSON.stringify(ctRecord('z-2', '2024-03-02T00:00:00Z'))}\n${JSON.stringify(ctRecord('z-1', '2024-03-01T00:00:00Z'))}\n`);
    expect(ids(normaliseContent('events.jsonl.gz', content))).toEqual(['z-2', 'z-1']);
  });

  it('accepts plain JSON under a .gz name (already decompressed by a downloader)', () => {
    expect(ids(normaliseContent('log.json.gz', Buffer.from(JSON.stringify(logFile))))).toEqual(['g-1', 'g-2']);
  });

  it('reports a .gz file that is neither gzip nor JSON', () => {
    expectSingleFileProblem(normaliseContent('log.json.gz', Buffer.from('PK\u0003\u0004 not gzip')), /named \.gz but is neither gzip data nor JSON/);
  });

  it('reports truncated gzip as one problem with no events', () => {
    const full = gzipSync(JSON.stringify(logFile));
    const result = normaliseContent('cut.json.gz', full.subarray(0, Math.floor(full.length / 2)));
    expectSingleFileProblem(result, /^cut\.json\.gz: is not valid gzip data \(truncated or corrupt\)/);
  });

  it('refuses output over the size limit instead of inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(1024);
    const result = normaliseContent('bomb.json.gz', bomb, { maxBytes: 4096 });
    expectSingleFileProblem(result, /decompresses to more than the 4096 bytes limit/);
  });

  it('refuses plain content over the size limit', () => {
    const content = JSON.stringify(logFile);
    expectSingleFileProblem(normaliseContent('big.json', Buffer.from(content), { maxBytes: 100 }), /over the 100 bytes limit/);
    expectSingleFileProblem(normaliseContent('big.json', content, { maxBytes: 100 }), /over the 100 bytes limit/);
  });

  it('uses 512 MiB as the default limit', () => {
    expect(MAX_INPUT_BYTES).toBe(512 * 1024 * 1024);
  });
});

// ----- problems ---------------------------------------------------------------------------------

describe('normaliseContent: malformed files', () => {
  it.each([
    ['empty.json', '', /^empty\.json: is empty$/],
    ['blank.json', ' \n\t\n', /is empty/],
    ['bad.json', '{"Records": [', /^bad\.json: is not valid JSON: /],
    ['pretty-bad.json', '{\n  "eventID": "x",\n  oops\n}', /is not valid JSON/],
    ['number.json', '42', /top-level JSON is a number; expected an object, an array or JSON Lines/],
    ['string.json', '"hello"', /top-level JSON is a string/],
    ['null.json', 'null', /top-level JSON is null/],
    ['unknown.json', '{"foo": 1, "bar": 2}', /has an unknown shape \(keys: foo, bar\)/],
    ['records.json', '{"Records": {"eventID": "x"}}', /"Records" is an object, expected an array/],
    ['events.json', '{"Events": "nope"}', /"Events" is a string, expected an array/],
    ['invalid-eb.json', JSON.stringify({ 'detail-type': 'X', detail: {} }), /EventBridge event invalid: id missing, source missing, account missing, time missing and 1 more/],
  ])('%s yields zero events and one problem', (file, content, pattern) => {
    expectSingleFileProblem(normaliseContent(file, content), pattern);
  });

  it('never throws on arbitrary bytes', () => {
    const samples = [
      Buffer.from([0x1f, 0x8b]),
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff]),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      Buffer.from('\u0000\u0001{['),
      Buffer.alloc(0),
    ];
    for (const sample of samples) {
      const result = normaliseContent('junk.bin', sample);
      expect(result.events).toEqual([]);
      expect(result.problems).toHaveLength(1);
    }
  });
});

describe('normaliseContent: item-level problems', () => {
  it('reports each bad array item by index, with the missing or invalid fields, and keeps the good ones', () => {
    const items = [
      ctRecord('good-1', '2024-03-01T00:00:00Z'),
      { hello: 'world' },
      ctRecord('', '2024-03-01T00:00:00Z', { eventName: undefined, readOnly: 'true' }),
      ebEvent('eb-bad', '2024-03-01T00:00:00Z', { detail: '{"as":"string"}' }),
      'just a string',
      ctRecord('bad-time', 'yesterday'),
      { Records: [] },
      ebEvent('good-2', '2024-03-01T00:00:00Z'),
    ];
    const result = normaliseContent('items.json', JSON.stringify(items));
    expect(ids(result)).toEqual(['good-1', 'good-2']);
    expect(result.problems.map((problem) => problem.item)).toEqual([1, 2, 3, 4, 5, 6]);
    const reasons = result.problems.map((problem) => problem.reason);
    expect(reasons[0]).toMatch(/^items\.json: item 1: has an unknown shape \(keys: hello\)/);
    expect(reasons[1]).toBe('items.json: item 2: CloudTrail record invalid: eventName missing, eventID empty, readOnly should be boolean, is a string');
    expect(reasons[2]).toBe('items.json: item 3: EventBridge event invalid: detail should be record, is a string');
    expect(reasons[3]).toBe('items.json: item 4: is a string, expected a JSON object');
    expect(reasons[4]).toBe('items.json: item 5: CloudTrail record invalid: eventTime "yesterday" is not a date');
    expect(reasons[5]).toMatch(/item 6: is a whole CloudTrail log file or lookup-events page/);
    for (const reason of reasons) expect(reason).not.toMatch(/[\r\n]/);
  });

  it('reports bad Records entries by index and still sorts and deduplicates the rest', () => {
    const file = {
      Records: [
        ctRecord('r-2', '2024-03-01T00:00:02Z'),
        ebEvent('not-a-record', '2024-03-01T00:00:00Z'),
        ctRecord('r-1', '2024-03-01T00:00:01Z', { userIdentity: { type: 7 } }),
        ctRecord('r-1', '2024-03-01T00:00:01Z'),
      ],
    };
    const result = normaliseContent('log.json', JSON.stringify(file));
    expect(ids(result)).toEqual(['r-1', 'r-2']);
    expect(result.problems.map((problem) => problem.item)).toEqual([1, 2]);
    expect(result.problems[0]?.reason).toMatch(/^log\.json: Records\[1\]: CloudTrail record invalid: eventTime missing/);
    expect(result.problems[1]?.reason).toBe('log.json: Records[2]: CloudTrail record invalid: userIdentity.type should be string, is a number');
  });

  it('reports lookup Events whose CloudTrailEvent is missing, not JSON or not an object', () => {
    const good = lookupEvent(ctRecord('ok', '2024-03-01T00:00:00Z'));
    const page = {
      Events: [
        { ...good, CloudTrailEvent: undefined },
        { ...good, CloudTrailEvent: '{"eventID":' },
        { ...good, CloudTrailEvent: '[1]' },
        good,
      ],
    };
    const result = normaliseContent('lookup.json', JSON.stringify(page));
    expect(ids(result)).toEqual(['ok']);
    const reasons = result.problems.map((problem) => problem.reason);
    expect(reasons[0]).toBe('lookup.json: Events[0]: lookup-events Event invalid: CloudTrailEvent missing');
    expect(reasons[1]).toMatch(/^lookup\.json: Events\[1\]: lookup-events Event invalid: CloudTrailEvent is not valid JSON/);
    expect(reasons[2]).toBe('lookup.json: Events[2]: lookup-events Event invalid: CloudTrailEvent is an array, expected a JSON object');
  });

  it('sets CloudTrail Insights events apart (ignored, not problems): in a log file, a lookup-events page or on their own', () => {
    const insight = {
      eventVersion: '1.08',
      eventTime: '2024-03-01T00:30:00Z',
      awsRegion: 'eu-west-1',
      eventID: 'insight-1',
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: '111122223333',
      sharedEventID: '12345678-0000-4000-8000-000000000002',
      insightDetails: { state: 'Start', eventSource: 'codebuild.amazonaws.com', eventName: 'StartBuild', insightType: 'ApiCallRateInsight' },
      eventCategory: 'Insight',
    };
    const logFile = normaliseContent('trail.json', JSON.stringify({ Records: [ctRecord('ok', '2024-03-01T00:00:00Z'), insight] }));
    expect(ids(logFile)).toEqual(['ok']);
    expect(logFile.problems).toEqual([]);
    expect(logFile.ignored).toEqual([{ file: 'trail.json', item: 1, reason: 'trail.json: Records[1]: a CloudTrail Insights event (API call or error rates), not an API call: not replayed' }]);
    const page = normaliseContent('lookup.json', JSON.stringify({ Events: [lookupEvent(insight)] }));
    expect(page.events).toEqual([]);
    expect(page.problems).toEqual([]);
    expect(page.ignored).toHaveLength(1);
    const alone = normaliseContent('insight.json', JSON.stringify(insight));
    expect(alone.problems).toEqual([]);
    expect(alone.ignored?.[0]?.reason).toBe('insight.json: a CloudTrail Insights event (API call or error rates), not an API call: not replayed');
    // Anything else without an event source is still a problem.
    expect(normaliseContent('bad.json', JSON.stringify({ Records: [{ ...insight, eventType: 'AwsApiCall', eventCategory: 'Management' }] })).problems).toHaveLength(1);
  });

  it('rejects an EventBridge event whose time is not a date', () => {
    const result = normaliseContent('eb.json', JSON.stringify([ebEvent('x', 'soon')]));
    expect(result.problems[0]?.reason).toBe('eb.json: item 0: EventBridge event invalid: time "soon" is not a date');
  });
});

// ----- files and directories --------------------------------------------------------------------

describe('readInputFile and expandInputPaths', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildwatch-inputs-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function put(relativePath: string, content: string | Buffer = '[]'): Promise<string> {
    const full = join(dir, relativePath);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, content);
    return full;
  }

  it('reads and normalises a gzipped file from disk', async () => {
    const path = await put('log.json.gz', gzipSync(JSON.stringify({ Records: [ctRecord('disk', '2024-03-01T00:00:00Z')] })));
    const result = await readInputFile(path);
    expect(result.file).toBe(path);
    expect(ids(result)).toEqual(['disk']);
  });

  it('turns a missing file, a directory and an oversized file into problems', async () => {
    const missing = join(dir, 'nope.json');
    expectSingleFileProblem(await readInputFile(missing), /nope\.json: no such file or directory$/);
    expectSingleFileProblem(await readInputFile(dir), /is a directory, not a file$/);
    const big = await put('big.json', JSON.stringify(ctRecord('big', '2024-03-01T00:00:00Z')));
    expectSingleFileProblem(await readInputFile(big, { maxBytes: 10 }), /over the 10 bytes limit$/);
  });

  it('expands a directory recursively in lexical order of relative path, skipping dotfiles and other files', async () => {
    await put('b.json');
    await put('a/z.json.gz', gzipSync('[]'));
    await put('a/b/c.ndjson', '{}');
    await put('a-b.jsonl', '{}');
    await put('A.JSON');
    await put('.hidden.json');
    await put('.git/config.json');
    await put('notes.txt', 'x');
    await put('a/readme.md', 'x');
    const { files, problems } = await expandInputPaths([dir]);
    expect(problems).toEqual([]);
    // Code-unit order of the '/'-separated relative path: 'A' < 'a', '-' < '/' < 'b'.
    expect(files).toEqual(['A.JSON', 'a-b.jsonl', 'a/b/c.ndjson', 'a/z.json.gz', 'b.json'].map((rel) => join(dir, rel)));
  });

  it('skips the folders of a trail bucket copy that hold no events (digests, Insights, other services\' logs), as backfill does', async () => {
    const day = '2026/11/02';
    const log = await put(`AWSLogs/123456789012/CloudTrail/us-east-1/${day}/123456789012_CloudTrail_us-east-1_20261102T1005Z_a1.json.gz`, gzipSync(JSON.stringify({ Records: [ctRecord('push', '2026-11-02T10:01:00Z')] })));
    // An hourly digest file: not events, and not a shape the normaliser reads.
    await put(`AWSLogs/123456789012/CloudTrail-Digest/us-east-1/${day}/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261102T110000Z.json.gz`, gzipSync(JSON.stringify({ awsAccountId: '123456789012', digestStartTime: '2026-11-02T10:00:00Z', digestEndTime: '2026-11-02T11:00:00Z', logFiles: [] })));
    await put(`AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail-Insight/us-east-1/${day}/insight.json`, JSON.stringify({ Records: [{ eventType: 'AwsCloudTrailInsight', eventID: 'i', eventTime: '2026-11-02T10:00:00Z' }] }));
    await put(`AWSLogs/123456789012/Config/us-east-1/${day}/ConfigSnapshot/snapshot.json.gz`, gzipSync('{"fileVersion":"1.0"}'));
    const { files, problems, notEvents } = await expandInputPaths([dir]);
    expect(problems).toEqual([]);
    expect(files).toEqual([log]);
    expect(notEvents.sort()).toEqual(['AWSLogs/123456789012/CloudTrail-Digest', 'AWSLogs/123456789012/Config', 'AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail-Insight'].map((rel) => join(dir, rel)));
    // Given on its own, a folder of digests is skipped the same way: no problem, nothing to read.
    const digests = await expandInputPaths([join(dir, 'AWSLogs/123456789012/CloudTrail-Digest')]);
    expect(digests).toEqual({ files: [], problems: [], skipped: [], notEvents: [join(dir, 'AWSLogs/123456789012/CloudTrail-Digest')] });
  });

  it('keeps paths in the given order, whatever their extension, repeats included', async () => {
    const second = await put('logs/2.json');
    const first = await put('logs/1.json');
    const text = await put('events.txt', '{}');
    const { files, problems } = await expandInputPaths([text, second, join(dir, 'logs'), first]);
    expect(problems).toEqual([]);
    expect(files).toEqual([text, second, first, second, first]);
  });

  it('reports missing paths and empty directories but keeps going', async () => {
    const file = await put('ok.json');
    await mkdir(join(dir, 'empty'));
    const missing = join(dir, 'missing');
    const { files, problems } = await expandInputPaths([missing, join(dir, 'empty'), file]);
    expect(files).toEqual([file]);
    expect(problems).toEqual([
      { file: missing, reason: `${missing}: no such file or directory` },
      { file: join(dir, 'empty'), reason: `${join(dir, 'empty')}: directory has no .json, .jsonl, .ndjson or .gz files` },
    ]);
  });

  it('follows symlinked directories once and survives a symlink loop', async () => {
    await put('real/x.json');
    await symlink(join(dir, 'real'), join(dir, 'alias'));
    await symlink(dir, join(dir, 'real', 'loop'));
    const { files, problems } = await expandInputPaths([dir]);
    expect(problems).toEqual([]);
    // real/ is reached through 'alias' and 'real' (and again via 'loop'), but entered only once.
    expect(files).toHaveLength(1);
  });

  it('feeds readInputFile for every expanded file', async () => {
    await put('2024/03/02.json', JSON.stringify(ctRecord('second', '2024-03-02T00:00:00Z')));
    await put('2024/03/01.json.gz', gzipSync(JSON.stringify({ Records: [ctRecord('first', '2024-03-01T00:00:00Z')] })));
    const { files } = await expandInputPaths([dir]);
    const results = await Promise.all(files.map((file) => readInputFile(file)));
    expect(results.flatMap(ids)).toEqual(['first', 'second']);
  });
});

describe('normaliseContent: leniency for real exports, without accepting garbage', () => {
  it('treats "resources": null as absent, in a bare record and in an EventBridge event', () => {
    const record = ctRecord('null-resources', '2024-03-01T00:00:00Z', { resources: null });
    const bare = normaliseContent('log.json', JSON.stringify({ Records: [record] }));
    expect(bare.problems).toEqual([]);
    expect(ids(bare)).toEqual(['null-resources']);
    expect(bare.events[0]?.detail).not.toHaveProperty('resources');

    const relayed = ebEvent('eb-null', '2024-03-01T00:00:00Z', { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.codecommit', resources: null, detail: record });
    const wrapped = normaliseContent('eb.json', JSON.stringify(relayed));
    expect(wrapped.problems).toEqual([]);
    expect(wrapped.events[0]?.resources).toEqual([]);
    expect(wrapped.events[0]?.detail).not.toHaveProperty('resources');
  });

  it('still rejects resources of the wrong kind', () => {
    const result = normaliseContent('log.json', JSON.stringify({ Records: [ctRecord('bad', '2024-03-01T00:00:00Z', { resources: 'arn:aws:s3:::x' })] }));
    expect(result.events).toEqual([]);
    expect(result.problems[0]?.reason).toMatch(/resources/);
  });

  it('gives a record without eventID a stable id derived from its content, flagged as derived', () => {
    const { eventID: _dropped, ...shipped } = ctRecord('dropped', '2024-03-01T00:00:00Z');
    const other = { ...shipped, eventTime: '2024-03-01T00:00:05Z' };
    const first = normaliseContent('a.json', JSON.stringify({ Records: [shipped, other, shipped] }));
    expect(first.problems).toEqual([]);
    // The repeat of the same record is the same event; a different record is another one.
    expect(first.events).toHaveLength(2);
    const [id, otherId] = ids(first);
    expect(id).toMatch(/^derived:[0-9a-f]{32}$/);
    expect(otherId).not.toBe(id);
    expect(first.events[0]?.detail).toMatchObject({ eventID: id, buildwatchDerivedEventID: true });
    // The same content in another file, another shape, with keys in another order: the same id.
    const reordered = Object.fromEntries(Object.entries(shipped).reverse());
    expect(ids(normaliseContent('b.jsonl', `${JSON.stringify(reordered)}\n`))).toEqual([id]);
  });

  it('takes a lookup Event\'s EventId when its record lacks eventID, and derives nothing for garbage', () => {
    const { eventID: _dropped, ...shipped } = ctRecord('c0ffee00-0000-4000-8000-000000000001', '2024-03-01T00:00:00Z');
    const page = { Events: [{ ...lookupEvent({ ...shipped, eventID: 'c0ffee00-0000-4000-8000-000000000001' }), CloudTrailEvent: JSON.stringify(shipped) }] };
    const result = normaliseContent('page.json', JSON.stringify(page));
    expect(ids(result)).toEqual(['c0ffee00-0000-4000-8000-000000000001']);
    expect(result.events[0]?.detail).not.toHaveProperty('buildwatchDerivedEventID');

    const { eventID: _gone, ...broken } = ctRecord('x', 'yesterday');
    const garbage = normaliseContent('bad.json', JSON.stringify([broken, { eventName: 'GitPush' }]));
    expect(garbage.events).toEqual([]);
    expect(garbage.problems).toHaveLength(2);
    expect(garbage.problems[0]?.reason).toMatch(/eventID missing|eventTime "yesterday" is not a date/);
  });
});
