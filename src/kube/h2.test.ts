// H2Pool against the simulator over TLS (client.test.ts covers it through KubeClient: sharing, limits, backpressure,
// aborts, resets, drops, HTTP/1.1 fallback); here, a connection that dies without a word, behind a TCP relay that
// can stop forwarding, and streams held back to a small window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createSecureContext } from 'node:tls';
import { startSim } from '../sim/index.ts';
import { H2Pool, HELD_STREAM_WINDOW, STREAM_WINDOW } from './h2.ts';
import { readText } from './chunks.ts';
import type { Readable } from 'node:stream';

/** Relays TCP to `port`; freeze() silences every relayed connection so far, both ways, without closing it. */
async function relay(port: number) {
  const pairs: [Socket, Socket][] = [];
  const server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    down.pipe(up);
    up.pipe(down);
    const drop = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', drop);
    up.on('error', drop);
    pairs.push([down, up]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    connections: () => pairs.length,
    freeze(): void {
      for (const [down, up] of pairs) {
        down.unpipe(up);
        up.unpipe(down);
        down.pause();
        up.pause();
      }
    },
    close(): void {
      for (const [down, up] of pairs) {
        down.destroy();
        up.destroy();
      }
      server.close();
    },
  };
}

test('a connection that stops answering is found out by PING and replaced; the request that hit it fails', async () => {
  const sim = await startSim({ scenario: 'none', tls: true });
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(sim.kubeconfig)![1], 'base64').toString('utf8');
  const r = await relay(Number(new URL(sim.url).port));
  // The sim's certificate names 127.0.0.1 and localhost.
  const pool = new H2Pool(`https://localhost:${r.port}`, { tls: { secureContext: createSecureContext({ ca }) }, pingTimeoutMs: 300 });
  const get = async (): Promise<string> => {
    const res = await pool.request('/version', { authorization: `Bearer ${sim.token}` }, undefined, 400);
    assert.ok(res !== undefined, 'the sim offers h2');
    assert.equal(res.status, 200);
    return readText(res.body);
  };
  try {
    assert.match(await get(), /"minor"/);
    assert.equal(r.connections(), 1);
    r.freeze();
    await assert.rejects(get(), /no response headers within 400 ms/);
    // The PING sent when the headers did not come goes unanswered: the connection is destroyed, not reused.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.match(await get(), /"minor"/);
    assert.equal(r.connections(), 2, 'a new connection');
  } finally {
    pool.close();
    r.close();
    await sim.close();
  }
});

/** Resolves once `value()` has stayed the same for `quietMs`; returns it. */
async function settled(value: () => number, quietMs = 300): Promise<number> {
  let last = value();
  for (let still = 0; still < quietMs; still += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = value();
    if (now !== last) {
      last = now;
      still = -50;
    }
  }
  return last;
}

/** A pod of four containers that have logged 20 MB each: far more than any window. */
async function loggedSim() {
  const sim = await startSim({ scenario: 'none', tls: true });
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(sim.kubeconfig)![1], 'base64').toString('utf8');
  const names = ['c0', 'c1', 'c2', 'c3'];
  sim.cluster.createPod({ namespace: 'a', name: 'p', containers: names.map((name) => ({ name })) });
  const text = 'x'.repeat(1000);
  for (let i = 0; i < 20_000; i++) for (const name of names) sim.cluster.write('a', 'p', name, `${i} ${text}`);
  const tls = { secureContext: createSecureContext({ ca }) };
  const follow = async (pool: H2Pool, container: string): Promise<Readable> => {
    const res = await pool.request(`/api/v1/namespaces/a/pods/p/log?follow=true&container=${container}`, { authorization: `Bearer ${sim.token}` }, undefined, 2000);
    assert.ok(res !== undefined && res.status === 200);
    return res.body;
  };
  return { sim, tls, names, follow };
}

function drain(body: Readable): void {
  while (body.read() !== null);
}

test('holdBack holds open and new streams back to a small window, and lets them run again', async () => {
  const { sim, tls, follow } = await loggedSim();
  const pool = new H2Pool(sim.url, { tls });
  try {
    const one = await follow(pool, 'c0');
    const unread = await settled(() => one.readableLength);
    assert.ok(unread > STREAM_WINDOW / 2 && unread <= STREAM_WINDOW, `an unread stream takes in its window: ${unread} bytes`);
    pool.holdBack(true);
    drain(one);
    const held = await settled(() => one.readableLength);
    assert.ok(held < STREAM_WINDOW / 8, `held back, the open stream takes in little: ${held} bytes`);
    const two = await follow(pool, 'c1');
    const heldNew = await settled(() => two.readableLength);
    assert.ok(heldNew < STREAM_WINDOW / 8, `a stream opened while held back too: ${heldNew} bytes`);
    pool.holdBack(false);
    drain(one);
    const again = await settled(() => one.readableLength);
    assert.ok(again > STREAM_WINDOW / 2, `let go, it takes in its full window again: ${again} bytes`);
    one.destroy();
    two.destroy();
  } finally {
    pool.close();
    await sim.close();
  }
});

test('a window budget is shared out among the open streams', async () => {
  const { sim, tls, names, follow } = await loggedSim();
  const budget = 1024 * 1024;
  const pool = new H2Pool(sim.url, { tls, windowBudget: budget });
  try {
    const alone = await follow(pool, 'c0');
    const first = await settled(() => alone.readableLength);
    assert.ok(first > budget / 2, `one stream has the whole budget: ${first} bytes`);
    alone.destroy();
    await once(alone, 'close');
    const bodies = await Promise.all(names.map((name) => follow(pool, name)));
    const unread = await Promise.all(bodies.map((body) => settled(() => body.readableLength)));
    const total = unread.reduce((a, b) => a + b, 0);
    // Four streams, a quarter each (what node gives back beyond the windows comes on top).
    assert.ok(total < budget * 1.5, `four streams take in about the budget together: ${unread.join(' + ')} bytes`);
    for (const body of bodies) body.destroy();
  } finally {
    pool.close();
    await sim.close();
  }
});
