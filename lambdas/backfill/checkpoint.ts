/**
 * The checkpoint of a resumable backfill: a JSON file rewritten atomically (temporary file, fsync,
 * rename) after every LookupEvents page and every archive file, so an interrupted run continues
 * where it stopped with `--resume` (in an archive, each account's region where it stopped).
 *
 * LookupEvents answers newest first, and the engine needs history oldest first, so a time window's
 * pages are collected before the window is processed. The pages of the window in progress are
 * spilled to `<checkpoint>.pending.jsonl` (appended and synced before the checkpoint that counts
 * them is written), so a resumed run neither asks for them again nor loses them.
 */
import { access, open, readFile, rename, rm, truncate } from 'node:fs/promises';
import * as z from 'zod';

/** 2: the archive is checkpointed per prefix (account and region), not as one list of files. */
export const CHECKPOINT_VERSION = 2;

const cursorSchema = z.object({
  nextToken: z.string().optional(),
  done: z.boolean(),
  pages: z.number().int().nonnegative(),
});
export type LookupCursor = z.infer<typeof cursorSchema>;

const lookupPlanSchema = z.object({
  regions: z.array(z.string()),
  sources: z.array(z.string()),
  /** ISO times: the whole range, fixed when the backfill started (a resume does not move it). */
  start: z.string(),
  end: z.string(),
  windowHours: z.number().positive(),
});
export type LookupPlan = z.infer<typeof lookupPlanSchema>;

const checkpointSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  /** What the backfill was asked to do; a resume with other arguments is refused. */
  args: z.string(),
  startedAt: z.string(),
  archive: z
    .object({
      /** Per prefix (`…/<account>/CloudTrail/<region>/`, or `files:<input>`): where its reading stands. */
      prefixes: z.record(
        z.string(),
        z.object({
          /** The last file whose every event was processed. */
          lastDone: z.string().optional(),
          /** The file being read, and how many of its events were processed. */
          file: z.string().optional(),
          offset: z.number().int().nonnegative(),
          complete: z.boolean(),
        }),
      ),
      complete: z.boolean(),
    })
    .optional(),
  lookupEvents: z
    .object({
      plan: lookupPlanSchema,
      /** Windows before this one are processed. */
      windowIndex: z.number().int().nonnegative(),
      /** Per `<region> <event source>`: the page to ask for next in the current window. */
      cursors: z.record(z.string(), cursorSchema),
      /** Events of the current window spilled so far (lines of the pending file). */
      pendingLines: z.number().int().nonnegative(),
      complete: z.boolean(),
    })
    .optional(),
  /** The run's counters and would-be findings so far (opaque here). */
  progress: z.record(z.string(), z.unknown()),
});
export type CheckpointData = z.infer<typeof checkpointSchema>;

export interface CheckpointStore {
  readonly data: CheckpointData;
  /** Writes the checkpoint (atomically for a file). */
  save(): Promise<void>;
  /**
   * Adds events of the current window to the spill, durably, then counts them in
   * `lookupEvents.pendingLines`, so whatever a later save() records is a prefix of the spill.
   */
  appendPending(lines: readonly string[]): Promise<void>;
  /** The spilled lines the checkpoint counts (extra lines from a crash are dropped). */
  readPending(): Promise<string[]>;
  clearPending(): Promise<void>;
  /** Deletes the checkpoint and its spill: the backfill is complete. */
  remove(): Promise<void>;
}

export function newCheckpointData(args: string, startedAt: string): CheckpointData {
  return { version: CHECKPOINT_VERSION, args, startedAt, progress: {} };
}

/** For a run that cannot be resumed (a throw-away embedded store): nothing is written. */
export class MemoryCheckpoint implements CheckpointStore {
  constructor(readonly data: CheckpointData) {}
  async save(): Promise<void> {}
  async appendPending(lines: readonly string[]): Promise<void> {
    if (this.data.lookupEvents) this.data.lookupEvents.pendingLines += lines.length;
  }
  async readPending(): Promise<string[]> {
    return [];
  }
  async clearPending(): Promise<void> {}
  async remove(): Promise<void> {}
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

export class FileCheckpoint implements CheckpointStore {
  /** Writes are serialised: regions page concurrently, and each save must see a consistent state. */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly data: CheckpointData,
  ) {}

  get pendingPath(): string {
    return `${this.path}.pending.jsonl`;
  }

  /** A new checkpoint; refuses to overwrite one left by an interrupted run. */
  static async create(path: string, data: CheckpointData): Promise<FileCheckpoint> {
    if (await exists(path)) {
      throw new CheckpointError(`checkpoint ${path} exists from an earlier run: pass --resume to continue it, or delete it to start over`);
    }
    const checkpoint = new FileCheckpoint(path, data);
    await rm(checkpoint.pendingPath, { force: true });
    await checkpoint.save();
    return checkpoint;
  }

  /** The checkpoint of an interrupted run, for `--resume`; undefined when there is none. */
  static async load(path: string, args: string): Promise<FileCheckpoint | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CheckpointError(`checkpoint ${path} cannot be read: ${(error as Error).message}`);
    }
    let parsed: CheckpointData;
    try {
      parsed = checkpointSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new CheckpointError(`checkpoint ${path} is not a backfill checkpoint of this version: ${(error as Error).message.split('\n')[0]}`);
    }
    if (parsed.args !== args) {
      throw new CheckpointError(`checkpoint ${path} was written for other arguments (${parsed.args}); run with those, or delete it to start over`);
    }
    return new FileCheckpoint(path, parsed);
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  save(): Promise<void> {
    // Serialised at call time: the JSON reflects the data as it is when this save runs.
    return this.serialised(async () => {
      const temporary = `${this.path}.tmp-${process.pid}`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(`${JSON.stringify(this.data)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    });
  }

  appendPending(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.serialised(async () => {
      const handle = await open(this.pendingPath, 'a');
      try {
        await handle.writeFile(lines.map((line) => `${line}\n`).join(''));
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (this.data.lookupEvents) this.data.lookupEvents.pendingLines += lines.length;
    });
  }

  readPending(): Promise<string[]> {
    return this.serialised(async () => {
      const wanted = this.data.lookupEvents?.pendingLines ?? 0;
      let text = '';
      try {
        text = await readFile(this.pendingPath, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      const lines = text.split('\n').slice(0, wanted);
      if (lines.length < wanted || lines.some((line) => line === '')) {
        throw new CheckpointError(`checkpoint ${this.path}: ${this.pendingPath} holds fewer events than the checkpoint counts; delete both to start over`);
      }
      // Lines appended after the last save (a crash in between) would be fetched again: drop them.
      const keep = lines.reduce((bytes, line) => bytes + Buffer.byteLength(line) + 1, 0);
      if (wanted === 0) await rm(this.pendingPath, { force: true });
      else await truncate(this.pendingPath, keep);
      return lines;
    });
  }

  clearPending(): Promise<void> {
    return this.serialised(() => rm(this.pendingPath, { force: true }));
  }

  remove(): Promise<void> {
    return this.serialised(async () => {
      await rm(this.pendingPath, { force: true });
      await rm(this.path, { force: true });
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
