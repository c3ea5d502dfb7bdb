// Access to the Kubernetes API: kubeconfig resolution and authentication from @kubernetes/client-node, the
// requests themselves with node:http2 (h2.ts) or undici so that every end, cut, abort and stall of a stream is visible to us
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
import { readText } from './chunks.ts';
import { H2Pool, ignore } from './h2.ts';
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
  /** Read it with readChunk (chunks.ts), which alone tells an h2 stream cut with its connection from a finished one. */
  readonly body: Readable;
}

/** Called once per finished request, for the API-load metric. */
export type RequestObserver = (verb: string, code: string) => void;

/**
 * undici carries what h2 (src/kube/h2.ts) does not: plain http, proxies, and servers without h2 in ALPN, where every
 * stream has an HTTP/1.1 connection of its own. Its h2 is off: where h2 is offered, H2Pool speaks it.
 */
const POOL: Agent.Options = { keepAliveTimeout: 30_000 };

/** How requests reach the server: h2 where it can, undici for the rest. */
interface Transport {
  readonly h2: H2Pool | undefined;
  readonly dispatcher: Dispatcher;
}

/** A response with its body unread. */
interface RawResponse {
  readonly status: number;
  readonly retryAfter: string | string[] | undefined;
  readonly body: Readable;
}

export class KubeClient {
  readonly server: string;
  private readonly kc: KubeConfig;
  private transport: Promise<Transport> | undefined;
  private readonly observe: RequestObserver | undefined;
  private readonly windowBudget: number | undefined;
  private held = false;

  /**
   * `windowBudget`: what all h2 streams together may be sent ahead of our reading (H2PoolOptions.windowBudget); the
   * pipeline's in-flight bound, so that unread streams cannot take as much again many times over.
   */
  constructor(kc: KubeConfig, observe?: RequestObserver, { windowBudget }: { windowBudget?: number } = {}) {
    this.kc = kc;
    this.server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    this.observe = observe;
    this.windowBudget = windowBudget;
  }

  url(req: KubeRequest): string {
    return this.#target(req).toString();
  }

  #target(req: KubeRequest): URL {
    const u = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    return u;
  }

  /** Opens a GET and returns the body unread (real backpressure: an unread body stops its h2 stream, or socket). */
  async open(req: KubeRequest, verb = 'get'): Promise<KubeStream> {
    const target = this.#target(req);
    const url = target.toString();
    const ctx = new RequestContext(url, HttpMethod.GET);
    try {
      await this.kc.applySecurityAuthentication(ctx);
    } catch (err) {
      throw new KubeApiError(0, 'AuthError', `cannot authenticate to ${this.server}: ${oneLine(err)}`, url);
    }
    const transport = await this.transportFor(ctx);
    const headers = { ...ctx.getHeaders(), accept: 'application/json, */*' };
    const headersTimeoutMs = req.headersTimeoutMs ?? 30_000;
    let res: RawResponse;
    try {
      res = (await this.viaH2(transport.h2, target.pathname + target.search, headers, req.signal, headersTimeoutMs))
        ?? (await this.viaUndici(transport.dispatcher, url, headers, req.signal, headersTimeoutMs));
    } catch (err) {
      this.observe?.(verb, 'error');
      if (req.signal?.aborted) throw err;
      throw new KubeApiError(0, 'NetworkError', `cannot reach the Kubernetes API at ${this.server}: ${oneLine(err)}; check that the cluster is up and --kubeconfig/--context point to it`, url);
    }
    this.observe?.(verb, String(res.status));
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body };
    const text = await readText(res.body).catch(() => '');
    throw apiError(res.status, text, url, res.retryAfter, verb, req.path);
  }

  async getJSON<T>(req: KubeRequest, verb = 'get'): Promise<T> {
    const { status, body } = await this.open(req, verb);
    const text = await readText(body);
    if (status === 204 || text === '') throw new KubeApiError(status, 'Empty', `empty answer from ${req.path}`, this.url(req));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KubeApiError(status, 'BadResponse', `malformed JSON from ${req.path}: ${text.slice(0, 120)}`, this.url(req));
    }
  }

  /**
   * Holds back every h2 stream while the pipeline is full (H2Pool.holdBack): a busy container's stream then takes
   * little into memory instead of a full window. Over HTTP/1.1 an unread stream is held back by TCP already.
   */
  holdBackStreams(held: boolean): void {
    this.held = held;
    void this.transport?.then((t) => t.h2?.holdBack(this.held), () => undefined);
  }

  /** Ends every request still open (streams included) and the connections. */
  async close(): Promise<void> {
    const transport = await this.transport?.catch(() => undefined);
    transport?.h2?.close();
    await transport?.dispatcher.destroy().catch(() => undefined);
  }

  /** undefined when the request is not for h2 (no pool, or the server turned out to have no h2). */
  private async viaH2(h2: H2Pool | undefined, path: string, headers: Record<string, string>, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<RawResponse | undefined> {
    if (h2 === undefined || h2.h1Only) return undefined;
    const res = await h2.request(path, headers, signal, headersTimeoutMs);
    return res === undefined ? undefined : { status: res.status, retryAfter: res.headers['retry-after'], body: res.body };
  }

  private async viaUndici(dispatcher: Dispatcher, url: string, headers: Record<string, string>, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<RawResponse> {
    const res = await request(url, { method: 'GET', headers, dispatcher, signal, headersTimeout: headersTimeoutMs, bodyTimeout: 0 });
    // Failures are read from the body (readChunk looks at `errored`). undici errors a body that is destroyed before its
    // end was read: a follower that gives a stream up unread must not have that 'error' end the process.
    res.body.on('error', ignore);
    return { status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.body };
  }

  /** The one transport of every request (client-node builds a new dispatcher per call). */
  private transportFor(ctx: RequestContext): Promise<Transport> {
    this.transport ??= this.createTransport(ctx).catch((err: unknown) => {
      this.transport = undefined;
      throw new KubeApiError(0, 'AuthError', `cannot set up TLS to ${this.server}: ${oneLine(err)}`, this.server);
    });
    return this.transport;
  }

  private async createTransport(ctx: RequestContext): Promise<Transport> {
    // The same TLS material client-node would use (kubeconfig files or data, exec plugin certificates).
    const https: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(https);
    const agent: AgentOptions = { ca: https.ca, cert: https.cert, key: https.key, pfx: https.pfx, passphrase: https.passphrase };
    if (https.rejectUnauthorized !== undefined) agent.rejectUnauthorized = https.rejectUnauthorized;
    if (https.servername !== undefined) agent.servername = https.servername;
    const plan = this.kc.createDispatcherOptions(this.kc.getCurrentCluster(), agent);
    if (plan.type === 'proxy' || plan.type === 'socks') return { h2: undefined, dispatcher: ctx.getDispatcher() ?? new Agent(POOL) };
    if (!this.server.startsWith('https:')) {
      return { h2: undefined, dispatcher: new Agent(plan.type === 'agent' ? { ...POOL, connect: plan.connect } : POOL) };
    }
    // tls.connect builds a SecureContext (with a certificate store of its own) for each connection unless it is
    // given one: build it once, for both transports.
    const { ca, cert, key, pfx, passphrase, ...connect } = plan.type === 'agent' ? plan.connect : {};
    const tls = { ...connect, secureContext: createSecureContext({ ca, cert, key, pfx, passphrase }) };
    const h2 = new H2Pool(this.server, { tls, windowBudget: this.windowBudget });
    h2.holdBack(this.held);
    return { h2, dispatcher: new Agent({ ...POOL, connect: tls }) };
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
