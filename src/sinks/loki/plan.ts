// Turns one pipeline batch into push requests: lines fitted to the size limit, entries grouped into streams by
// label set (each stream keeping batch order), requests cut so their text stays within `batchBytes`.
import { BlockBuilder, type Batch, type LineBlock } from '../../pipeline/block.ts';
import type { TargetInfo } from '../../pipeline/entry.ts';
import type { LabelPair, StreamLabeler } from './labels.ts';
import { fitLine, type LineTooLong } from './lines.ts';
import { utf8Bytes } from './utf8.ts';

/**
 * Lines `from` to `to` (exclusive) of one block, consecutive entries of one stream: a request refers to the lines
 * where they are rather than making an object per line. Every line of a run is sent as it is: its bytes as read, or
 * its text when the block holds text (lines that had to be fitted are planned as blocks of their fitted parts).
 */
export interface PlannedRun {
  readonly block: LineBlock;
  readonly from: number;
  readonly to: number;
  readonly metadata: readonly LabelPair[];
}

export interface PlannedStream {
  /** Selector text. */
  readonly labels: string;
  readonly pairs: readonly LabelPair[];
  readonly runs: readonly PlannedRun[];
}

export interface PushPlan {
  readonly streams: readonly PlannedStream[];
  readonly entries: number;
  /** UTF-8 bytes of the entries' lines. */
  readonly bytes: number;
}

export interface PlanOptions {
  readonly batchBytes: number;
  readonly maxLineBytes: number;
  readonly lineTooLong: LineTooLong;
}

/** Structured metadata of a line: facts with too many values to be labels. */
export function entryMetadata(target: TargetInfo, restart: number): LabelPair[] {
  return [
    ['pod_uid', target.podUid],
    ['restart', String(restart)],
  ];
}

/**
 * One shared metadata array per target instance, so the encoder sizes it once per run of entries rather than
 * once per entry.
 */
export class MetadataCache {
  readonly #last = new WeakMap<TargetInfo, { restart: number; pairs: LabelPair[] }>();

  of(target: TargetInfo, restart: number): readonly LabelPair[] {
    const cached = this.#last.get(target);
    if (cached !== undefined && cached.restart === restart) return cached.pairs;
    const pairs = entryMetadata(target, restart);
    this.#last.set(target, { restart, pairs });
    return pairs;
  }
}

interface MutableRun {
  readonly block: LineBlock;
  readonly from: number;
  to: number;
  readonly metadata: readonly LabelPair[];
}

interface MutableStream {
  readonly labels: string;
  readonly pairs: readonly LabelPair[];
  readonly runs: MutableRun[];
}

/** Accumulates entries of one request, grouped by stream in first-seen order. */
class PlanBuilder {
  readonly #streams = new Map<string, MutableStream>();
  // Entries come in runs of one stream (the lines of one read): the stream of the last one is kept at hand.
  #last: MutableStream | undefined;
  entries = 0;
  bytes = 0;

  /** Line `i` of `block`, `bytes` of UTF-8, as the next entry of stream `labels`. */
  add(labels: string, pairs: readonly LabelPair[], metadata: readonly LabelPair[], block: LineBlock, i: number, bytes: number): void {
    this.addRun(labels, pairs, metadata, block, i, i + 1, bytes);
  }

  /** Lines `from` to `to` (exclusive) of `block`, `bytes` of UTF-8 together, as the next entries of stream `labels`. */
  addRun(labels: string, pairs: readonly LabelPair[], metadata: readonly LabelPair[], block: LineBlock, from: number, to: number, bytes: number): void {
    let stream = this.#last;
    if (stream === undefined || stream.labels !== labels) {
      stream = this.#streams.get(labels);
      if (stream === undefined) {
        stream = { labels, pairs, runs: [] };
        this.#streams.set(labels, stream);
      }
      this.#last = stream;
    }
    const run = stream.runs.length === 0 ? undefined : stream.runs[stream.runs.length - 1];
    if (run !== undefined && run.block === block && run.to === from && run.metadata === metadata) run.to = to;
    else stream.runs.push({ block, from, to, metadata });
    this.entries += to - from;
    this.bytes += bytes;
  }

