// The API server answers HTTP/1.1 (node:http's ServerResponse) and, over TLS, h2 (the http2 compatibility API's
// Http2ServerResponse). Their write/end/drain/close behave alike; cutting a response off does not.
import { ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { constants, Http2ServerResponse } from 'node:http2';

/** What the handlers use of either response (a union of the two classes has no callable write or writeHead). */
export interface ApiResponse {
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(): unknown;
  end(chunk: string): unknown;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
}

/** Starts a streamed 200: the headers go out now, before any body (h2's writeHead sends them at once). */
export function startStream(res: ApiResponse, contentType: string): void {
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
  if (res instanceof ServerResponse) res.flushHeaders();
}

/**
 * Cuts a response off mid-body as a failure (reset-after, watch-drop-after, a handler error after the headers).
 * Over HTTP/1.1 that is the connection itself. Over h2 only this stream is reset, with INTERNAL_ERROR as Go's
 * server sends when a handler aborts: the other streams of the connection go on (kubectl reports `stream error:
 * stream ID N; INTERNAL_ERROR; received from peer` where HTTP/1.1 gives `unexpected EOF`).
 * Http2ServerResponse.destroy() would send NO_ERROR, which a client takes for a clean end of body.
 */
export function abortResponse(res: ApiResponse): void {
  if (res instanceof Http2ServerResponse) res.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  else if (res instanceof ServerResponse) res.destroy();
}

/** The client went away or the response was cut off: nothing more can be written. */
export function responseGone(res: ApiResponse): boolean {
  if (res instanceof Http2ServerResponse) return res.stream.destroyed || res.stream.closed;
  return res instanceof ServerResponse && res.destroyed;
}
