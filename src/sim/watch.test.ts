import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../kube/types.ts';
import { eventTypeFor, WatchHub, type PodChange } from './watch.ts';

function pod(phase: 'Running' | 'Succeeded', rv: number): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: String(rv) },
    spec: { containers: [{ name: 'app' }] },
    status: { phase },
  };
}

function change(hub: WatchHub, type: PodChange['type'], object: Pod, previous?: Pod): PodChange {
  const c = { rv: hub.nextRv(), type, object, previous };
  hub.publish(c);
  return c;
}

test('history is bounded and older resourceVersions expire', () => {
  const hub = new WatchHub(3, 10);
  const seen: number[] = [];
  const unsubscribe = hub.subscribe((c) => seen.push(c.rv));
  for (let i = 0; i < 5; i++) change(hub, 'MODIFIED', pod('Running', 11 + i), pod('Running', 10 + i));
  unsubscribe();
  change(hub, 'MODIFIED', pod('Running', 16));
  assert.deepEqual(seen, [11, 12, 13, 14, 15]);
  assert.equal(hub.rv, 16);
  const h = hub.since(13);
  assert.equal(h.expired, false);
  assert.deepEqual(h.expired ? [] : h.changes.map((c) => c.rv), [14, 15, 16]);
  assert.deepEqual(hub.since(12), { expired: true, oldest: 13 });
  assert.equal(hub.isExpired(13), false);
  const future = hub.since(100);
  assert.equal(!future.expired && future.changes.length, 0);
});

test('selector transitions: stop matching = DELETED, start matching = ADDED', () => {
  const running = (p: Pod) => p.status.phase === 'Running';
  const hub = new WatchHub();
  assert.equal(eventTypeFor(change(hub, 'ADDED', pod('Running', 2)), running), 'ADDED');
  assert.equal(eventTypeFor(change(hub, 'MODIFIED', pod('Running', 3), pod('Running', 2)), running), 'MODIFIED');
  assert.equal(eventTypeFor(change(hub, 'MODIFIED', pod('Succeeded', 4), pod('Running', 3)), running), 'DELETED');
  assert.equal(eventTypeFor(change(hub, 'MODIFIED', pod('Succeeded', 5), pod('Succeeded', 4)), running), undefined);
  assert.equal(eventTypeFor(change(hub, 'MODIFIED', pod('Running', 6), pod('Succeeded', 5)), running), 'ADDED');
  assert.equal(eventTypeFor(change(hub, 'DELETED', pod('Succeeded', 7), pod('Succeeded', 6)), running), undefined);
  assert.equal(eventTypeFor(change(hub, 'DELETED', pod('Running', 8), pod('Running', 7)), running), 'DELETED');
});