  build(): PushPlan {
    return { streams: [...this.#streams.values()], entries: this.entries, bytes: this.bytes };
  }
}

/** Requests for one batch, in order; each holds at most `batchBytes` of text unless one entry alone is larger. */
export function planRequests(
  batch: Batch,
  labeler: StreamLabeler,
  metadataCache: MetadataCache,
  options: PlanOptions,
): PushPlan[] {
  const plans: PushPlan[] = [];
  let builder = new PlanBuilder();
  /** Whether a request of `entries` lines and `bytes` is full for `more` bytes: a line alone always goes. */
  const full = (entries: number, bytes: number, more: number): boolean => entries > 0 && bytes + more > options.batchBytes;
  const add = (selector: string, pairs: readonly LabelPair[], metadata: readonly LabelPair[], block: LineBlock, i: number, bytes: number): void => {
    if (full(builder.entries, builder.bytes, bytes)) {
      plans.push(builder.build());
      builder = new PlanBuilder();
    }
    builder.add(selector, pairs, metadata, block, i, bytes);
  };
  // Labels and metadata are looked up once per block: its lines share the target and its instance.
  for (const block of batch) {
    const { selector, pairs } = labeler.labelsOf(block.target);
    const metadata = metadataCache.of(block.target, block.restart);
    for (let i = 0; i < block.length;) {
      // Bytes as read are valid UTF-8 already: when they fit they go as they are, never decoded, and as many of
      // them as the request has room for are added in one step.
      let to = i;
      let bytes = 0;
      for (; to < block.length && sentAsRead(block, to, options.maxLineBytes); to++) {
        const lineBytes = block.end(to) - block.start(to);
        if (full(builder.entries + to - i, builder.bytes + bytes, lineBytes)) break;
        bytes += lineBytes;
      }
      if (to > i) {
        builder.addRun(selector, pairs, metadata, block, i, to, bytes);
        i = to;
      } else if (sentAsRead(block, i, options.maxLineBytes)) {
        // There is no room left for it in this request: the next one takes it.
        plans.push(builder.build());
        builder = new PlanBuilder();
      } else {
        const text = block.text(i);
        const fitted = fitLine(text, options.maxLineBytes, options.lineTooLong);
        if (block.buffer(i) === undefined && fitted.length === 1 && fitted[0] === text) {
          // Text that fits as it is (a repaired line, a spooled one) is sent from where it is too.
          add(selector, pairs, metadata, block, i, utf8Bytes(text));
        } else {
          const parts = partsBlock(block, i, fitted);
          for (let k = 0; k < parts.length; k++) add(selector, pairs, metadata, parts, k, parts.utf8Bytes(k));
        }
        i++;
      }
    }
  }
  if (builder.entries > 0) plans.push(builder.build());
  return plans;
}

/** Whether line `i` of `block` goes as the bytes it was read as: it was read (not held as text) and fits. */
function sentAsRead(block: LineBlock, i: number, maxLineBytes: number): boolean {
  return block.buffer(i) !== undefined && block.end(i) - block.start(i) <= maxLineBytes;
}

/** The fitted parts of line `i` of `block` as a block of their own, each with the line's timestamp. */
function partsBlock(block: LineBlock, i: number, parts: readonly string[]): LineBlock {
  const builder = new BlockBuilder(block.target, block.restart, block.containerId);
  for (const text of parts) builder.addText(text, block.sec(i), block.nsec(i), block.hash(i));
  return builder.take()!;
}

/** The request cut in two halves by entry count (streams keep their order), for a 413 answer. */
export function halvePlan(plan: PushPlan): [PushPlan, PushPlan] {
  const half = Math.floor(plan.entries / 2);
  const first = new PlanBuilder();
  const second = new PlanBuilder();
  for (const stream of plan.streams) {
    for (const run of stream.runs) {
      for (let i = run.from; i < run.to; i++) {
        (first.entries < half ? first : second).add(stream.labels, stream.pairs, run.metadata, run.block, i, run.block.utf8Bytes(i));
      }
    }
  }
  return [first.build(), second.build()];
}

/** A planned entry as an object of its own, for JSON bodies and tests. */
export interface PlannedEntry {
  readonly sec: number;
  readonly nsec: number;
  readonly line: string;
  readonly metadata: readonly LabelPair[];
}

/** The entries of a stream, in order. */
export function plannedEntries(stream: PlannedStream): PlannedEntry[] {
  const out: PlannedEntry[] = [];
  for (const run of stream.runs) {
    for (let i = run.from; i < run.to; i++) out.push({ sec: run.block.sec(i), nsec: run.block.nsec(i), line: run.block.text(i), metadata: run.metadata });
  }
  return out;
}

/** The first stream's selector, for log lines about a request. */
export function firstStream(plan: PushPlan): string {
  return plan.streams[0]?.labels ?? '{}';
}
