/**
 * Where a trail archive lives: a local directory or an S3 prefix, behind one small interface so the
 * discovery and the merge do not care. Listing is lazy (one S3 page, one directory at a time):
 * an organisation's archive holds millions of keys, and none of them is kept longer than needed.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MAX_INPUT_BYTES, normaliseContent, readInputFile, type NormalisedFile } from '../engine/normalise-input.js';

export interface ListedFile {
  /** The path, or `s3://bucket/key`: shown to people, saved in checkpoints. */
  readonly name: string;
  readonly size?: number;
}

export interface ArchiveStore {
  /** The folders (ending in the separator for S3) and files directly in a folder, in name order. */
  children(folder: string): Promise<{ folders: string[]; files: ListedFile[] }>;
  /** Every file under a folder, in name order, strictly after `after` when given. */
  filesUnder(folder: string, after?: string): AsyncGenerator<ListedFile>;
  read(file: ListedFile): Promise<NormalisedFile>;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A local directory tree (symbolic links followed once; dotfiles skipped, as the replay walk does). */
export function localStore(): ArchiveStore {
  const visited = new Set<string>();
  const entries = async (folder: string): Promise<{ folders: string[]; files: ListedFile[] }> => {
    const folders: string[] = [];
    const files: ListedFile[] = [];
    const names = (await readdir(folder)).filter((name) => !name.startsWith('.')).sort(byName);
    for (const name of names) {
      const path = join(folder, name);
      const info = await stat(path);
      if (info.isDirectory()) folders.push(path);
      else if (info.isFile()) files.push({ name: path, size: info.size });
    }
    return { folders, files };
  };
  /** Sorted as full paths sort (a folder's files all start with `folder/`), so `after` applies. */
  async function* walkFiles(folder: string, after: string | undefined, seen: Set<string>): AsyncGenerator<ListedFile> {
    // A symbolic link back up the tree is entered once.
    const real = await realpath(folder);
    if (seen.has(real)) return;
    seen.add(real);
    const { folders, files } = await entries(folder);
    const items = [...files.map((file) => ({ file, key: file.name })), ...folders.map((name) => ({ file: undefined, key: `${name}${sep}` }))].sort((a, b) => byName(a.key, b.key));
    for (const item of items) {
      if (item.file) {
        if (after === undefined || item.key > after) yield item.file;
      } else if (after === undefined || after < item.key || after.startsWith(item.key)) {
        // A folder wholly at or before `after` is not entered at all.
        yield* walkFiles(item.key.slice(0, -sep.length), after, seen);
      }
    }
  }
  return {
    async children(folder) {
      const real = await realpath(folder);
      if (visited.has(real)) return { folders: [], files: [] };
      visited.add(real);
      return entries(folder);
    },
    async *filesUnder(folder, after) {
      yield* walkFiles(folder, after, new Set());
    },
    read: (file) => readInputFile(file.name),
  };
}

const S3_URL = /^s3:\/\/([^/]+)\/?(.*)$/;

export function parseS3Url(input: string): { bucket: string; key: string } | undefined {
  const match = S3_URL.exec(input);
  return match ? { bucket: match[1] ?? '', key: match[2] ?? '' } : undefined;
}

/** One bucket; folders and file names are `s3://bucket/key` URLs. */
export function s3Store(client: S3Client, bucket: string): ArchiveStore {
  const url = (key: string): string => `s3://${bucket}/${key}`;
  const keyOf = (name: string): string => parseS3Url(name)?.key ?? name;
  async function* pages(prefix: string, options: { delimiter?: string; startAfter?: string }) {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
          ...(options.startAfter && !token ? { StartAfter: options.startAfter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return {
    async children(folder) {
      const prefix = keyOf(folder);
      const folders: string[] = [];
      const files: ListedFile[] = [];
      for await (const page of pages(prefix, { delimiter: '/' })) {
        for (const common of page.CommonPrefixes ?? []) if (common.Prefix) folders.push(url(common.Prefix));
        for (const object of page.Contents ?? []) {
          if (object.Key && object.Key !== prefix && !object.Key.endsWith('/')) files.push({ name: url(object.Key), ...(object.Size !== undefined ? { size: object.Size } : {}) });
        }
      }
      // ListObjectsV2 answers in UTF-8 binary order already; sorting keeps the order defined for a
      // store that does not.
      return { folders: folders.sort(byName), files: files.sort((a, b) => byName(a.name, b.name)) };
    },
    async *filesUnder(folder, after) {
      const startAfter = after === undefined ? undefined : keyOf(after);
      for await (const page of pages(keyOf(folder), startAfter === undefined ? {} : { startAfter })) {
        for (const object of page.Contents ?? []) {
          if (object.Key && !object.Key.endsWith('/')) yield { name: url(object.Key), ...(object.Size !== undefined ? { size: object.Size } : {}) };
        }
      }
    },
    read: (file) => readS3(client, bucket, keyOf(file.name), file.size),
  };
}

async function readS3(client: S3Client, bucket: string, key: string, listedSize: number | undefined): Promise<NormalisedFile> {
  const name = `s3://${bucket}/${key}`;
  const problem = (reason: string): NormalisedFile => ({ file: name, events: [], problems: [{ file: name, reason: `${name}: ${reason}` }] });
  if (listedSize !== undefined && listedSize > MAX_INPUT_BYTES) return problem(`is ${listedSize} bytes, over the ${MAX_INPUT_BYTES}-byte limit`);
  try {
    const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!output.Body) return problem('the response had no body');
    const bytes = await output.Body.transformToByteArray();
    if (bytes.byteLength > MAX_INPUT_BYTES) return problem(`is ${bytes.byteLength} bytes, over the ${MAX_INPUT_BYTES}-byte limit`);
    return normaliseContent(name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    return problem(`cannot be read: ${(error as Error).name}: ${(error as Error).message}`);
  }
}
