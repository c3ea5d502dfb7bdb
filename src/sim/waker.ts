// A one-slot wake-up for a streaming loop: wake() before wait() is remembered, so no wake-up is lost.

export class Waker {
  #resolve: (() => void) | undefined;
  #pending = false;

  wake(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) {
      this.#pending = true;
      return;
    }
    this.#resolve = undefined;
    resolve();
  }

  wait(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}
