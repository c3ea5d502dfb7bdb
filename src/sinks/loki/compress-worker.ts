// The worker side of compress.ts: snappy-compresses push bodies off the main thread.
import { parentPort } from 'node:worker_threads';
import { compress } from 'snappyjs';

interface Job {
  readonly id: number;
  readonly body: Uint8Array;
}

parentPort?.on('message', ({ id, body }: Job) => {
  try {
    const out = compress(body);
    parentPort?.postMessage({ id, body: out }, [out.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
