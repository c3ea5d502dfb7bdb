// pods/log over HTTP: tailLines, limitBytes, sinceSeconds, rotation in both kubelet behaviours, backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSim, type Sim } from '../src/sim/index.ts';
import { nowTimestamp } from '../src/time/timestamp.ts';
import { get, lines, openStream, waitFor } from './sim-helpers.ts';

async function withSim(fn: (sim: Sim) => Promise<void>, faults?: Record<string, string>): Promise<void> {
  const sim = await startSim({ scenario: 'none', faults, cluster: { restartBackoffMs: 50 } });
  try {
    sim.cluster.createPod({ namespace: 'a', name: 'p', containers: [{ name: 'app' }] });
    await fn(sim);
  } finally {
    await sim.close();
  }
}

const LOG = '/api/v1/namespaces/a/pods/p/log?container=app';

test('tailLines, then since; limitBytes cuts mid-line including the timestamp prefix; sinceSeconds', () => withSim(async (sim) => {
  const c = sim.cluster;
  const now = nowTimestamp();
  for (let i = 1; i <= 5; i++) c.write('a', 'p', 'app', `line ${i}`, { ts: { sec: now.sec - 100 + i * 10, nsec: 0 } });
  assert.deepEqual(lines((await get(sim, `${LOG}&tailLines=2`)).body), ['line 4', 'line 5']);
  assert.deepEqual(lines((await get(sim, `${LOG}&tailLines=0`)).body), []);
  assert.deepEqual(lines((await get(sim, `${LOG}&sinceSeconds=65`)).body), ['line 4', 'line 5']);
  const cut = await get(sim, `${LOG}&timestamps=true&limitBytes=40`);
  assert.equal(Buffer.byteLength(cut.body), 40);
  assert.match(cut.body, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000000Z line 1\n\d{2}$/);
  const both = await get(sim, `${LOG}&sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z`);
  assert.equal(both.status, 422);
  assert.match(both.body, /at most one of `sinceTime` or `sinceSeconds` may be specified/);
}));

test('follow with tailLines starts N lines back, then follows', () => withSim(async (sim) => {
  const c = sim.cluster;
  for (let i = 1; i <= 3; i++) c.write('a', 'p', 'app', `l${i}`);
  const s = await openStream(sim, `${LOG}&follow=true&tailLines=1`);
  c.write('a', 'p', 'app', 'l4');
  await waitFor(() => s.text().includes('l4'));
  c.terminate('a', 'p', 'app', 0);
  assert.equal(await s.done, 'end');
  assert.deepEqual(lines(s.text()), ['l3', 'l4']);
}));

test('rotation, 1.29+: an open follow continues into the new file; nothing is unrecoverable', () => withSim(async (sim) => {
  const c = sim.cluster;
  c.write('a', 'p', 'app', 'a');
  const s = await openStream(sim, `${LOG}&follow=true`);
  await waitFor(() => s.text().includes('a'));
  c.rotate('a', 'p', 'app');
  c.write('a', 'p', 'app', 'b');
  c.rotate('a', 'p', 'app');
  c.write('a', 'p', 'app', 'c');
  await waitFor(() => s.text().includes('c'));
  assert.deepEqual(lines((await get(sim, LOG)).body), ['c'], 'rotated content is no longer served');
  c.terminate('a', 'p', 'app', 0);
  assert.equal(await s.done, 'end');
  assert.deepEqual(lines(s.text()), ['a', 'b', 'c']);
  assert.equal(sim.ledger().filter((e) => e.unrecoverable).length, 0);
}));

test('rotation, before 1.29: the follow goes silent but stays open until the instance exits', () => withSim(async (sim) => {
  const c = sim.cluster;
  const s = await openStream(sim, `${LOG}&follow=true`);
  c.write('a', 'p', 'app', 'a');
  await waitFor(() => s.text().includes('a'));
  c.rotate('a', 'p', 'app');
  c.write('a', 'p', 'app', 'b');
  c.rotate('a', 'p', 'app');
  c.write('a', 'p', 'app', 'c');
  await sleep(100);
  assert.deepEqual(lines(s.text()), ['a']);
  const lost = sim.ledger().filter((e) => e.unrecoverable).map((e) => e.line);
  assert.deepEqual(lost, ['b'], 'b was rotated away and never sent');
  c.terminate('a', 'p', 'app', 0);
  assert.equal(await s.done, 'end');
}, { rotation: 'stall' }));

test('a follow stream respects backpressure: an unread stream does not pull the whole log', () => withSim(async (sim) => {
  const c = sim.cluster;
  const big = 'x'.repeat(1000);
  for (let i = 0; i < 20_000; i++) c.write('a', 'p', 'app', `${i} ${big}`);
  const ac = new AbortController();
  const res = await fetch(sim.url + `${LOG}&follow=true`, { headers: { authorization: `Bearer ${sim.token}` }, signal: ac.signal });
  assert.equal(res.status, 200);
  await sleep(300);
  const target = c.resolveLog('a', 'p', 'app', false);
  assert.ok(target.kind === 'instance');
  const sent = target.instance.log.current.records.filter((r) => r.sent).length;
  assert.ok(sent < 10_000, `only what fits in the socket buffers was written (${sent} of 20000 lines)`);
  ac.abort();
  await res.body?.cancel().catch(() => undefined);
}));
