/**
 * Merges an archive's streams (one per account and region) into one history in eventTime order.
 *
 * Each stream holds the events of one file at a time (the normaliser sorts a file's records by
 * eventTime); the stream with the oldest next event gives it up, so memory holds one file per stream
 * plus one fetched ahead: for the stream whose file will run out first (the one whose last event is
 * oldest), as it is the next to need a file. Files of one prefix are taken in delivery order; a
 * record delivered late (in a later file than newer records) reaches the engine late, which the
 * engine already tolerates for live events (state carries event time).
 *
 * Checkpoint, per stream: the last file done, the file being read and how many of its events were
 * handled. A resumed run lists each prefix after its last file done and skips the handled events
 * of the file it was reading, so every prefix continues exactly where it stopped.
 */
import { eventTimeOf, type EventBridgeEvent } from '../engine/events.js';
import type { InputProblem, NormalisedFile } from '../engine/normalise-input.js';
import type { ArchiveFilters, ArchiveStream, StreamItem } from './archive.js';
import { eventAllowed } from './archive.js';
import type { ListedFile } from './archive-store.js';
import { CheckpointError } from './checkpoint.js';

export interface StreamCursor {
  /** The last file whose every event was handled. */
  lastDone?: string;
  /** The file being read, and how many of its (filtered) events were handled. */
  file?: string;
  offset: number;
  complete: boolean;
}

export interface MergeHandlers {
  /** One event, in time order across streams; `time`: its event time in epoch milliseconds (-Infinity when unreadable). */
  event(envelope: EventBridgeEvent, file: string, time: number): Promise<void>;
  /** A file is done (its events handled, the cursors say so): a consistent point to save. */
  fileDone(file: string): Promise<void>;
  problem(problem: InputProblem): void;
}

interface Loaded {
  readonly file: ListedFile;
  readonly normalised: NormalisedFile;
}

const timeOf = (envelope: EventBridgeEvent): number => {
  const time = Date.parse(eventTimeOf(envelope));
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
};

class StreamReader {
  events: EventBridgeEvent[] = [];
  index = 0;
  file: ListedFile | undefined;
  ahead: Promise<Loaded | undefined> | undefined;
  private listing: AsyncGenerator<StreamItem> | undefined;

  constructor(
    readonly stream: ArchiveStream,
    readonly order: number,
    readonly cursor: StreamCursor,
    private readonly filters: ArchiveFilters,
    private readonly handlers: MergeHandlers,
  ) {}

  get head(): EventBridgeEvent | undefined {
    return this.events[this.index];
  }

  /** Time of the last event of the file in hand: the reader that runs out first has the oldest. */
  get lastTime(): number {
    const last = this.events.at(-1);
    return last ? timeOf(last) : Number.NEGATIVE_INFINITY;
  }

  /** Positions the reader at its first event to handle (after the checkpoint, when resuming). */
  async open(): Promise<void> {
    if (this.cursor.complete) return;
    this.listing = this.stream.items(this.cursor.lastDone);
    if (this.cursor.file !== undefined) {
      const resumed = this.cursor.file;
      const loaded = await this.fetch(true);
      const events = loaded ? this.keep(loaded.normalised.events) : [];
      if (!loaded || loaded.file.name !== resumed || events.length < this.cursor.offset) {
        throw new CheckpointError(`the archive changed since the checkpoint: ${resumed} (of ${this.stream.key}) is not where it was; delete the checkpoint to start over`);
      }
      this.file = loaded.file;
      this.events = events;
      this.index = this.cursor.offset;
    }
    await this.fill();
  }

  /** Handled the head event. */
  async advance(): Promise<void> {
    this.index += 1;
    this.cursor.offset = this.index;
    await this.fill();
  }

  /** Starts reading the next file now, so it is there when this reader runs out. */
  fetchAhead(): void {
    if (this.ahead || this.cursor.complete || !this.listing) return;
    this.ahead = this.fetch(false);
    // Awaited later; a failure surfaces there, not as an unhandled rejection.
    this.ahead.catch(() => undefined);
  }

