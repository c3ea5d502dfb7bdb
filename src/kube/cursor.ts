// The positional cursor: where a container instance's log was delivered up to, and how to resume there with no
// gap and no duplicate although `sinceTime` has one-second precision, timestamps repeat and go backwards.
//
// The kubelet replays `ts >= sinceTime` line by line in file order, and what we delivered is a prefix of the
// file. So after asking for `sinceTime = S`, the first `k` lines of the reply are exactly the delivered lines
// stamped in seconds >= S, and we skip them. To know `k` we count the delivered lines per whole second for the
// last `windowSec` seconds. `S` lies `marginSec` below the newest delivered second, so undelivered lines stamped
// somewhat earlier than delivered ones (stdout/stderr skew) are still in the replay. The hash of the last
// delivered line is checked at the boundary: if the kubelet no longer has what we had (rotation), that is a gap.
import { formatTimestamp, parseTimestamp, type Timestamp } from '../time/timestamp.ts';
import { fnv1a32, hashAscii, hashBytes, hashIntegers } from '../hash.ts';
import type { LineBlock } from '../pipeline/block.ts';

export const DEFAULT_WINDOW_SEC = 5;
export const DEFAULT_MARGIN_SEC = 2;
/** How many of the last delivered lines' hashes are kept to recognise them in a replay. */
export const RECENT_LINES = 1024;
/**
 * Lines kept whatever their age; past these, lines older than the cursor's window are forgotten (a replay never
 * reaches back further), so a quiet container's cursor stays small instead of filling up to RECENT_LINES.
 */
export const RECENT_KEPT = 128;
/** Lines counted below the window that a save keeps all the same. */
const BELOW_KEPT = 4;

export interface CursorOptions {
  /** Seconds below the newest delivered one whose line counts are kept. */
  windowSec?: number;
  /** How far below the newest delivered second a resume starts; must not exceed windowSec. */
  marginSec?: number;
}

export interface ResumePoint {
  /**
   * Whole seconds for `sinceTime`. Undefined when no delivered line had a timestamp: then request from the start
   * (bounded by `--since` only when `skip` is 0, i.e. nothing was delivered).
   */
  readonly sinceSec: number | undefined;
  /** The first `skip` lines of the reply were delivered before. */
  readonly skip: number;
  /** Hash (see lineHash) the `skip`-th line must have; undefined when it cannot be checked. */
  readonly expectHash: number | undefined;
  /** The newest delivered timestamp: a reply line newer than it cannot be one already delivered. */
  readonly newest: Timestamp | undefined;
  /**
   * Hashes (lineHash) of the last `expect.length` of the `skip` lines, in delivery order: the replay is matched
   * against them, so after a rotation (the file no longer starts with what we delivered) nothing new is skipped.
   */
  readonly expect?: readonly number[];
  /**
   * Hashes of the remembered lines counted before `sinceSec` that a save keeps (see Cursor#kept). A line without a
   * timestamp is counted under its predecessor's second, but the kubelet replays it by its own, which may be
   * `sinceSec` or later: the delivered part of a reply may hold such lines, which `skip` does not count.
   */
  readonly before?: readonly number[];
}

/** The cursor as saved in the positions file. */
export interface CursorJSON {
  instance: number;
  windowSec: number;
  marginSec: number;
  /** Lines delivered from this instance. */
  total: number;
  /** RFC3339Nano of the newest delivered timestamp. */
  newest?: string;
  /** `[second, lines delivered in it]` for the seconds in the window, ascending. */
  counts: [number, number][];
  /** The second the last delivered line was counted under. */
  lastSec?: number;
  /** lineHash of the last delivered line; absent when not known (a cursor carried over from a version-1 file). */
  lastHash?: number;
  /** `[second, lineHash]` of the last delivered lines inside the window, in delivery order. */
  recent?: [number, number][];
}

// Lines up to this many bytes are hashed whole; longer ones by their length and both ends.
const HASH_WHOLE = 256;
const HASH_EDGE = 96;

/** What a line's hash starts from: its timestamp (`sec` NaN: the line has none). */
function timestampSeed(sec: number, nsec: number): number {
  return Number.isNaN(sec) ? NO_TIMESTAMP_SEED : hashIntegers(TIMESTAMP_SEED, sec, nsec);
}
const TIMESTAMP_SEED = fnv1a32('k8s-tailer line');
const NO_TIMESTAMP_SEED = fnv1a32('k8s-tailer line without a timestamp');

