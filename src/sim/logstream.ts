// Writes one log response the way the kubelet streams it: selected lines of the instance's current file, then
// (follow) every new line as it is written, flushed at once, with backpressure; the stream ends cleanly after the
// instance terminates and its file is drained. Stream faults (max age, stall, reset) and both rotation
// behaviours apply here.
import type { Timestamp } from '../time/timestamp.ts';
import type { FaultValues } from './faults.ts';
import { formatRecord, passesSince, startIndex, type InstanceLog, type LogFile } from './logs.ts';
import { abortResponse, startStream, type ApiResponse } from './response.ts';
import { Waker } from './waker.ts';

export interface LogStreamOptions {
  follow: boolean;
  timestamps: boolean;
  since?: Timestamp;
  tailLines?: number;
  limitBytes?: number;
}

const CHUNK_BYTES = 64 * 1024;

/** `sent` is told of every write: the lines and characters (bytes for ASCII) it held. */
export async function streamLog(
  res: ApiResponse, log: InstanceLog, opts: LogStreamOptions, faults: FaultValues, sent?: (lines: number, chars: number) => void,
): Promise<void> {
  startStream(res, 'text/plain');
  const waker = new Waker();
  const wake = () => waker.wake();
  let closed = false;
  let expired = false;
  let stalled = false;
  const onClose = () => {
    closed = true;
    wake();
  };
  res.on('close', onClose);
  res.on('drain', wake);
  const unsubscribe = log.subscribe(wake);
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number | undefined, fn: () => void) => {
    if (ms !== undefined) timers.push(setTimeout(fn, ms));
  };
  after(faults.streamMaxAgeMs, () => { expired = true; wake(); });
  after(faults.stallAfterMs, () => { stalled = true; });
  after(faults.resetAfterMs, () => { abortResponse(res); });

  const continues = (faults.rotation ?? 'continue') === 'continue';
  let file: LogFile = log.current;
  log.hold(file, continues);
  let pos = startIndex(file, opts.tailLines);
  let budget = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  try {
    while (!closed && !expired) {
      if (stalled || res.writableNeedDrain) {
        await waker.wait();
        continue;
      }
      if (pos < file.records.length) {
        let chunk = '';
        let lines = 0;
        while (pos < file.records.length && chunk.length < CHUNK_BYTES) {
          const r = file.records[pos++];
          if (!passesSince(r, opts.since)) continue;
          r.sent = true;
          chunk += formatRecord(r, opts.timestamps);
          lines++;
        }
        sent?.(lines, chunk.length);
        if (budget !== Number.POSITIVE_INFINITY) {
          const bytes = Buffer.from(chunk);
          const out = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
          budget -= out.length;
          res.write(out);
          if (budget <= 0) break;
        } else {
          res.write(chunk);
        }
        continue;
      }
      if (!opts.follow) break;
      if (file.rotated && file.next !== undefined && continues) {
        // 1.29+: the kubelet notices the new file under the same name and reads it from the start.
        file = log.advance(file) ?? file;
        pos = 0;
        continue;
      }
      // Before 1.29 a follow on a rotated file stays silent until the instance exits.
      if (log.ended) break;
      await waker.wait();
    }
  } finally {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    res.off('drain', wake);
    res.off('close', onClose);
    log.release(file, continues);
  }
  if (!closed) res.end();
}
