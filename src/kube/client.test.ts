import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { startSim, type Sim, type SimOptions } from '../sim/index.ts';
import { KubeApiError, KubeClient, findKubeconfig, loadKubeConfig } from './client.ts';
import { readChunk } from './chunks.ts';

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const config = (server: string): string => [
  'apiVersion: v1',
  'kind: Config',
  `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
  'users: [{name: u, user: {token: t}}]',
  'contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u, namespace: x}}]',
  'current-context: one',
].join('\n');

test('kubeconfig resolution follows kubectl: flag, KUBECONFIG, ~/.kube/config, in-cluster, else none', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-kc-'));
  const file = path.join(dir, 'kc');
  await writeFile(file, config('http://127.0.0.1:1'));
  assert.deepEqual(findKubeconfig('/explicit', {}), { kind: 'file', path: '/explicit' });
  assert.deepEqual(findKubeconfig(undefined, { KUBECONFIG: `/missing:${file}`, HOME: dir }), { kind: 'file', path: file });
  assert.equal(findKubeconfig(undefined, { KUBECONFIG: '/missing', HOME: dir }), undefined);
  const kc = loadKubeConfig({ kind: 'file', path: file }, 'two');
  assert.equal(kc.getCurrentContext(), 'two');
  assert.throws(() => loadKubeConfig({ kind: 'file', path: file }, 'three'), /context "three" is not in the kubeconfig \(known: one, two\)/);
});

test('error answers become one-line errors with the Status message; 429 carries Retry-After', async () => {
  let answer = { code: 404, body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"x\\" not found","reason":"NotFound","code":404}', headers: {} as Record<string, string> };
  const server = createServer((_req, res) => {
    res.writeHead(answer.code, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-kc-'));
  const file = path.join(dir, 'kc');
  await writeFile(file, config(`http://127.0.0.1:${(server.address() as { port: number }).port}`));
  const client = new KubeClient(loadKubeConfig({ kind: 'file', path: file }, undefined));
  try {
    const notFound = await client.getJSON({ path: '/api/v1/namespaces/a/pods/x' }).catch((e: unknown) => e);
    assert.ok(notFound instanceof KubeApiError);
    assert.equal(notFound.status, 404);
    assert.match(notFound.message, /404 NotFound: pods "x" not found/);
    assert.equal(notFound.transient, false);
    answer = { code: 429, body: 'slow down', headers: { 'retry-after': '3' } };
    const busy = await client.getJSON({ path: '/api/v1/pods' }).catch((e: unknown) => e);
    assert.ok(busy instanceof KubeApiError);
    assert.equal(busy.retryAfterMs, 3000);
    assert.equal(busy.transient, true);
    answer = { code: 200, body: '{not json', headers: {} };
    await assert.rejects(client.getJSON({ path: '/api/v1/pods' }), /malformed JSON from \/api\/v1\/pods/);
  } finally {
    await client.close();
    server.close();
  }
});

/**
 * A follow=true stream of one container read as the follower reads it (readChunk), its text collected; `paused`
 * leaves it unread until readAll().
 */
async function follow(client: KubeClient, pod: string, opts: { paused?: boolean; signal?: AbortSignal } = {}) {
  const { body } = await client.open({ path: `/api/v1/namespaces/a/pods/${pod}/log`, query: { follow: true }, signal: opts.signal }, 'log');
  let text = '';
  let release: () => void = () => undefined;
  const go = new Promise<void>((resolve) => {
    release = resolve;
  });
  if (opts.paused !== true) release();
  const ended = go.then(async (): Promise<'end' | 'error'> => {
    try {
      for (let chunk = await readChunk(body); chunk !== null; chunk = await readChunk(body)) text += chunk.toString('utf8');
      return 'end';
    } catch {
      return 'error';
    }
  });
  return { ended, text: () => text, readAll: release };
}

/** A simulated API server over TLS (h2 and HTTP/1.1; `{ tls: false }`: plain http) with `pods` pods, and a client. */
async function withSim(fn: (sim: Sim, client: KubeClient) => Promise<void>, opts: SimOptions = {}, pods = 3): Promise<void> {
  const sim = await startSim({ scenario: 'none', tls: true, ...opts });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  const client = new KubeClient(kc);
  try {
    for (let i = 0; i < pods; i++) sim.cluster.createPod({ namespace: 'a', name: `p${i}`, containers: [{ name: 'app' }] });
    await fn(sim, client);
  } finally {
    await client.close();
    await sim.close();
  }
}

const linesOf = (text: string): string[] => text.split('\n').filter((l) => l !== '');

test('over TLS every stream and request shares one h2 connection', () => withSim(async (sim, client) => {
  const streams = await Promise.all([0, 1, 2].map((i) => follow(client, `p${i}`)));
  await client.getJSON({ path: '/api/v1/pods' });
  for (let i = 0; i < 3; i++) sim.cluster.write('a', `p${i}`, 'app', `hello ${i}`);
  await waitFor(() => streams.every((s, i) => s.text() === `hello ${i}\n`), 2000, 'a line on every stream');
  assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [1, 1]);
}));