/**
 * Identifies a delivered line at a resume boundary: a hash of its timestamp and the UTF-8 bytes of its text,
 * `bytes[start, end)`. It only has to tell apart the lines of the few seconds a resume looks at, which already
 * differ in timestamp or position, so a line longer than 256 bytes is hashed by its length and its first and last
 * 96 bytes: hashing every byte was the largest per-line cost.
 */
export function lineHashBytes(ts: Timestamp | undefined, bytes: Uint8Array, start: number, end: number): number {
  return hashLine(ts === undefined ? Number.NaN : ts.sec, ts?.nsec ?? 0, bytes, start, end);
}

function hashLine(sec: number, nsec: number, bytes: Uint8Array, start: number, end: number): number {
  const seed = timestampSeed(sec, nsec);
  const n = end - start;
  if (n <= HASH_WHOLE) return hashBytes(bytes, start, end, seed);
  return hashBytes(bytes, end - HASH_EDGE, end, hashBytes(bytes, start, start + HASH_EDGE, hashIntegers(seed, n, 0)));
}

/**
 * lineHash of a line as it arrived, stamped `sec`.`nsec` (`sec` NaN: not stamped), from its bytes; -1 when they are
 * not valid UTF-8 (nearly never): such a line is delivered repaired and must be hashed as delivered, with lineHash
 * of its text.
 */
export function arrivedLineHash(buf: Buffer, textStart: number, end: number, sec: number, nsec: number, line: Utf8Validity): number {
  if (end - textStart <= HASH_WHOLE) {
    // ASCII is valid UTF-8: a short line checks that while it is hashed, without a second pass.
    const ascii = hashAscii(buf, textStart, end, timestampSeed(sec, nsec));
    if (ascii !== -1) return ascii;
  }
  return line.validUtf8() ? hashLine(sec, nsec, buf, textStart, end) : -1;
}

/** Whether a line's bytes are valid UTF-8, asked only when hashing did not settle it (LineSplitter answers it). */
export interface Utf8Validity {
  validUtf8(): boolean;
}

/** lineHashBytes of the line's UTF-8 encoding, for lines that are no longer at hand as bytes. */
export function lineHash(ts: Timestamp | undefined, line: string): number {
  const bytes = Buffer.from(line, 'utf8');
  return lineHashBytes(ts, bytes, 0, bytes.length);
}

export class Cursor {
  readonly instance: number;
  readonly windowSec: number;
  readonly marginSec: number;
  #total = 0;
  // The newest timestamp delivered, as numbers (NaN seconds: none yet): records run for every line, and kept as a
  // Timestamp it would be an object per line.
  #newestSec = Number.NaN;
  #newestNsec = 0;
  // Ring of per-second counts: slot (sec mod windowSec+1) holds the count of second #slotSec[slot].
  #slotSec: number[];
  #slotCount: number[];
  #lastSlot = 0;
  // The second the last line was counted under: its own, or its predecessor's when it had none.
  #lastSec: number | undefined;
  // lineHash of the last delivered line.
  #lastHash: number | undefined;
  // The last RECENT_LINES delivered lines: the second each was counted under, and its hash.
  readonly #recent = new RecentLines();

  constructor(instance: number, opts: CursorOptions = {}) {
    const windowSec = opts.windowSec ?? DEFAULT_WINDOW_SEC;
    const marginSec = opts.marginSec ?? DEFAULT_MARGIN_SEC;
    if (!Number.isSafeInteger(instance) || instance < 0) throw new Error(`cursor instance must be a restart count (integer >= 0), got ${instance}`);
    if (!Number.isSafeInteger(windowSec) || windowSec < 1 || windowSec > 3600) throw new Error(`cursor windowSec must be an integer from 1 to 3600, got ${windowSec}`);
    if (!Number.isSafeInteger(marginSec) || marginSec < 0 || marginSec > windowSec) {
      throw new Error(`cursor marginSec must be an integer from 0 to windowSec (${windowSec}), got ${marginSec}`);
    }
    this.instance = instance;
    this.windowSec = windowSec;
    this.marginSec = marginSec;
    this.#slotSec = new Array<number>(windowSec + 1).fill(Number.NEGATIVE_INFINITY);
    this.#slotCount = new Array<number>(windowSec + 1).fill(0);
  }

  /** Lines delivered from this instance. */
  get total(): number {
    return this.#total;
  }

