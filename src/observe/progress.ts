// What the followers report, turned into metrics, the live status line's snapshot and structured log lines.
import type { EndReason, FollowEvents } from '../kube/follow.ts';
import { targetName } from '../kube/follow.ts';
import type { TargetInfo } from '../pipeline/entry.ts';
import type { Cursor } from '../kube/cursor.ts';
import type { Logger } from './log.ts';
import type { Metrics, TargetState } from './metrics.ts';
import type { StatusSnapshot } from './status.ts';

/** A full buffer is logged once reading has stayed paused this long: a tailer that just keeps pace fills it for moments. */
export const PAUSE_LOG_AFTER_MS = 5000;

export class Progress implements FollowEvents {
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #states = new Map<string, TargetState>();
  /** The newest delivered timestamp (seconds) per live target, for the lag figures. */
  readonly #newest = new Map<string, number>();
  #lines = 0;
  #bytes = 0;
  #errors = 0;
  #maxLag = 0;
  #pausedAt = 0;
  #pauseTimer: NodeJS.Timeout | undefined;
  #pauseLogged = false;

  constructor(metrics: Metrics, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
  }

  opened(): void {
    this.#metrics.streamOpens.inc();
    this.#metrics.openStreams.inc();
  }

  closed(t: TargetInfo, reason: EndReason): void {
    this.#metrics.openStreams.dec();
    this.#metrics.reconnects.inc({ reason });
    this.#log.info('Refreshing logs', { target: targetName(t), reason });
  }

  read(lines: number, bytes: number): void {
    this.#lines += lines;
    this.#bytes += bytes;
    this.#metrics.linesRead.inc(lines);
    this.#metrics.bytesRead.inc(bytes);
  }

  deduplicated(lines: number): void {
    this.#metrics.linesDeduplicated.inc(lines);
  }

  gap(_t: TargetInfo, reason: string): void {
    this.#errors++;
    this.#metrics.gaps.inc({ reason });
  }

  position(t: TargetInfo, _containerId: string, cursor: Cursor): void {
    const newest = cursor.newest;
    if (newest !== undefined) this.#newest.set(t.key, newest.sec + newest.nsec / 1e9);
  }

  state(t: TargetInfo, state: TargetState): void {
    this.#states.set(t.key, state);
    if (state === 'finished') this.#newest.delete(t.key);
  }

  /** A sink dropped or failed something worth a glance. */
  error(): void {
    this.#errors++;
  }

  /**
   * The lines read but not yet acknowledged reached `maxBytes` (`full`), or drained to half: reading pauses and
   * resumes. Told once it lasted PAUSE_LOG_AFTER_MS, and then when it ends.
   */
  bufferFull(full: boolean, maxBytes: number): void {
    clearTimeout(this.#pauseTimer);
    if (full) {
      this.#pausedAt = Date.now();
      this.#pauseTimer = setTimeout(() => {
        this.#pauseLogged = true;
        this.#log.warn('Reading paused: the outputs have not yet acknowledged the lines read (--max-buffer-bytes); new lines wait in the kubelet\'s log files, which rotate, so a long pause can lose lines: see the output errors, or give --spool-dir to move an outage to disk', { maxBufferBytes: maxBytes });
      }, PAUSE_LOG_AFTER_MS);
      this.#pauseTimer.unref();
    } else if (this.#pauseLogged) {
      this.#pauseLogged = false;
      this.#log.info('Reading resumed: the outputs caught up', { pausedSeconds: Math.round((Date.now() - this.#pausedAt) / 1000) });
    }
  }

  /** Updates the gauges that are computed rather than counted (call on an interval). */
  refresh(nowMs = Date.now()): void {
    const counts: Partial<Record<TargetState, number>> = {};
    for (const s of this.#states.values()) counts[s] = (counts[s] ?? 0) + 1;
    this.#metrics.setTargetStates(counts);
    const now = nowMs / 1000;
    const lags: number[] = [];
    for (const [key, newest] of this.#newest) {
      if (this.#states.get(key) === 'following') lags.push(Math.max(0, now - newest));
    }
    this.#maxLag = lags.length === 0 ? 0 : Math.max(...lags);
    this.#metrics.observeLags(lags);
  }

  snapshot(): StatusSnapshot {
    let following = 0;
    for (const s of this.#states.values()) if (s === 'following') following++;
    return { targetsFollowing: following, targetsTotal: this.#states.size, linesRead: this.#lines, bytesRead: this.#bytes, maxLagSeconds: this.#maxLag, errors: this.#errors };
  }
}
