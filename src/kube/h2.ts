// Requests to the API server over h2 with node:http2 itself, on a few TLS connections shared by every log stream
// and request (as client-go does). undici's h2 client wraps each of node's streams in a request, a handler and a
// body stream of its own: ~13 KiB of RSS per followed container, a fifth of the fan-out budget (bench/README.md,
// "Fourth round"). Here a response body is node's stream itself.
import { connect as h2Connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Read it with readChunk: node ends the body of a stream whose connection was lost as if it were complete. */
  readonly body: ClientHttp2Stream;
}

/**
 * Flow control: a stream's window is what the server may send ahead of our reading. 1 MiB lets a busy container's
 * stream run on while the tailer compresses and pushes a batch (undici's 256 KiB: 0.74–0.78 of the source's rate in
 * the 1 KiB throughput benchmark, 1 MiB: 0.81–0.92). It is also what a stream we stopped reading (backpressure) takes
 * into memory, beyond the bytes the pipeline bounds. So the windows are a budget shared out among the open streams
 * (H2PoolOptions.windowBudget), and held back while the pipeline is full (holdBack); the follower also closes streams
 * paused for long (FollowOptions.pausedCloseMs). The connection's window is given back as data arrives, not as it is
 * read, so it bounds no memory: it is large so that it never caps the streams of a connection together.
 */
export const STREAM_WINDOW = 1024 * 1024;
/**
 * The smallest window, and every stream's while the pipeline is full. node gives the server back more than the
 * window between two reads (~80 KB in all with 16 KiB), still a small part of 1 MiB.
 */
export const HELD_STREAM_WINDOW = 16 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** Streams per connection until the server's SETTINGS say otherwise (kube-apiserver's default). */
const DEFAULT_MAX_STREAMS = 100;
/** A connection without streams is closed after this long, like an idle keep-alive connection. */
const IDLE_CLOSE_MS = 30_000;
/** A connection that does not answer a PING within this long is dead (checked when one of its streams fails us). */
const PING_TIMEOUT_MS = 10_000;

interface Connection {
  readonly session: ClientHttp2Session;
  streams: number;
  usable: boolean;
  idle: NodeJS.Timeout | undefined;
  checking: boolean;
}

export interface H2PoolOptions {
  /** How to connect (secureContext, servername, rejectUnauthorized, keepAlive …); ALPN is set here. */
  readonly tls: ConnectionOptions;
  readonly pingTimeoutMs?: number;
  /**
   * What the open streams together may be sent ahead of our reading (default: no limit): each stream's window is
   * this shared out, a power of two from HELD_STREAM_WINDOW to STREAM_WINDOW.
   */
  readonly windowBudget?: number;
}

/**
 * The h2 connections to one server. `request` answers undefined when the server does not offer h2 in ALPN: from
 * then on `h1Only` is set and the caller uses HTTP/1.1.
 */
export class H2Pool {
  readonly #origin: URL;
  readonly #tls: ConnectionOptions;
  readonly #pingTimeoutMs: number;
  #connections: Connection[] = [];
  #connecting: Promise<Connection | undefined> | undefined;
  #closed = false;
  readonly #windowBudget: number;
  /** Each stream's share of the budget. */
  #shared = STREAM_WINDOW;
  #held = false;
  /** The window the server was last told. */
  #window = STREAM_WINDOW;
  h1Only = false;

  constructor(origin: string, options: H2PoolOptions) {
    this.#origin = new URL(origin);
    this.#tls = options.tls;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? PING_TIMEOUT_MS;
    this.#windowBudget = options.windowBudget ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Holds every stream back to HELD_STREAM_WINDOW, open ones included, or lets them have their share again: a
   * SETTINGS frame on each connection, after which the server moves each stream's window by the difference (RFC
   * 9113, 6.9.2).
   */
  holdBack(held: boolean): void {
    this.#held = held;
    this.#applyWindow();
  }