  /** Hashes (lineHash) of the last delivered lines, up to RECENT_LINES. */
  recentHashes(): Set<number> {
    return new Set(this.#recentSince(Number.NEGATIVE_INFINITY));
  }

  /** Lines of recent hashes there is room for: what the cursor's memory grows with. */
  get recentCapacity(): number {
    return this.#recent.capacity;
  }

  /** The newest timestamp delivered (timestamps are not monotonic: this is the maximum, not the last). */
  get newest(): Timestamp | undefined {
    return Number.isNaN(this.#newestSec) ? undefined : { sec: this.#newestSec, nsec: this.#newestNsec };
  }

  /**
   * A line was delivered downstream. A line without a timestamp counts under its predecessor's. `hash` is its
   * lineHash(ts, text), computed once per line by the follower (the text itself is not needed here).
   */
  record(ts: Timestamp | undefined, hash: number): void {
    if (ts !== undefined) {
      this.recordAt(ts.sec, ts.nsec, hash);
      return;
    }
    this.#total++;
    this.#lastHash = hash;
    if (this.#lastSec === undefined) this.#recent.add(Number.NEGATIVE_INFINITY, hash, Number.NEGATIVE_INFINITY);
    else this.#count(this.#lastSec, hash, this.#newestSec - this.windowSec);
  }

  /** record() of a line stamped `sec`.`nsec`, for callers that hold timestamps as numbers. */
  recordAt(sec: number, nsec: number, hash: number): void {
    this.#total++;
    this.#lastHash = hash;
    this.#lastSec = sec;
    if (newerThan(sec, nsec, this.#newestSec, this.#newestNsec)) {
      this.#newestSec = sec;
      this.#newestNsec = nsec;
    }
    this.#count(sec, hash, this.#newestSec - this.windowSec);
  }

  /** recordAt() of every line of `block`, in order: followers and the acknowledged position take lines a block at a time. */
  recordBlock(block: LineBlock): void {
    const n = block.length;
    if (n === 0) return;
    // The newest timestamp is kept in locals across the block and stored once: fields written line by line made
    // this twice as slow.
    let newestSec = this.#newestSec;
    let newestNsec = this.#newestNsec;
    for (let i = 0; i < n; i++) {
      const sec = block.sec(i);
      const nsec = block.nsec(i);
      if (newerThan(sec, nsec, newestSec, newestNsec)) {
        newestSec = sec;
        newestNsec = nsec;
      }
      this.#count(sec, block.hash(i), newestSec - this.windowSec);
    }
    this.#newestSec = newestSec;
    this.#newestNsec = newestNsec;
    this.#total += n;
    this.#lastSec = block.sec(n - 1);
    this.#lastHash = block.hash(n - 1);
  }

  /**
   * Remembers a line counted under second `sec`, and counts it when `sec` is inside the window, which starts at
   * `floor` (the newest delivered second less windowSec).
   */
  #count(sec: number, hash: number, floor: number): void {
    this.#recent.add(sec, hash, floor);
    if (sec < floor) return;
    // Lines mostly come in runs of one second: the slot of the last one is tried before a division.
    let slot = this.#lastSlot;
    if (this.#slotSec[slot] !== sec) {
      slot = this.#slot(sec);
      this.#lastSlot = slot;
      if (this.#slotSec[slot] !== sec) {
        // Two seconds inside the window never share a slot, so the slot holds a second that left the window.
        this.#slotSec[slot] = sec;
        this.#slotCount[slot] = 1;
        return;
      }
    }
    this.#slotCount[slot]++;
  }

  /** Where to resume: the `sinceTime` to ask for and how many lines of the reply to skip. */
  resume(): ResumePoint {
    const newest = this.newest;
    if (newest === undefined) {
      return { sinceSec: undefined, skip: this.#total, expectHash: this.#total > 0 ? this.#lastHash : undefined, newest: undefined, expect: this.#recentSince(Number.NEGATIVE_INFINITY) };
    }
    const floor = newest.sec - this.windowSec;
    const lastSec = this.#lastSec;
    let since = newest.sec - this.marginSec;
    // Keep the last delivered line inside the replay (when its second is still counted) so the boundary is checked.
    if (lastSec !== undefined && lastSec < since && lastSec >= floor) since = lastSec;
    let skip = 0;
    for (let i = 0; i < this.#slotSec.length; i++) {
      const sec = this.#slotSec[i];
      if (sec >= since && sec <= newest.sec) skip += this.#slotCount[i];
    }
    const checkable = lastSec !== undefined && lastSec >= since;
    const expect = this.#recentSince(since);
    const before = this.#kept().filter(([sec]) => sec < since).map(([, hash]) => hash);
    return { sinceSec: since, skip, expectHash: checkable ? this.#lastHash : undefined, newest, expect: expect.length <= skip ? expect : expect.slice(expect.length - skip), before };
  }

  /** A copy that forgets nothing (toJSON keeps only the window's lines). */
  clone(): Cursor {
    const c = new Cursor(this.instance, { windowSec: this.windowSec, marginSec: this.marginSec });
    c.#total = this.#total;
    c.#newestSec = this.#newestSec;
    c.#newestNsec = this.#newestNsec;
    c.#slotSec = [...this.#slotSec];
    c.#slotCount = [...this.#slotCount];
    c.#lastSlot = this.#lastSlot;
    c.#lastSec = this.#lastSec;
    c.#lastHash = this.#lastHash;
    this.#recent.forEach((sec, hash) => c.#recent.add(sec, hash, Number.NEGATIVE_INFINITY));
    return c;
  }

  toJSON(): CursorJSON {
    const j: CursorJSON = { instance: this.instance, windowSec: this.windowSec, marginSec: this.marginSec, total: this.#total, counts: [] };
    const newest = this.newest;
    if (newest !== undefined) {
      j.newest = formatTimestamp(newest);
      for (let i = 0; i < this.#slotSec.length; i++) {
        const sec = this.#slotSec[i];
        if (sec >= newest.sec - this.windowSec && sec <= newest.sec && this.#slotCount[i] > 0) j.counts.push([sec, this.#slotCount[i]]);
      }
      j.counts.sort((a, b) => a[0] - b[0]);
    }
    if (this.#lastSec !== undefined) j.lastSec = this.#lastSec;
    if (this.#total > 0 && this.#lastHash !== undefined) j.lastHash = this.#lastHash;
    const recent = this.#kept();
    if (recent.length > 0) j.recent = recent;
    return j;
  }

  /**
   * Restores a saved cursor; throws a one-line error naming the bad field. Without `hashes`, its line hashes are
   * left out: they were made by another hash function (positions version 1), and a resume from it skips the replayed
   * lines by their count alone.
   */
  static fromJSON(input: unknown, { hashes = true }: { hashes?: boolean } = {}): Cursor {
    const j = expectObject(input);
    const total = expectInt(j.total, 'total', 0);
    const instance = expectInt(j.instance, 'instance', 0);
    const windowSec = expectInt(j.windowSec, 'windowSec', 1);
    const marginSec = expectInt(j.marginSec, 'marginSec', 0);
    let c: Cursor;
    try {
      c = new Cursor(instance, { windowSec, marginSec });
    } catch (e) {
      invalid((e as Error).message);
    }
    c.#total = total;
    if (j.newest !== undefined) {
      const newest = typeof j.newest === 'string' ? parseTimestamp(j.newest) : undefined;
      if (newest === undefined) invalid('"newest" must be an RFC3339 timestamp');
      c.#newestSec = newest.sec;
      c.#newestNsec = newest.nsec;
    }
    if (!Array.isArray(j.counts)) invalid('"counts" must be an array of [second, lines] pairs');
    let counted = 0;
    for (const pair of j.counts as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) invalid('"counts" must be an array of [second, lines] pairs');
      const sec = expectInt(pair[0], 'counts second');
      const n = expectInt(pair[1], 'counts lines', 1);
      const newest = c.newest;
      if (newest === undefined || sec > newest.sec || sec < newest.sec - c.windowSec) {
        invalid(`"counts" second ${sec} lies outside the window below "newest"`);
      }
      const slot = c.#slot(sec);
      if (c.#slotSec[slot] === sec) invalid(`"counts" lists second ${sec} twice`);
      c.#slotSec[slot] = sec;
      c.#slotCount[slot] = n;
      counted += n;
    }
    if (counted > total) invalid(`"counts" add up to ${counted} lines, more than "total" (${total})`);
    if (j.lastSec !== undefined) {
      const lastSec = expectInt(j.lastSec, 'lastSec');
      const newest = c.newest;
      if (newest === undefined || lastSec > newest.sec) invalid('"lastSec" must not be newer than "newest"');
      c.#lastSec = lastSec;
    } else if (c.newest !== undefined) {
      invalid('"lastSec" is missing although "newest" is set');
    }
    if (!hashes) return c;
    if (total > 0 && j.lastHash !== undefined) {
      if (typeof j.lastHash !== 'number' || !Number.isInteger(j.lastHash) || j.lastHash < 0 || j.lastHash > 0xffffffff) {
        invalid('"lastHash" must be a 32-bit unsigned integer');
      }
      c.#lastHash = j.lastHash;
    }
    if (j.recent !== undefined) {
      if (!Array.isArray(j.recent) || j.recent.length > RECENT_LINES) invalid(`"recent" must be an array of at most ${RECENT_LINES} [second, hash] pairs`);
      for (const pair of j.recent as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) invalid('"recent" must be an array of [second, hash] pairs');
        const sec = expectInt(pair[0], 'recent second');
        const hash = expectInt(pair[1], 'recent hash', 0);
        if (hash > 0xffffffff) invalid('"recent" hashes must be 32-bit unsigned integers');
        c.#recent.add(sec, hash, Number.NEGATIVE_INFINITY);
      }
    }
    return c;
  }

  /** Hashes of the remembered lines counted in second `since` or later, oldest first. */
  #recentSince(since: number): number[] {
    const out: number[] = [];
    this.#recent.forEach((sec, hash) => {
      if (sec >= since) out.push(hash);
    });
    return out;
  }

  /**
   * `[second, hash]` of the remembered lines a save keeps, oldest first: those counted inside the window, and the
   * last BELOW_KEPT counted below it (a line without a timestamp after a quiet spell is counted there but may be
   * replayed: see ResumePoint.before).
   */
  #kept(): [number, number][] {
    const floor = Number.isNaN(this.#newestSec) ? Number.NEGATIVE_INFINITY : this.#newestSec - this.windowSec;
    const kept: [number, number][] = [];
    let below = 0;
    this.#recent.forEach((sec) => {
      if (sec < floor && Number.isFinite(sec)) below++;
    });
    this.#recent.forEach((sec, hash) => {
      if (!Number.isFinite(sec)) return;
      if (sec < floor && below-- > BELOW_KEPT) return;
      kept.push([sec, hash]);
    });
    return kept;
  }

  #slot(sec: number): number {
    const n = this.windowSec + 1;
    return ((sec % n) + n) % n;
  }


}

