// Batches the merged blocks of lines and hands each batch to every sink; a batch counts as delivered (credit given
// back, positions advanced) only when every sink has it.
import { Observable, concatMap, from } from 'rxjs';
import { batchBy } from './batch.ts';
import { batchLines, type Batch, type LineBlock } from './block.ts';
import type { Credit } from './credit.ts';
import type { Sink } from './entry.ts';

export interface DeliverOptions {
  readonly batchBytes: number;
  readonly batchWaitMs: number;
}

export interface DeliverDeps {
  readonly sinks: readonly Sink[];
  readonly credit: Credit;
  /** Called with each batch once every sink acknowledged it, in order. */
  readonly acknowledged?: (batch: Batch) => void;
}

/** Emits the number of lines of each acknowledged batch; completes when the source completed and all is written. */
export function deliver(blocks$: Observable<LineBlock>, opts: DeliverOptions, deps: DeliverDeps): Observable<number> {
  return blocks$.pipe(
    batchBy({ maxBytes: opts.batchBytes, maxWaitMs: opts.batchWaitMs, size: blockSize }),
    concatMap((batch) =>
      from(
        Promise.all(deps.sinks.map((s) => s.write(batch))).then(() => {
          let bytes = 0;
          for (const b of batch) bytes += b.size;
          deps.credit.give(bytes);
          deps.acknowledged?.(batch);
          return batchLines(batch);
        }),
      ),
    ),
  );
}

function blockSize(block: LineBlock): number {
  return block.size;
}
