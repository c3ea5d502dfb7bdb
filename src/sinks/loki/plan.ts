// Turns one pipeline batch into push requests: lines fitted to the size limit, entries grouped into streams by
// label set (each stream keeping batch order), requests cut so their text stays within `batchBytes`.
import type { Batch } from '../../pipeline/block.ts';
import type { TargetInfo } from '../../pipeline/entry.ts';
import type { LabelPair, StreamLabeler } from './labels.ts';
import { fitLine, type LineTooLong } from './lines.ts';
import { utf8Bytes } from './utf8.ts';

export interface PlannedEntry {
  /** The timestamp, as numbers: an object of its own per line would be one more to collect. */
  readonly sec: number;
  readonly nsec: number;
  /** The line as it is sent: (fitted, repaired) text, or the UTF-8 bytes it was read in, `line[at, at + bytes)`. */
  readonly line: string | Buffer;
  /** Where the line's bytes start in `line` when it is a Buffer (0 for text). */
  readonly at: number;
  /** UTF-8 bytes of the line. */
  readonly bytes: number;
  readonly metadata: readonly LabelPair[];
}

export interface PlannedStream {
  /** Selector text. */
  readonly labels: string;
  readonly pairs: readonly LabelPair[];
  readonly entries: PlannedEntry[];
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

/** Accumulates entries of one request, grouped by stream in first-seen order. */
class PlanBuilder {
  readonly #streams = new Map<string, PlannedStream>();
  // Entries come in runs of one stream (the lines of one read): the stream of the last one is kept at hand.
  #last: PlannedStream | undefined;
  entries = 0;
  bytes = 0;

  add(labels: string, pairs: readonly LabelPair[], entry: PlannedEntry): void {
    let stream = this.#last;
    if (stream === undefined || stream.labels !== labels) {
      stream = this.#streams.get(labels);
      if (stream === undefined) {
        stream = { labels, pairs, entries: [] };
        this.#streams.set(labels, stream);
      }
      this.#last = stream;
    }
    stream.entries.push(entry);
    this.entries++;
    this.bytes += entry.bytes;
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
  const add = (selector: string, pairs: readonly LabelPair[], entry: PlannedEntry): void => {
    if (builder.entries > 0 && builder.bytes + entry.bytes > options.batchBytes) {
      plans.push(builder.build());
      builder = new PlanBuilder();
    }
    builder.add(selector, pairs, entry);
  };
  // Labels and metadata are looked up once per block: its lines share the target and its instance.
  for (const block of batch) {
    const { selector, pairs } = labeler.labelsOf(block.target);
    const metadata = metadataCache.of(block.target, block.restart);
    for (let i = 0; i < block.length; i++) {
      const sec = block.sec(i);
      const nsec = block.nsec(i);
      const buf = block.buffer(i);
      const at = block.start(i);
      const bytes = block.end(i) - at;
      if (buf !== undefined && bytes <= options.maxLineBytes) {
        // Bytes as read are valid UTF-8 already: when they fit they go as they are, never decoded.
        add(selector, pairs, { sec, nsec, line: buf, at, bytes, metadata });
        continue;
      }
      for (const line of fitLine(block.text(i), options.maxLineBytes, options.lineTooLong)) {
        add(selector, pairs, { sec, nsec, line, at: 0, bytes: utf8Bytes(line), metadata });
      }
    }
  }
  if (builder.entries > 0) plans.push(builder.build());
  return plans;
}

/** The request cut in two halves by entry count (streams keep their order), for a 413 answer. */
export function halvePlan(plan: PushPlan): [PushPlan, PushPlan] {
  const half = Math.floor(plan.entries / 2);
  const first = new PlanBuilder();
  const second = new PlanBuilder();
  for (const stream of plan.streams) {
    for (const entry of stream.entries) (first.entries < half ? first : second).add(stream.labels, stream.pairs, entry);
  }
  return [first.build(), second.build()];
}

/** The text of a planned line. */
export function plannedText(entry: PlannedEntry): string {
  return typeof entry.line === 'string' ? entry.line : entry.line.toString('utf8', entry.at, entry.at + entry.bytes);
}

/** The first stream's selector, for log lines about a request. */
export function firstStream(plan: PushPlan): string {
  return plan.streams[0]?.labels ?? '{}';
}
