// What flows from the followers to the sinks: the lines of one container instance that arrived together (one chunk
// of an HTTP body), as columns of one object rather than an object per line. At a few hundred thousand lines a
// second, per-line objects waiting in a batch were what the garbage collector spent its time on: they outlived
// scavenges and were copied or promoted, line by line.
import { lineHash } from '../kube/cursor.ts';
import type { Timestamp } from '../time/timestamp.ts';
import type { LogEntry, TargetInfo } from './entry.ts';

/** What a line counts for in the in-flight bound besides its text. */
export const LINE_OVERHEAD = 64;

// Per line: the index of its source, the range of its bytes in that source, seconds, nanoseconds and line hash.
const STRIDE = 6;
const SOURCE = 0;
const START = 1;
const END = 2;
const SEC = 3;
const NSEC = 4;
const HASH = 5;

/** A line as an entry of its own, with the lineHash the follower computed for it. */
export interface HashedEntry extends LogEntry {
  readonly hash: number;
}

/**
 * Lines of one container instance, in order. A line's text is a range of one of the block's sources: a Buffer
 * holding its UTF-8 bytes as they were read (valid UTF-8: the follower checked), or a string when it was repaired
 * or came back from a spool. Nothing is decoded until a sink asks for text.
 */
export class LineBlock {
  readonly target: TargetInfo;
  readonly restart: number;
  readonly containerId: string | undefined;
  readonly length: number;
  /** What the block counts for in the in-flight bound: its lines' text (bytes, or characters) + LINE_OVERHEAD each. */
  readonly size: number;
  readonly #sources: readonly (Buffer | string)[];
  readonly #cols: readonly number[];

  constructor(target: TargetInfo, restart: number, containerId: string | undefined, sources: readonly (Buffer | string)[], cols: readonly number[], size: number) {
    this.target = target;
    this.restart = restart;
    this.containerId = containerId;
    this.length = cols.length / STRIDE;
    this.size = size;
    this.#sources = sources;
    this.#cols = cols;
  }

  sec(i: number): number {
    return this.#cols[i * STRIDE + SEC];
  }

  nsec(i: number): number {
    return this.#cols[i * STRIDE + NSEC];
  }

  ts(i: number): Timestamp {
    return { sec: this.sec(i), nsec: this.nsec(i) };
  }

  /** The line's lineHash, as the follower's cursor records it: of the timestamp it arrived with (if any) and its text. */
  hash(i: number): number {
    return this.#cols[i * STRIDE + HASH];
  }

  /** The Buffer holding the line's bytes as read, `buffer(i)[start(i), end(i))`; undefined for a line held as text. */
  buffer(i: number): Buffer | undefined {
    const source = this.#source(i);
    return typeof source === 'string' ? undefined : source;
  }

  start(i: number): number {
    return this.#cols[i * STRIDE + START];
  }

  end(i: number): number {
    return this.#cols[i * STRIDE + END];
  }

  text(i: number): string {
    const source = this.#source(i);
    return typeof source === 'string' ? source : source.toString('utf8', this.start(i), this.end(i));
  }

  /** UTF-8 bytes of the line's text. */
  utf8Bytes(i: number): number {
    const source = this.#source(i);
    return typeof source === 'string' ? Buffer.byteLength(source) : this.end(i) - this.start(i);
  }

  /** Line `i` as an object of its own, for outputs that want text (the file, the spool). */
  entry(i: number): HashedEntry {
    const e = { target: this.target, restart: this.restart, ts: this.ts(i), line: this.text(i), hash: this.hash(i) };
    return this.containerId === undefined ? e : { ...e, containerId: this.containerId };
  }

