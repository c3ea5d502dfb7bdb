// Bytes of a `timestamps=true` log body → lines → (timestamp, text). This runs for every line shipped, so it
// works on Buffers with indexOf, slices without copying where it can, and parses the kubelet's fixed timestamp
// form without a regex.
import { isUtf8 } from 'node:buffer';
import { parseTimestamp, type Timestamp } from '../time/timestamp.ts';

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

const LF = 10;
const CR = 13;
const EMPTY = Buffer.alloc(0);
const UNKNOWN = 0;
const VALID = 1;
const INVALID = 2;

/**
 * Splits the chunks of an HTTP body into complete lines, as a cursor: `push` a chunk, then call `next` until it
 * returns false; after each true, the line is `line[start, end)` (without its `\n`, and without a `\r` before it).
 * A line that lies within one chunk is a range of that chunk: nothing is allocated for it, which matters at
 * hundreds of thousands of lines a second. Only lines spanning chunks are joined. An over-long line keeps its first
 * `maxLineBytes` bytes and the rest is discarded as it arrives, so memory stays bounded whatever the input.
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  /** After `next()` returned true: the buffer holding the line, its range, and whether it was cut at the cap. */
  line: Buffer = EMPTY;
  start = 0;
  end = 0;
  truncated = false;
  #chunk: Buffer = EMPTY;
  #pos = 0;
  #chunkUtf8 = UNKNOWN;
  // The incomplete line so far: up to maxLineBytes + 1 bytes (the extra byte may be a `\r` that a `\n` follows).
  #parts: Buffer[] = [];
  #partBytes = 0;
  #overflow = false;

  constructor(opts: { maxLineBytes?: number } = {}) {
    const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new Error(`maxLineBytes must be a positive integer, got ${max}`);
    this.maxLineBytes = max;
  }

  /**
   * The next chunk, or null at the end of the body (then false); the lines of the previous chunk must all have been
   * taken with `next`. Taking the chunk straight from the read (`push(await read())`) leaves no variable holding it.
   */
  push(chunk: Buffer | null): boolean {
    if (this.#pos < this.#chunk.length) throw new Error('LineSplitter.push before the previous chunk was read to its end');
    this.#chunk = chunk ?? EMPTY;
    this.#pos = 0;
    this.#chunkUtf8 = UNKNOWN;
    return chunk !== null;
  }

  /**
   * Whether the current line is valid UTF-8. A chunk is checked whole, once, when first asked: the lines of a valid
   * chunk are valid, since they are cut at `\n`. Joined lines, lines cut at the size cap (which may split a
   * character) and lines of chunks that are not valid as a whole are checked alone.
   */
  validUtf8(): boolean {
    if (this.line === this.#chunk && !this.truncated) {
      if (this.#chunkUtf8 === UNKNOWN) this.#chunkUtf8 = isUtf8(this.#chunk) ? VALID : INVALID;
      if (this.#chunkUtf8 === VALID) return true;
    }
    return isUtf8(this.line.subarray(this.start, this.end));
  }

  /** Moves to the next complete line of the pushed chunks; false when the chunk holds no more. */
  next(): boolean {
    const chunk = this.#chunk;
    const start = this.#pos;
    const nl = start < chunk.length ? chunk.indexOf(LF, start) : -1;
    if (nl === -1) {
      this.#keep(chunk, start, chunk.length);
      // A view keeps its whole buffer alive, and an h2 chunk is a view of an entire socket read (up to 64 KiB): an
      // idle stream must not hold on to the last one while it waits.
      this.#chunk = EMPTY;
      this.#pos = 0;
      this.line = EMPTY;
      return false;
    }
    this.#pos = nl + 1;
    if (this.#parts.length > 0 || this.#overflow) {
      this.#keep(chunk, start, nl);
      this.#joinPending();
      return true;
    }
    let end = nl;
    if (end > start && chunk[end - 1] === CR) end--;
    this.truncated = end - start > this.maxLineBytes;
    // Stored only when it changes: a pointer store into this long-lived object costs a write barrier, line by line.
    if (this.line !== chunk) this.line = chunk;
    this.start = start;
    this.end = this.truncated ? start + this.maxLineBytes : end;
    return true;
  }

  /**
   * The body ended: returns the incomplete trailing fragment (undefined when the body ended on a newline) and
   * forgets it. It is never a line: a body cut mid-line is re-read in full when the stream is resumed.
   */
  fragment(): Buffer | undefined {
    if (this.#parts.length === 0) return undefined;
    const fragment = Buffer.concat(this.#parts, this.#partBytes);
    this.#reset();
    return fragment;
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    if (this.#overflow || to === from) return;
    const room = this.maxLineBytes + 1 - this.#partBytes;
    if (to - from > room) {
      to = from + room;
      this.#overflow = true;
    }
    // A copy, not a view: the rest of the line may take long to come, and a view would hold the whole chunk.
    this.#parts.push(Buffer.copyBytesFrom(chunk, from, to - from));
    this.#partBytes += to - from;
  }

  #joinPending(): void {
    const parts = this.#parts;
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.#partBytes);
    let end = bytes.length;
    let truncated = this.#overflow;
    if (!truncated && end > 0 && bytes[end - 1] === CR) end--;
    if (end > this.maxLineBytes) {
      end = this.maxLineBytes;
      truncated = true;
    }
    this.line = bytes;
    this.start = 0;
    this.end = end;
    this.truncated = truncated;
    this.#reset();
  }

  #reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#overflow = false;
  }
}

/** Where a line's text starts, after the kubelet's timestamp. */
export interface LogHead {
  /** The kubelet's timestamp, undefined when the line does not start with one. */
  readonly ts: Timestamp | undefined;
  /** Where the text starts in the raw bytes (after the timestamp and its space; 0 without a timestamp). */
  readonly textStart: number;
}

export interface ParsedLine extends LogHead {
  /** The log text after the timestamp and its space (the whole text when there is no timestamp). */
  readonly line: string;
}

// `2024-01-01T00:00:02.100000000Z`: the form current kubelets always write (RFC3339NanoFixed, UTC node).
const FIXED_LENGTH = 30;
// A timestamp is never longer than this (9 fraction digits and a `+hh:mm` offset); longer prefixes are text.
const MAX_TIMESTAMP_LENGTH = 35;
const SPACE = 32;

/**
 * What readLogHead finds, filled in line after line: the timestamp as numbers (`sec` NaN when the line has none), so
 * that parsing a line allocates nothing.
 */
export interface MutableLogHead {
  sec: number;
  nsec: number;
  textStart: number;
}

/** A MutableLogHead to fill. */
export function logHead(): MutableLogHead {
  return { sec: Number.NaN, nsec: 0, textStart: 0 };
}

/**
 * The timestamp of the line `buf[start, end)`, `<RFC3339 timestamp> <text>`, and where its text starts (an index
 * into `buf`), written into `head`; the text itself is left as bytes. Parsing of the timestamp is lenient (0–9
 * fraction digits, `Z` or an offset).
 */
export function readLogHead(buf: Buffer, start: number, end: number, head: MutableLogHead): MutableLogHead {
  if (end - start > FIXED_LENGTH && buf[start + FIXED_LENGTH] === SPACE && parseFixedTimestamp(buf, start, head)) {
    head.textStart = start + FIXED_LENGTH + 1;
    return head;
  }
  // Only the prefix a timestamp can fill is searched: the chunk goes on past this line's end.
  const limit = Math.min(end, start + MAX_TIMESTAMP_LENGTH + 1);
  let sp = start;
  while (sp < limit && buf[sp] !== SPACE) sp++;
  if (sp > start && sp < limit) {
    const ts = parseTimestamp(buf.toString('latin1', start, sp));
    if (ts !== undefined) {
      head.sec = ts.sec;
      head.nsec = ts.nsec;
      head.textStart = sp + 1;
      return head;
    }
  }
  head.sec = Number.NaN;
  head.nsec = 0;
  head.textStart = start;
  return head;
}

/** readLogHead of a whole buffer. */
export function parseLogHead(buf: Buffer): LogHead {
  const { sec, nsec, textStart } = readLogHead(buf, 0, buf.length, logHead());
  return { ts: Number.isNaN(sec) ? undefined : { sec, nsec }, textStart };
}

/**
 * Splits `<RFC3339 timestamp> <text>` and decodes the text. Invalid UTF-8 in the text does not drop the line:
 * each bad sequence becomes U+FFFD, so the line is kept with its bad bytes replaced.
 */
export function parseLogLine(raw: Buffer | string): ParsedLine {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const { ts, textStart } = parseLogHead(buf);
  return { ts, line: textStart === 0 && typeof raw === 'string' ? raw : buf.toString('utf8', textStart), textStart };
}

// Lines of one stream almost always share the day, so the calendar arithmetic is done once per day.
let cachedDayKey = -1;
let cachedDaySec = 0;

/** `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` at `b[at]` into `head`; false when it is not (then the general parser decides). */
function parseFixedTimestamp(b: Buffer, at: number, head: MutableLogHead): boolean {
  if (b[at + 4] !== 0x2d || b[at + 7] !== 0x2d || b[at + 10] !== 0x54 || b[at + 13] !== 0x3a || b[at + 16] !== 0x3a || b[at + 19] !== 0x2e || b[at + 29] !== 0x5a) {
    return false;
  }
  // Written out digit by digit: this runs for every line, and a loop per field took longer. A byte that is not a
  // digit makes its `d | (9 - d)` negative, and so the OR of them all.
  const y0 = b[at] - 48, y1 = b[at + 1] - 48, y2 = b[at + 2] - 48, y3 = b[at + 3] - 48;
  const mo0 = b[at + 5] - 48, mo1 = b[at + 6] - 48, d0 = b[at + 8] - 48, d1 = b[at + 9] - 48;
  const h0 = b[at + 11] - 48, h1 = b[at + 12] - 48, mi0 = b[at + 14] - 48, mi1 = b[at + 15] - 48;
  const s0 = b[at + 17] - 48, s1 = b[at + 18] - 48;
  const n0 = b[at + 20] - 48, n1 = b[at + 21] - 48, n2 = b[at + 22] - 48, n3 = b[at + 23] - 48, n4 = b[at + 24] - 48;
  const n5 = b[at + 25] - 48, n6 = b[at + 26] - 48, n7 = b[at + 27] - 48, n8 = b[at + 28] - 48;
  const bad = y0 | (9 - y0) | y1 | (9 - y1) | y2 | (9 - y2) | y3 | (9 - y3) | mo0 | (9 - mo0) | mo1 | (9 - mo1)
    | d0 | (9 - d0) | d1 | (9 - d1) | h0 | (9 - h0) | h1 | (9 - h1) | mi0 | (9 - mi0) | mi1 | (9 - mi1) | s0 | (9 - s0)
    | s1 | (9 - s1) | n0 | (9 - n0) | n1 | (9 - n1) | n2 | (9 - n2) | n3 | (9 - n3) | n4 | (9 - n4) | n5 | (9 - n5)
    | n6 | (9 - n6) | n7 | (9 - n7) | n8 | (9 - n8);
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = mo0 * 10 + mo1;
  const day = d0 * 10 + d1;
  const hour = h0 * 10 + h1;
  const minute = mi0 * 10 + mi1;
  const second = s0 * 10 + s1;
  const nsec = (n0 * 100 + n1 * 10 + n2) * 1_000_000 + (n3 * 100 + n4 * 10 + n5) * 1000 + n6 * 100 + n7 * 10 + n8;
  if (bad < 0) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  const dayKey = year * 10000 + month * 100 + day;
  if (dayKey !== cachedDayKey) {
    // Date.UTC, exactly as parseTimestamp computes it, so both paths agree on every input.
    cachedDaySec = Date.UTC(year, month - 1, day) / 1000;
    cachedDayKey = dayKey;
  }
  head.sec = cachedDaySec + hour * 3600 + minute * 60 + second;
  head.nsec = nsec;
  return true;
}

