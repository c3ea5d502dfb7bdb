// The ground truth: every line the simulated containers produced, in production order.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface LedgerEntry {
  namespace: string;
  pod: string;
  pod_uid: string;
  container: string;
  restart: number;
  /** RFC3339Nano with nine fraction digits, as the kubelet prefixes it with timestamps=true. */
  ts: string;
  line: string;
  /** No API request could ever return this line: it left the kubelet's reach before any request was sent it. */
  unrecoverable?: true;
}

export class Ledger {
  readonly #entries: LedgerEntry[] = [];
  readonly #keep: boolean;

  /** `keep: false` records nothing (long benchmarks that do not verify lines would otherwise grow without bound). */
  constructor(keep = true) {
    this.#keep = keep;
  }

  add(entry: LedgerEntry): void {
    if (this.#keep) this.#entries.push(entry);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** A copy of the entries so far (the entries themselves are live: `unrecoverable` may still be set). */
  entries(): LedgerEntry[] {
    return this.#entries.slice();
  }

  /** JSON lines, streamed so a large ledger is not built as one string. */
  async write(path: string): Promise<void> {
    const out = createWriteStream(path);
    const failed = once(out, 'error').then(([err]) => { throw err; });
    failed.catch(() => undefined);
    let chunk = '';
    for (const e of this.#entries) {
      chunk += JSON.stringify(e) + '\n';
      if (chunk.length >= 1 << 16) {
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
        chunk = '';
      }
    }
    out.end(chunk);
    await Promise.race([once(out, 'finish'), failed]);
  }
}
