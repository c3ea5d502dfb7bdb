// Watch and list edge cases over HTTP: initial ADDED, selector transitions, bookmarks, timeoutSeconds,
// sendInitialEvents rejected with 422, limit/continue paging, and client-node verifying the --tls CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startSim, type Sim } from '../src/sim/index.ts';
import { get, openStream, waitFor } from './sim-helpers.ts';

async function withSim(fn: (sim: Sim) => Promise<void>, opts: Parameters<typeof startSim>[0] = {}): Promise<void> {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 20, deleteGraceMs: 20 }, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

interface Event { type: string; object: { metadata: { name?: string; resourceVersion: string }; status?: { phase?: string } } }
const events = (text: string): Event[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Event);

test('an RV-less watch starts with ADDED for every matching pod; selector transitions give DELETED and ADDED', () => withSim(async (sim) => {
  const c = sim.cluster;
  c.createPod({ namespace: 'a', name: 'job', restartPolicy: 'Never', containers: [{ name: 'app' }] });
  c.createPod({ namespace: 'b', name: 'other', containers: [{ name: 'app' }] });
  const w = await openStream(sim, '/api/v1/namespaces/a/pods?watch=1&fieldSelector=status.phase%3DRunning');
  await waitFor(() => events(w.text()).length === 1);
  c.terminate('a', 'job', 'app', 0);
  c.createPod({ namespace: 'a', name: 'late', nodeName: '', containers: [{ name: 'app' }] });
  c.schedulePod('a', 'late');
  await waitFor(() => events(w.text()).length === 3);
  w.abort();
  const got = events(w.text()).map((e) => `${e.type} ${e.object.metadata.name} ${e.object.status?.phase}`);
  assert.deepEqual(got, ['ADDED job Running', 'DELETED job Succeeded', 'ADDED late Running']);
}));

test('bookmarks when allowed; timeoutSeconds ends the watch cleanly', () => withSim(async (sim) => {
  sim.cluster.createPod({ namespace: 'a', name: 'p', containers: [{ name: 'app' }] });
  const rv = sim.cluster.hub.rv;
  const w = await openStream(sim, `/api/v1/pods?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`);
  const t0 = Date.now();
  assert.equal(await w.done, 'end');
  assert.ok(Date.now() - t0 >= 900);
  const got = events(w.text());
  assert.ok(got.length >= 2);
  assert.ok(got.every((e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion === String(rv)));
  const plain = await openStream(sim, `/api/v1/pods?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
  assert.equal(await plain.done, 'end');
  assert.equal(plain.text(), '');
}, { bookmarkIntervalMs: 200 }));

test('sendInitialEvents and resourceVersionMatch on a watch are rejected with 422', () => withSim(async (sim) => {
  const r = await get(sim, '/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
  assert.equal(r.status, 422);
  const body = JSON.parse(r.body) as { reason: string; message: string; code: number };
  assert.equal(body.reason, 'Invalid');
  assert.match(body.message, /sendInitialEvents/);
  assert.equal((await get(sim, '/api/v1/pods?watch=true&resourceVersionMatch=NotOlderThan')).status, 422);
  assert.equal((await get(sim, '/api/v1/pods?watch=true&resourceVersion=abc')).status, 400);
}));

test('limit and continue page through a list at one resourceVersion', () => withSim(async (sim) => {
  for (let i = 0; i < 5; i++) sim.cluster.createPod({ namespace: 'a', name: `p-${i}`, containers: [{ name: 'app' }] });
  type List = { metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }; items: { metadata: { name: string } }[] };
  const first = JSON.parse((await get(sim, '/api/v1/namespaces/a/pods?limit=2')).body) as List;
  assert.deepEqual(first.items.map((p) => p.metadata.name), ['p-0', 'p-1']);
  assert.equal(first.metadata.remainingItemCount, 3);
  sim.cluster.createPod({ namespace: 'a', name: 'p-9', containers: [{ name: 'app' }] });
  const names: string[] = first.items.map((p) => p.metadata.name);
  let page = first;
  while (page.metadata.continue !== undefined) {
    page = JSON.parse((await get(sim, `/api/v1/namespaces/a/pods?limit=2&continue=${page.metadata.continue}`)).body) as List;
    assert.equal(page.metadata.resourceVersion, first.metadata.resourceVersion);
    names.push(...page.items.map((p) => p.metadata.name));
  }
  assert.deepEqual(names.slice(0, 5), ['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
}));

test('client-node verifies the generated CA with --tls and talks to the cluster', () => withSim(async (sim) => {
  assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(sim.kubeconfig, /certificate-authority-data: [A-Za-z0-9+/=]+/);
  assert.doesNotMatch(sim.kubeconfig, /insecure-skip-tls-verify/);
  sim.cluster.createPod({ namespace: 'a', name: 'p', containers: [{ name: 'app' }] });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'a' });
  assert.deepEqual(list.items.map((p) => p.metadata?.name), ['p']);
  const untrusted = new KubeConfig();
  untrusted.loadFromString(sim.kubeconfig.replace(/certificate-authority-data: .*/, 'insecure-skip-tls-verify: false'));
  await assert.rejects(untrusted.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'a' }));
}, { tls: true }));
