// Writes one pod watch response: 200 and headers at once, then NDJSON events (initial ADDED for an RV-less
// watch, or the history after the given RV), live changes through the selector transitions, optional
// bookmarks, a clean end at the timeout; too old an RV gets one ERROR 410 event and the end of the body.
import type { Pod } from '../kube/types.ts';
import type { FaultValues } from './faults.ts';
import type { Cluster } from './model.ts';
import type { Random } from './random.ts';
import { abortResponse, startStream, responseGone, type ApiResponse } from './response.ts';
import type { PodPredicate } from './selectors.ts';
import { tooOldResourceVersion } from './status.ts';
import { eventLine, eventTypeFor, withKind, type PodChange } from './watch.ts';

export interface WatchStreamOptions {
  /** Undefined or 0: start with ADDED for every existing object. */
  resourceVersion: number | undefined;
  matches: PodPredicate;
  timeoutSeconds?: number;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  faults: FaultValues;
  random: Random;
}

/** A watcher that stops reading is cut off instead of buffering without bound (as the apiserver does). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** The serialized object of each change, shared by all watchers. */
const objectJson = new WeakMap<Pod, string>();

function eventFor(type: string, pod: Pod): string {
  let json = objectJson.get(pod);
  if (json === undefined) {
    json = JSON.stringify(withKind(pod));
    objectJson.set(pod, json);
  }
  return `{"type":"${type}","object":${json}}\n`;
}

export function streamWatch(res: ApiResponse, cluster: Cluster, opts: WatchStreamOptions): void {
  startStream(res, 'application/json');
  const hub = cluster.hub;
  const rv = opts.resourceVersion;
  if (rv !== undefined && rv !== 0) {
    const history = hub.since(rv);
    const forced410 = opts.faults.watch410Rate !== undefined && opts.random() < opts.faults.watch410Rate;
    if (history.expired || forced410) {
      const oldest = history.expired ? history.oldest : hub.rv;
      res.end(eventLine('ERROR', tooOldResourceVersion(rv, oldest)));
      return;
    }
    for (const c of history.changes) send(c);
  } else {
    for (const pod of cluster.pods()) if (opts.matches(pod.last)) res.write(eventFor('ADDED', pod.last));
  }

  function send(c: PodChange): void {
    if (res.writableEnded || responseGone(res)) return;
    const type = eventTypeFor(c, opts.matches);
    if (type === undefined) return;
    res.write(eventFor(type, c.object));
    if (res.writableLength > MAX_BUFFERED_BYTES) abortResponse(res);
  }

  const unsubscribe = hub.subscribe(send);
  const timers: NodeJS.Timeout[] = [];
  // Without timeoutSeconds the apiserver picks minRequestTimeout * (1 + rand): 30 to 60 minutes.
  const lifetimeMs = opts.timeoutSeconds !== undefined ? opts.timeoutSeconds * 1000 : (1800 + opts.random() * 1800) * 1000;
  timers.push(setTimeout(() => res.end(), lifetimeMs));
  if (opts.faults.watchDropAfterMs !== undefined) timers.push(setTimeout(() => abortResponse(res), opts.faults.watchDropAfterMs));
  const bookmarks = opts.bookmarks
    ? setInterval(() => {
      if (res.writableEnded || responseGone(res)) return;
      res.write(eventLine('BOOKMARK', { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(hub.rv) } }));
    }, opts.bookmarkIntervalMs)
    : undefined;
  res.on('close', () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    clearInterval(bookmarks);
  });
}