/**
 * The last RECENT_LINES (second, hash) pairs, oldest overwritten first. Typed arrays that grow with use: two per
 * followed container (its follower's cursor and the acknowledged one), so a full one costs 12 KiB where plain
 * arrays of doubles took twice that, and a container that logged little keeps a small one.
 */
/** The room a ring of recent lines starts with and never shrinks below. */
const RECENT_ROOM_MIN = 16;

/**
 * The last delivered lines' (second, hash), oldest first, in a ring that grows while a busy window needs it (up to
 * RECENT_LINES) and shrinks again once lines older than the window are forgotten: 12 bytes a line, in each of a
 * target's two cursors, so a container that once had a burst would otherwise keep 24 KiB for good.
 */
class RecentLines {
  #sec = new Float64Array(RECENT_ROOM_MIN);
  #hash = new Uint32Array(RECENT_ROOM_MIN);
  #size = 0;
  #start = 0;

  get capacity(): number {
    return this.#sec.length;
  }

  /** Adds a line; past RECENT_KEPT lines, those counted before `floor` go first. */
  add(sec: number, hash: number, floor: number): void {
    let cap = this.#sec.length;
    while (this.#size >= RECENT_KEPT && this.#sec[this.#start] < floor) this.#dropOldest();
    if (cap > RECENT_ROOM_MIN && this.#size <= cap / 4) cap = this.#resize(cap / 2);
    if (this.#size === cap) {
      if (cap < RECENT_LINES) cap = this.#resize(Math.min(RECENT_LINES, cap * 2));
      else this.#dropOldest();
    }
    // The ring's index without a division: this runs for every line, twice.
    let k = this.#start + this.#size;
    if (k >= cap) k -= cap;
    this.#sec[k] = sec;
    this.#hash[k] = hash;
    this.#size++;
  }

  /** Oldest first. */
  forEach(fn: (sec: number, hash: number) => void): void {
    const cap = this.#sec.length;
    for (let i = 0; i < this.#size; i++) {
      const k = (this.#start + i) % cap;
      fn(this.#sec[k], this.#hash[k]);
    }
  }

  #dropOldest(): void {
    if (++this.#start === this.#sec.length) this.#start = 0;
    this.#size--;
  }

  #resize(capacity: number): number {
    const sec = new Float64Array(capacity);
    const hash = new Uint32Array(capacity);
    for (let i = 0; i < this.#size; i++) {
      const k = (this.#start + i) % this.#sec.length;
      sec[i] = this.#sec[k];
      hash[i] = this.#hash[k];
    }
    this.#sec = sec;
    this.#hash = hash;
    this.#start = 0;
    return capacity;
  }
}

/**
 * Applies a resume point to the lines of a new reply, in order: rejects the first `skip` lines (delivered
 * before) and accepts the rest. A reply that ends before `skip` lines leaves `remaining > 0`: resume again from
 * the (unchanged) cursor. A boundary line with the wrong hash, or a line newer than anything delivered while
 * still skipping, means the kubelet lost lines we had not finished (rotation): `gap` is set, never hidden.
 */
export class ResumeFilter {
  #remaining: number;
  #gap = false;
  readonly #expectHash: number | undefined;
  readonly #newest: Timestamp | undefined;
  /** Lines skipped by count alone (delivered, but older than the remembered hashes). */
  #blind: number;
  readonly #expect: readonly number[];
  #next = 0;
  readonly #before: readonly number[];

  constructor(point: ResumePoint) {
    this.#remaining = point.skip;
    this.#expectHash = point.expectHash;
    this.#newest = point.newest;
    this.#expect = point.expect ?? [];
    this.#blind = point.skip - this.#expect.length;
    this.#before = point.before ?? [];
  }

  /** Lines still to skip. */
  get remaining(): number {
    return this.#remaining;
  }

  get gap(): boolean {
    return this.#gap;
  }

  /**
   * True when the line is new and must be delivered; false while skipping already delivered lines. `hash` is the
   * line's lineHash, computed by the caller, which needs it anyway.
   */
  accept(ts: Timestamp | undefined, hash: number): boolean {
    return this.acceptAt(ts === undefined ? Number.NaN : ts.sec, ts?.nsec ?? 0, hash);
  }

  /** accept() of a line stamped `sec`.`nsec` (`sec` NaN: not stamped), for callers that hold timestamps as numbers. */
  acceptAt(sec: number, nsec: number, hash: number): boolean {
    if (this.#remaining === 0) return true;
    const newest = this.#newest;
    // Comparisons with NaN are false: a line without a timestamp is never newer.
    if (newest !== undefined && (sec > newest.sec || (sec === newest.sec && nsec > newest.nsec))) {
      this.#gap = true;
      this.#remaining = 0;
      return true;
    }
    // A line without a timestamp (NaN) may be replayed although it was counted before the window (ResumePoint.before).
    // Its hash has its own seed, so a stamped line cannot be mistaken for it.
    if (Number.isNaN(sec) && this.#expect[this.#next] !== hash && this.#before.includes(hash)) return false;
    if (this.#blind > 0) {
      this.#blind--;
      this.#remaining--;
      if (this.#remaining === 0 && this.#expectHash !== undefined && hash !== this.#expectHash) this.#gap = true;
      return false;
    }
    if (this.#expect[this.#next] !== hash) {
      // The replay does not start where we stopped: the kubelet rotated the file between two reads. If some
      // delivered lines are still there, skip ahead to them (nothing undelivered was lost). A line we never
      // delivered ends the skipping: it is new, and undelivered lines may have gone with the old file (a gap).
      const at = this.#expect.indexOf(hash, this.#next + 1);
      if (at === -1) {
        this.#gap = true;
        this.#remaining = 0;
        return true;
      }
      this.#next = at;
    }
    this.#next++;
    this.#remaining = this.#expect.length - this.#next;
    return false;
  }
}

/** Whether `sec`.`nsec` is newer than `newestSec`.`newestNsec` (NaN `newestSec`: none yet, so any line is). */
function newerThan(sec: number, nsec: number, newestSec: number, newestNsec: number): boolean {
  // Comparisons with NaN are false.
  return !(sec < newestSec || (sec === newestSec && nsec <= newestNsec));
}

function invalid(what: string): never {
  throw new Error(`invalid saved cursor: ${what}`);
}

function expectObject(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid('expected an object');
  return v as Record<string, unknown>;
}

function expectInt(v: unknown, name: string, min?: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (min !== undefined && v < min)) {
    invalid(`"${name}" must be an integer${min === undefined ? '' : ` >= ${min}`}, got ${JSON.stringify(v)}`);
  }
  return v;
}
