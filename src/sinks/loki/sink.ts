// The Loki sink: one batch from the pipeline becomes one or more push requests, each retried until Loki took it
// or said why it never will. `write` resolves only then, so positions advance only past delivered (or counted)
// entries.
import { setTimeout as sleep } from 'node:timers/promises';
import { batchLines, type Batch } from '../../pipeline/block.ts';
import type { Sink } from '../../pipeline/entry.ts';
import { encodeBody, type PushFormat } from './encode.ts';
import { parseLokiUrl, type LokiEndpoint } from './endpoint.ts';
import { checkStaticLabels, StreamLabeler } from './labels.ts';
import { DEFAULT_MAX_LINE_BYTES, MIN_MAX_LINE_BYTES, type LineTooLong } from './lines.ts';
import { firstStream, halvePlan, MetadataCache, planRequests, type PushPlan } from './plan.ts';
import { parseRejection, parseRetryAfter, retryDelay, verdictOf } from './policy.ts';
import { LokiTransport, type ProbeResult } from './transport.ts';

export interface LokiSinkHooks {
  sent?(entries: number, bytes: number): void;
  dropped?(entries: number, bytes: number, reason: string): void;
  /** status: the HTTP status code, `network` or `timeout`. */
  request?(status: string, seconds: number): void;
  retry?(reason: string, delayMs: number): void;
  /** Fields never hold credentials. */
  log?(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void;
}

export interface LokiSinkOptions {
  /** Base URL (`http://loki:3100`) or full push URL. */
  readonly url: string;
  /** Sink name in logs and errors; default `loki <push URL>`. */
  readonly name?: string;
  /** Sent as X-Scope-OrgID. */
  readonly tenant?: string;
  readonly basicAuth?: { readonly user: string; readonly password: string };
  readonly bearerToken?: string;
  readonly caPem?: string;
  /** Accept any server certificate; the caller warns about it. */
  readonly insecureSkipVerify?: boolean;
  readonly format?: PushFormat;
  /** Most bytes of entry text per push request (default 1 MiB). */
  readonly batchBytes?: number;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** Longest line sent as is (default 256 000, Loki's max_line_size). */
  readonly maxLineBytes?: number;
  readonly lineTooLong?: LineTooLong;
  readonly staticLabels?: Readonly<Record<string, string>>;
  /** Pod label key → stream label name. */
  readonly labelMap?: Readonly<Record<string, string>>;
  /** Back-off between retries (defaults 500 ms and 30 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly hooks?: LokiSinkHooks;
}

export const DEFAULT_BATCH_BYTES = 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MIN_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 30_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** A request still failing after this many attempts is logged again (and then every this many). */
const LOG_EVERY_ATTEMPTS = 10;

function positive(value: number | undefined, fallback: number, what: string): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen <= 0) throw new Error(`Loki ${what} must be a positive number, got ${chosen}`);
  return chosen;
}

function requestHeaders(options: LokiSinkOptions, endpoint: LokiEndpoint): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'k8s-tailer' };
  if (options.tenant !== undefined && options.tenant !== '') headers['x-scope-orgid'] = options.tenant;
  const basic = options.basicAuth ?? endpoint.basicAuth;
  if (basic !== undefined && options.bearerToken !== undefined) {
    throw new Error('Loki basic auth and bearer token are both set: give only one');
  }
  if (basic !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${basic.user}:${basic.password}`, 'utf8').toString('base64')}`;
  }
  if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken}`;
  return headers;
}

export class LokiSink implements Sink {
  readonly name: string;
  readonly #endpoint: LokiEndpoint;
  readonly #transport: LokiTransport;
  readonly #labeler: StreamLabeler;
  readonly #metadata = new MetadataCache();
  readonly #hooks: LokiSinkHooks;
  readonly #format: PushFormat;
  readonly #batchBytes: number;
  readonly #maxLineBytes: number;
  readonly #lineTooLong: LineTooLong;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #abort = new AbortController();
  /** The last accepted write; writes run one after another even if a caller does not wait. */
  #queue: Promise<void> = Promise.resolve();
  #closing = false;

  constructor(options: LokiSinkOptions) {
    this.#endpoint = parseLokiUrl(options.url);
    this.name = options.name ?? `loki ${this.#endpoint.display}`;
    this.#hooks = options.hooks ?? {};
    this.#format = options.format ?? 'protobuf';
    if (this.#format !== 'protobuf' && this.#format !== 'json') {
      throw new Error(`Loki format must be protobuf or json, got ${String(this.#format)}`);
    }
    this.#batchBytes = positive(options.batchBytes, DEFAULT_BATCH_BYTES, 'batch bytes');
    this.#maxLineBytes = positive(options.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'max line bytes');
    if (this.#maxLineBytes < MIN_MAX_LINE_BYTES) {
      throw new Error(`Loki max line bytes must be at least ${MIN_MAX_LINE_BYTES}, got ${this.#maxLineBytes}`);
    }
    this.#lineTooLong = options.lineTooLong ?? 'truncate';
    if (this.#lineTooLong !== 'truncate' && this.#lineTooLong !== 'split') {
      throw new Error(`Loki line-too-long must be truncate or split, got ${String(this.#lineTooLong)}`);
    }
    this.#minBackoffMs = positive(options.minBackoffMs, DEFAULT_MIN_BACKOFF_MS, 'min back-off');
    const maxBackoffMs = positive(options.maxBackoffMs, DEFAULT_MAX_BACKOFF_MS, 'max back-off');
    this.#maxBackoffMs = Math.max(this.#minBackoffMs, maxBackoffMs);
    checkStaticLabels(options.staticLabels ?? {});
    const labelOptions = { staticLabels: options.staticLabels, labelMap: options.labelMap };
    this.#labeler = new StreamLabeler(labelOptions, (target, omitted) =>
      this.#log('warn', 'Loki allows 15 labels per stream: mapped pod labels left out', {
        url: this.#endpoint.display,
        target: target.key,
        omitted,
      }),
    );
    this.#transport = new LokiTransport(this.#endpoint, {
      timeoutMs: positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeout'),
      headers: requestHeaders(options, this.#endpoint),
      ...(options.caPem === undefined ? {} : { caPem: options.caPem }),
      ...(options.insecureSkipVerify === undefined ? {} : { insecureSkipVerify: options.insecureSkipVerify }),
    });
  }

  /**
   * `signal` abandons this write (a spool takes the batch instead): the retry loop stops and `write` rejects with
   * an AbortError. A request already sent may still have been accepted; Loki drops exact duplicates on replay.
   */
  write(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (this.#closing) return Promise.reject(new Error(`${this.name}: write after close`));
    const run = this.#queue.then(() => this.#deliver(batch, signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Waits up to `timeoutMs` for writes in flight, then abandons them (their `write` rejects) and frees the pool. */
  async close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing = true;
    const timer = new AbortController();
    const drained = await Promise.race([
      this.#queue.then(() => true),
      sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (!drained) {
      this.#log('warn', 'closing the Loki sink with a batch not yet delivered', {
        url: this.#endpoint.display,
        timeoutMs,
      });
      this.#abort.abort();
      await this.#queue;
    }
    await this.#transport.close();
  }

  /** Whether the endpoint answers HTTP at all (GET {base}/ready); for the process' own readiness. */
  probe(timeoutMs?: number): Promise<ProbeResult> {
    return this.#transport.probe(timeoutMs);
  }

  async #deliver(batch: Batch, abandon: AbortSignal | undefined): Promise<void> {
    const signal = abandon === undefined ? this.#abort.signal : AbortSignal.any([this.#abort.signal, abandon]);
    const pending = planRequests(batch, this.#labeler, this.#metadata, {
      batchBytes: this.#batchBytes,
      maxLineBytes: this.#maxLineBytes,
      lineTooLong: this.#lineTooLong,
    });
    try {
      for (let plan = pending.shift(); plan !== undefined; plan = pending.shift()) {
        signal.throwIfAborted();
        if ((await this.#send(plan, signal)) !== 'split') continue;
        if (plan.entries > 1) {
          pending.unshift(...halvePlan(plan));
        } else {
          this.#drop(plan, plan.entries, plan.bytes, 'batch_too_large', 'Loki answered 413 to a single entry: dropped');
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
      if (this.#abort.signal.aborted) {
        throw new Error(`${this.name}: closed before a batch of ${batchLines(batch)} entries was delivered`);
      }
      throw new DOMException(`${this.name}: write of ${batchLines(batch)} entries abandoned`, 'AbortError');
    }
  }

  /** One request, retried until it is sent, rejected for good, or has to be split. */
  async #send(plan: PushPlan, signal: AbortSignal): Promise<'sent' | 'drop' | 'split'> {
    const { body, contentType } = encodeBody(plan.streams, this.#format);
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const outcome = await this.#transport.push(body, contentType, signal);
      const status = outcome.kind === 'answer' ? String(outcome.status) : outcome.kind;
      this.#hooks.request?.(status, (performance.now() - started) / 1000);
      let retryAfterMs: number | undefined;
      if (outcome.kind === 'answer') {
        const verdict = verdictOf(outcome.status);
        if (verdict === 'sent') {
          this.#hooks.sent?.(plan.entries, plan.bytes);
          if (attempt > 0) {
            const fields = { url: this.#endpoint.display, attempts: attempt + 1 };
            this.#log('info', 'Loki push succeeded after retries', fields);
          }
          return 'sent';
        }
        if (verdict === 'drop') {
          this.#reject(plan, outcome.status, outcome.body);
          return 'drop';
        }
        if (verdict === 'split') return 'split';
        retryAfterMs = parseRetryAfter(outcome.retryAfter, Date.now());
      }
      const delayMs = retryDelay(attempt, retryAfterMs, this.#minBackoffMs, this.#maxBackoffMs);
      this.#hooks.retry?.(status, delayMs);
      if (attempt % LOG_EVERY_ATTEMPTS === 0) {
        this.#log('warn', 'Loki push failed; retrying', {
          url: this.#endpoint.display,
          status,
          detail: outcome.kind === 'answer' ? outcome.body.slice(0, 300) : outcome.error,
          attempts: attempt + 1,
          entries: plan.entries,
          delayMs,
        });
      }
      await sleep(delayMs, undefined, { signal });
    }
  }

  /** A 4xx other than 429/413: Loki kept what it could (a 400 is partial); count the rest by reason, once. */
  #reject(plan: PushPlan, status: number, body: string): void {
    const rejection = parseRejection(status, body);
    const partial =
      rejection.ignored !== undefined && rejection.total === plan.entries && rejection.ignored <= plan.entries;
    const dropped = partial ? (rejection.ignored ?? 0) : plan.entries;
    const droppedBytes = Math.round((plan.bytes * dropped) / plan.entries);
    if (dropped < plan.entries) this.#hooks.sent?.(plan.entries - dropped, plan.bytes - droppedBytes);
    this.#drop(plan, dropped, droppedBytes, rejection.reason, 'Loki rejected entries: dropped', {
      status,
      stream: rejection.stream ?? firstStream(plan),
      detail: body.slice(0, 300),
    });
  }

  #drop(plan: PushPlan, entries: number, bytes: number, reason: string, msg: string, fields = {}): void {
    if (entries > 0) this.#hooks.dropped?.(entries, bytes, reason);
    this.#log('error', msg, { url: this.#endpoint.display, reason, entries, stream: firstStream(plan), ...fields });
  }

  #log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    this.#hooks.log?.(level, msg, fields);
  }
}
