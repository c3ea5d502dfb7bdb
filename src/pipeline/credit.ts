// Bounds the bytes read from the API server but not yet acknowledged by every sink. Followers take credit for
// each line they emit and wait for it before reading further from their HTTP body, so a slow sink leaves the
// bodies unread and TCP pushes back on the API server: memory stays bounded and nothing is dropped.

/** Told `true` when the in-flight bytes reach the bound, and `false` once acknowledgements bring them below half. */
export type PressureListener = (full: boolean) => void;

export class Credit {
  readonly maxBytes: number;
  #inFlight = 0;
  #peak = 0;
  #waiters: (() => void)[] = [];
  #full = false;
  readonly #pressure: PressureListener[] = [];

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get peak(): number {
    return this.#peak;
  }

  get exhausted(): boolean {
    return this.#inFlight >= this.maxBytes;
  }

  take(bytes: number): void {
    this.#inFlight += bytes;
    if (this.#inFlight > this.#peak) this.#peak = this.#inFlight;
    if (!this.#full && this.#inFlight >= this.maxBytes) this.#setFull(true);
  }

  give(bytes: number): void {
    this.#inFlight -= bytes;
    if (this.#full && this.#inFlight < this.maxBytes / 2) this.#setFull(false);
    if (this.#inFlight < this.maxBytes && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves at once while there is credit, else when acknowledgements bring the total below the bound. */
  available(): Promise<void> {
    if (!this.exhausted) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Calls `listener` when the buffer fills up and when it has drained to half: readers held back at the bound
   * resume below it, so a signal at the bound itself would flap with every acknowledgement while a sink is slow.
   */
  onPressure(listener: PressureListener): void {
    this.#pressure.push(listener);
  }

  #setFull(full: boolean): void {
    this.#full = full;
    for (const listener of this.#pressure) listener(full);
  }
}
