// The positions file: each target's acknowledged cursor, so a restart resumes where the sinks left off.
//
// Cursors advance only with batches every sink acknowledged, so after a clean shutdown (drain, then a final save)
// nothing is repeated; after a crash, at most what was acknowledged since the last save is read again. The file is
// replaced atomically (temp file in the same directory, fsync, rename, fsync of the directory): a crash leaves
// the old file or the new one, never a mix. A file we cannot understand stops the start: silently starting over
// would re-ship or skip everything.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Cursor, type CursorJSON } from './kube/cursor.ts';
import type { Batch } from './pipeline/block.ts';
import type { TargetInfo } from './pipeline/entry.ts';
import { formatTimestamp, parseTimestamp, timestampFromMillis } from './time/timestamp.ts';

export const POSITIONS_VERSION = 2;
/** Version 1 saved line hashes of another function (FNV-1a); its cursors are read without them. */
const POSITIONS_VERSION_FNV = 1;
export const POSITIONS_KIND = 'k8s-tailer-positions';

export class PositionsError extends Error {
  override name = 'PositionsError';
}

/** One target as saved. */
export interface PositionJSON {
  namespace: string;
  pod: string;
  container: string;
  containerId: string;
  /** When a running tailer last saw the target alive (acknowledged lines or touched). */
  updatedAt: string;
  cursor: CursorJSON;
}

export interface PositionsFileJSON {
  version: typeof POSITIONS_VERSION;
  kind: typeof POSITIONS_KIND;
  targets: Record<string, PositionJSON>;
}

export interface PositionsOptions {
  /** Forget a target not seen (acknowledged or touched) for this long. */
  readonly retentionMs: number;
  /** Clock in epoch milliseconds (default Date.now). */
  readonly now?: () => number;
}

interface TargetState {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  containerId: string;
  cursor: Cursor;
  /** Last seen alive, epoch ms; what `updatedAt` records. */
  seenAt: number;
  /** Seen-at for pruning: a target is not counted as gone while no tailer was running to see it. */
  pruneFrom: number;
  /** The serialised entry, reused while the target is unchanged (undefined: changed since). */
  text: string | undefined;
}

export class Positions {
  readonly file: string;
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #targets: Map<string, TargetState>;
  /** Something changed that the file does not have yet. */
  #dirty = false;
  #saving: Promise<void> = Promise.resolve();
  #dirReady = false;

  /**
   * The file was written by a release that hashed lines with FNV-1a (version 1): its cursors were read without their
   * hashes, so each target's first resume skips the replayed lines by count alone. Saved as the current version.
   */
  readonly upgraded: boolean;

  private constructor(file: string, opts: PositionsOptions, targets: Map<string, TargetState>, upgraded: boolean) {
    if (!Number.isFinite(opts.retentionMs) || opts.retentionMs < 0) throw new Error(`positions retention must be a duration >= 0, got ${opts.retentionMs}`);
    this.file = file;
    this.#retentionMs = opts.retentionMs;
    this.#now = opts.now ?? Date.now;
    this.#targets = targets;
    this.upgraded = upgraded;
    // The first save rewrites an old file in the current version.
    this.#dirty = upgraded;
  }