  /** Finishes files until one has an event left or the stream ends. */
  private async fill(): Promise<void> {
    while (this.index >= this.events.length) {
      if (this.file) {
        const done = this.file.name;
        this.file = undefined;
        this.cursor.lastDone = done;
        delete this.cursor.file;
        this.cursor.offset = 0;
        await this.handlers.fileDone(done);
      }
      const next = await (this.ahead ?? this.fetch(false));
      this.ahead = undefined;
      this.events = [];
      this.index = 0;
      if (!next) {
        this.cursor.complete = true;
        return;
      }
      this.file = next.file;
      this.cursor.file = next.file.name;
      this.cursor.offset = 0;
      this.events = this.keep(next.normalised.events);
    }
  }

  /** The next file of the stream, read; problems of skipped files (and, unless quiet, of this one) reported. */
  private async fetch(quiet: boolean): Promise<Loaded | undefined> {
    if (!this.listing) return undefined;
    for (;;) {
      const item = await this.listing.next();
      if (item.done) return undefined;
      if ('problem' in item.value) {
        if (!quiet) this.handlers.problem(item.value.problem);
        continue;
      }
      const normalised = await this.stream.store.read(item.value.file);
      if (!quiet) normalised.problems.forEach((problem) => this.handlers.problem(problem));
      return { file: item.value.file, normalised };
    }
  }

  /** Loose files carry events of any account and region: the filters apply to each event. */
  private keep(events: EventBridgeEvent[]): EventBridgeEvent[] {
    if (this.stream.prefix) return events;
    return events.filter((event) => eventAllowed(this.filters, event.account, event.region));
  }
}

/** A binary min-heap of readers by their head event's time (stream order breaks ties). */
class ReaderHeap {
  private readonly items: Array<{ time: number; reader: StreamReader }> = [];

  get size(): number {
    return this.items.length;
  }

  push(reader: StreamReader): void {
    const head = reader.head;
    if (!head) return;
    this.items.push({ time: timeOf(head), reader });
    let at = this.items.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.less(at, parent)) break;
      this.swap(at, parent);
      at = parent;
    }
  }

  /** The reader with the oldest head event, and that event's time. */
  pop(): { time: number; reader: StreamReader } | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (!top || !last) return undefined;
    if (this.items.length > 0) {
      this.items[0] = last;
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        const right = left + 1;
        let least = at;
        if (left < this.items.length && this.less(left, least)) least = left;
        if (right < this.items.length && this.less(right, least)) least = right;
        if (least === at) break;
        this.swap(at, least);
        at = least;
      }
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.items[a];
    const y = this.items[b];
    if (!x || !y) return false;
    return x.time < y.time || (x.time === y.time && x.reader.order < y.reader.order);
  }

  private swap(a: number, b: number): void {
    const x = this.items[a];
    const y = this.items[b];
    if (!x || !y) return;
    this.items[a] = y;
    this.items[b] = x;
  }
}

/** Reads every stream and hands its events over in eventTime order. Cursors are updated in place. */
export async function mergeArchive(
  streams: readonly ArchiveStream[],
  cursors: Map<string, StreamCursor>,
  filters: ArchiveFilters,
  handlers: MergeHandlers,
): Promise<void> {
  const readers = streams.map((stream, order) => {
    let cursor = cursors.get(stream.key);
    if (!cursor) cursors.set(stream.key, (cursor = { offset: 0, complete: false }));
    return new StreamReader(stream, order, cursor, filters, handlers);
  });
  const heap = new ReaderHeap();
  for (const reader of readers) {
    await reader.open();
    heap.push(reader);
  }
  const fetchAhead = (): void => {
    if (readers.some((reader) => reader.ahead)) return;
    let first: StreamReader | undefined;
    for (const reader of readers) if (reader.head && (!first || reader.lastTime < first.lastTime)) first = reader;
    first?.fetchAhead();
  };
  fetchAhead();
  for (let next = heap.pop(); next; next = heap.pop()) {
    const { reader, time } = next;
    const head = reader.head;
    const file = reader.file;
    if (!head || !file) continue;
    // The time the heap ordered it by: handlers need not parse it again.
    await handlers.event(head, file.name, time);
    const before = reader.file;
    await reader.advance();
    if (reader.file !== before) fetchAhead();
    heap.push(reader);
  }
}
