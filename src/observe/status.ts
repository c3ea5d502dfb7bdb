// The live one-line status on a terminal: rewritten in place every second, kept below any log lines.

export interface StatusSnapshot {
  readonly targetsFollowing: number;
  readonly targetsTotal: number;
  /** Running totals; the line shows their rate between two ticks. */
  readonly linesRead: number;
  readonly bytesRead: number;
  readonly maxLagSeconds: number;
  /** Running total of errors worth a glance (gaps, drops, failed pushes). */
  readonly errors: number;
}

export interface StatusLineOptions {
  readonly snapshot: () => StatusSnapshot;
  /** Default process.stderr. The line is drawn only when this is a TTY and `enabled` is not false. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly enabled?: boolean;
  readonly intervalMs?: number;
  /** Monotonic clock in milliseconds (default performance.now), for tests. */
  readonly now?: () => number;
}

export interface StatusLine {
  /** Whether the line is being drawn. */
  readonly active: boolean;
  /** Writes a finished line (ending in a newline) above the status line; a plain write when inactive. */
  writeAbove(line: string): void;
  /** Erases the line and stops redrawing it until resume(). */
  pause(): void;
  resume(): void;
  /** Erases the line for good and stops the timer. */
  stop(): void;
}

const CLEAR = '\r\x1b[K';

export function startStatusLine(options: StatusLineOptions): StatusLine {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const active = options.enabled !== false && stream.isTTY === true;
  if (!active) {
    return { active, writeAbove: (line) => void stream.write(line), pause() {}, resume() {}, stop() {} };
  }

  let previous = { at: now(), snapshot: options.snapshot() };
  let text = formatStatus(previous.snapshot, previous.snapshot, 0);
  let paused = false;
  let stopped = false;
  const fit = (s: string): string => truncate(s, (stream.columns ?? 0) - 1);

  const tick = (): void => {
    const current = { at: now(), snapshot: options.snapshot() };
    text = formatStatus(previous.snapshot, current.snapshot, (current.at - previous.at) / 1000);
    previous = current;
    if (!paused) stream.write(CLEAR + fit(text));
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch {
      // A failing snapshot must not take the process down; the next tick tries again.
    }
  }, options.intervalMs ?? 1000);
  timer.unref();

  return {
    active,
    writeAbove(line) {
      stream.write(CLEAR + line + (paused || stopped ? '' : fit(text)));
    },
    pause() {
      if (paused || stopped) return;
      paused = true;
      stream.write(CLEAR);
    },
    resume() {
      if (!paused || stopped) return;
      paused = false;
      stream.write(CLEAR + fit(text));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (!paused) stream.write(CLEAR);
    },
  };
}

/** The status text for the interval between two snapshots `seconds` apart (rates are 0 for a zero interval). */
export function formatStatus(before: StatusSnapshot, after: StatusSnapshot, seconds: number): string {
  const rate = (a: number, b: number): number => (seconds > 0 ? Math.max(0, b - a) / seconds : 0);
  const lines = rate(before.linesRead, after.linesRead);
  const mb = rate(before.bytesRead, after.bytesRead) / 1e6;
  return [
    `targets ${after.targetsFollowing}/${after.targetsTotal}`,
    `${formatRate(lines)} lines/s`,
    `${mb.toFixed(mb >= 10 ? 1 : 2)} MB/s`,
    `max lag ${formatDuration(after.maxLagSeconds)}`,
    `errors ${after.errors}`,
  ].join(' | ');
}

function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k`;
  return String(Math.round(perSecond));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

function truncate(text: string, width: number): string {
  return width > 0 && text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text;
}
