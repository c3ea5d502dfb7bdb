// The HTTP(S) API server: routing, bearer-token authentication, discovery, pods list/get/watch, pods/log,
// Status error bodies and request-level faults (errors, slowness). Streams are written by watchstream.ts and
// logstream.ts. Plain HTTP is HTTP/1.1 only; HTTPS offers h2 and HTTP/1.1 by ALPN, as kube-apiserver does.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Pod, PodList, Status } from '../kube/types.ts';
import { formatSeconds, nowTimestamp, parseTimestamp, type Timestamp } from '../time/timestamp.ts';
import { streamLog } from './logstream.ts';
import { API_VERSIONS, apiGroup, apiGroupList, emptyResource, resourceList } from './discovery.ts';
import type { Cluster } from './model.ts';
import type { Random } from './random.ts';
import { abortResponse, responseGone, type ApiResponse } from './response.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError, type PodPredicate } from './selectors.ts';
import {
  badRequest, expired, internalError, invalid, methodNotAllowed, namespaceNotFound, objectNotFound, pathNotFound, podNotFound,
  serviceUnavailable, tooManyRequests, unauthorized,
} from './status.ts';
import { withKind } from './watch.ts';
import { streamWatch } from './watchstream.ts';

export interface ApiServerOptions {
  cluster: Cluster;
  token: string;
  random: Random;
  port?: number;
  /** PEM key and certificate: serve HTTPS. */
  tls?: { key: string; cert: string };
  /** Over HTTPS: serve HTTP/1.1 only (kube-apiserver's --disable-http2-serving). */
  disableHttp2?: boolean;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS of h2 connections (kube-apiserver's --http2-max-streams-per-connection): a
   * client with more streams must open more connections. Default 100, kube-apiserver's since 1.29 (its flag's 0).
   */
  http2MaxStreamsPerConnection?: number;
  /** Interval of BOOKMARK events for watches that allow them. Default 5 s. */
  bookmarkIntervalMs?: number;
}

export interface ApiStats {
  /** Requests by `verb resource`, e.g. `watch pods`, `get pods/log`. */
  requests: Record<string, number>;
  /** Log streams open now. */
  openStreams: number;
  /** Log streams opened since start. */
  opensTotal: number;
  /** Log requests received and not yet answered (all of them, until their response headers are sent). */
  pendingOpens: number;
  /** The most pending log requests at once since start or the last dropConnections(). */
  peakPendingOpens: number;
  /** Lines and characters written to log streams since start. */
  linesSent: number;
  charsSent: number;
  /** Client connections open now, and how many of them speak h2. */
  connections: number;
  http2Connections: number;
}

export interface ApiServer {
  readonly url: string;
  stats(): ApiStats;
  /** Destroys every open connection at once (an apiserver restart); the listener stays up. */
  dropConnections(): void;
  close(): Promise<void>;
}

type Request = IncomingMessage | Http2ServerRequest;

type Route =
  | { kind: 'version' | 'api' | 'apis' | 'health' }
  | { kind: 'group'; name: string }
  | { kind: 'groupVersion'; groupVersion: string }
  | { kind: 'missing'; groupVersion: string; resource: string; name: string }
  | { kind: 'pods'; namespace: string | undefined }
  | { kind: 'namespaces' }
  | { kind: 'namespace'; name: string }
  | { kind: 'pod' | 'log'; namespace: string; name: string };

const VERSION = {
  major: '1', minor: '32', gitVersion: 'v1.32.0-k8s-tailer-sim', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2024-12-11T00:00:00Z', goVersion: 'go1.23.4', compiler: 'gc', platform: 'linux/amd64',
};

const CONTINUE_TOO_OLD = 'The provided continue parameter is too old to display a consistent list result. You can start a new '
  + 'list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. '
  + 'Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between '
  + 'the time the first chunk was returned and now may show up in the list.';

