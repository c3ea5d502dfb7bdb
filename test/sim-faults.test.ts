// Fault injection over HTTP: stream lifetime, stall, reset, watch drop, watch 410, error rate, slowness,
// per-stream scopes and run-time changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSim, type Sim } from '../src/sim/index.ts';
import { get, lines, openStream } from './sim-helpers.ts';

async function withSim(fn: (sim: Sim) => Promise<void>, faults?: Record<string, string>): Promise<void> {
  const sim = await startSim({ scenario: 'none', faults });
  try {
    sim.cluster.createPod({ namespace: 'a', name: 'p', containers: [{ name: 'app' }, { name: 'side' }] });
    await fn(sim);
  } finally {
    await sim.close();
  }
}

const LOG = '/api/v1/namespaces/a/pods/p/log?follow=true&container=';

test('stream-max-age ends a busy follow cleanly; stall-after keeps it open but silent; reset-after cuts it', () => withSim(async (sim) => {
  const c = sim.cluster;
  c.faults.set({ 'stream-max-age': '200ms' }, { container: 'app' });
  c.faults.set({ 'stall-after': '150ms' }, { container: 'side' });
  const aged = await openStream(sim, `${LOG}app`);
  const stalled = await openStream(sim, `${LOG}side`);
  const writer = setInterval(() => {
    c.write('a', 'p', 'app', 'tick');
    c.write('a', 'p', 'side', 'tick');
  }, 20);
  try {
    assert.equal(await aged.done, 'end');
    const before = stalled.text().length;
    assert.ok(before > 0);
    await sleep(150);
    assert.equal(stalled.text().length, before, 'no bytes after the stall');
    const race = await Promise.race([stalled.done, sleep(50).then(() => 'open')]);
    assert.equal(race, 'open');
    stalled.abort();
    c.faults.clear({ container: 'side' });
    c.faults.set({ 'reset-after': '100ms' }, { pod: 'p', container: 'side' });
    const reset = await openStream(sim, `${LOG}side`);
    assert.equal(await reset.done, 'error');
    assert.ok(lines(reset.text()).length > 0);
  } finally {
    clearInterval(writer);
  }
}));

test('watch-drop-after cuts watches; watch-410-rate answers resumed watches with ERROR 410', () => withSim(async (sim) => {
  const dropped = await openStream(sim, '/api/v1/pods?watch=true');
  assert.equal(await dropped.done, 'error');
  assert.match(dropped.text(), /^\{"type":"ADDED"/);
  sim.cluster.faults.set({ 'watch-410-rate': '1' });
  const resumed = await openStream(sim, `/api/v1/pods?watch=true&resourceVersion=${sim.cluster.hub.rv}`);
  assert.equal(await resumed.done, 'end');
  const ev = JSON.parse(resumed.text()) as { type: string; object: { code: number; reason: string } };
  assert.equal(ev.type, 'ERROR');
  assert.equal(ev.object.code, 410);
}, { 'watch-drop-after': '150ms' }));

test('error-rate answers 429 (with Retry-After), 500 and 503 Status bodies; slow delays answers', () => withSim(async (sim) => {
  const seen = new Map<number, string>();
  for (let i = 0; i < 40 && seen.size < 3; i++) {
    const res = await fetch(`${sim.url}/api/v1/pods`, { headers: { authorization: `Bearer ${sim.token}` } });
    const body = await res.json() as { kind: string; code: number; reason: string };
    assert.equal(body.kind, 'Status');
    assert.equal(body.code, res.status);
    if (res.status === 429) assert.equal(res.headers.get('retry-after'), '1');
    seen.set(res.status, body.reason);
  }
  assert.deepEqual([...seen.entries()].sort(), [[429, 'TooManyRequests'], [500, 'InternalError'], [503, 'ServiceUnavailable']]);
  sim.cluster.faults.clear();
  sim.cluster.faults.set({ slow: '200ms' });
  const t0 = Date.now();
  assert.equal((await get(sim, '/api/v1/pods')).status, 200);
  assert.ok(Date.now() - t0 >= 190);
}, { 'error-rate': '1' }));
