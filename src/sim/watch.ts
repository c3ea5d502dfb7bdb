// resourceVersion history and fan-out for pod watches: a global RV counter, a bounded history of changes
// (older watches get 410 Expired), and the selector transitions the watch cache applies.
import type { Pod, WatchEventType } from '../kube/types.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface PodChange {
  readonly rv: number;
  readonly type: ChangeType;
  /** The pod after the change (for DELETED: its final state). Without kind/apiVersion, as in a list. */
  readonly object: Pod;
  /** The pod before the change (absent for ADDED). */
  readonly previous: Pod | undefined;
}

export type WatchHistory = { expired: false; changes: PodChange[] } | { expired: true; oldest: number };

export class WatchHub {
  #rv: number;
  readonly #history: PodChange[] = [];
  readonly #size: number;
  /** Highest RV dropped from the history: a watch from below it may have missed changes. */
  #compacted = 0;
  readonly #subscribers = new Set<(c: PodChange) => void>();

  constructor(historySize = 1000, startRv = 1) {
    this.#size = historySize;
    this.#rv = startRv;
  }

  /** The current resourceVersion (of the latest change). */
  get rv(): number {
    return this.#rv;
  }

  /** Allocates the RV for the next change; the caller publishes it. */
  nextRv(): number {
    return ++this.#rv;
  }

  publish(change: PodChange): void {
    this.#history.push(change);
    if (this.#history.length > this.#size) {
      const dropped = this.#history.splice(0, this.#history.length - this.#size);
      this.#compacted = dropped[dropped.length - 1].rv;
    }
    for (const fn of this.#subscribers) fn(change);
  }

  /** Changes with RV > `rv`, or expired when the history no longer reaches back that far. */
  since(rv: number): WatchHistory {
    if (rv < this.#compacted) return { expired: true, oldest: this.#compacted };
    return { expired: false, changes: this.#history.filter((c) => c.rv > rv) };
  }

  /** True when a watch or continue token from `rv` can no longer be served. */
  isExpired(rv: number): boolean {
    return rv < this.#compacted;
  }

  subscribe(fn: (c: PodChange) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }
}

/**
 * The event a watch with predicate `matches` sees for `change`: an object that starts matching is ADDED, one
 * that stops matching is DELETED, one that never matched is not sent.
 */
export function eventTypeFor(change: PodChange, matches: (pod: Pod) => boolean): WatchEventType | undefined {
  const now = matches(change.object);
  if (change.type === 'ADDED') return now ? 'ADDED' : undefined;
  const before = change.previous !== undefined && matches(change.previous);
  if (change.type === 'DELETED') return now || before ? 'DELETED' : undefined;
  if (before && now) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}

export function withKind(pod: Pod): Pod {
  return { kind: 'Pod', apiVersion: 'v1', ...pod };
}

/** One line of a JSON watch body. */
export function eventLine(type: WatchEventType, object: unknown): string {
  return `{"type":"${type}","object":${JSON.stringify(object)}}\n`;
}
