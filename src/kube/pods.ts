// Pod discovery: one list + watch per namespace (never polling), resuming from the last resourceVersion,
// re-listing on 410, reconnecting with back-off on errors and when a watch goes quiet for too long.
import { createInterface } from 'node:readline';
import { Observable } from 'rxjs';
import { KubeApiError, oneLine, type KubeClient } from './client.ts';
import type { Pod, PodList, Status, WatchEvent } from './types.ts';
import { backoffDelay, sleep } from '../time/backoff.ts';

export type PodEvent =
  /** The complete set of pods of one namespace scope after a (re-)list: pods not in it are gone. */
  | { readonly type: 'sync'; readonly scope: string; readonly pods: readonly Pod[] }
  | { readonly type: 'upsert'; readonly pod: Pod }
  | { readonly type: 'delete'; readonly pod: Pod };

export interface PodWatchOptions {
  /** Namespaces to watch; empty = all namespaces. */
  readonly namespaces: readonly string[];
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Server-side watch lifetime is picked in [min, 2×min) seconds, as client-go reflectors do. */
  readonly watchTimeoutSec?: number;
  readonly maxBackoffMs?: number;
  readonly onWatchRestart?: (reason: 'expired' | 'error' | 'timeout' | 'stall', err?: unknown) => void;
  readonly onError?: (message: string) => void;
  /** Called after each successful list (for /ready). */
  readonly onListed?: (scope: string, pods: number) => void;
}

/** Emits pod events of every watched namespace, merged. Never errors: API failures are retried with back-off. */
export function watchPods(client: KubeClient, opts: PodWatchOptions): Observable<PodEvent> {
  const scopes = opts.namespaces.length === 0 ? [undefined] : opts.namespaces;
  return new Observable<PodEvent>((subscriber) => {
    const abort = new AbortController();
    for (const ns of scopes) {
      void runScope(client, ns, opts, abort.signal, (ev) => subscriber.next(ev));
    }
    return () => abort.abort();
  });
}

async function runScope(client: KubeClient, ns: string | undefined, opts: PodWatchOptions, signal: AbortSignal, emit: (ev: PodEvent) => void): Promise<void> {
  const scope = ns ?? '*';
  const path = ns === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
  const selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  const minTimeout = opts.watchTimeoutSec ?? 300;
  let rv: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    try {
      rv ??= await listScope(client, path, selectors, scope, opts, signal, emit);
      const timeoutSeconds = Math.floor(minTimeout * (1 + Math.random()));
      const outcome = await watchOnce(client, path, { ...selectors, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds }, (timeoutSeconds + 30) * 1000, signal, (ev) => {
        const obj = ev.object as Pod;
        if (typeof obj?.metadata?.resourceVersion === 'string') rv = obj.metadata.resourceVersion;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') emit({ type: 'upsert', pod: obj });
        else if (ev.type === 'DELETED') emit({ type: 'delete', pod: obj });
        failures = 0;
      });
      if (outcome === 'expired') {
        rv = undefined;
        opts.onWatchRestart?.('expired');
      } else {
        opts.onWatchRestart?.(outcome);
        if (outcome === 'stall') await sleep(backoffDelay(++failures, 500, opts.maxBackoffMs ?? 30_000), signal);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof KubeApiError && err.status === 410) rv = undefined;
      opts.onWatchRestart?.('error', err);
      opts.onError?.(`pod watch ${scope}: ${oneLine(err)}`);
      const delay = err instanceof KubeApiError && err.retryAfterMs !== undefined ? err.retryAfterMs : backoffDelay(++failures, 500, opts.maxBackoffMs ?? 30_000);
      await sleep(delay, signal);
    }
  }
}

/**
 * Lists the scope's pods, emits them as a sync, and returns the list's resourceVersion. A function of its own so
 * that the list (every pod object of the scope: MiBs in a large cluster) is not kept alive while the watch runs.
 */
async function listScope(
  client: KubeClient, path: string, selectors: Record<string, string | undefined>, scope: string, opts: PodWatchOptions,
  signal: AbortSignal, emit: (ev: PodEvent) => void,
): Promise<string> {
  const list = await client.getJSON<PodList>({ path, query: selectors, signal }, 'list');
  if (!Array.isArray(list?.items) || typeof list.metadata?.resourceVersion !== 'string') {
    throw new KubeApiError(200, 'BadResponse', `malformed PodList from ${path}`, client.url({ path }));
  }
  for (const pod of list.items) {
    pod.kind ??= 'Pod';
  }
  emit({ type: 'sync', scope, pods: list.items.filter(isPod) });
  opts.onListed?.(scope, list.items.length);
  return list.metadata.resourceVersion;
}

/** Runs one watch request to its end. 'timeout' = clean end; 'expired' = 410; 'stall' = no bytes for too long. */
async function watchOnce(client: KubeClient, path: string, query: Record<string, string | number | boolean | undefined>, stallMs: number, outer: AbortSignal, onEvent: (ev: WatchEvent) => void): Promise<'timeout' | 'expired' | 'stall'> {
  const abort = new AbortController();
  const onOuter = (): void => abort.abort();
  outer.addEventListener('abort', onOuter);
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      abort.abort();
    }, stallMs);
  };
  try {
    arm();
    const { body } = await client.open({ path, query: { ...query, watch: true }, signal: abort.signal }, 'watch');
    body.on('data', arm);
    const lines = createInterface({ input: body, crlfDelay: Infinity });
    for await (const text of lines) {
      if (text.trim() === '') continue;
      let ev: WatchEvent;
      try {
        ev = JSON.parse(text) as WatchEvent;
      } catch {
        throw new KubeApiError(200, 'BadResponse', `malformed watch event from ${path}: ${text.slice(0, 120)}`, client.url({ path }));
      }
      if (ev.type === 'ERROR') {
        const st = ev.object as Status;
        if (st?.code === 410) return 'expired';
        throw new KubeApiError(st?.code ?? 500, st?.reason ?? 'WatchError', `watch ${path}: ${st?.message ?? 'error event'}`, client.url({ path }));
      }
      if (ev.type === 'BOOKMARK' || isPod(ev.object)) onEvent(ev);
    }
    return 'timeout';
  } catch (err) {
    if (stalled) return 'stall';
    throw err;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuter);
    abort.abort();
  }
}

function isPod(obj: unknown): obj is Pod {
  const p = obj as Pod;
  return typeof p?.metadata?.uid === 'string' && typeof p.metadata.name === 'string' && typeof p.spec === 'object' && p.spec !== null;
}
