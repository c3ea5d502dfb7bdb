// Access to the Kubernetes API: kubeconfig resolution and authentication from @kubernetes/client-node, the
// requests themselves with undici so that every end, cut, abort and stall of a stream is visible to us
// (client-node's Log class hides them: SPEC-kubernetes.md §4.4).
import { existsSync } from 'node:fs';
import type { AgentOptions, RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { RequestContext, HttpMethod } from '@kubernetes/client-node';
import { Agent, request, type Dispatcher } from 'undici';
import type { Status } from './types.ts';

/** A non-2xx answer (with the Status the server sent) or a transport failure, with what to do about it. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly url: string;
  readonly retryAfterMs: number | undefined;

  constructor(status: number, reason: string, message: string, url: string, retryAfterMs?: number) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.url = url;
    this.retryAfterMs = retryAfterMs;
  }

  /** Worth retrying later: throttling, server trouble, network trouble. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface KubeconfigSource {
  readonly kind: 'file' | 'in-cluster';
  readonly path?: string;
}

/** Where a kubeconfig would come from, following kubectl's order; undefined when there is none at all. */
export function findKubeconfig(explicit: string | undefined, env: NodeJS.ProcessEnv): KubeconfigSource | undefined {
  if (explicit !== undefined) return { kind: 'file', path: explicit };
  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p !== '' && existsSync(p));
  if (fromEnv.length > 0) return { kind: 'file', path: fromEnv.join(path.delimiter) };
  const home = path.join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return { kind: 'file', path: home };
  if (env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
    return { kind: 'in-cluster' };
  }
  return undefined;
}

export function loadKubeConfig(source: KubeconfigSource, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (source.kind === 'in-cluster') {
      kc.loadFromCluster();
    } else {
      const files = source.path!.split(path.delimiter);
      for (const [i, file] of files.entries()) {
        if (!existsSync(file)) throw new Error(`kubeconfig ${file} does not exist: check --kubeconfig or KUBECONFIG`);
        if (i === 0) {
          kc.loadFromFile(file);
        } else {
          const more = new KubeConfig();
          more.loadFromFile(file);
          kc.mergeConfig(more, true);
        }
      }
    }
  } catch (err) {
    const what = source.kind === 'in-cluster' ? 'the in-cluster service account' : `kubeconfig ${source.path}`;
    throw new Error(`cannot load ${what}: ${oneLine(err)}`);
  }
  if (context !== undefined) {
    if (kc.getContextObject(context) === null) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`context "${context}" is not in the kubeconfig (known: ${known}): check --context`);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new Error('the kubeconfig has no current context with a cluster: set current-context or pass --context');
  }
  return kc;
}

export interface KubeRequest {
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly signal?: AbortSignal;
  /** Bound on the time to response headers (streams have their own stall timer for the body). */
  readonly headersTimeoutMs?: number;
}

export interface KubeStream {
  readonly status: number;
  readonly body: Readable;
}

/** Called once per finished request, for the API-load metric. */
export type RequestObserver = (verb: string, code: string) => void;

/**
 * Pool settings. h2 carries every log stream and watch over a few TLS connections (as client-go does) instead of
 * one HTTP/1.1 connection each, which cost ~80 KiB of TLS and socket state per followed container; the pool opens
 * another connection when the server's SETTINGS_MAX_CONCURRENT_STREAMS (kube-apiserver: 100) are in use. Plain
 * http and servers without h2 in ALPN get HTTP/1.1 as before.
 *
 * Flow control: a stream's window is what the server may send ahead of our reading. 1 MiB lets a busy container's
 * stream run on while the tailer compresses and pushes a batch (undici's 256 KiB: 0.74–0.78 of the source's rate
 * in the 1 KiB throughput benchmark, 1 MiB: 0.81–0.92). It is also what a stream we stopped reading (backpressure)
 * can buffer here, which is why the follower closes streams paused for long (FollowOptions.pausedCloseMs). Node
 * gives back the connection's window as data arrives, not as it is read, so that window bounds no memory; at
 * undici's 512 KiB it only capped the bytes in flight of all the streams of a connection together.
 */
const POOL: Agent.Options = {
  allowH2: true,
  keepAliveTimeout: 30_000,
  h2Options: { connectionWindowSize: 16 * 1024 * 1024, settings: { initialWindowSize: 1024 * 1024 } },
};

export class KubeClient {
  readonly server: string;
  private readonly kc: KubeConfig;
  private dispatcher: Promise<Dispatcher> | undefined;
  private readonly observe: RequestObserver | undefined;

  constructor(kc: KubeConfig, observe?: RequestObserver) {
    this.kc = kc;
    this.server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    this.observe = observe;
  }