  /** Reads the file; a missing file means no positions yet. Anything else unusable is a PositionsError. */
  static async load(file: string, opts: PositionsOptions): Promise<Positions> {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw notValid(file, `cannot read it: ${errorText(err)}`);
    }
    const now = (opts.now ?? Date.now)();
    const parsed = text === undefined ? { targets: new Map<string, TargetState>(), hashes: true } : parsePositions(file, text, now);
    return new Positions(file, opts, parsed.targets, !parsed.hashes);
  }

  get size(): number {
    return this.#targets.size;
  }

  /** The acknowledged cursor of a target, for a follower to resume from (a clone: the caller mutates it). */
  startOf(targetKey: string): { containerId: string; cursor: Cursor } | undefined {
    const st = this.#targets.get(targetKey);
    return st === undefined ? undefined : { containerId: st.containerId, cursor: st.cursor.clone() };
  }

  /**
   * Advances with a batch every sink has acknowledged, in order. A new container instance of a target starts a
   * new cursor. Runs for every shipped line: the cursor's own record(), with the hash the follower computed.
   */
  acknowledge(batch: Batch): void {
    const now = this.#now();
    for (const block of batch) {
      if (block.length === 0) continue;
      const cursor = this.#stateFor(block, now).cursor;
      cursor.recordBlock(block);
      this.#dirty = true;
    }
  }

  /** Marks a target seen alive now. Call it for every live target at least once per retention period. */
  touch(targetKey: string): void {
    const st = this.#targets.get(targetKey);
    if (st === undefined) return;
    const now = this.#now();
    st.seenAt = now;
    st.pruneFrom = now;
    st.text = undefined;
  }

  /**
   * Writes the file atomically and resolves once it is durable; prunes targets not seen for the retention period
   * first. Does nothing when nothing changed. Saves run one at a time, in call order.
   */
  save(): Promise<void> {
    const run = this.#saving.then(() => this.#saveNow());
    // A failed save must not block the next one.
    this.#saving = run.catch(() => undefined);
    return run;
  }

  /**
   * Saves every `intervalMs` until stop(). A failed save is reported to `onError` and retried at the next tick.
   * `onSaved` runs after each tick at which everything acknowledged is durable (written now or already on disk).
   * stop() ends the timer, then does a final save; it rejects when that save fails.
   */
  startAutosave(intervalMs: number, onError: (err: Error) => void, onSaved?: () => void): { stop(): Promise<void> } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let tick: Promise<void> = Promise.resolve();
    const schedule = (): void => {
      // A timeout chain rather than an interval: a slow disk never stacks up saves.
      timer = setTimeout(() => {
        tick = this.save().then(
          () => onSaved?.(),
          (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
        ).finally(() => {
          if (!stopped) schedule();
        });
      }, intervalMs);
      timer.unref();
    };
    schedule();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await tick;
        await this.save();
        onSaved?.();
      },
    };
  }

  #stateFor(e: InstanceOf, now: number): TargetState {
    const t = e.target;
    const containerId = e.containerId ?? '';
    let st = this.#targets.get(t.key);
    if (st === undefined) {
      st = { namespace: t.namespace, pod: t.pod, container: t.container, containerId, cursor: new Cursor(e.restart), seenAt: now, pruneFrom: now, text: undefined };
      this.#targets.set(t.key, st);
    } else if (!sameInstance(st, e)) {
      st.containerId = containerId;
      st.cursor = new Cursor(e.restart);
    }
    st.seenAt = now;
    st.pruneFrom = now;
    st.text = undefined;
    return st;
  }

  async #saveNow(): Promise<void> {
    const now = this.#now();
    for (const [key, st] of this.#targets) {
      if (now - st.pruneFrom > this.#retentionMs) {
        this.#targets.delete(key);
        this.#dirty = true;
      }
    }
    if (!this.#dirty) return;
    const text = this.#serialise();
    this.#dirty = false;
    try {
      await this.#write(text);
    } catch (err) {
      this.#dirty = true;
      throw new Error(`cannot save positions to ${this.file}: ${errorText(err)}`);
    }
  }

  /** The whole file, reusing the text of unchanged targets (thousands of targets, every few seconds). */
  #serialise(): string {
    const parts: string[] = [];
    for (const [key, st] of this.#targets) {
      st.text ??= `${JSON.stringify(key)}:${JSON.stringify(toJSON(st))}`;
      parts.push(st.text);
    }
    return `{"version":${POSITIONS_VERSION},"kind":${JSON.stringify(POSITIONS_KIND)},"targets":{\n${parts.join(',\n')}\n}}\n`;
  }

  async #write(text: string): Promise<void> {
    const dir = dirname(this.file);
    if (!this.#dirReady) {
      await mkdir(dir, { recursive: true });
      this.#dirReady = true;
    }
    // One fixed temp name in the same directory (rename is atomic only within a file system); a crash leaves at
    // most this one file behind, overwritten by the next save.
    const tmp = join(dir, `.${basename(this.file)}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    await syncDir(dir);
  }
}

/** The container instance lines came from. */
interface InstanceOf {
  readonly target: TargetInfo;
  readonly restart: number;
  readonly containerId?: string | undefined;
}

function sameInstance(st: TargetState, e: InstanceOf): boolean {
  return st.containerId === (e.containerId ?? '') && st.cursor.instance === e.restart;
}

function toJSON(st: TargetState): PositionJSON {
  return {
    namespace: st.namespace,
    pod: st.pod,
    container: st.container,
    containerId: st.containerId,
    updatedAt: formatTimestamp(timestampFromMillis(st.seenAt)),
    cursor: st.cursor.toJSON(),
  };
}

/** Makes the rename itself durable. Some platforms cannot open or sync a directory; there the rename must do. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch (err) {
    if (process.platform === 'win32') return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}

/** Parses and checks the whole file: one bad entry makes it not valid (a partial load would silently reset). */
function parsePositions(file: string, text: string, now: number): { targets: Map<string, TargetState>; hashes: boolean } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw notValid(file, `not JSON: ${errorText(err)}`);
  }
  if (!isObject(doc)) throw notValid(file, 'not a JSON object');
  if (doc.kind !== POSITIONS_KIND) throw notValid(file, `"kind" is ${JSON.stringify(doc.kind)}, expected "${POSITIONS_KIND}": not a k8s-tailer positions file`);
  if (doc.version !== POSITIONS_VERSION && doc.version !== POSITIONS_VERSION_FNV) {
    throw notValid(file, `"version" is ${JSON.stringify(doc.version)}, this tailer reads versions ${POSITIONS_VERSION_FNV} and ${POSITIONS_VERSION}`);
  }
  const hashes = doc.version === POSITIONS_VERSION;
  if (!isObject(doc.targets)) throw notValid(file, '"targets" must be an object');
  const targets = new Map<string, TargetState>();
  for (const [key, raw] of Object.entries(doc.targets)) {
    const bad = (what: string): PositionsError => notValid(file, `target ${JSON.stringify(key)}: ${what}`);
    if (!isObject(raw)) throw bad('expected an object');
    const field = (name: string): string => {
      const v = raw[name];
      if (typeof v !== 'string') throw bad(`"${name}" must be a string`);
      return v;
    };
    const namespace = field('namespace');
    const pod = field('pod');
    const container = field('container');
    const containerId = field('containerId');
    if (!key.endsWith(`/${container}`)) throw bad(`the key must be "<pod uid>/${container}"`);
    const updated = parseTimestamp(field('updatedAt'));
    if (updated === undefined) throw bad('"updatedAt" must be an RFC3339 timestamp');
    let cursor: Cursor;
    try {
      cursor = Cursor.fromJSON(raw.cursor, { hashes });
    } catch (err) {
      throw bad(errorText(err));
    }
    const seenAt = updated.sec * 1000 + Math.floor(updated.nsec / 1e6);
    // Time the tailer was not running does not count towards retention: it could not see the target.
    targets.set(key, { namespace, pod, container, containerId, cursor, seenAt, pruneFrom: Math.max(seenAt, now), text: undefined });
  }
  return { targets, hashes };
}

function notValid(file: string, why: string): PositionsError {
  return new PositionsError(`positions file ${file} is not valid (${why}): move it aside (mv ${file} ${file}.bad) to start over from --since, or fix it`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}
