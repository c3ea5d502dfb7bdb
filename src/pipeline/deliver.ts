// Batches the merged lines and hands each batch to every sink; a batch counts as delivered (credit given back,
// positions advanced) only when every sink has it.
import { Observable, concatMap, from } from 'rxjs';
import { batchBy } from './batch.ts';
import type { Credit } from './credit.ts';
import { entrySize, type LogEntry, type Sink } from './entry.ts';

export interface DeliverOptions {
  readonly batchBytes: number;
  readonly batchWaitMs: number;
}

export interface DeliverDeps {
  readonly sinks: readonly Sink[];
  readonly credit: Credit;
  /** Called with each batch once every sink acknowledged it, in order. */
  readonly acknowledged?: (batch: readonly LogEntry[]) => void;
}

/** Emits the number of entries of each acknowledged batch; completes when the source completed and all is written. */
export function deliver(entries$: Observable<LogEntry>, opts: DeliverOptions, deps: DeliverDeps): Observable<number> {
  return entries$.pipe(
    batchBy({ maxBytes: opts.batchBytes, maxWaitMs: opts.batchWaitMs, size: entrySize }),
    concatMap((batch) =>
      from(
        Promise.all(deps.sinks.map((s) => s.write(batch))).then(() => {
          let bytes = 0;
          for (const e of batch) bytes += entrySize(e);
          deps.credit.give(bytes);
          deps.acknowledged?.(batch);
          return batch.length;
        }),
      ),
    ),
  );
}
