// Turns one pipeline batch into push requests: lines fitted to the size limit, entries grouped into streams by
// label set (each stream keeping batch order), requests cut so their text stays within `batchBytes`.
import { hasBytes, type LogEntry } from '../../pipeline/entry.ts';
import type { Timestamp } from '../../time/timestamp.ts';
import type { LabelPair, StreamLabeler, StreamLabels } from './labels.ts';
import { fitLine, type LineTooLong } from './lines.ts';
import { utf8Bytes } from './utf8.ts';

export interface PlannedEntry {
  readonly ts: Timestamp;
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

/** Structured metadata of an entry: facts with too many values to be labels. */
export function entryMetadata(entry: LogEntry): LabelPair[] {
  return [
    ['pod_uid', entry.target.podUid],
    ['restart', String(entry.restart)],
  ];
}

/**
 * One shared metadata array per target instance, so the encoder sizes it once per run of entries rather than
 * once per entry.
 */
export class MetadataCache {
  readonly #last = new WeakMap<LogEntry['target'], { restart: number; pairs: LabelPair[] }>();

  of(entry: LogEntry): readonly LabelPair[] {
    const cached = this.#last.get(entry.target);
    if (cached !== undefined && cached.restart === entry.restart) return cached.pairs;
    const pairs = entryMetadata(entry);
    this.#last.set(entry.target, { restart: entry.restart, pairs });
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
  batch: readonly LogEntry[],
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
  // Labels and metadata are looked up when the target or its instance changes, not for every entry of a run.
  let target: LogEntry['target'] | undefined;
  let restart = -1;
  let labels: StreamLabels | undefined;
  let metadata: readonly LabelPair[] = [];
  for (const entry of batch) {
    if (entry.target !== target || entry.restart !== restart || labels === undefined) {
      target = entry.target;
      restart = entry.restart;
      labels = labeler.labelsOf(target);
      metadata = metadataCache.of(entry);
    }
    const { selector, pairs } = labels;
    if (hasBytes(entry) && entry.utf8End - entry.utf8Start <= options.maxLineBytes) {
      // Bytes as read are valid UTF-8 already: when they fit they go as they are, never decoded.
      add(selector, pairs, { ts: entry.ts, line: entry.utf8, at: entry.utf8Start, bytes: entry.utf8End - entry.utf8Start, metadata });
      continue;
    }
    for (const line of fitLine(entry.line, options.maxLineBytes, options.lineTooLong)) {
      add(selector, pairs, { ts: entry.ts, line, at: 0, bytes: utf8Bytes(line), metadata });
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
