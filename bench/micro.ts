// Pipeline micro-benchmarks, single-threaded, on log-like lines from 20 interleaved containers: line splitting and
// timestamp parsing with the resume cursor, batching, Loki request planning, protobuf encoding, snappy, encode +
// compress together, and the file output's text and JSON lines. Each returns lines and MB of log text per CPU
// second of this process: the machines we run on are shared, and time spent descheduled says nothing about the code.
import { from, lastValueFrom, toArray } from 'rxjs';
import { Cursor, arrivedLineHash, lineHash } from '../src/kube/cursor.ts';
import { LineSplitter, logHead, readLogHead } from '../src/kube/lines.ts';
import { batchBy } from '../src/pipeline/batch.ts';
import { batchEntries, batchLines, BlockBuilder, type Batch, type LineBlock } from '../src/pipeline/block.ts';
import type { LogEntry } from '../src/pipeline/entry.ts';
import { compressedPushRequest, encodePushRequest } from '../src/sinks/loki/encode.ts';
import { StreamLabeler } from '../src/sinks/loki/labels.ts';
import { MetadataCache, planRequests, type PushPlan } from '../src/sinks/loki/plan.ts';
import { defaultSnappy, snappyjs, type Snappy } from '../src/sinks/loki/snappy.ts';
import { jsonLines, textLines, type FileFormat } from '../src/sinks/file.ts';
import { formatTimestamp } from '../src/time/timestamp.ts';
import { makeEntries, makeTarget } from '../test/loki-fixtures.ts';

export interface MicroResult {
  readonly name: string;
  readonly lineBytes: number;
  readonly linesPerSec: number;
  /** MB/s of log text (the lines' bytes, without timestamps or framing). */
  readonly mbPerSec: number;
}

export interface MicroOptions {
  readonly lineBytes: number;
  /** Lines in the working set (each run goes over all of them). */
  readonly lines: number;
  /** Minimum measuring time per benchmark; 0 = one pass (for tests). */
  readonly seconds: number;
}

/** Log-like text of `size` bytes: varying numbers among repeated words, as real logs are. */
export function logLine(i: number, size: number): string {
  const words = ['GET', '/api/v1/orders', 'status=200', 'user=', 'latency_ms=', 'trace_id=', 'msg="request served"'];
  let line = `level=info i=${i} `;
  for (let w = 0; line.length < size; w++) line += `${words[(i + w) % words.length]}${(i * 7919 + w) % 10_007} `;
  return line.slice(0, size);
}

/** Bytes of an h2 DATA frame as the API server sends it: a follower's lines lie in chunks of this size. */
const CHUNK_BYTES = 16 * 1024;

/**
 * About `count` lines spread over 20 containers, as followers make them and a merged pipeline delivers them: a block
 * per chunk of a container's `<timestamp> <line>\n` body, each line the range of the chunk it was read in, the
 * containers taking turns chunk by chunk. So the sinks meet the memory layout and the runs they meet in the tailer.
 */
export function workingSet(count: number, lineBytes: number): LineBlock[] {
  const targets = Array.from({ length: 20 }, (_, t) => makeTarget({ container: `c${t}`, podUid: `uid-${t}` }));
  const perTarget = Math.ceil(count / targets.length);
  const chunked = targets.map((t, k) => readChunks(makeEntries(t, perTarget, { line: (i) => logLine(i * 20 + k, lineBytes) })));
  const out: LineBlock[] = [];
  let lines = 0;
  for (let c = 0; lines < count; c++) {
    for (const chunks of chunked) {
      const block = chunks[c];
      if (block === undefined || lines >= count) continue;
      out.push(block);
      lines += block.length;
    }
  }
  return out;
}

