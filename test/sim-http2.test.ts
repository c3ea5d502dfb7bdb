// The simulator over TLS speaks h2 as kube-apiserver does: ALPN h2 with HTTP/1.1 beside it, a stream limit per
// connection, faults and backpressure per stream (one stream's reset or stall leaves the others of its
// connection alone), and dropConnections() cutting both protocols at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSim, type Sim, type SimOptions } from '../src/sim/index.ts';
import { lines, waitFor } from './sim-helpers.ts';

function caOf(sim: Sim): string {
  const data = /certificate-authority-data: (\S+)/.exec(sim.kubeconfig)?.[1];
  assert.ok(data !== undefined, 'the kubeconfig of a TLS sim carries its CA');
  return Buffer.from(data, 'base64').toString('utf8');
}

async function withSim(fn: (sim: Sim, session: ClientHttp2Session) => Promise<void>, opts: SimOptions = {}): Promise<void> {
  const sim = await startSim({ scenario: 'none', tls: true, ...opts });
  const session = connect(sim.url, { ca: caOf(sim) });
  session.on('error', () => undefined);
  try {
    await once(session, 'remoteSettings');
    sim.cluster.createPod({ namespace: 'a', name: 'p', containers: [{ name: 'one' }, { name: 'two' }, { name: 'three' }] });
    await fn(sim, session);
  } finally {
    session.destroy();
    await sim.close();
  }
}

interface H2Stream {
  readonly stream: ClientHttp2Stream;
  status: Promise<number>;
  text(): string;
  /** How the stream ended: 'end' (END_STREAM), or the RST_STREAM code name. */
  done: Promise<string>;
}

function get(sim: Sim, session: ClientHttp2Session, path: string): H2Stream {
  const stream = session.request({ ':path': path, authorization: `Bearer ${sim.token}` });
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    text += d;
  });
  const status = new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
  const done = new Promise<string>((resolve) => {
    stream.once('end', () => resolve('end'));
    stream.once('error', () => undefined);
    stream.once('close', () => resolve(stream.rstCode === constants.NGHTTP2_NO_ERROR ? 'end' : codeName(stream.rstCode)));
  });
  return { stream, status, text: () => text, done };
}

function codeName(code: number | undefined): string {
  return code === constants.NGHTTP2_INTERNAL_ERROR ? 'INTERNAL_ERROR' : `code ${String(code)}`;
}

const LOG = '/api/v1/namespaces/a/pods/p/log?follow=true&container=';

test('TLS offers h2 with at most 100 streams per connection; HTTP/1.1 clients and --disable-http2-serving get HTTP/1.1', async () => {
  await withSim(async (sim, session) => {
    assert.equal(session.alpnProtocol, 'h2');
    assert.equal(session.remoteSettings.maxConcurrentStreams, 100, "kube-apiserver's default");
    const version = get(sim, session, '/version');
    assert.equal(await version.status, 200);
    assert.equal(await version.done, 'end');
    assert.equal((JSON.parse(version.text()) as { minor: string }).minor, '32');
    assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [1, 1]);
    const h1 = await new Promise<{ status: number; protocol: string }>((resolve, reject) => {
      const req = httpsRequest(`${sim.url}/version`, { ca: caOf(sim), headers: { authorization: `Bearer ${sim.token}` } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, protocol: res.httpVersion });
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(h1, { status: 200, protocol: '1.1' });
  });
  await withSim(async (_sim, session) => {
    assert.equal(session.remoteSettings.maxConcurrentStreams, 2);
  }, { http2MaxStreamsPerConnection: 2 });
  const plain = await startSim({ scenario: 'none', tls: true, disableHttp2: true });
  try {
    const { port } = new URL(plain.url);
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca: caOf(plain), ALPNProtocols: ['h2', 'http/1.1'] });
    await once(socket, 'secureConnect');
    assert.equal(socket.alpnProtocol, 'http/1.1', 'a client offering both gets HTTP/1.1');
    socket.destroy();
  } finally {
    await plain.close();
  }
});

