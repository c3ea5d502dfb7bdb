// What to do with Loki's answer, and how long to wait before trying again. Pure functions; the sink does the I/O.

export type Verdict = 'sent' | 'retry' | 'split' | 'drop';

/**
 * 2xx: accepted. 429 and 5xx: transient, retry. 413: the body is too large, split it. Any other answer (a 400 is
 * partial: Loki kept the valid entries) cannot get better by resending: drop and count.
 */
export function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 429 || status >= 500) return 'retry';
  if (status === 413) return 'split';
  return 'drop';
}

/** `Retry-After` as a delay in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Exponential back-off with jitter: attempt 0 waits about `minMs`, each attempt doubles the ceiling up to `maxMs`,
 * and the wait is drawn from the upper half of the ceiling (never below `minMs`), so retries of many senders
 * spread out without ever hammering.
 */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 52));
  return Math.max(minMs, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

/** A Retry-After longer than this is treated as this: a misconfigured proxy must not park the sink for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Wait before the next attempt: the server's Retry-After when it gave one, else the back-off. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  minMs: number,
  maxMs: number,
  random?: () => number,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), MAX_RETRY_AFTER_MS);
  return backoffDelay(attempt, minMs, maxMs, random);
}

export interface Rejection {
  /** Loki's validation reason (`line_too_long`, …) or `http_<status>` when the text names none. */
  readonly reason: string;
  /** From `total ignored: N out of M` (ingester answers for partly accepted pushes). */
  readonly ignored?: number;
  readonly total?: number;
  /** The first stream selector the text names. */
  readonly stream?: string;
}

// Loki's error texts (pkg/validation, pkg/distributor, pkg/ingester), matched in this order.
const REASONS: readonly (readonly [RegExp, string])[] = [
  [/line_too_long|max entry size .* exceeded/i, 'line_too_long'],
  [/greater_than_max_sample_age|timestamp too old/i, 'greater_than_max_sample_age'],
  [/too_far_in_future|timestamp too new/i, 'too_far_in_future'],
  [/too_far_behind|too far behind/i, 'too_far_behind'],
  [/out_of_order|out of order/i, 'out_of_order'],
  [/max_label_names_per_series|label names; limit/i, 'max_label_names_per_series'],
  [/label_name_too_long|label name too long/i, 'label_name_too_long'],
  [/label_value_too_long|label value too long/i, 'label_value_too_long'],
  [/duplicate_label_names|duplicate label name/i, 'duplicate_label_names'],
  [/missing_labels|at least one label pair is required/i, 'missing_labels'],
  [/invalid_labels|error parsing labels/i, 'invalid_labels'],
  [/structured_metadata_too_large|structured metadata too large/i, 'structured_metadata_too_large'],
  [/structured_metadata_too_many|too many structured metadata/i, 'structured_metadata_too_many'],
  [/stream_limit|maximum active stream limit/i, 'stream_limit'],
];

const PAIR = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"`;
const SELECTOR = new RegExp(String.raw`\{${PAIR}(?:,\s*${PAIR})*\}`);

export function parseRejection(status: number, body: string): Rejection {
  const reason = REASONS.find(([pattern]) => pattern.test(body))?.[1] ?? `http_${status}`;
  const counts = /total ignored:\s*(\d+)\s+out of\s+(\d+)/i.exec(body);
  const stream = SELECTOR.exec(body);
  return {
    reason,
    ...(counts === null ? {} : { ignored: Number(counts[1]), total: Number(counts[2]) }),
    ...(stream === null ? {} : { stream: stream[0] }),
  };
}
