// Snappy block compression of push bodies. At 1 KiB lines compression is the largest per-line cost of the whole
// pipeline, so it runs in a worker thread: the main thread keeps reading and parsing log streams meanwhile, and a
// 2-core machine uses both cores. Falls back to compressing inline if the worker cannot run.
import { Worker } from 'node:worker_threads';
import { compress } from 'snappyjs';

interface Reply {
  readonly id: number;
  readonly body?: Uint8Array;
  readonly error?: string;
}

class CompressWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>();
  #next = 0;
  #broken: Error | undefined;

  constructor() {
    this.#worker = new Worker(new URL('./compress-worker.ts', import.meta.url));
    this.#worker.on('message', (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      if (waiter === undefined) return;
      this.#pending.delete(reply.id);
      this.#idle();
      if (reply.body !== undefined) waiter.resolve(reply.body);
      else waiter.reject(new Error(`snappy compression failed: ${reply.error}`));
    });
    const fail = (err: Error): void => {
      this.#broken = err;
      for (const waiter of this.#pending.values()) waiter.reject(err);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`compression worker exited (${code})`)));
    this.#idle();
  }

  /** Idle between pushes, the worker must not keep the process alive; busy, it must (a final flush). */
  #idle(): void {
    if (this.#pending.size === 0) this.#worker.unref();
  }

  get broken(): boolean {
    return this.#broken !== undefined;
  }

  compress(body: Uint8Array): Promise<Uint8Array> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      // Copied, not transferred: the body may be a view into Node's shared Buffer pool.
      this.#worker.postMessage({ id, body });
    });
  }
}

let shared: CompressWorker | undefined;

/** Snappy block format (what Loki expects), computed in the shared worker thread. */
export async function snappyCompressAsync(body: Uint8Array): Promise<Uint8Array> {
  try {
    if (shared === undefined || shared.broken) shared = new CompressWorker();
    return await shared.compress(body);
  } catch {
    return compress(body);
  }
}