/** The lines of one container as a follower emits them: a block per chunk of the body it read. */
function readChunks(entries: readonly LogEntry[]): LineBlock[] {
  const blocks: LineBlock[] = [];
  const builder = new BlockBuilder(entries[0].target, entries[0].restart, entries[0].containerId);
  let chunk = Buffer.alloc(0);
  let pos = 0;
  for (const e of entries) {
    const head = `${formatTimestamp(e.ts)} `;
    const size = Buffer.byteLength(head) + Buffer.byteLength(e.line) + 1;
    if (pos + size > chunk.length) {
      const block = builder.take();
      if (block !== undefined) blocks.push(block);
      chunk = Buffer.alloc(Math.max(CHUNK_BYTES, size));
      pos = 0;
    }
    const start = pos + chunk.write(head, pos);
    const end = start + chunk.write(e.line, start);
    chunk[end] = 10;
    pos = end + 1;
    builder.addBytes(chunk, start, end, e.ts.sec, e.ts.nsec, lineHash(e.ts, e.line));
  }
  const last = builder.take();
  if (last !== undefined) blocks.push(last);
  return blocks;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Runs `pass` (which handles `lines` lines of `textBytes` bytes) until `seconds` of CPU have passed, at least once. */
function measure(name: string, opts: MicroOptions, lines: number, textBytes: number, pass: () => void): MicroResult {
  pass(); // warm up
  const started = cpuSeconds();
  let passes = 0;
  do {
    pass();
    passes++;
  } while (cpuSeconds() - started < opts.seconds);
  const seconds = Math.max(cpuSeconds() - started, 1e-6);
  return { name, lineBytes: opts.lineBytes, linesPerSec: (lines * passes) / seconds, mbPerSec: (textBytes * passes) / seconds / 1e6 };
}

function textBytesOf(batch: Batch): number {
  let n = 0;
  for (const b of batch) for (let i = 0; i < b.length; i++) n += b.utf8Bytes(i);
  return n;
}

/** One container's follow body (`<RFC3339Nano> <line>\n` lines) in 64 KiB chunks, as the kubelet sends it. */
function followBody(entries: readonly LogEntry[]): Buffer[] {
  const body = Buffer.from(entries.map((e) => `${formatTimestamp(e.ts)} ${e.line}\n`).join(''));
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += 64 * 1024) chunks.push(body.subarray(at, at + 64 * 1024));
  return chunks;
}

export function benchParse(opts: MicroOptions): MicroResult {
  const blocks = workingSet(opts.lines, opts.lineBytes);
  const chunks = followBody(batchEntries(blocks));
  const target = blocks[0].target;
  return measure('split + parse + cursor + block', opts, batchLines(blocks), textBytesOf(blocks), () => {
    const splitter = new LineSplitter();
    const cursor = new Cursor(0);
    const builder = new BlockBuilder(target, 0, undefined);
    const head = logHead();
    for (const chunk of chunks) {
      splitter.push(chunk);
      while (splitter.next()) {
        const { line, start, end } = splitter;
        const { sec, nsec, textStart } = readLogHead(line, start, end, head);
        const hash = arrivedLineHash(line, textStart, end, sec, nsec, splitter);
        builder.addBytes(line, textStart, end, sec, nsec, hash);
      }
      const block = builder.take();
      if (block !== undefined) cursor.recordBlock(block);
    }
  });
}

export async function benchBatch(opts: MicroOptions): Promise<MicroResult> {
  const blocks = workingSet(opts.lines, opts.lineBytes);
  const batch = batchBy<LineBlock>({ maxBytes: 1024 * 1024, maxWaitMs: 1000, size: (b) => b.size });
  // rxjs runs synchronously here, so measure's synchronous loop works on a promise-free pass.
  let batches = 0;
  const result = measure('batch (1 MiB)', opts, batchLines(blocks), textBytesOf(blocks), () => {
    from(blocks).pipe(batch).subscribe(() => {
      batches++;
    });
  });
  const check = await lastValueFrom(from(blocks).pipe(batch, toArray()));
  if (batchLines(check.flat()) !== batchLines(blocks) || batches === 0) throw new Error('batchBy lost lines');
  return result;
}

