// The on-disk spool: batches kept in order in one folder, one file per batch, each made durable before it counts.
//
// A file is written under a temporary name, fsynced, renamed and the folder fsynced, so a crash leaves a whole
// batch or none (a leftover temporary file was never acknowledged: its lines are read again from the cluster).
// Files are named by a zero-padded sequence number, so name order is age order across restarts. The contents are
// one JSON document holding everything a sink needs: each target once, then the entries that refer to it.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { batchEntries, blocksOf, type Batch, type LineBlock } from '../pipeline/block.ts';
import type { ContainerKind, LogEntry, TargetInfo } from '../pipeline/entry.ts';

export const SPOOL_KIND = 'k8s-tailer-spool';
export const SPOOL_VERSION = 1;

const SUFFIX = '.batch';
const TEMP_SUFFIX = '.tmp';
const NAME = /^(\d{16})\.batch$/;
const KINDS: readonly ContainerKind[] = ['init', 'sidecar', 'app', 'ephemeral'];

export class SpoolError extends Error {
  override name = 'SpoolError';
}

/** target index, restart, containerId (null: none), seconds, nanoseconds, line */
type EntryJSON = [number, number, string | null, number, number, string];

interface BatchJSON {
  kind: typeof SPOOL_KIND;
  version: typeof SPOOL_VERSION;
  targets: TargetInfo[];
  entries: EntryJSON[];
}

export function encodeBatch(batch: Batch): Buffer {
  const targets: TargetInfo[] = [];
  const index = new Map<string, number>();
  const entries: EntryJSON[] = [];
  for (const e of batchEntries(batch)) {
    let t = index.get(e.target.key);
    if (t === undefined) {
      t = targets.length;
      index.set(e.target.key, t);
      targets.push(e.target);
    }
    entries.push([t, e.restart, e.containerId ?? null, e.ts.sec, e.ts.nsec, e.line]);
  }
  const doc: BatchJSON = { kind: SPOOL_KIND, version: SPOOL_VERSION, targets, entries };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** The batch a spool file holds; throws an Error saying what is wrong with it. */
export function decodeBatch(data: Buffer): LineBlock[] {
  return blocksOf(decodeEntries(data));
}

function decodeEntries(data: Buffer): LogEntry[] {
  const doc: unknown = JSON.parse(data.toString('utf8'));
  if (!isRecord(doc) || doc.kind !== SPOOL_KIND) throw new Error('not a spool file');
  if (doc.version !== SPOOL_VERSION) throw new Error(`spool version ${String(doc.version)}, this build reads ${SPOOL_VERSION}`);
  if (!Array.isArray(doc.targets) || !Array.isArray(doc.entries)) throw new Error('targets or entries missing');
  const targets = doc.targets.map((t: unknown, i) => targetOf(t, i));
  return doc.entries.map((e: unknown, i): LogEntry => {
    if (!Array.isArray(e) || e.length !== 6) throw new Error(`entry ${i} is malformed`);
    const [t, restart, containerId, sec, nsec, line] = e as unknown[];
    const target = typeof t === 'number' ? targets[t] : undefined;
    const valid =
      target !== undefined &&
      Number.isInteger(restart) &&
      (containerId === null || typeof containerId === 'string') &&
      Number.isInteger(sec) &&
      Number.isInteger(nsec) &&
      (nsec as number) >= 0 &&
      (nsec as number) < 1e9 &&
      typeof line === 'string';
    if (!valid) throw new Error(`entry ${i} is malformed`);
    const ts = { sec: sec as number, nsec: nsec as number };
    return containerId === null
      ? { target: target!, restart: restart as number, ts, line: line as string }
      : { target: target!, restart: restart as number, containerId: containerId as string, ts, line: line as string };
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function targetOf(t: unknown, i: number): TargetInfo {
  const fields = ['key', 'namespace', 'pod', 'podUid', 'container', 'nodeName'] as const;
  const valid =
    isRecord(t) &&
    fields.every((f) => typeof t[f] === 'string') &&
    KINDS.includes(t.kind as ContainerKind) &&
    isRecord(t.labels) &&
    Object.values(t.labels).every((v) => typeof v === 'string');
  if (!valid) throw new Error(`target ${i} is malformed`);
  const r = t as Record<string, unknown>;
  return {
    key: r.key as string,
    namespace: r.namespace as string,
    pod: r.pod as string,
    podUid: r.podUid as string,
    container: r.container as string,
    kind: r.kind as ContainerKind,
    nodeName: r.nodeName as string,
    labels: r.labels as Record<string, string>,
  };
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  readonly bytes: number;
}

export class SpoolStore {
  readonly dir: string;
  readonly #segments: Segment[];
  #bytes: number;
  #nextSeq: number;

  private constructor(dir: string, segments: Segment[]) {
    this.dir = dir;
    this.#segments = segments;
    this.#bytes = segments.reduce((sum, s) => sum + s.bytes, 0);
    this.#nextSeq = segments.length === 0 ? 0 : segments[segments.length - 1].seq + 1;
  }

  /**
   * Creates the folder if missing, removes unfinished temporary files and checks every spooled batch, so a
   * damaged spool stops the start with the file named instead of failing (or losing lines) in the middle of a replay.
   */
  static async open(dir: string): Promise<SpoolStore> {
    await mkdir(dir, { recursive: true });
    const segments: Segment[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const file = join(dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        await rm(file, { force: true });
        continue;
      }
      const match = NAME.exec(name);
      if (match === null) continue;
      const data = await readFile(file);
      checkDecodes(file, data);
      segments.push({ seq: Number(match[1]), file, bytes: data.length });
    }
    return new SpoolStore(dir, segments);
  }

  /** Bytes of the spooled batches. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of spooled batches. */
  get size(): number {
    return this.#segments.length;
  }

  /** Resolves once the batch is on disk for good (file and folder entry fsynced). */
  async append(data: Buffer): Promise<void> {
    const seq = this.#nextSeq++;
    const file = join(this.dir, `${String(seq).padStart(16, '0')}${SUFFIX}`);
    const temp = `${file}${TEMP_SUFFIX}`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await syncDir(this.dir);
    this.#segments.push({ seq, file, bytes: data.length });
    this.#bytes += data.length;
  }

  /** The oldest spooled batch, or undefined when the spool is empty. */
  async oldest(): Promise<LineBlock[] | undefined> {
    const segment = this.#segments[0];
    if (segment === undefined) return undefined;
    return checkDecodes(segment.file, await readFile(segment.file));
  }

  /**
   * Forgets the oldest batch once its sink has it. The removal is not fsynced: a file that comes back after a
   * crash is replayed again, which Loki takes as exact duplicates.
   */
  async removeOldest(): Promise<void> {
    const segment = this.#segments.shift();
    if (segment === undefined) return;
    await rm(segment.file, { force: true });
    // Counted until the file is gone: the disk holds it until then, and the spool-bytes gauge (reported right after
    // this resolves) then never shows an empty spool that still has a file.
    this.#bytes -= segment.bytes;
  }
}

function checkDecodes(file: string, data: Buffer): LineBlock[] {
  try {
    return decodeBatch(data);
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 200);
    throw new SpoolError(
      `spool file ${file} is damaged (${why}): move it out of the spool folder to start without its lines, or restore it`,
    );
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