function namespaceObject(name: string, created: Timestamp): object {
  return {
    metadata: { name, creationTimestamp: formatSeconds(created.sec), labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function route(path: string): Route | undefined {
  if (path === '/version' || path === '/version/') return { kind: 'version' };
  if (path === '/api' || path === '/api/') return { kind: 'api' };
  if (path === '/apis' || path === '/apis/') return { kind: 'apis' };
  if (path === '/api/v1' || path === '/api/v1/') return { kind: 'groupVersion', groupVersion: 'v1' };
  if (path === '/healthz' || path === '/readyz' || path === '/livez') return { kind: 'health' };
  if (path === '/api/v1/pods') return { kind: 'pods', namespace: undefined };
  if (path === '/api/v1/namespaces') return { kind: 'namespaces' };
  const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
  if (ns !== null) return { kind: 'namespace', name: decodeURIComponent(ns[1]) };
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+)(\/log)?)?$/.exec(path);
  if (m === null) return groupRoute(path);
  const namespace = decodeURIComponent(m[1]);
  if (m[2] === undefined) return { kind: 'pods', namespace };
  return { kind: m[3] === undefined ? 'pod' : 'log', namespace, name: decodeURIComponent(m[2]) };
}

/** API groups, their versions, and objects of the always-empty kinds (core ones included). */
function groupRoute(path: string): Route | undefined {
  const group = /^\/apis\/([^/]+)\/?$/.exec(path);
  if (group !== null) return { kind: 'group', name: group[1] };
  const version = /^\/apis\/([^/]+\/[^/]+)\/?$/.exec(path);
  if (version !== null) return { kind: 'groupVersion', groupVersion: version[1] };
  const object = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))(\/namespaces\/[^/]+)?\/([^/]+)\/([^/]+)$/.exec(path);
  if (object === null) return undefined;
  const groupVersion = object[1] ?? object[2];
  const resource = emptyResource(groupVersion, object[4], object[3] !== undefined);
  return resource === undefined ? undefined : { kind: 'missing', groupVersion, resource: resource.name, name: decodeURIComponent(object[5]) };
}

const TRUE_VALUES = ['1', 't', 'T', 'true', 'TRUE', 'True'];

/** Go's strconv.ParseBool, as the apiserver decodes boolean query parameters. */
function parseBool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (TRUE_VALUES.includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False', ''].includes(value)) return false;
  throw new RequestError(badRequest(`strconv.ParseBool: parsing "${value}": invalid syntax`));
}

function parseInteger(name: string, value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw new RequestError(badRequest(`${name}: strconv.ParseInt: parsing "${value}": invalid syntax`));
  return Number(value);
}

class RequestError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.status = status;
  }
}

function sendJson(res: ApiResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

function sendStatus(res: ApiResponse, status: Status): void {
  sendJson(res, status.code, status, status.code === 429 ? { 'Retry-After': '1' } : {});
}

function selector(q: URLSearchParams): PodPredicate {
  try {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    return (pod) => labels(pod) && fields(pod);
  } catch (err) {
    if (err instanceof SelectorError) throw new RequestError(badRequest(err.message));
    throw err;
  }
}

function parseResourceVersion(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    throw new RequestError(badRequest(`invalid resource version: strconv.ParseUint: parsing "${value}": invalid syntax`));
  }
  return Number(value);
}

interface ContinueToken { rv: number; after: string }

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString()) as ContinueToken;
    if (typeof t.rv === 'number' && typeof t.after === 'string') return t;
  } catch {
    // fall through to the error below
  }
  throw new RequestError(badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'));
}