const PLAN_OPTIONS = { batchBytes: 1024 * 1024, maxLineBytes: 256_000, lineTooLong: 'truncate' } as const;

/** 1 MiB batches as the pipeline hands them to the Loki sink. */
export function sinkBatches(opts: Pick<MicroOptions, 'lines' | 'lineBytes'>): LineBlock[][] {
  const blocks = workingSet(opts.lines, opts.lineBytes);
  const batches: LineBlock[][] = [];
  let batch: LineBlock[] = [];
  let bytes = 0;
  for (const b of blocks) {
    // As batchBy cuts them: a batch never passes the limit unless one block alone does.
    if (batch.length > 0 && bytes + b.size > PLAN_OPTIONS.batchBytes) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(b);
    bytes += b.size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function plans(batches: readonly Batch[]): PushPlan[] {
  const labeler = new StreamLabeler({}, () => undefined);
  const cache = new MetadataCache();
  return batches.flatMap((b) => planRequests(b, labeler, cache, PLAN_OPTIONS));
}

export function benchPlan(opts: MicroOptions): MicroResult {
  const batches = sinkBatches(opts);
  const labeler = new StreamLabeler({}, () => undefined);
  const cache = new MetadataCache();
  const all = batches.flat();
  return measure('Loki request planning', opts, batchLines(all), textBytesOf(all), () => {
    for (const b of batches) planRequests(b, labeler, cache, PLAN_OPTIONS);
  });
}

/** Planned requests and their line count and text bytes. */
function planned(opts: MicroOptions): { requests: PushPlan[]; lines: number; textBytes: number } {
  const batches = sinkBatches(opts);
  const all = batches.flat();
  return { requests: plans(batches), lines: batchLines(all), textBytes: textBytesOf(all) };
}

export function benchEncode(opts: MicroOptions): MicroResult {
  const { requests, lines, textBytes } = planned(opts);
  return measure('protobuf encode', opts, lines, textBytes, () => {
    for (const plan of requests) encodePushRequest(plan.streams);
  });
}

function benchSnappy(opts: MicroOptions, snappy: Snappy, name: string): MicroResult {
  const { requests, lines, textBytes } = planned(opts);
  const bodies = requests.map((p) => encodePushRequest(p.streams));
  return measure(name, opts, lines, textBytes, () => {
    for (const body of bodies) snappy.compress(body);
  });
}

export const ENCODE_COMPRESS = 'encode + snappy';

/** The sink's per-request CPU: encoding and compressing as it does (planning excluded). */
export function benchEncodeCompress(opts: MicroOptions): MicroResult {
  const { requests, lines, textBytes } = planned(opts);
  return measure(ENCODE_COMPRESS, opts, lines, textBytes, () => {
    for (const plan of requests) compressedPushRequest(plan.streams);
  });
}

/** What the file output makes of each 1 MiB batch before it writes it. */
function benchFile(opts: MicroOptions, format: FileFormat): MicroResult {
  const batches = sinkBatches(opts);
  const all = batches.flat();
  const lines = format === 'text' ? textLines : jsonLines;
  return measure(`file output (${format})`, opts, batchLines(all), textBytesOf(all), () => {
    for (const b of batches) lines(b);
  });
}

/** Every micro-benchmark for one line size. */
export async function runMicro(opts: MicroOptions): Promise<MicroResult[]> {
  return [
    benchParse(opts), await benchBatch(opts), benchPlan(opts), benchEncode(opts),
    benchSnappy(opts, defaultSnappy(), `snappy compress (${defaultSnappy().implementation})`),
    benchSnappy(opts, snappyjs, 'snappy compress (snappyjs)'),
    benchEncodeCompress(opts), benchFile(opts, 'text'), benchFile(opts, 'json'),
  ];
}
