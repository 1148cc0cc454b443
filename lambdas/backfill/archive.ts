/**
 * History from a trail archive: CloudTrail log files (`.json.gz`, `{"Records":[…]}`) in a local
 * directory or under an S3 prefix, an account's trail or an organisation trail (see trail-layout.ts).
 *
 * The archive is split into prefixes, one per account and region (`…/<account>/CloudTrail/<region>/`),
 * found by walking the layout folder by folder (`--account`/`--region` prune the walk). Within a
 * prefix, files are in name order, which is delivery order. The prefixes are then merged by
 * eventTime (archive-merge.ts), so history from every account and region reaches the engine in time
 * order while memory holds one file per prefix. Files found outside any `AWSLogs/` folder (a
 * hand-made copy, a single file) are read as one more stream per input, in CloudTrail's delivery
 * stamp order when every file has one, else in name order; filters apply to their events.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { InputProblem } from '../engine/normalise-input.js';
import { CheckpointError } from './checkpoint.js';
import { localStore, parseS3Url, s3Store, type ArchiveStore, type ListedFile } from './archive-store.js';
import { checkLogFile, deliveryStamp, EXPECTED_LAYOUT, folderKind, type TrailPrefix } from './trail-layout.js';

export interface ArchiveFilters {
  /** Only these accounts (empty: all). */
  readonly accounts?: readonly string[];
  /** Only these regions (empty: all). */
  readonly regions?: readonly string[];
}

/** A file to read next, or a problem with a file that is skipped. */
export type StreamItem = { readonly file: ListedFile } | { readonly problem: InputProblem };

/** One stream of files read in order: an account's region, or the loose files of an input. */
export interface ArchiveStream {
  /** Its checkpoint key: the prefix's folder, or `files:<input>`. */
  readonly key: string;
  /** The account and region of a prefix; loose files have none (their events are filtered instead). */
  readonly prefix?: TrailPrefix;
  readonly store: ArchiveStore;
  /** The stream's files, strictly after the file named `after` when given. */
  items(after?: string): AsyncGenerator<StreamItem>;
}

export interface ArchiveDiscovery {
  readonly streams: ArchiveStream[];
  readonly problems: InputProblem[];
}

/** What the replay walk reads from a folder outside the layout. */
const EVENT_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;

function allows(filters: ArchiveFilters, account: string | undefined, region: string | undefined): boolean {
  if (account !== undefined && filters.accounts?.length && !filters.accounts.includes(account)) return false;
  if (region !== undefined && filters.regions?.length && !filters.regions.includes(region)) return false;
  return true;
}

/** Whether an event of a loose file passes the filters (by the account and region it names). */
export function eventAllowed(filters: ArchiveFilters, account: string, region: string): boolean {
  return allows(filters, account, region);
}

function prefixStream(store: ArchiveStore, folder: string, prefix: TrailPrefix): ArchiveStream {
  return {
    key: folder,
    prefix,
    store,
    async *items(after) {
      for await (const file of store.filesUnder(folder, after)) {
        if (!EVENT_FILE.test(file.name)) continue;
        const check = checkLogFile(file.name, prefix);
        if (check.ok) yield { file };
        else yield { problem: { file: file.name, reason: `${file.name}: skipped: ${check.reason}` } };
      }
    },
  };
}

function looseStream(store: ArchiveStore, input: string, files: readonly ListedFile[]): ArchiveStream {
  const ordered = inTimeOrder(files);
  return {
    key: `files:${input}`,
    store,
    async *items(after) {
      let start = 0;
      if (after !== undefined) {
        start = ordered.findIndex((file) => file.name === after) + 1;
        if (start === 0) throw new CheckpointError(`the archive changed since the checkpoint: ${after} is no longer among the files of ${input}; delete the checkpoint to start over`);
      }
      for (const file of ordered.slice(start)) yield { file };
    },
  };
}