function logSince(q: URLSearchParams): Timestamp | undefined {
  const sinceTime = q.get('sinceTime');
  const sinceSeconds = parseInteger('sinceSeconds', q.get('sinceSeconds'));
  if (sinceTime !== null && sinceTime !== '') {
    const ts = parseTimestamp(sinceTime);
    if (ts === undefined) {
      throw new RequestError(badRequest(`parsing time "${sinceTime}" as "2006-01-02T15:04:05Z07:00": cannot parse "${sinceTime}" as "2006"`));
    }
    // The apiserver forwards sinceTime to the kubelet in RFC3339: whole seconds.
    return { sec: ts.sec, nsec: 0 };
  }
  if (sinceSeconds !== undefined) {
    const now = nowTimestamp();
    return { sec: now.sec - sinceSeconds, nsec: now.nsec };
  }
  return undefined;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { cluster, token, random } = opts;
  const bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 5000;
  const requests: Record<string, number> = {};
  let openStreams = 0;
  let opensTotal = 0;
  let pendingOpens = 0;
  let peakPendingOpens = 0;
  let linesSent = 0;
  let charsSent = 0;
  const countSent = (lines: number, chars: number): void => {
    linesSent += lines;
    charsSent += chars;
  };
  const count = (key: string) => {
    requests[key] = (requests[key] ?? 0) + 1;
  };

  function verbAndResource(r: Route | undefined, q: URLSearchParams): string {
    if (r === undefined) return 'get other';
    switch (r.kind) {
      case 'pods': return TRUE_VALUES.includes(q.get('watch') ?? '') ? 'watch pods' : 'list pods';
      case 'pod': return 'get pods';
      case 'log': return 'get pods/log';
      case 'namespaces': return 'list namespaces';
      case 'namespace': return 'get namespaces';
      case 'version': return 'get version';
      case 'health': return 'get health';
      case 'missing': return `get ${r.resource}`;
      default: return 'get discovery';
    }
  }

  function listPods(res: ApiResponse, namespace: string | undefined, q: URLSearchParams): void {
    const matches = selector(q);
    if (q.has('resourceVersionMatch') && !q.get('resourceVersion')) {
      throw new RequestError(invalid('ListOptions', '', 'resourceVersionMatch',
        'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', 'meta.k8s.io'));
    }
    const limit = parseInteger('limit', q.get('limit')) ?? 0;
    const token = q.get('continue');
    let rv = cluster.hub.rv;
    let after = '';
    if (token !== null && token !== '') {
      const t = decodeContinue(token);
      if (cluster.hub.isExpired(t.rv)) throw new RequestError(expired(CONTINUE_TOO_OLD));
      rv = t.rv;
      after = t.after;
    }
    const pods = cluster.pods().filter((p) => p.key > after && (namespace === undefined || p.namespace === namespace) && matches(p.last));
    const page = limit > 0 ? pods.slice(0, limit) : pods;
    const list: PodList & { metadata: { remainingItemCount?: number } } = {
      kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(rv) }, items: page.map((p): Pod => p.last),
    };
    if (page.length < pods.length) {
      list.metadata.continue = encodeContinue({ rv, after: page[page.length - 1].key });
      list.metadata.remainingItemCount = pods.length - page.length;
    }
    sendJson(res, 200, list);
  }

  function watchPods(res: ApiResponse, namespace: string | undefined, q: URLSearchParams): void {
    const base = selector(q);
    const matches: PodPredicate = namespace === undefined ? base : (p) => p.metadata.namespace === namespace && base(p);
    if (q.has('sendInitialEvents')) {
      throw new RequestError(invalid('ListOptions', '', 'sendInitialEvents',
        'Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled', 'meta.k8s.io'));
    }
    if (q.has('resourceVersionMatch')) {
      throw new RequestError(invalid('ListOptions', '', 'resourceVersionMatch',
        'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided', 'meta.k8s.io'));
    }
    streamWatch(res, cluster, {
      resourceVersion: parseResourceVersion(q.get('resourceVersion')),
      matches,
      timeoutSeconds: parseInteger('timeoutSeconds', q.get('timeoutSeconds')),
      bookmarks: parseBool(q.get('allowWatchBookmarks')) === true,
      bookmarkIntervalMs,
      faults: cluster.faults.global,
      random,
    });
  }

  async function podLog(res: ApiResponse, namespace: string, name: string, q: URLSearchParams, opened?: () => void): Promise<void> {
    const tailLines = parseInteger('tailLines', q.get('tailLines'));
    const limitBytes = parseInteger('limitBytes', q.get('limitBytes'));
    const sinceSeconds = parseInteger('sinceSeconds', q.get('sinceSeconds'));
    const bad = (field: string, value: number, detail: string) =>
      new RequestError(invalid('PodLogOptions', name, field, `Invalid value: ${value}: ${detail}`));
    if (tailLines !== undefined && tailLines < 0) throw bad('tailLines', tailLines, 'must be greater than or equal to 0');
    if (limitBytes !== undefined && limitBytes < 1) throw bad('limitBytes', limitBytes, 'must be greater than 0');
    if (sinceSeconds !== undefined && sinceSeconds < 1) throw bad('sinceSeconds', sinceSeconds, 'must be greater than 0');
    if (sinceSeconds !== undefined && (q.get('sinceTime') ?? '') !== '') {
      throw new RequestError(invalid('PodLogOptions', name, 'sinceSeconds', 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified'));
    }
    const since = logSince(q);
    const follow = parseBool(q.get('follow')) === true;
    const previous = parseBool(q.get('previous')) === true;
    const timestamps = parseBool(q.get('timestamps')) === true;
    const target = cluster.resolveLog(namespace, name, q.get('container') ?? undefined, previous);
    if (target.kind === 'error') throw new RequestError(target.status);
    if (target.kind === 'unscheduled') {
      res.writeHead(204);
      res.end();
      return;
    }
    const faults = cluster.faults.forStream(namespace, name, target.container.name);
    openStreams++;
    opensTotal++;
    opened?.();
    try {
      await streamLog(res, target.instance.log, { follow, timestamps, since, tailLines, limitBytes }, faults, countSent);
    } finally {
      openStreams--;
    }
  }

  function injectedError(errorRate: number | undefined): Status | undefined {
    if (errorRate === undefined || errorRate <= 0 || random() >= errorRate) return undefined;
    const pick = Math.floor(random() * 3);
    return pick === 0 ? tooManyRequests() : pick === 1 ? internalError('injected fault') : serviceUnavailable();
  }

  function delay(ms: number, res: ApiResponse): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      res.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** A log request arrived: pending until its stream starts or it is answered otherwise; returns the idempotent end. */
  function beginOpen(): () => void {
    pendingOpens++;
    peakPendingOpens = Math.max(peakPendingOpens, pendingOpens);
    let ended = false;
    return () => {
      if (!ended) pendingOpens--;
      ended = true;
    };
  }

  async function handle(req: Request, res: ApiResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const q = url.searchParams;
    const r = route(url.pathname);
    count(verbAndResource(r, q));
    const opened = r?.kind === 'log' ? beginOpen() : undefined;
    try {
      await answer(req, res, url, r, opened);
    } finally {
      opened?.();
    }
  }

  async function answer(req: Request, res: ApiResponse, url: URL, r: Route | undefined, opened: (() => void) | undefined): Promise<void> {
    const q = url.searchParams;
    if (req.headers.authorization !== `Bearer ${token}`) {
      sendStatus(res, unauthorized());
      return;
    }
    if (req.method !== 'GET') {
      sendStatus(res, methodNotAllowed(req.method ?? ''));
      return;
    }
    const streamFaults = r?.kind === 'log' ? cluster.faults.forStream(r.namespace, r.name, q.get('container') ?? '') : cluster.faults.global;
    if (streamFaults.slowMs !== undefined && streamFaults.slowMs > 0) {
      await delay(streamFaults.slowMs, res);
      if (responseGone(res)) return;
    }
    const injected = injectedError(streamFaults.errorRate);
    if (injected !== undefined) {
      sendStatus(res, injected);
      return;
    }
    if (r === undefined) {
      sendStatus(res, pathNotFound());
      return;
    }
    switch (r.kind) {
      case 'version': sendJson(res, 200, VERSION); return;
      case 'api': sendJson(res, 200, API_VERSIONS); return;
      case 'apis': sendJson(res, 200, apiGroupList()); return;
      case 'group':
      case 'groupVersion': {
        const doc = r.kind === 'group' ? apiGroup(r.name) : resourceList(r.groupVersion);
        if (doc === undefined) sendStatus(res, pathNotFound());
        else sendJson(res, 200, doc);
        return;
      }
      case 'missing': {
        const group = r.groupVersion.includes('/') ? r.groupVersion.split('/')[0] : '';
        sendStatus(res, objectNotFound(r.resource, r.name, group));
        return;
      }
      case 'health':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      case 'pods':
        if (parseBool(q.get('watch')) === true) watchPods(res, r.namespace, q);
        else listPods(res, r.namespace, q);
        return;
      case 'pod': {
        const pod = cluster.getPod(r.namespace, r.name);
        if (pod === undefined) sendStatus(res, podNotFound(r.name));
        else sendJson(res, 200, withKind(pod));
        return;
      }
      case 'log':
        await podLog(res, r.namespace, r.name, q, opened);
        return;
      case 'namespaces':
        sendJson(res, 200, {
          kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: String(cluster.hub.rv) },
          items: cluster.namespaces().map(([name, created]) => namespaceObject(name, created)),
        });
        return;
      case 'namespace': {
        const found = cluster.namespaces().find(([name]) => name === r.name);
        if (found === undefined) sendStatus(res, namespaceNotFound(r.name));
        else sendJson(res, 200, { kind: 'Namespace', apiVersion: 'v1', ...namespaceObject(found[0], found[1]) });
        return;
      }
    }
  }

  const listener = (req: Request, res: ApiResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        abortResponse(res);
        return;
      }
      sendStatus(res, err instanceof RequestError ? err.status : internalError(err instanceof Error ? err.message : String(err)));
    });
  };
  const server = opts.tls === undefined
    ? createHttpServer({ keepAliveTimeout: 60_000 }, listener)
    : opts.disableHttp2 === true
      ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert, keepAliveTimeout: 60_000 }, listener)
      : createSecureServer({
        key: opts.tls.key,
        cert: opts.tls.cert,
        allowHTTP1: true,
        settings: { maxConcurrentStreams: opts.http2MaxStreamsPerConnection ?? 100 },
        // Node refuses new streams of a session past this credit (10 MB by default), which queued log data of
        // 100 streams can reach; the apiserver has no such limit.
        maxSessionMemory: 256,
      }, listener);
  // Tracked by hand: an h2 server has no closeAllConnections(), and a drop must cut both protocols at once.
  const sockets = new Set<Socket>();
  let http2Connections = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    http2Connections++;
    session.once('close', () => http2Connections--);
  });
  const destroyAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  return {
    url,
    stats: () => ({
      requests: { ...requests }, openStreams, opensTotal, pendingOpens, peakPendingOpens, linesSent, charsSent,
      connections: sockets.size, http2Connections,
    }),
    dropConnections: () => {
      destroyAll();
      peakPendingOpens = pendingOpens;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      destroyAll();
    }),
  };
}
