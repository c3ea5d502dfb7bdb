// Groups entries into batches bounded by bytes and by age, the way Loki clients batch (1 MiB / 1 s).
import { Observable, type OperatorFunction } from 'rxjs';

export interface BatchOptions<T> {
  readonly maxBytes: number;
  readonly maxWaitMs: number;
  readonly size: (item: T) => number;
}

/**
 * Emits a batch when adding an item would pass `maxBytes` (so a batch never exceeds it unless one item alone
 * does) or when its oldest item is `maxWaitMs` old; on completion the last partial batch is flushed.
 */
export function batchBy<T>(opts: BatchOptions<T>): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let bytes = 0;
      let timer: NodeJS.Timeout | undefined;
      const flush = (): void => {
        clearTimeout(timer);
        timer = undefined;
        if (batch.length === 0) return;
        const out = batch;
        batch = [];
        bytes = 0;
        subscriber.next(out);
      };
      const sub = source.subscribe({
        next(item) {
          const n = opts.size(item);
          if (batch.length > 0 && bytes + n > opts.maxBytes) flush();
          batch.push(item);
          bytes += n;
          if (bytes >= opts.maxBytes) flush();
          else timer ??= setTimeout(flush, opts.maxWaitMs);
        },
        error(err: unknown) {
          flush();
          subscriber.error(err);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        clearTimeout(timer);
        sub.unsubscribe();
      };
    });
}
