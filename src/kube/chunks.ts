// Reading a response body chunk by chunk. A Readable's async iterator keeps a set of end-of-stream listeners and
// closures for as long as the stream lives (~5 KiB each: 5 MB with 1,000 idle log streams); this holds a few
// listeners only while a read waits.
import type { Readable } from 'node:stream';

/** The next chunk of `body`, or null at its end; rejects when the body fails or is destroyed before its end. */
export function readChunk(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const settle = (): boolean => {
      const chunk = body.read() as Buffer | null;
      if (chunk !== null) resolve(chunk);
      else if (body.readableEnded) resolve(null);
      else if (body.errored !== null) reject(body.errored);
      else if (body.destroyed) reject(new Error('the response body was closed before its end'));
      else return false;
      return true;
    };
    if (settle()) return;
    const done = (): void => {
      body.off('readable', onEvent);
      body.off('end', onEvent);
      body.off('error', onEvent);
      body.off('close', onEvent);
    };
    const onEvent = (): void => {
      if (settle()) done();
    };
    body.on('readable', onEvent);
    body.on('end', onEvent);
    body.on('error', onEvent);
    body.on('close', onEvent);
  });
}