  url(req: KubeRequest): string {
    const u = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  /** Opens a GET and returns the body unread (real backpressure: an unread body stops its h2 stream, or socket). */
  async open(req: KubeRequest, verb = 'get'): Promise<KubeStream> {
    const url = this.url(req);
    const ctx = new RequestContext(url, HttpMethod.GET);
    try {
      await this.kc.applySecurityAuthentication(ctx);
    } catch (err) {
      throw new KubeApiError(0, 'AuthError', `cannot authenticate to ${this.server}: ${oneLine(err)}`, url);
    }
    const dispatcher = await this.pool(ctx);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: { ...ctx.getHeaders(), accept: 'application/json, */*' },
        dispatcher,
        signal: req.signal,
        headersTimeout: req.headersTimeoutMs ?? 30_000,
        bodyTimeout: 0,
      });
    } catch (err) {
      this.observe?.(verb, 'error');
      if (req.signal?.aborted) throw err;
      throw new KubeApiError(0, 'NetworkError', `cannot reach the Kubernetes API at ${this.server}: ${oneLine(err)}; check that the cluster is up and --kubeconfig/--context point to it`, url);
    }
    this.observe?.(verb, String(res.statusCode));
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, body: res.body };
    const text = await res.body.text().catch(() => '');
    throw apiError(res.statusCode, text, url, res.headers['retry-after'], verb, req.path);
  }

  async getJSON<T>(req: KubeRequest, verb = 'get'): Promise<T> {
    const { status, body } = await this.open(req, verb);
    const text = await (body as unknown as { text(): Promise<string> }).text();
    if (status === 204 || text === '') throw new KubeApiError(status, 'Empty', `empty answer from ${req.path}`, this.url(req));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KubeApiError(status, 'BadResponse', `malformed JSON from ${req.path}: ${text.slice(0, 120)}`, this.url(req));
    }
  }

  /** Ends every request still open (streams included) and the connection pool. */
  async close(): Promise<void> {
    const pool = await this.dispatcher?.catch(() => undefined);
    await pool?.destroy().catch(() => undefined);
  }

  /** The one connection pool of every request (client-node builds a new dispatcher per call). */
  private pool(ctx: RequestContext): Promise<Dispatcher> {
    this.dispatcher ??= this.createPool(ctx).catch((err: unknown) => {
      this.dispatcher = undefined;
      throw new KubeApiError(0, 'AuthError', `cannot set up TLS to ${this.server}: ${oneLine(err)}`, this.server);
    });
    return this.dispatcher;
  }

  private async createPool(ctx: RequestContext): Promise<Dispatcher> {
    // The same TLS material client-node would use (kubeconfig files or data, exec plugin certificates).
    const https: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(https);
    const agent: AgentOptions = { ca: https.ca, cert: https.cert, key: https.key, pfx: https.pfx, passphrase: https.passphrase };
    if (https.rejectUnauthorized !== undefined) agent.rejectUnauthorized = https.rejectUnauthorized;
    if (https.servername !== undefined) agent.servername = https.servername;
    const plan = this.kc.createDispatcherOptions(this.kc.getCurrentCluster(), agent);
    if (plan.type === 'proxy' || plan.type === 'socks') return ctx.getDispatcher() ?? new Agent(POOL);
    if (!this.server.startsWith('https:')) return new Agent(plan.type === 'agent' ? { ...POOL, connect: plan.connect } : POOL);
    // tls.connect builds a SecureContext (with a certificate store of its own) for each connection unless it is
    // given one: build it once.
    const { ca, cert, key, pfx, passphrase, ...connect } = plan.type === 'agent' ? plan.connect : {};
    return new Agent({ ...POOL, connect: { ...connect, secureContext: createSecureContext({ ca, cert, key, pfx, passphrase }) } });
  }
}

function apiError(status: number, text: string, url: string, retryAfter: string | string[] | undefined, verb: string, reqPath: string): KubeApiError {
  let st: Partial<Status> = {};
  try {
    st = JSON.parse(text) as Status;
  } catch {
    st = { message: text.trim().slice(0, 200) };
  }
  const reason = st.reason ?? `HTTP${status}`;
  const serverMsg = st.message ?? '';
  const retry = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  const retryMs = retry !== undefined && /^\d+$/.test(retry) ? Number(retry) * 1000 : undefined;
  let message: string;
  if (status === 401) {
    message = `the API server rejected our credentials (401 Unauthorized) for ${reqPath}: refresh the kubeconfig's token or client certificate`;
  } else if (status === 403) {
    const { resource, namespace } = describePath(reqPath);
    message = `forbidden (403): the user needs RBAC verb "${verb}" on "${resource}"${namespace ? ` in namespace "${namespace}"` : ' cluster-wide'} (see deploy/kubernetes/rbac.yaml): ${serverMsg}`;
  } else {
    message = `${reqPath}: ${status} ${reason}${serverMsg ? `: ${serverMsg}` : ''}`;
  }
  return new KubeApiError(status, reason, message, url, retryMs);
}

function describePath(p: string): { resource: string; namespace: string | undefined } {
  const ns = /\/namespaces\/([^/]+)/.exec(p)?.[1];
  const resource = p.endsWith('/log') ? 'pods/log' : 'pods';
  return { resource, namespace: ns };
}

export function oneLine(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  const base = typeof e?.message === 'string' ? e.message : String(err);
  const cause = e?.cause?.code ?? e?.cause?.message;
  const text = cause !== undefined && !base.includes(String(cause)) ? `${base} (${String(cause)})` : base;
  return text.replace(/\s+/g, ' ').trim();
}