test('over h2, reset-after resets its stream only, stall-after silences its stream only, stream-max-age ends its stream cleanly', () => withSim(async (sim, session) => {
  const c = sim.cluster;
  c.faults.set({ 'reset-after': '150ms' }, { container: 'one' });
  c.faults.set({ 'stall-after': '150ms' }, { container: 'two' });
  const reset = get(sim, session, `${LOG}one`);
  const stalled = get(sim, session, `${LOG}two`);
  const healthy = get(sim, session, `${LOG}three`);
  const writer = setInterval(() => {
    for (const name of ['one', 'two', 'three']) c.write('a', 'p', name, `tick ${name}`);
  }, 20);
  try {
    assert.equal(await reset.done, 'INTERNAL_ERROR');
    assert.ok(lines(reset.text()).length > 0);
    const stalledAt = stalled.text().length;
    const healthyAt = healthy.text().length;
    await sleep(200);
    assert.equal(stalled.text().length, stalledAt, 'no bytes after the stall');
    assert.ok(healthy.text().length > healthyAt, 'the other streams of the connection go on');
    assert.equal(session.closed || session.destroyed, false, 'the connection survives one stream reset');

    c.faults.set({ 'stream-max-age': '100ms' }, { container: 'three' });
    const aged = get(sim, session, `${LOG}three`);
    assert.equal(await aged.done, 'end');
    assert.ok(lines(aged.text()).length > 0);
    assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [1, 1], 'all of it on one connection');
  } finally {
    clearInterval(writer);
    stalled.stream.close();
    healthy.stream.close();
  }
}));

test('over h2, watch-drop-after resets the watch stream and not the log stream beside it; error-rate and slow per request', () => withSim(async (sim, session) => {
  const watch = get(sim, session, '/api/v1/pods?watch=true');
  const log = get(sim, session, `${LOG}one`);
  assert.equal(await watch.done, 'INTERNAL_ERROR');
  assert.match(watch.text(), /^\{"type":"ADDED"/);
  sim.cluster.write('a', 'p', 'one', 'after the watch drop');
  await waitFor(() => log.text().includes('after the watch drop'), 2000, 'the log line');
  log.stream.close();

  sim.cluster.faults.set({ 'error-rate': '1', slow: '100ms' });
  const t0 = Date.now();
  const failing = get(sim, session, '/api/v1/pods');
  const status = await failing.status;
  assert.ok([429, 500, 503].includes(status), String(status));
  assert.ok(Date.now() - t0 >= 90, 'slow applies over h2 too');
  await failing.done;
  assert.equal((JSON.parse(failing.text()) as { kind: string }).kind, 'Status');
}, { faults: { 'watch-drop-after': '150ms' } }));

test('over h2, an unread stream stops the server writing it (flow control) while another stream of the connection flows', () => withSim(async (sim, session) => {
  const c = sim.cluster;
  const line = 'x'.repeat(1000);
  const slow = get(sim, session, `${LOG}one`);
  slow.stream.pause();
  for (let i = 0; i < 2000; i++) c.write('a', 'p', 'one', `${i} ${line}`);
  await waitFor(() => {
    const sent = sim.stats().linesSent;
    return sent > 0 && sent < 2000 ? sent : undefined;
  }, 2000, 'the server to send part of the backlog');
  await sleep(200);
  const held = sim.stats().linesSent;
  assert.ok(held < 2000, `the server sent ${held} of 2000 lines into a stream nobody reads`);

  const fast = get(sim, session, `${LOG}two`);
  for (let i = 0; i < 500; i++) c.write('a', 'p', 'two', `${i} ${line}`);
  await waitFor(() => lines(fast.text()).length === 500, 5000, 'the other stream to get every line');
  assert.equal(sim.stats().linesSent, held + 500, 'the unread stream stayed held');

  slow.stream.resume();
  await waitFor(() => lines(slow.text()).length === 2000, 5000, 'the held stream to catch up');
  assert.deepEqual(lines(slow.text()).map((l) => Number(l.split(' ')[0])), Array.from({ length: 2000 }, (_, i) => i));
  slow.stream.close();
  fast.stream.close();
}));

test('dropConnections cuts h2 and HTTP/1.1 connections at once; the server keeps listening', () => withSim(async (sim, session) => {
  const h2 = get(sim, session, `${LOG}one`);
  await h2.status;
  const h1Closed = new Promise<void>((resolve) => {
    const req = httpsRequest(`${sim.url}${LOG}two`, { ca: caOf(sim), headers: { authorization: `Bearer ${sim.token}` } }, (res) => {
      res.on('error', () => undefined);
      res.on('close', resolve);
      res.resume();
    });
    req.on('error', () => resolve());
    req.end();
  });
  await waitFor(() => sim.stats().openStreams === 2, 2000, 'both streams');
  assert.deepEqual([sim.stats().connections, sim.stats().http2Connections], [2, 1]);
  const sessionClosed = once(session, 'close');
  sim.dropConnections();
  await h1Closed;
  await sessionClosed;
  await h2.done;
  await waitFor(() => sim.stats().connections === 0 && sim.stats().openStreams === 0, 2000, 'every connection gone');
  const again = connect(sim.url, { ca: caOf(sim) });
  try {
    const version = get(sim, again, '/version');
    assert.equal(await version.status, 200);
  } finally {
    again.destroy();
  }
}));
