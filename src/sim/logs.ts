// One container instance's log as the kubelet keeps it: the current file plus, after rotation, files that only
// already-open follow streams still read. Tracks which lines were ever sent to a client, so a line that leaves
// the kubelet's reach unsent can be marked unrecoverable in the ledger.
import type { Timestamp } from '../time/timestamp.ts';
import type { LedgerEntry } from './ledger.ts';

export type StreamName = 'stdout' | 'stderr';

export interface LogRecord {
  readonly entry: LedgerEntry;
  readonly sec: number;
  readonly nsec: number;
  readonly stream: StreamName;
  /** Written to at least one response. */
  sent: boolean;
}

export class LogFile {
  readonly records: LogRecord[] = [];
  bytes = 0;
  /** Renamed away by rotation: new requests no longer see it; `next` is the file that replaced it. */
  rotated = false;
  next: LogFile | undefined;
  /** No new request can read it (rotated, instance evicted or pod deleted). */
  dead = false;
  /** Open streams that will still read this file: positioned in it, or (1.29+ behaviour) in an earlier one. */
  holders = 0;
  /** Of those, the ones that continue into the next file at rotation. */
  continuers = 0;
  finalized = false;
}

/** Marks every line of a dead, unheld file that was never sent as unrecoverable. */
function finalizeIfUnreachable(file: LogFile): void {
  if (!file.dead || file.holders > 0 || file.finalized) return;
  file.finalized = true;
  for (const r of file.records) if (!r.sent) r.entry.unrecoverable = true;
}

export class InstanceLog {
  #current = new LogFile();
  readonly #listeners = new Set<() => void>();
  readonly #maxBytes: number;
  /** The instance terminated: follow streams drain what is left and end. */
  ended = false;
  /** The instance's logs are no longer served (an older instance evicted, or the pod deleted). */
  gone = false;

  /** `maxBytes`: rotate automatically at this size, like the kubelet's containerLogMaxSize. */
  constructor(maxBytes = Number.POSITIVE_INFINITY) {
    this.#maxBytes = maxBytes;
  }

  get current(): LogFile {
    return this.#current;
  }

  append(entry: LedgerEntry, ts: Timestamp, stream: StreamName): LogRecord {
    const record: LogRecord = { entry, sec: ts.sec, nsec: ts.nsec, stream, sent: false };
    const file = this.#current;
    file.records.push(record);
    // The kubelet's file has the CRI prefix; size it roughly the same so rotation thresholds mean the same.
    file.bytes += entry.line.length + 40;
    if (file.bytes >= this.#maxBytes) this.rotate();
    else this.#notify();
    return record;
  }

  rotate(): void {
    const old = this.#current;
    const fresh = new LogFile();
    old.rotated = true;
    old.dead = true;
    old.next = fresh;
    fresh.holders = old.continuers;
    fresh.continuers = old.continuers;
    this.#current = fresh;
    finalizeIfUnreachable(old);
    this.#notify();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.#notify();
  }

  /** The kubelet no longer serves this instance: whatever was never sent is lost once no stream holds it. */
  discard(): void {
    if (this.gone) return;
    this.gone = true;
    this.ended = true;
    this.#current.dead = true;
    finalizeIfUnreachable(this.#current);
    this.#notify();
  }

  /** A stream starts reading `file`; `continues`: it will follow rotations into the next files (1.29+). */
  hold(file: LogFile, continues: boolean): void {
    file.holders++;
    if (continues) file.continuers++;
  }

  /** A continuing stream has drained rotated `file` and moves on to the next one (which already counts it). */
  advance(file: LogFile): LogFile | undefined {
    file.holders--;
    file.continuers--;
    finalizeIfUnreachable(file);
    return file.next;
  }

  /** A stream positioned in `file` ends. */
  release(file: LogFile, continues: boolean): void {
    for (let f: LogFile | undefined = file; f !== undefined; f = continues ? f.next : undefined) {
      f.holders--;
      if (continues) f.continuers--;
      finalizeIfUnreachable(f);
    }
  }

  /** Calls `fn` on every change (line, rotation, end). Returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #notify(): void {
    for (const fn of this.#listeners) fn();
  }
}

export interface LogSelection {
  /** Start this many records from the end of the current file (applied before `since`). */
  tailLines?: number;
  /** Inclusive lower bound on the line's timestamp. */
  since?: Timestamp;
}

export function startIndex(file: LogFile, tailLines: number | undefined): number {
  return tailLines === undefined ? 0 : Math.max(0, file.records.length - tailLines);
}

/** The kubelet keeps a line unless its timestamp is before `since`, one line at a time in file order. */
export function passesSince(r: LogRecord, since: Timestamp | undefined): boolean {
  return since === undefined || r.sec > since.sec || (r.sec === since.sec && r.nsec >= since.nsec);
}

export function formatRecord(r: LogRecord, timestamps: boolean): string {
  return timestamps ? `${r.entry.ts} ${r.entry.line}\n` : `${r.entry.line}\n`;
}
