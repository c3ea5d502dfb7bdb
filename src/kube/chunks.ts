// Reading a response body chunk by chunk. A Readable's async iterator keeps a set of end-of-stream listeners and
// closures for as long as the stream lives (~5 KiB each: 5 MB with 1,000 idle log streams); this holds a few
// listeners only while a read waits.
import type { Readable } from 'node:stream';

/**
 * The next chunk of `body`, or null at its end; rejects when the body fails, is destroyed before its end, or (h2) was
 * cut with its connection.
 */
export function readChunk(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const settle = (): boolean => {
      const chunk = body.read() as Buffer | null;
      if (chunk !== null) resolve(chunk);
      else if (body.errored !== null) reject(body.errored);
      else if (body.readableEnded) {
        if (cutShort(body)) reject(new Error(`the stream was cut (HTTP/2 code ${(body as H2Body).rstCode}): the connection was lost`));
        else resolve(null);
      }
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

interface H2Body {
  readonly rstCode?: number;
}

/**
 * node ends the body of an h2 stream whose connection was lost just as it ends one the server finished: only the
 * stream's close code tells them apart, and a cut must not look like the end of a log (the follower would take the
 * container for finished).
 */
function cutShort(body: Readable): boolean {
  const code = (body as H2Body).rstCode;
  return code !== undefined && code !== 0;
}

/** The whole of `body` as UTF-8 text. */
export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for (let chunk = await readChunk(body); chunk !== null; chunk = await readChunk(body)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
