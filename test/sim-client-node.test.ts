// The simulator against the real @kubernetes/client-node over HTTP: list, watch, 410 + re-list, logs, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { CoreV1Api, KubeConfig, Log, Watch } from '@kubernetes/client-node';
import { startSim, type Sim } from '../src/sim/index.ts';
import { formatTimestamp, nowTimestamp } from '../src/time/timestamp.ts';
import { get, lines, waitFor } from './sim-helpers.ts';

async function withSim(fn: (sim: Sim, kc: KubeConfig) => Promise<void>, opts: Parameters<typeof startSim>[0] = {}): Promise<void> {
  const sim = await startSim({ scenario: 'none', ...opts, cluster: { restartBackoffMs: 50, deleteGraceMs: 50, ...opts.cluster } });
  try {
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig);
    await fn(sim, kc);
  } finally {
    await sim.close();
  }
}

function collect(stream: PassThrough): { text: () => string; ended: Promise<void> } {
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { text: () => text, ended: new Promise((resolve) => stream.on('end', () => resolve())) };
}

test('list pods per namespace and across namespaces, with label and field selectors', () => withSim(async (sim, kc) => {
  const c = sim.cluster;
  c.createPod({ namespace: 'a', name: 'web-0', labels: { app: 'web' }, containers: [{ name: 'app' }] });
  c.createPod({ namespace: 'a', name: 'db-0', labels: { app: 'db' }, nodeName: 'node-2', containers: [{ name: 'db' }] });
  c.createPod({ namespace: 'b', name: 'web-1', labels: { app: 'web' }, nodeName: '', containers: [{ name: 'app' }] });
  const api = kc.makeApiClient(CoreV1Api);
  const all = await api.listPodForAllNamespaces();
  assert.deepEqual(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`), ['a/db-0', 'a/web-0', 'b/web-1']);
  assert.equal(all.metadata?.resourceVersion, String(sim.cluster.hub.rv));
  const inA = await api.listNamespacedPod({ namespace: 'a', labelSelector: 'app=web' });
  assert.deepEqual(inA.items.map((p) => p.metadata?.name), ['web-0']);
  assert.equal(inA.items[0].status?.phase, 'Running');
  assert.equal(inA.items[0].status?.containerStatuses?.[0].state?.running !== undefined, true);
  const onNode2 = await api.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-2' });
  assert.deepEqual(onNode2.items.map((p) => p.metadata?.name), ['db-0']);
  const pending = await api.listPodForAllNamespaces({ fieldSelector: 'status.phase=Pending' });
  assert.deepEqual(pending.items.map((p) => p.metadata?.name), ['web-1']);
  const pod = await api.readNamespacedPod({ namespace: 'a', name: 'web-0' });
  assert.equal(pod.kind, 'Pod');
  await assert.rejects(api.readNamespacedPod({ namespace: 'a', name: 'nope' }), (err: { code?: number; body?: string }) => {
    assert.equal(err.code, 404);
    assert.match(String(err.body), /"message":"pods \\"nope\\" not found"/);
    return true;
  });
}));

test('watch delivers events in order, then DELETED with the final state; recreation has a new uid', () => withSim(async (sim, kc) => {
  const c = sim.cluster;
  const first = c.createPod({ namespace: 'a', name: 'web-0', containers: [{ name: 'app' }] });
  const events: { type: string; rv: number; uid: string; phase?: string; deleting: boolean }[] = [];
  const ac = await new Watch(kc).watch('/api/v1/namespaces/a/pods', { resourceVersion: first.metadata.resourceVersion },
    (type, obj: { metadata: { resourceVersion: string; uid: string; deletionTimestamp?: string }; status: { phase?: string } }) => {
      events.push({ type, rv: Number(obj.metadata.resourceVersion), uid: obj.metadata.uid, phase: obj.status.phase, deleting: obj.metadata.deletionTimestamp !== undefined });
    }, () => undefined);
  try {
    c.terminate('a', 'web-0', 'app', 1);
    await waitFor(() => c.findPod('a', 'web-0')?.app[0].phase === 'running' && c.findPod('a', 'web-0')?.app[0].current?.restart === 1);
    const second = await c.recreatePod('a', 'web-0');
    await waitFor(() => events.some((e) => e.type === 'ADDED'), 5000, 'ADDED of the new pod');
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'MODIFIED');
    const d = types.indexOf('DELETED');
    assert.deepEqual(types.slice(d, d + 2), ['DELETED', 'ADDED']);
    assert.ok(types.slice(0, d).every((t) => t === 'MODIFIED'));
    for (let i = 1; i < events.length; i++) assert.ok(events[i].rv > events[i - 1].rv, 'resourceVersions increase');
    const deleted = events[d];
    assert.equal(deleted.uid, first.metadata.uid);
    assert.equal(deleted.deleting, true);
    assert.equal(deleted.phase, 'Succeeded');
    assert.equal(events[d + 1].uid, second.metadata.uid);
    assert.notEqual(second.metadata.uid, first.metadata.uid);
  } finally {
    ac.abort();
  }
}));

test('a watch from a compacted resourceVersion gets one ERROR 410 event and ends; a re-list works', () => withSim(async (sim, kc) => {
  const c = sim.cluster;
  const pod = c.createPod({ namespace: 'a', name: 'web-0', containers: [{ name: 'app' }] });
  for (let i = 0; i < 8; i++) {
    c.terminate('a', 'web-0', 'app', 1);
    await waitFor(() => c.findPod('a', 'web-0')?.app[0].phase === 'running');
  }
  const events: { type: string; obj: { code?: number; reason?: string; message?: string } }[] = [];
  const done = new Promise<unknown>((resolve) => {
    void new Watch(kc).watch('/api/v1/pods', { resourceVersion: pod.metadata.resourceVersion }, (type, obj) => events.push({ type, obj }), resolve);
  });
  assert.equal(await done, null, 'the server ends the stream cleanly after the ERROR');
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'ERROR');
  assert.equal(events[0].obj.code, 410);
  assert.equal(events[0].obj.reason, 'Expired');
  assert.match(String(events[0].obj.message), /^too old resource version: \d+ \(\d+\)$/);
  const list = await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces();
  const rv = list.metadata?.resourceVersion;
  const live: string[] = [];
  const ac = await new Watch(kc).watch('/api/v1/pods', { resourceVersion: rv }, (type) => live.push(type), () => undefined);
  c.write('a', 'web-0', 'app', 'x');
  c.terminate('a', 'web-0', 'app', 0);
  await waitFor(() => live.length > 0);
  ac.abort();
  assert.equal(live[0], 'MODIFIED');
}, { cluster: { historySize: 5 } }));

test('log follow with sinceTime replays the whole second, streams new lines, ends when the instance exits', () => withSim(async (sim, kc) => {
  const c = sim.cluster;
  c.createPod({ namespace: 'a', name: 'web-0', containers: [{ name: 'app' }] });
  const now = nowTimestamp();
  const sec = now.sec - 2;
  c.write('a', 'web-0', 'app', 'before', { ts: { sec: sec - 1, nsec: 999_999_999 } });
  c.write('a', 'web-0', 'app', 'first', { ts: { sec, nsec: 100_000_000 } });
  c.write('a', 'web-0', 'app', 'second', { ts: { sec, nsec: 900_000_000 } });
  c.write('a', 'web-0', 'app', 'stderr-earlier', { ts: { sec, nsec: 890_000_000 }, stream: 'stderr' });
  const out = new PassThrough();
  const got = collect(out);
  const sinceTime = formatTimestamp({ sec, nsec: 950_000_000 });
  await new Log(kc).log('a', 'web-0', 'app', out, { follow: true, timestamps: true, sinceTime });
  c.write('a', 'web-0', 'app', 'live');
  await waitFor(() => got.text().includes('live'), 5000, 'the live line');
  c.terminate('a', 'web-0', 'app', 0);
  await got.ended;
  const body = got.text();
  assert.deepEqual(lines(body, true), ['first', 'second', 'stderr-earlier', 'live']);
  assert.match(body.split('\n')[0], new RegExp(`^${formatTimestamp({ sec, nsec: 100_000_000 }).replace(/\./g, '\\.')} first$`));
  assert.match(body.split('\n')[3], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z live$/);
}));

test('previous=true serves the last terminated instance; the current one has a new log', () => withSim(async (sim, kc) => {
  const c = sim.cluster;
  c.createPod({ namespace: 'a', name: 'web-0', containers: [{ name: 'app' }] });
  c.write('a', 'web-0', 'app', 'old 1');
  c.terminate('a', 'web-0', 'app', 137, 'OOMKilled');
  // In back-off, the current log is the dead instance's.
  assert.deepEqual(lines((await get(sim, '/api/v1/namespaces/a/pods/web-0/log')).body), ['old 1']);
  await waitFor(() => c.findPod('a', 'web-0')?.app[0].phase === 'running');
  c.write('a', 'web-0', 'app', 'new 1');
  const out = new PassThrough();
  const got = collect(out);
  await new Log(kc).log('a', 'web-0', 'app', out, { previous: true });
  await got.ended;
  assert.deepEqual(lines(got.text()), ['old 1']);
  assert.deepEqual(lines((await get(sim, '/api/v1/namespaces/a/pods/web-0/log')).body), ['new 1']);
  const status = (await kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: 'a', name: 'web-0' })).status?.containerStatuses?.[0];
  assert.equal(status?.restartCount, 1);
  assert.equal(status?.lastState?.terminated?.exitCode, 137);
  assert.equal(status?.lastState?.terminated?.reason, 'OOMKilled');
}, { cluster: { restartBackoffMs: 1000 } }));

test('errors are Status JSON with the apiserver messages', () => withSim(async (sim) => {
  const c = sim.cluster;
  c.createPod({ namespace: 'a', name: 'web-0', initContainers: [{ name: 'init' }, { name: 'side', restartPolicy: 'Always' }], containers: [{ name: 'app' }, { name: 'x' }] });
  c.createPod({ namespace: 'a', name: 'solo', containers: [{ name: 'app' }] });
  c.createPod({ namespace: 'a', name: 'lonely', nodeName: '', containers: [{ name: 'app' }] });
  const status = (code: number, reason: string, message: string, details?: unknown) => JSON.stringify({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details === undefined ? {} : { details }), code,
  });
  const log = '/api/v1/namespaces/a/pods/web-0/log';
  const cases: [string, number, string][] = [
    ['/api/v1/namespaces/a/pods/nope', 404, status(404, 'NotFound', 'pods "nope" not found', { name: 'nope', kind: 'pods' })],
    ['/api/v1/namespaces/a/pods/nope/log', 404, status(404, 'NotFound', 'pods "nope" not found', { name: 'nope', kind: 'pods' })],
    [log, 400, status(400, 'BadRequest', 'a container name must be specified for pod web-0, choose one of: [init side app x]')],
    [`${log}?container=foo`, 400, status(400, 'BadRequest', 'container foo is not valid for pod web-0')],
    [`${log}?container=app`, 400, status(400, 'BadRequest', 'container "app" in pod "web-0" is waiting to start: PodInitializing')],
    [`${log}?container=init&previous=true`, 400, status(400, 'BadRequest', 'previous terminated container "init" in pod "web-0" not found')],
    ['/api/v1/namespaces/a/pods/solo/log?tailLines=-1', 422, status(422, 'Invalid', 'PodLogOptions "solo" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0',
      { name: 'solo', kind: 'PodLogOptions', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'tailLines' }] })],
    ['/api/v1/pods?fieldSelector=spec.foo%3Dx', 400, status(400, 'BadRequest', 'field label not supported: spec.foo')],
    ['/api/v1/nodes', 404, status(404, 'NotFound', 'the server could not find the requested resource', {})],
  ];
  for (const [path, code, body] of cases) {
    const r = await get(sim, path);
    assert.equal(r.status, code, path);
    assert.equal(r.type, 'application/json', path);
    assert.equal(r.body, body, path);
  }
  const unauth = await get(sim, '/api/v1/pods', { token: null });
  assert.equal(unauth.status, 401);
  assert.equal(unauth.body, status(401, 'Unauthorized', 'Unauthorized'));
  assert.equal((await get(sim, '/api/v1/pods', { token: 'wrong' })).status, 401);
  const unscheduled = await get(sim, '/api/v1/namespaces/a/pods/lonely/log');
  assert.equal(unscheduled.status, 204);
  assert.equal(unscheduled.body, '');
}));