/** By CloudTrail's delivery stamp when every file has one (stable), else as listed. */
export function inTimeOrder<T extends { readonly name: string }>(files: readonly T[]): T[] {
  const stamped = files.map((file) => ({ file, stamp: deliveryStamp(basename(file.name)) }));
  if (stamped.some((entry) => entry.stamp === undefined)) return [...files];
  stamped.sort((a, b) => ((a.stamp ?? '') < (b.stamp ?? '') ? -1 : (a.stamp ?? '') > (b.stamp ?? '') ? 1 : 0));
  return stamped.map((entry) => entry.file);
}

/** Walks one input's folders: prefixes become streams, loose files are collected, oddities reported. */
async function walk(store: ArchiveStore, folder: string, filters: ArchiveFilters, found: { streams: ArchiveStream[]; loose: ListedFile[]; problems: InputProblem[] }): Promise<void> {
  const kind = folderKind(folder);
  if (kind.kind === 'not-events') return;
  if (kind.kind === 'unknown') {
    found.problems.push({ file: folder, reason: `${folder}: skipped: ${kind.reason}` });
    return;
  }
  if (kind.kind === 'prefix') {
    if (allows(filters, kind.prefix.account, kind.prefix.region)) found.streams.push(prefixStream(store, folder, kind.prefix));
    return;
  }
  if (kind.kind === 'layout' && !allows(filters, kind.account, undefined)) return;
  const { folders, files } = await store.children(folder);
  for (const file of files) {
    if (!EVENT_FILE.test(file.name)) continue;
    if (kind.kind === 'outside') found.loose.push(file);
    else found.problems.push({ file: file.name, reason: `${file.name}: skipped: not where CloudTrail puts log files (expected ${EXPECTED_LAYOUT})` });
  }
  for (const sub of folders) await walk(store, sub, filters, found);
}

/**
 * The streams of the inputs (directories, files, `s3://bucket/prefix`). A listing error or an odd
 * path is a problem of that input or folder; the rest is still read.
 */
export async function discoverArchive(inputs: readonly string[], options: { readonly s3: () => S3Client; readonly filters?: ArchiveFilters }): Promise<ArchiveDiscovery> {
  const filters = options.filters ?? {};
  const streams: ArchiveStream[] = [];
  const problems: InputProblem[] = [];
  const local = localStore();
  const buckets = new Map<string, ArchiveStore>();
  for (const input of inputs) {
    const s3 = parseS3Url(input);
    let store: ArchiveStore;
    let root: string;
    if (s3) {
      store = buckets.get(s3.bucket) ?? s3Store(options.s3(), s3.bucket);
      buckets.set(s3.bucket, store);
      if (EVENT_FILE.test(s3.key)) {
        streams.push(looseStream(store, input, [{ name: input }]));
        continue;
      }
      // A prefix names a folder: `trail` means `trail/`, not also `trail-old/`.
      root = `s3://${s3.bucket}/${s3.key === '' || s3.key.endsWith('/') ? s3.key : `${s3.key}/`}`;
    } else {
      store = local;
      root = input;
      try {
        if (!(await stat(input)).isDirectory()) {
          streams.push(looseStream(store, input, [{ name: input }]));
          continue;
        }
      } catch (error) {
        problems.push({ file: input, reason: `${input}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}` });
        continue;
      }
    }
    const found = { streams: [] as ArchiveStream[], loose: [] as ListedFile[], problems: [] as InputProblem[] };
    try {
      await walk(store, root, filters, found);
    } catch (error) {
      problems.push({ file: input, reason: `${input}: cannot list: ${(error as Error).name}: ${(error as Error).message}` });
      continue;
    }
    problems.push(...found.problems);
    streams.push(...found.streams);
    if (found.loose.length > 0) streams.push(looseStream(store, input, found.loose));
    if (found.streams.length === 0 && found.loose.length === 0) {
      const filtered = filters.accounts?.length || filters.regions?.length ? ' for the accounts and regions asked for' : '';
      problems.push({ file: input, reason: `${input}: no CloudTrail log files${filtered}` });
    }
  }
  return { streams, problems };
}
