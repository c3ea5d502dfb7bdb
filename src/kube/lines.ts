// Bytes of a `timestamps=true` log body → lines → (timestamp, text). This runs for every line shipped, so it
// works on Buffers with indexOf, slices without copying where it can, and parses the kubelet's fixed timestamp
// form without a regex.
import { parseTimestamp, type Timestamp } from '../time/timestamp.ts';

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface RawLine {
  /** The line without its `\n` (and without a `\r` before it); at most `maxLineBytes` long. */
  readonly bytes: Buffer;
  /** The line was longer than `maxLineBytes`: `bytes` holds its start, the rest was dropped. */
  readonly truncated: boolean;
}

const LF = 10;
const CR = 13;

/**
 * Splits the chunks of an HTTP body into complete lines. `push` each chunk, then `take` the lines it completed.
 * A line that lies within one chunk is a view of that chunk (no copy); only lines spanning chunks are joined.
 * An over-long line keeps its first `maxLineBytes` bytes and the rest is discarded as it arrives, so memory stays
 * bounded by the cap whatever the input.
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  #lines: RawLine[] = [];
  // The incomplete line so far: up to maxLineBytes + 1 bytes (the extra byte may be a `\r` that a `\n` follows).
  #parts: Buffer[] = [];
  #partBytes = 0;
  #overflow = false;

  constructor(opts: { maxLineBytes?: number } = {}) {
    const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new Error(`maxLineBytes must be a positive integer, got ${max}`);
    this.maxLineBytes = max;
  }

  push(chunk: Buffer): void {
    const max = this.maxLineBytes;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        this.#keep(chunk, start, chunk.length);
        return;
      }
      if (this.#parts.length === 0 && !this.#overflow) {
        let end = nl;
        if (end > start && chunk[end - 1] === CR) end--;
        if (end - start > max) this.#lines.push({ bytes: chunk.subarray(start, start + max), truncated: true });
        else this.#lines.push({ bytes: chunk.subarray(start, end), truncated: false });
      } else {
        this.#keep(chunk, start, nl);
        this.#lines.push(this.#joinPending());
      }
      start = nl + 1;
    }
  }

  /** The complete lines collected since the last call, in order. */
  take(): RawLine[] {
    const lines = this.#lines;
    this.#lines = [];
    return lines;
  }

  /** Number of complete lines waiting to be taken. */
  get pendingLines(): number {
    return this.#lines.length;
  }

  /**
   * The body ended: returns the incomplete trailing fragment (undefined when the body ended on a newline) and
   * forgets it. It is never a line: a body cut mid-line is re-read in full when the stream is resumed.
   */
  end(): Buffer | undefined {
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
    this.#parts.push(chunk.subarray(from, to));
    this.#partBytes += to - from;
  }

  #joinPending(): RawLine {
    const parts = this.#parts;
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.#partBytes);
    let truncated = this.#overflow;
    if (!truncated && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.maxLineBytes) {
      bytes = bytes.subarray(0, this.maxLineBytes);
      truncated = true;
    }
    this.#reset();
    return { bytes, truncated };
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
 * The timestamp of `<RFC3339 timestamp> <text>` and where the text starts; the text itself is left as bytes.
 * Parsing of the timestamp is lenient (0–9 fraction digits, `Z` or an offset).
 */
export function parseLogHead(buf: Buffer): LogHead {
  if (buf.length > FIXED_LENGTH && buf[FIXED_LENGTH] === SPACE) {
    const ts = parseFixedTimestamp(buf);
    if (ts !== undefined) return { ts, textStart: FIXED_LENGTH + 1 };
  }
  const sp = buf.indexOf(SPACE);
  if (sp > 0 && sp <= MAX_TIMESTAMP_LENGTH) {
    const ts = parseTimestamp(buf.toString('latin1', 0, sp));
    if (ts !== undefined) return { ts, textStart: sp + 1 };
  }
  return { ts: undefined, textStart: 0 };
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

/** `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` at the start of `b`, or undefined (then the general parser decides). */
function parseFixedTimestamp(b: Buffer): Timestamp | undefined {
  if (b[4] !== 0x2d || b[7] !== 0x2d || b[10] !== 0x54 || b[13] !== 0x3a || b[16] !== 0x3a || b[19] !== 0x2e || b[29] !== 0x5a) {
    return undefined;
  }
  const year = digits(b, 0, 4);
  const month = digits(b, 5, 2);
  const day = digits(b, 8, 2);
  const hour = digits(b, 11, 2);
  const minute = digits(b, 14, 2);
  const second = digits(b, 17, 2);
  const nsec = digits(b, 20, 9);
  if ((year | month | day | hour | minute | second | nsec) < 0) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const dayKey = year * 10000 + month * 100 + day;
  if (dayKey !== cachedDayKey) {
    // Date.UTC, exactly as parseTimestamp computes it, so both paths agree on every input.
    cachedDaySec = Date.UTC(year, month - 1, day) / 1000;
    cachedDayKey = dayKey;
  }
  return { sec: cachedDaySec + hour * 3600 + minute * 60 + second, nsec };
}

/** The decimal number in b[at, at+n), or -1 when a byte is not a digit. */
function digits(b: Buffer, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
