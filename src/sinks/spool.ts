// Spooling in front of a sink (Loki): a batch the sink has not taken within `afterMs` goes to disk instead, and
// counts as acknowledged once fsynced, so positions advance and memory is freed during a long outage. While
// anything is spooled, new batches are spooled behind it (nothing overtakes spooled data); a replayer sends the
// spooled batches oldest first and deletes each once the sink has it; then writes go direct again. A spool left
// by a previous run is replayed first.
//
// When the spool is full, `write` waits for the replayer to make room: nothing is dropped, and the wait reaches
// the followers through the in-flight bound (they stop reading), as it would without a spool.
import { SpoolStore, encodeBatch } from './spool-store.ts';
import { batchLines, type Batch } from '../pipeline/block.ts';
import type { Sink } from '../pipeline/entry.ts';

/** A sink whose write can be abandoned (the batch may still have arrived: replaying it must be harmless). */
export interface AbandonableSink extends Sink {
  write(batch: Batch, signal?: AbortSignal): Promise<void>;
}

export interface SpoolHooks {
  /** The spool's size changed (bytes on disk). */
  bytes?(bytes: number): void;
  log?(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void;
}

export interface SpoolOptions {
  readonly dir: string;
  /** Most bytes on disk; a batch always fits in an empty spool. */
  readonly maxBytes: number;
  /** How long a write may wait for the sink before its batch is spooled. */
  readonly afterMs: number;
  readonly hooks?: SpoolHooks;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

export class SpoolingSink<S extends AbandonableSink = AbandonableSink> implements Sink {
  readonly name: string;
  readonly inner: S;
  readonly #store: SpoolStore;
  readonly #maxBytes: number;
  readonly #afterMs: number;
  readonly #hooks: SpoolHooks;
  readonly #closing = new AbortController();
  /** Writes run one after another, in call order. */
  #queue: Promise<void> = Promise.resolve();
  #replayer: Promise<void> | undefined;
  /** Why the spool cannot go on (a damaged file, the sink failed for good): every later write rejects with it. */
  #failure: Error | undefined;
  /** Woken when the replayer frees room, fails or stops. */
  #roomWaiters: (() => void)[] = [];

  private constructor(inner: S, store: SpoolStore, options: SpoolOptions) {
    if (!Number.isFinite(options.maxBytes) || options.maxBytes <= 0) throw new Error(`spool max bytes must be positive, got ${options.maxBytes}`);
    if (!Number.isFinite(options.afterMs) || options.afterMs < 0) throw new Error(`spool-after must be a duration >= 0, got ${options.afterMs}`);
    this.inner = inner;
    this.name = inner.name;
    this.#store = store;
    this.#maxBytes = options.maxBytes;
    this.#afterMs = options.afterMs;
    this.#hooks = options.hooks ?? {};
  }

  /** Opens (or creates) the spool folder and starts replaying what a previous run left in it. */
  static async open<S extends AbandonableSink>(inner: S, options: SpoolOptions): Promise<SpoolingSink<S>> {
    const sink = new SpoolingSink(inner, await SpoolStore.open(options.dir), options);
    sink.#hooks.bytes?.(sink.spoolBytes);
    if (sink.#store.size > 0) {
      sink.#log('info', 'Replaying the spool left by the previous run', { batches: sink.#store.size, bytes: sink.spoolBytes });
      sink.#startReplayer();
    }
    return sink;
  }

  /** Bytes held on disk. */
  get spoolBytes(): number {
    return this.#store.bytes;
  }

  write(batch: Batch): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.reject(new Error(`${this.name}: write after close`));
    const run = this.#queue.then(() => this.#write(batch));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the replayer; what is spooled stays on disk for the next start. */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#wake();
    await this.#queue;
    await this.#replayer;
    await this.inner.close();
  }

  async #write(batch: Batch): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (batchLines(batch) === 0) return;
    if (this.#store.size === 0 && (await this.#direct(batch))) return;
    await this.#spool(batch);
  }

  /** True when the sink took the batch in time; false when the write was abandoned for the spool. */
  async #direct(batch: Batch): Promise<boolean> {
    const abandon = new AbortController();
    const timer = setTimeout(() => abandon.abort(), this.#afterMs);
    try {
      await this.inner.write(batch, abandon.signal);
      return true;
    } catch (error) {
      if (abandon.signal.aborted && isAbort(error)) return false;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #spool(batch: Batch): Promise<void> {
    const data = encodeBatch(batch);
    const wasEmpty = this.#store.size === 0;
    let warned = false;
    while (this.#store.size > 0 && this.#store.bytes + data.length > this.#maxBytes) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#closing.signal.aborted) throw new Error(`${this.name}: closed while waiting for room in the spool`);
      if (!warned) {
        warned = true;
        this.#log('warn', 'Spool full: waiting for the sink to take spooled batches (reading pauses, nothing is dropped)', {
          dir: this.#store.dir,
          bytes: this.#store.bytes,
          maxBytes: this.#maxBytes,
        });
      }
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    await this.#store.append(data);
    this.#hooks.bytes?.(this.#store.bytes);
    if (wasEmpty) {
      this.#log('warn', 'Sink not taking batches: spooling to disk', { dir: this.#store.dir, afterMs: this.#afterMs });
    }
    this.#startReplayer();
  }

  #startReplayer(): void {
    if (this.#replayer !== undefined) return;
    this.#replayer = this.#replay()
      .catch((error: unknown) => {
        this.#failure = error instanceof Error ? error : new Error(String(error));
        this.#log('error', 'Spool replay stopped', { dir: this.#store.dir, error: this.#failure.message });
      })
      .finally(() => {
        this.#replayer = undefined;
        this.#wake();
        // A batch spooled while the replayer was finishing must not wait for the next one.
        if (this.#store.size > 0 && this.#failure === undefined && !this.#closing.signal.aborted) this.#startReplayer();
      });
  }

  async #replay(): Promise<void> {
    const signal = this.#closing.signal;
    for (let batch = await this.#store.oldest(); batch !== undefined; batch = await this.#store.oldest()) {
      if (signal.aborted) return;
      try {
        await this.inner.write(batch, signal);
      } catch (error) {
        if (signal.aborted && isAbort(error)) return;
        throw error;
      }
      await this.#store.removeOldest();
      this.#hooks.bytes?.(this.#store.bytes);
      this.#wake();
    }
    this.#log('info', 'Spool replayed: writing to the sink directly again', { dir: this.#store.dir });
  }

  #wake(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  #log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    this.#hooks.log?.(level, msg, { sink: this.name, ...fields });
  }
}
