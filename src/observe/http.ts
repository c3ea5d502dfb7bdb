// The operational HTTP endpoint: /metrics for Prometheus, /healthz and /ready for probes, /debug/targets.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface Readiness {
  readonly ok: boolean;
  /** Why the process is not ready (shown on /ready with status 503). */
  readonly reasons: readonly string[];
}

export interface HttpServerOptions {
  /** `host:port`; port 0 picks a free port. IPv6 hosts in brackets: `[::1]:9080`. */
  readonly listen: string;
  readonly metrics: Metrics;
  readonly ready: () => boolean | Readiness | Promise<boolean | Readiness>;
  /** Served as JSON on /debug/targets when given. */
  readonly debugTargets?: () => unknown;
}

export interface HttpServer {
  /** `http://host:port` with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

export class ListenError extends Error {
  override name = 'ListenError';
}

/** Splits `host:port` (or `[v6]:port`); throws a one-line error naming the flag when malformed. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new ListenError(`--http-listen ${JSON.stringify(listen)} is not host:port (e.g. 0.0.0.0:9080, 127.0.0.1:0)`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { host, port } = parseListen(options.listen);
  const server = createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `error: ${errorMessage(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenError(options.listen, err));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Probes and scrapers keep idle connections open; shutdown must not wait for them.
        server.closeAllConnections();
      }),
  };
}

function listenError(listen: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'EADDRINUSE') return new ListenError(`--http-listen ${listen} is in use: choose another or '' to disable`);
  if (err.code === 'EACCES') return new ListenError(`--http-listen ${listen} is not permitted (ports below 1024 need privileges): choose another or '' to disable`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    return new ListenError(`--http-listen ${listen}: no such local address: use 0.0.0.0, 127.0.0.1 or an address of this host`);
  }
  return new ListenError(`--http-listen ${listen}: ${err.message}`);
}

async function handle(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  switch (path) {
    case '/metrics':
      return send(res, 200, options.metrics.contentType, await options.metrics.text());
    case '/healthz':
      return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    case '/ready': {
      const readiness = normaliseReadiness(await options.ready());
      if (readiness.ok) return send(res, 200, 'text/plain; charset=utf-8', 'ready\n');
      const reasons = readiness.reasons.length > 0 ? readiness.reasons : ['not ready'];
      return send(res, 503, 'text/plain; charset=utf-8', reasons.join('\n') + '\n');
    }
    case '/debug/targets':
      if (options.debugTargets) return send(res, 200, 'application/json', JSON.stringify(await options.debugTargets(), null, 2) + '\n');
      break;
    case '/':
      return send(res, 200, 'text/plain; charset=utf-8', 'k8s-tailer: /metrics /healthz /ready' + (options.debugTargets ? ' /debug/targets' : '') + '\n');
  }
  send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
}

export function normaliseReadiness(value: boolean | Readiness): Readiness {
  return typeof value === 'boolean' ? { ok: value, reasons: value ? [] : ['not ready'] } : value;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