  /** A GET of `path` (with its query); resolves with the response headers, the body unread. */
  async request(path: string, headers: Readonly<Record<string, string>>, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<H2Response | undefined> {
    signal?.throwIfAborted();
    const conn = await this.#acquire();
    if (conn === undefined) return undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = conn.session.request({ ':method': 'GET', ':path': path, ...headers }, { endStream: true });
    } catch (err) {
      this.#release(conn);
      throw err;
    }
    // Failures are read from the stream (readChunk looks at `errored`): an 'error' nobody listens to must not throw.
    stream.on('error', ignore);
    // One listener each for the life of the stream: with a thousand streams open, every closure counts.
    const onAbort = signal === undefined ? undefined : (): void => {
      stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('the request was aborted'));
    };
    if (onAbort !== undefined) signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      // A stream that did not run to its end (given up on as quiet, reset, cut): see whether the connection is dead.
      if (!stream.readableEnded) this.#check(conn);
      this.#release(conn);
    });
    return await new Promise<H2Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#check(conn);
        fail(new Error(`no response headers within ${headersTimeoutMs} ms`));
      }, headersTimeoutMs);
      const onResponse = (h: IncomingHttpHeaders): void => {
        done();
        resolve({ status: Number(h[':status']), headers: h, body: stream });
      };
      const onError = (err: Error): void => fail(err);
      const onClose = (): void => fail(new Error(`the stream was closed before its response (code ${stream.rstCode ?? 'none'})`));
      const done = (): void => {
        clearTimeout(timer);
        stream.off('response', onResponse);
        stream.off('error', onError);
        stream.off('close', onClose);
      };
      function fail(err: Error): void {
        done();
        stream.destroy();
        reject(err);
      }
      stream.once('response', onResponse);
      stream.once('error', onError);
      stream.once('close', onClose);
    });
  }

  /** Ends every connection and the streams on them. */
  close(): void {
    this.#closed = true;
    for (const c of this.#connections) {
      clearTimeout(c.idle);
      c.session.destroy();
    }
    this.#connections = [];
  }

  /** A connection with a free stream, the stream counted; undefined when the server has no h2. */
  async #acquire(): Promise<Connection | undefined> {
    for (;;) {
      if (this.#closed) throw new Error('the client is closed');
      const free = this.#connections.find((c) => c.usable && c.streams < maxStreams(c.session));
      if (free !== undefined) {
        free.streams++;
        this.#shareWindows();
        clearTimeout(free.idle);
        free.idle = undefined;
        return free;
      }
      // Requests that find every connection full wait for one new connection together, not one each.
      this.#connecting ??= this.#connect().finally(() => {
        this.#connecting = undefined;
      });
      if ((await this.#connecting) === undefined) return undefined;
    }
  }

  /**
   * A connection can die without a word (a NAT or load balancer forgets it): its streams stall, and new streams on it
   * would stall too. One that does not answer a PING is destroyed, which fails its streams, and the next requests
   * get a new connection.
   */
  #check(conn: Connection): void {
    if (conn.checking || !conn.usable || conn.session.destroyed || conn.session.closed) return;
    conn.checking = true;
    const session = conn.session;
    const timer = setTimeout(() => session.destroy(new Error('the connection did not answer a PING')), this.#pingTimeoutMs);
    timer.unref();
    const sent = session.ping((err) => {
      clearTimeout(timer);
      conn.checking = false;
      if (err !== null && !session.destroyed) session.destroy(err);
    });
    if (!sent) {
      clearTimeout(timer);
      conn.checking = false;
    }
  }

  #release(conn: Connection): void {
    conn.streams--;
    this.#shareWindows();
    if (conn.streams > 0 || !conn.usable) return;
    conn.idle = setTimeout(() => this.#retire(conn, true), IDLE_CLOSE_MS);
    conn.idle.unref();
  }

  /** Shares the budget out among the open streams again. */
  #shareWindows(): void {
    let open = 0;
    for (const c of this.#connections) open += c.streams;
    const fair = this.#windowBudget / Math.max(1, open);
    let w = this.#shared;
    while (w > HELD_STREAM_WINDOW && w > fair) w /= 2;
    // Grown back only with room for twice as much: streams that come and go at a boundary do not flap it.
    while (w < STREAM_WINDOW && w * 4 <= fair) w *= 2;
    this.#shared = w;
    this.#applyWindow();
  }

  #applyWindow(): void {
    const w = this.#held ? HELD_STREAM_WINDOW : this.#shared;
    if (w === this.#window) return;
    this.#window = w;
    for (const c of this.#connections) applyStreamWindow(c.session, w);
  }

  #retire(conn: Connection, close: boolean): void {
    conn.usable = false;
    clearTimeout(conn.idle);
    this.#connections = this.#connections.filter((c) => c !== conn);
    if (close) conn.session.close();
  }

  async #connect(): Promise<Connection | undefined> {
    const host = this.#origin.hostname.replace(/^\[|\]$/g, '');
    const socket = tlsConnect({
      servername: isIP(host) === 0 ? host : undefined,
      ...this.#tls,
      host,
      port: Number(this.#origin.port || 443),
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.off('secureConnect', onConnect);
        reject(err);
      };
      const onConnect = (): void => {
        socket.off('error', onError);
        resolve();
      };
      socket.once('secureConnect', onConnect);
      socket.once('error', onError);
    });
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      this.h1Only = true;
      return undefined;
    }
    return this.#session(socket);
  }

  async #session(socket: TLSSocket): Promise<Connection> {
    const window = this.#window;
    const session = h2Connect(this.#origin, { createConnection: () => socket, settings: { initialWindowSize: window } });
    const conn: Connection = { session, streams: 0, usable: true, idle: undefined, checking: false };
    // Errors reach the streams of the connection; the connection is only taken out of the pool.
    session.on('error', () => undefined);
    session.once('goaway', () => this.#retire(conn, false));
    session.once('close', () => this.#retire(conn, false));
    await new Promise<void>((resolve, reject) => {
      const onSettings = (): void => {
        session.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        session.off('remoteSettings', onSettings);
        reject(new Error('the connection closed before the server sent its settings'));
      };
      session.once('remoteSettings', onSettings);
      session.once('close', onClose);
    });
    session.setLocalWindowSize(CONNECTION_WINDOW);
    // The window may have changed while the connection was being set up.
    if (this.#window !== window) applyStreamWindow(session, this.#window);
    if (this.#closed) {
      session.destroy();
      throw new Error('the client is closed');
    }
    this.#connections.push(conn);
    return conn;
  }
}

/** The listener of an 'error' that is read from the stream's state instead (readChunk looks at `errored`). */
export function ignore(): void {}

function applyStreamWindow(session: ClientHttp2Session, bytes: number): void {
  if (session.destroyed || session.closed) return;
  try {
    session.settings({ initialWindowSize: bytes });
  } catch {
    // Too many SETTINGS not yet acknowledged: the server is not reading ours. Its connection fails on its own; the
    // window goes with the next change, or with a new connection.
  }
}

function maxStreams(session: ClientHttp2Session): number {
  return session.remoteSettings?.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS;
}
