// Caps how many log streams are being opened at once, so that a restart of the API server or of the tailer
// with thousands of targets does not stampede it: opens queue here in arrival order.

export class Limiter {
  readonly max: number;
  #active = 0;
  #peak = 0;
  #queue: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new Error(`the limit must be a positive integer, got ${max}`);
    this.max = max;
  }

  get active(): number {
    return this.#active;
  }

  get peak(): number {
    return this.#peak;
  }

  /** Runs `fn` when fewer than `max` others are running. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#active++;
    if (this.#active > this.#peak) this.#peak = this.#active;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}
