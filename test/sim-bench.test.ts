// What the benchmarks need from the simulator: the flood scenario (output follows the reader), sent-line counts,
// pending log requests with their peak, and dropping every connection at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSim } from '../src/sim/index.ts';
import { lines, openStream, waitFor } from './sim-helpers.ts';

const LOG = '/api/v1/namespaces/flood/pods/flood-0/log?container=worker&follow=true&timestamps=true';

test('flood: a container writes only as far ahead of its reader as the backlog, and as fast as it reads', async () => {
  const sim = await startSim({ scenario: 'flood', scale: { pods: 2, lineBytes: 100 }, cluster: { keepLedger: false } });
  try {
    await waitFor(() => sim.cluster.findPod('flood', 'flood-0')?.containers.get('worker')?.current, 2000, 'running container');
    await sleep(100);
    const records = () => sim.cluster.findPod('flood', 'flood-1')!.containers.get('worker')!.current!.log.current.records.length;
    const unread = records();
    assert.ok(unread >= 1000 && unread <= 2000, `unread container wrote ${unread} lines`);
    await sleep(50);
    assert.equal(records(), unread, 'nothing more is written while nobody reads');

    const stream = await openStream(sim, LOG);
    await waitFor(() => sim.stats().linesSent > 20_000, 5000, 'a fast reader to get many lines');
    stream.abort();
    await stream.done;
    const got = lines(stream.text(), true);
    assert.match(got[0], /^flood\/flood-0\/worker#0 seq=1 /);
    assert.ok(got.every((l, i) => i === got.length - 1 || l.includes(` seq=${i + 1} `)), 'contiguous sequence');
    const stats = sim.stats();
    assert.ok(stats.charsSent > stats.linesSent * 100, 'chars counted with their timestamps');
  } finally {
    await sim.close();
  }
});

test('pending log requests are counted until their stream starts; dropConnections cuts every stream at once', async () => {
  const sim = await startSim({ scenario: 'flood', scale: { pods: 3 }, faults: { slow: '300ms' } });
  try {
    await waitFor(() => sim.cluster.findPod('flood', 'flood-2')?.containers.get('worker')?.current, 2000, 'running containers');
    const opening = Promise.all([0, 1, 2].map((i) => openStream(sim, LOG.replace('flood-0', `flood-${i}`))));
    await sleep(150);
    assert.equal(sim.stats().pendingOpens, 3, 'held by the slow fault');
    const streams = await opening;
    assert.equal(sim.stats().pendingOpens, 0);
    assert.equal(sim.stats().peakPendingOpens, 3);
    assert.equal(sim.stats().openStreams, 3);

    sim.dropConnections();
    assert.deepEqual(await Promise.all(streams.map((s) => s.done)), ['error', 'error', 'error']);
    await waitFor(() => sim.stats().openStreams === 0, 2000, 'streams to end');
    assert.equal(sim.stats().peakPendingOpens, 0, 'the peak restarts at the drop');
    const again = await openStream(sim, LOG);
    assert.equal(again.status, 200, 'the server still listens');
    again.abort();
    await again.done;
  } finally {
    await sim.close();
  }
});
