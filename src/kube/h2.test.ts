// H2Pool against the simulator over TLS (client.test.ts covers it through KubeClient: sharing, limits, backpressure,
// aborts, resets, drops, HTTP/1.1 fallback); here, a connection that dies without a word, behind a TCP relay that
// can stop forwarding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createSecureContext } from 'node:tls';
import { startSim } from '../sim/index.ts';
import { H2Pool } from './h2.ts';
import { readText } from './chunks.ts';

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