  /** The lines whose hash `keep` accepts, as a block of their own (this one when it keeps them all). */
  filter(keep: (hash: number) => boolean): LineBlock {
    const rows: number[] = [];
    for (let i = 0; i < this.length; i++) if (keep(this.hash(i))) rows.push(i);
    if (rows.length === this.length) return this;
    const cols: number[] = [];
    let size = 0;
    rows.forEach((row) => {
      cols.push(...this.#cols.slice(row * STRIDE, (row + 1) * STRIDE));
      size += lineSize(this.#source(row), this.start(row), this.end(row));
    });
    return new LineBlock(this.target, this.restart, this.containerId, this.#sources, cols, size);
  }

  /** What holds line `i`: the Buffer it was read in, or its text. */
  #source(i: number): Buffer | string {
    return this.#sources[this.#cols[i * STRIDE + SOURCE]];
  }
}

/** A batch: blocks in the order they were read. */
export type Batch = readonly LineBlock[];

/** Lines in a batch. */
export function batchLines(batch: Batch): number {
  let n = 0;
  for (const b of batch) n += b.length;
  return n;
}

/** Every line of a batch as an entry, in order. */
export function batchEntries(batch: Batch): HashedEntry[] {
  const out: HashedEntry[] = [];
  for (const b of batch) for (let i = 0; i < b.length; i++) out.push(b.entry(i));
  return out;
}

/**
 * Entries as blocks (consecutive entries of one container instance share one), their text held as strings; an
 * entry without a hash gets its lineHash. For lines that are not read from a body: a spool's, a test's.
 */
export function blocksOf(entries: readonly LogEntry[]): LineBlock[] {
  const out: LineBlock[] = [];
  let builder: BlockBuilder | undefined;
  for (const e of entries) {
    if (builder === undefined || builder.target !== e.target || builder.restart !== e.restart || builder.containerId !== e.containerId) {
      const block = builder?.take();
      if (block !== undefined) out.push(block);
      builder = new BlockBuilder(e.target, e.restart, e.containerId);
    }
    builder.addText(e.line, e.ts.sec, e.ts.nsec, (e as Partial<HashedEntry>).hash ?? lineHash(e.ts, e.line));
  }
  const last = builder?.take();
  if (last !== undefined) out.push(last);
  return out;
}

/** What a line counts for in the in-flight bound: its text's bytes (characters when held as text) + LINE_OVERHEAD. */
function lineSize(source: Buffer | string, start: number, end: number): number {
  return (typeof source === 'string' ? source.length : end - start) + LINE_OVERHEAD;
}

// The columns of the block being built. Shared: a block is built and taken within one synchronous run (the lines of
// one chunk), and a scratch per open stream would cost KiBs per followed container. A JS array of doubles, not a
// Float64Array: slicing a typed array allocates a backing store outside the heap, 4–5 times slower per block.
let scratch: number[] = doubles(STRIDE * 512);
let scratchOwner: BlockBuilder | undefined;

/**
 * Collects the lines of one container instance into blocks. Lines added must be taken (`take`, or `discard`) before
 * anything else runs: the columns are shared scratch, and another builder adding lines meanwhile is an error.
 */
export class BlockBuilder {
  readonly target: TargetInfo;
  readonly restart: number;
  readonly containerId: string | undefined;
  #sources: (Buffer | string)[] = [];
  #n = 0;
  #size = 0;

  constructor(target: TargetInfo, restart: number, containerId: string | undefined) {
    this.target = target;
    this.restart = restart;
    this.containerId = containerId;
  }

  get length(): number {
    return this.#n;
  }

  /** A line whose text is `buf[start, end)`, valid UTF-8. */
  addBytes(buf: Buffer, start: number, end: number, sec: number, nsec: number, hash: number): void {
    let source = this.#sources.length - 1;
    if (source === -1 || this.#sources[source] !== buf) {
      this.#sources.push(buf);
      source++;
    }
    this.#add(source, start, end, sec, nsec, hash);
    this.#size += lineSize(buf, start, end);
  }

  /** A line held as text. */
  addText(text: string, sec: number, nsec: number, hash: number): void {
    this.#sources.push(text);
    this.#add(this.#sources.length - 1, 0, 0, sec, nsec, hash);
    this.#size += lineSize(text, 0, 0);
  }

  /** The lines added since the last take, as a block; undefined when there are none. */
  take(): LineBlock | undefined {
    const block = this.#n === 0 ? undefined : new LineBlock(this.target, this.restart, this.containerId, this.#sources, scratch.slice(0, this.#n * STRIDE), this.#size);
    this.discard();
    return block;
  }

  /** Forgets the lines not taken (a read that failed half-way through a chunk) and frees the scratch. */
  discard(): void {
    if (this.#n > 0) this.#sources = [];
    this.#n = 0;
    this.#size = 0;
    if (scratchOwner === this) scratchOwner = undefined;
  }

  #add(source: number, start: number, end: number, sec: number, nsec: number, hash: number): void {
    if (scratchOwner !== this) {
      if (scratchOwner !== undefined) throw new Error('BlockBuilder: another builder\'s lines were not taken');
      scratchOwner = this;
    }
    const at = this.#n * STRIDE;
    if (at + STRIDE > scratch.length) scratch = scratch.concat(doubles(scratch.length));
    scratch[at + SOURCE] = source;
    scratch[at + START] = start;
    scratch[at + END] = end;
    scratch[at + SEC] = sec;
    scratch[at + NSEC] = nsec;
    scratch[at + HASH] = hash;
    this.#n++;
  }
}

/** An array V8 keeps as unboxed doubles (it was made of doubles), whatever numbers go in later. */
function doubles(n: number): number[] {
  return new Array<number>(n).fill(0.5);
}