test('past the server\'s streams per connection the client opens another connection', () => withSim(async (sim, client) => {
  const streams = await Promise.all([0, 1, 2, 3, 4].map((i) => follow(client, `p${i}`)));
  assert.equal(sim.stats().openStreams, 5);
  assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [3, 3], '5 streams, 2 per connection');
  for (let i = 0; i < 5; i++) sim.cluster.write('a', `p${i}`, 'app', `hello ${i}`);
  await waitFor(() => streams.every((s, i) => s.text() === `hello ${i}\n`), 2000, 'a line on every stream');
}, { http2MaxStreamsPerConnection: 2 }, 5));

test('unread h2 streams hold their server back without stalling the other streams of the connection; nothing is lost', () => withSim(async (sim, client) => {
  const line = 'x'.repeat(1000);
  // Three unread streams with a backlog of ~5 MB each, far past their 1 MiB flow-control windows.
  const held = await Promise.all([0, 1, 2].map((i) => follow(client, `p${i}`, { paused: true })));
  const live = await follow(client, 'p3');
  for (let i = 0; i < 5000; i++) for (const pod of ['p0', 'p1', 'p2']) sim.cluster.write('a', pod, 'app', `${i} ${line}`);
  await waitFor(() => sim.stats().linesSent > 0, 2000, 'part of the backlogs sent');
  await sleep(300);
  const sent = sim.stats().linesSent;
  assert.ok(sent < 3 * 2000, `only about a flow-control window's worth is sent into each unread stream (${sent} of 15000 lines)`);
  for (let i = 0; i < 1000; i++) sim.cluster.write('a', 'p3', 'app', `${i} ${line}`);
  await waitFor(() => linesOf(live.text()).length === 1000, 5000, 'every line of the stream that is read');
  assert.equal(sim.stats().linesSent, sent + 1000, 'the unread streams stayed held meanwhile');
  assert.equal(sim.stats().connections, 1);
  for (const h of held) h.readAll();
  await waitFor(() => held.every((h) => linesOf(h.text()).length === 5000), 10000, 'the held streams to catch up');
  for (const h of held) assert.deepEqual(linesOf(h.text()).map((l) => Number(l.split(' ')[0])), Array.from({ length: 5000 }, (_, i) => i));
}, {}, 4));

test('aborting one h2 stream leaves the connection and the other streams; a reset stream is an error for that stream only', () => withSim(async (sim, client) => {
  const ac = new AbortController();
  const aborted = await follow(client, 'p0', { signal: ac.signal });
  sim.cluster.faults.set({ 'reset-after': '100ms' }, { pod: 'p1' });
  const reset = await follow(client, 'p1');
  const kept = await follow(client, 'p2');
  ac.abort();
  assert.equal(await aborted.ended, 'error');
  assert.equal(await reset.ended, 'error');
  await waitFor(() => sim.stats().openStreams === 1, 2000, 'the server to see both streams end');
  sim.cluster.write('a', 'p2', 'app', 'still here');
  await waitFor(() => kept.text() === 'still here\n', 2000, 'the line on the remaining stream');
  assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [1, 1]);
  sim.dropConnections();
  assert.equal(await kept.ended, 'error', 'a dropped connection is an error, not an end of body');
}));

test('an h2 stream the server finishes is an end of body, a stream cut with its connection is not', () => withSim(async (sim, client) => {
  sim.cluster.faults.set({ 'stream-max-age': '100ms' }, { pod: 'p0' });
  const finished = await follow(client, 'p0');
  const cut = await follow(client, 'p1');
  sim.cluster.write('a', 'p1', 'app', 'before the drop');
  assert.equal(await finished.ended, 'end');
  await waitFor(() => cut.text() === 'before the drop\n', 2000, 'the line before the drop');
  sim.dropConnections();
  assert.equal(await cut.ended, 'error');
}, {}, 2));

test('HTTP/1.1 where the server has no h2 (one connection per stream), and over plain http', async () => {
  await withSim(async (sim, client) => {
    const streams = await Promise.all([0, 1, 2].map((i) => follow(client, `p${i}`)));
    for (let i = 0; i < 3; i++) sim.cluster.write('a', `p${i}`, 'app', `hello ${i}`);
    await waitFor(() => streams.every((s, i) => s.text() === `hello ${i}\n`), 2000, 'a line on every stream');
    assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [3, 0]);
  }, { disableHttp2: true });
  await withSim(async (sim, client) => {
    const s = await follow(client, 'p0');
    sim.cluster.write('a', 'p0', 'app', 'plain');
    await waitFor(() => s.text() === 'plain\n', 2000, 'the line');
    assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [1, 0]);
  }, { tls: false }, 1);
});

test('a body given up on unread, or between reads, is closed without an error event nobody listens to', async () => {
  // undici errors a body destroyed before its end was read (once the server finished it); unhandled, that 'error'
  // would end the whole process.
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  await withSim(async (sim, client) => {
    await sleep(50);
    sim.cluster.write('a', 'p0', 'app', 'one');
    const path = '/api/v1/namespaces/a/pods/p0/log';
    const unread = await client.open({ path });
    await sleep(100);
    unread.body.destroy();
    const read = await client.open({ path, query: { follow: true } });
    assert.equal((await readChunk(read.body))?.toString(), 'one\n');
    read.body.destroy();
    await sleep(100);
  }, { tls: false }, 1).finally(() => process.off('uncaughtException', onUncaught));
  assert.deepEqual(uncaught, []);
});
