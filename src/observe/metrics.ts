// The process's Prometheus metrics, on a registry of its own so tests and embedders never share state.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type TargetState = 'waiting' | 'following' | 'backoff' | 'finished';
export type ReconnectReason = 'eof' | 'error' | 'stall' | 'max_age' | 'paused' | 'restart' | 'rotation';

export const TARGET_STATES: readonly TargetState[] = ['waiting', 'following', 'backoff', 'finished'];
export const RECONNECT_REASONS: readonly ReconnectReason[] = ['eof', 'error', 'stall', 'max_age', 'paused', 'restart', 'rotation'];

/** Every metric name this module registers (default process metrics aside), for checks of dashboards and docs. */
export const METRIC_NAMES = [
  'tailer_targets',
  'tailer_open_streams',
  'tailer_stream_opens_total',
  'tailer_reconnects_total',
  'tailer_lines_read_total',
  'tailer_bytes_read_total',
  'tailer_gaps_total',
  'tailer_lines_deduplicated_total',
  'tailer_sink_lines_sent_total',
  'tailer_sink_bytes_sent_total',
  'tailer_dropped_lines_total',
  'tailer_dropped_bytes_total',
  'tailer_push_duration_seconds',
  'tailer_sink_retries_total',
  'tailer_buffered_bytes',
  'tailer_spool_bytes',
  'tailer_target_lag_seconds',
  'tailer_max_lag_seconds',
  'tailer_api_requests_total',
  'tailer_watch_restarts_total',
  'tailer_positions_saved_total',
  'tailer_positions_age_seconds',
  'tailer_build_info',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricsOptions {
  /** Reported as the `version` label of `tailer_build_info`. */
  readonly version?: string;
  /** Register prom-client's process_* and nodejs_* metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Clock in epoch milliseconds, for `tailer_positions_age_seconds` (default Date.now). */
  readonly now?: () => number;
}

// Lag spans sub-second (healthy) to hours (a backlog after an outage).
const LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 14400];
const PUSH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  readonly registry: Registry;

  readonly targets: Gauge<'state'>;
  readonly openStreams: Gauge;
  readonly streamOpens: Counter;
  readonly reconnects: Counter<'reason'>;
  readonly linesRead: Counter;
  readonly bytesRead: Counter;
  readonly gaps: Counter<'reason'>;
  readonly linesDeduplicated: Counter;

  readonly sinkLinesSent: Counter<'sink'>;
  readonly sinkBytesSent: Counter<'sink'>;
  readonly droppedLines: Counter<'sink' | 'reason'>;
  readonly droppedBytes: Counter<'sink' | 'reason'>;
  readonly pushDuration: Histogram<'sink' | 'status'>;
  readonly sinkRetries: Counter<'sink' | 'reason'>;

  readonly bufferedBytes: Gauge;
  readonly spoolBytes: Gauge;
  readonly targetLag: Histogram;
  readonly maxLag: Gauge;

  readonly apiRequests: Counter<'verb' | 'code'>;
  readonly watchRestarts: Counter<'reason'>;
  readonly positionsSaved: Counter;
  readonly positionsAge: Gauge;
  readonly buildInfo: Gauge<'version'>;

  #positionsSavedAt: number | undefined;
  readonly #now: () => number;

  constructor(options: MetricsOptions = {}) {
    this.#now = options.now ?? Date.now;
    const registers = [(this.registry = new Registry())];
    this.targets = new Gauge({ name: 'tailer_targets', help: 'Followed containers by state.', labelNames: ['state'], registers });
    this.openStreams = new Gauge({ name: 'tailer_open_streams', help: 'Log streams currently open.', registers });
    this.streamOpens = new Counter({ name: 'tailer_stream_opens_total', help: 'Log streams opened.', registers });
    this.reconnects = new Counter({
      name: 'tailer_reconnects_total',
      help: 'Log streams reopened, by why the previous one ended (eof|error|stall|max_age|paused|restart|rotation).',
      labelNames: ['reason'],
      registers,
    });
    this.linesRead = new Counter({ name: 'tailer_lines_read_total', help: 'Log lines read from the API server.', registers });
    this.bytesRead = new Counter({ name: 'tailer_bytes_read_total', help: 'Log bytes read from the API server.', registers });
    this.gaps = new Counter({
      name: 'tailer_gaps_total',
      help: 'Detected losses of log lines that could not be fetched, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.linesDeduplicated = new Counter({
      name: 'tailer_lines_deduplicated_total',
      help: 'Replayed lines skipped on reconnect because they were already delivered.',
      registers,
    });

    this.sinkLinesSent = new Counter({ name: 'tailer_sink_lines_sent_total', help: 'Lines accepted by a sink.', labelNames: ['sink'], registers });
    this.sinkBytesSent = new Counter({ name: 'tailer_sink_bytes_sent_total', help: 'Line bytes accepted by a sink.', labelNames: ['sink'], registers });
    this.droppedLines = new Counter({
      name: 'tailer_dropped_lines_total',
      help: 'Lines a sink rejected for good, by reason.',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.droppedBytes = new Counter({
      name: 'tailer_dropped_bytes_total',
      help: 'Line bytes a sink rejected for good, by reason.',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.pushDuration = new Histogram({
      name: 'tailer_push_duration_seconds',
      help: 'Duration of one push attempt to a sink, by outcome.',
      labelNames: ['sink', 'status'],
      buckets: PUSH_BUCKETS,
      registers,
    });
    this.sinkRetries = new Counter({
      name: 'tailer_sink_retries_total',
      help: 'Push attempts retried, by reason.',
      labelNames: ['sink', 'reason'],
      registers,
    });

    this.bufferedBytes = new Gauge({ name: 'tailer_buffered_bytes', help: 'Bytes read and not yet acknowledged by every sink.', registers });
    this.spoolBytes = new Gauge({ name: 'tailer_spool_bytes', help: 'Bytes held in the on-disk spool.', registers });
    this.targetLag = new Histogram({
      name: 'tailer_target_lag_seconds',
      help: 'Per target, now minus the newest delivered line timestamp, sampled on an interval.',
      buckets: LAG_BUCKETS,
      registers,
    });
    this.maxLag = new Gauge({ name: 'tailer_max_lag_seconds', help: 'The largest target lag at the last sample.', registers });

    this.apiRequests = new Counter({
      name: 'tailer_api_requests_total',
      help: 'Requests to the Kubernetes API server, by verb and status code.',
      labelNames: ['verb', 'code'],
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'tailer_watch_restarts_total',
      help: 'Pod watches restarted, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.positionsSaved = new Counter({ name: 'tailer_positions_saved_total', help: 'Positions file saves.', registers });
    this.positionsAge = new Gauge({
      name: 'tailer_positions_age_seconds',
      help: 'Seconds since the positions file was last saved (0 before the first save).',
      registers,
      // Computed at scrape time, so the age grows while saving is stuck.
      collect: () => {
        if (this.#positionsSavedAt !== undefined) this.positionsAge.set((this.#now() - this.#positionsSavedAt) / 1000);
      },
    });
    this.buildInfo = new Gauge({ name: 'tailer_build_info', help: 'Always 1; the version as a label.', labelNames: ['version'], registers });
    this.buildInfo.set({ version: options.version ?? 'unknown' }, 1);

    // Known label values start at 0 so rate() and dashboards show a flat line instead of no data.
    this.setTargetStates({});
    for (const reason of RECONNECT_REASONS) this.reconnects.inc({ reason }, 0);

    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Replaces the per-state target counts: states absent from `counts` read 0 rather than a stale value. */
  setTargetStates(counts: Partial<Record<TargetState, number>>): void {
    for (const state of TARGET_STATES) this.targets.set({ state }, counts[state] ?? 0);
  }

  /** Counts a successful save of the positions file; `tailer_positions_age_seconds` is measured from it. */
  positionsWritten(): void {
    this.positionsSaved.inc();
    this.#positionsSavedAt = this.#now();
  }

  /** Records one lag sample per target (seconds) and the maximum; an empty sample sets the maximum to 0. */
  observeLags(lagsSeconds: Iterable<number>): void {
    let max = 0;
    for (const lag of lagsSeconds) {
      const clamped = Math.max(0, lag);
      this.targetLag.observe(clamped);
      if (clamped > max) max = clamped;
    }
    this.maxLag.set(max);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
