/**
 * History from a trail's archive: CloudTrail log files (`.json.gz`, `{"Records":[…]}`) in a local
 * directory or under an S3 prefix. Files are read one at a time (memory holds one file, plus the
 * next one being fetched), parsed by the replay normaliser (records deduplicated and sorted by
 * eventTime within a file), and taken in time order: CloudTrail names its files
 * `<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json.gz`, so when every file carries that
 * stamp the files are ordered by it, interleaving regions; otherwise in lexical order of path/key,
 * which in CloudTrail's layout (…/<region>/<yyyy>/<mm>/<dd>/) is time order per region.
 */
import { basename } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { expandInputPaths, MAX_INPUT_BYTES, normaliseContent, readInputFile, type InputProblem, type NormalisedFile } from '../engine/normalise-input.js';

export interface ArchiveFile {
  readonly name: string;
  read(): Promise<NormalisedFile>;
}

export interface ArchiveListing {
  readonly files: ArchiveFile[];
  readonly problems: InputProblem[];
}

const S3_URL = /^s3:\/\/([^/]+)\/?(.*)$/;
const LOG_FILE = /\.json(\.gz)?$/i;
/** Digest files sit next to the logs and are not events. */
const DIGEST = /(^|\/)CloudTrail-Digest\//;
const STAMP = /_(\d{8}T\d{4})Z_/;

export function isS3Url(input: string): boolean {
  return S3_URL.test(input);
}

/** The files of the inputs (directories, files, `s3://bucket/prefix`), in the order to process them. */
export async function listArchive(inputs: readonly string[], s3: () => S3Client): Promise<ArchiveListing> {
  const files: ArchiveFile[] = [];
  const problems: InputProblem[] = [];
  for (const input of inputs) {
    const match = S3_URL.exec(input);
    if (match) {
      const [, bucket = '', prefix = ''] = match;
      try {
        files.push(...(await listS3(s3(), bucket, prefix)));
      } catch (error) {
        problems.push({ file: input, reason: `${input}: cannot list: ${(error as Error).name}: ${(error as Error).message}` });
      }
      continue;
    }
    const expanded = await expandInputPaths([input]);
    problems.push(...expanded.problems);
    for (const file of expanded.files) {
      if (DIGEST.test(file.split('\\').join('/'))) continue;
      files.push({ name: file, read: () => readInputFile(file) });
    }
  }
  return { files: inTimeOrder(files), problems };
}

/** By CloudTrail's file stamp when every file has one (stable, so equal stamps keep their order). */
export function inTimeOrder(files: readonly ArchiveFile[]): ArchiveFile[] {
  const stamped = files.map((file) => ({ file, stamp: STAMP.exec(basename(file.name))?.[1] }));
  if (stamped.some((entry) => entry.stamp === undefined)) return [...files];
  stamped.sort((a, b) => ((a.stamp ?? '') < (b.stamp ?? '') ? -1 : (a.stamp ?? '') > (b.stamp ?? '') ? 1 : 0));
  return stamped.map((entry) => entry.file);
}

async function listS3(client: S3Client, bucket: string, prefix: string): Promise<ArchiveFile[]> {
  const files: ArchiveFile[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (!key || !LOG_FILE.test(key) || DIGEST.test(key)) continue;
      files.push({ name: `s3://${bucket}/${key}`, read: () => readS3(client, bucket, key, object.Size) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  // ListObjectsV2 returns keys in UTF-8 binary order already; sorting again costs little and
  // keeps the order defined even for a store that does not.
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files;
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
