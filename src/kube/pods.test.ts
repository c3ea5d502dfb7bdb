import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { startSim } from '../sim/index.ts';
import { KubeClient } from './client.ts';
import { watchPods, type PodEvent } from './pods.ts';

const until = async (what: string, ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ok(), what);
};

test('lists, then watches: new and deleted pods, per namespace; a 410 leads to a re-list, not to lost events', async () => {
  const sim = await startSim({ scenario: 'none', faults: { 'watch-410-rate': '0.5', 'watch-drop-after': '300ms' }, cluster: { deleteGraceMs: 50 } });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  const client = new KubeClient(kc);
  const events: PodEvent[] = [];
  const restarts: string[] = [];
  sim.cluster.createPod({ namespace: 'a', name: 'early', containers: [{ name: 'c' }] });
  sim.cluster.createPod({ namespace: 'b', name: 'other-ns', containers: [{ name: 'c' }] });
  const sub = watchPods(client, { namespaces: ['a'], maxBackoffMs: 200, onWatchRestart: (r) => restarts.push(r) }).subscribe((e) => events.push(e));
  try {
    await until('first list', () => events.some((e) => e.type === 'sync'));
    const first = events.find((e) => e.type === 'sync');
    assert.deepEqual(first?.type === 'sync' ? first.pods.map((p) => p.metadata.name) : [], ['early']);
    sim.cluster.createPod({ namespace: 'a', name: 'late', containers: [{ name: 'c' }] });
    await until('late seen', () => events.some((e) => e.type === 'upsert' && e.pod.metadata.name === 'late') || events.filter((e) => e.type === 'sync').some((e) => e.type === 'sync' && e.pods.some((p) => p.metadata.name === 'late')));
    await sim.cluster.deletePod('a', 'early');
    await until('early gone', () => events.some((e) => e.type === 'delete' && e.pod.metadata.name === 'early') || events.some((e) => e.type === 'sync' && !e.pods.some((p) => p.metadata.name === 'early')));
    await until('watch restarted', () => restarts.length >= 2);
    assert.ok(!events.some((e) => (e.type === 'upsert' || e.type === 'delete') && e.pod.metadata.namespace !== 'a'), 'only namespace a');
  } finally {
    sub.unsubscribe();
    await client.close();
    await sim.close();
  }
});
