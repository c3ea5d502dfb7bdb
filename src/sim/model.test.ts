import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerStatus, Pod } from '../kube/types.ts';
import { Cluster, type PodDef } from './model.ts';
import type { PodChange } from './watch.ts';

function cluster(): Cluster {
  return new Cluster({ restartBackoffMs: 20, deleteGraceMs: 20 });
}

function status(pod: Pod | undefined, name: string): ContainerStatus {
  const all = [...pod?.status.initContainerStatuses ?? [], ...pod?.status.containerStatuses ?? [], ...pod?.status.ephemeralContainerStatuses ?? []];
  const s = all.find((c) => c.name === name);
  assert.ok(s, `status of ${name}`);
  return s;
}

const stateOf = (s: ContainerStatus) => Object.keys(s.state ?? {})[0];

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(5);
  assert.ok(cond(), 'condition reached');
}

test('init containers run in order, sidecars stay up, then app containers start; statuses as the kubelet writes them', () => {
  const c = cluster();
  const def: PodDef = {
    namespace: 'ns', name: 'web-0',
    initContainers: [{ name: 'init-db' }, { name: 'proxy', restartPolicy: 'Always' }, { name: 'migrate' }],
    containers: [{ name: 'zeta' }, { name: 'app' }],
  };
  let pod = c.createPod(def);
  assert.equal(pod.status.phase, 'Pending');
  assert.equal(stateOf(status(pod, 'init-db')), 'running');
  assert.equal(status(pod, 'proxy').state?.waiting?.reason, 'PodInitializing');
  assert.equal(status(pod, 'app').state?.waiting?.reason, 'PodInitializing');
  c.terminate('ns', 'web-0', 'init-db', 0);
  pod = c.getPod('ns', 'web-0')!;
  assert.equal(stateOf(status(pod, 'proxy')), 'running');
  assert.equal(status(pod, 'proxy').started, true);
  assert.equal(stateOf(status(pod, 'migrate')), 'running');
  assert.equal(pod.status.phase, 'Pending');
  c.terminate('ns', 'web-0', 'migrate', 0);
  pod = c.getPod('ns', 'web-0')!;
  assert.equal(pod.status.phase, 'Running');
  assert.deepEqual(pod.status.initContainerStatuses?.map((s) => s.name), ['init-db', 'proxy', 'migrate']);
  assert.deepEqual(pod.status.containerStatuses?.map((s) => s.name), ['app', 'zeta'], 'sorted by name');
  const done = status(pod, 'init-db');
  assert.equal(done.state?.terminated?.reason, 'Completed');
  assert.equal(done.ready, true);
  assert.match(done.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
  assert.match(pod.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  c.close();
});

test('restartPolicy: Always restarts on any exit, OnFailure only on failure, Never not at all', async () => {
  const c = cluster();
  for (const policy of ['Always', 'OnFailure', 'Never'] as const) {
    c.createPod({ namespace: 'ns', name: `p-${policy}`, restartPolicy: policy, containers: [{ name: 'app' }] });
  }
  c.terminate('ns', 'p-Always', 'app', 0);
  c.terminate('ns', 'p-OnFailure', 'app', 0);
  c.terminate('ns', 'p-Never', 'app', 3);
  const always = status(c.getPod('ns', 'p-Always'), 'app');
  assert.equal(always.state?.waiting?.reason, 'CrashLoopBackOff');
  assert.match(always.state?.waiting?.message ?? '', /^back-off \d+s restarting failed container=app pod=p-Always_ns\(/);
  assert.equal(always.lastState?.terminated?.exitCode, 0);
  assert.equal(always.restartCount, 0, 'the dead instance is still the latest');
  assert.equal(c.getPod('ns', 'p-OnFailure')?.status.phase, 'Succeeded');
  assert.equal(c.getPod('ns', 'p-Never')?.status.phase, 'Failed');
  assert.equal(status(c.getPod('ns', 'p-Never'), 'app').state?.terminated?.reason, 'Error');
  await until(() => stateOf(status(c.getPod('ns', 'p-Always'), 'app')) === 'running');
  const restarted = status(c.getPod('ns', 'p-Always'), 'app');
  assert.equal(restarted.restartCount, 1);
  assert.equal(restarted.lastState?.terminated?.reason, 'Completed');
  c.createPod({ namespace: 'ns', name: 'retry', restartPolicy: 'OnFailure', containers: [{ name: 'app' }] });
  c.terminate('ns', 'retry', 'app', 1);
  await until(() => status(c.getPod('ns', 'retry'), 'app').restartCount === 1);
  c.close();
});

test('a failing init container with restartPolicy Never fails the pod; sidecars stop after the main containers', () => {
  const c = cluster();
  c.createPod({ namespace: 'ns', name: 'bad', restartPolicy: 'Never', initContainers: [{ name: 'init' }], containers: [{ name: 'app' }] });
  c.terminate('ns', 'bad', 'init', 1);
  assert.equal(c.getPod('ns', 'bad')?.status.phase, 'Failed');
  assert.equal(status(c.getPod('ns', 'bad'), 'app').state?.waiting?.reason, 'PodInitializing');
  c.createPod({ namespace: 'ns', name: 'job', restartPolicy: 'Never', initContainers: [{ name: 'side', restartPolicy: 'Always' }], containers: [{ name: 'app' }] });
  c.terminate('ns', 'job', 'app', 0);
  const job = c.getPod('ns', 'job');
  assert.equal(job?.status.phase, 'Succeeded');
  assert.equal(stateOf(status(job, 'side')), 'terminated');
  c.close();
});

test('log instances: previous reads the last dead instance; the one before it is gone with its unsent lines', async () => {
  const c = cluster();
  c.createPod({ namespace: 'ns', name: 'p', containers: [{ name: 'app' }] });
  const prev = c.resolveLog('ns', 'p', 'app', true);
  assert.equal(prev.kind === 'error' && prev.status.message, 'previous terminated container "app" in pod "p" not found');
  const l0 = c.write('ns', 'p', 'app', 'zero');
  c.terminate('ns', 'p', 'app', 1);
  const inBackoff = c.resolveLog('ns', 'p', 'app', false);
  assert.equal(inBackoff.kind === 'instance' && inBackoff.instance.restart, 0, 'CrashLoopBackOff serves the dead instance');
  await until(() => c.findPod('ns', 'p')?.app[0].phase === 'running');
  const l1 = c.write('ns', 'p', 'app', 'one');
  const p1 = c.resolveLog('ns', 'p', 'app', true);
  assert.equal(p1.kind === 'instance' && p1.instance.restart, 0);
  assert.equal(l0?.unrecoverable, undefined);
  c.terminate('ns', 'p', 'app', 1);
  await until(() => c.findPod('ns', 'p')?.app[0].current?.restart === 2);
  assert.equal(l0?.unrecoverable, true, 'instance #0 was garbage-collected before anyone read it');
  assert.equal(l1?.unrecoverable, undefined);
  assert.equal(l1?.restart, 1);
  c.close();
});

test('rotation: unsent lines of a rotated file are unrecoverable unless a stream still holds the file; ifSafe refuses', () => {
  const c = cluster();
  c.createPod({ namespace: 'ns', name: 'p', containers: [{ name: 'app' }] });
  const a = c.write('ns', 'p', 'app', 'a');
  assert.equal(c.rotate('ns', 'p', 'app', { ifSafe: true }), false);
  assert.equal(c.rotate('ns', 'p', 'app'), true);
  assert.equal(a?.unrecoverable, true);
  const b = c.write('ns', 'p', 'app', 'b');
  const target = c.resolveLog('ns', 'p', 'app', false);
  assert.ok(target.kind === 'instance');
  const log = target.instance.log;
  const held = log.current;
  log.hold(held, false);
  assert.equal(c.rotate('ns', 'p', 'app', { ifSafe: true }), true);
  assert.equal(b?.unrecoverable, undefined, 'a stream still reads the rotated file');
  log.release(held, false);
  assert.equal(b?.unrecoverable, true, 'released without being sent');
  const d = c.write('ns', 'p', 'app', 'd');
  log.current.records[0].sent = true;
  assert.equal(c.rotate('ns', 'p', 'app', { ifSafe: true }), true);
  assert.equal(d?.unrecoverable, undefined);
  c.close();
});

test('graceful delete, re-create with a new uid, ephemeral containers; every change bumps the resourceVersion', async () => {
  const c = cluster();
  const changes: PodChange[] = [];
  c.hub.subscribe((ch) => changes.push(ch));
  const first = c.createPod({ namespace: 'ns', name: 'p', containers: [{ name: 'app' }] });
  c.addEphemeralContainer('ns', 'p', { name: 'debugger', targetContainerName: 'app' });
  const eph = status(c.getPod('ns', 'p'), 'debugger');
  assert.equal(stateOf(eph), 'running');
  assert.equal(c.getPod('ns', 'p')?.spec.ephemeralContainers?.[0].name, 'debugger');
  c.terminate('ns', 'p', 'debugger', 0);
  assert.equal(stateOf(status(c.getPod('ns', 'p'), 'debugger')), 'terminated', 'never restarted');
  const deleted = c.deletePod('ns', 'p');
  const terminating = c.getPod('ns', 'p');
  assert.ok(terminating?.metadata.deletionTimestamp);
  assert.equal(terminating?.metadata.deletionGracePeriodSeconds, 1);
  assert.equal(c.write('ns', 'p', 'app', 'late'), undefined, 'containers stopped');
  await deleted;
  assert.equal(c.getPod('ns', 'p'), undefined);
  const second = await c.recreatePod('ns', 'p', { def: { namespace: 'ns', name: 'p', containers: [{ name: 'app' }] } });
  assert.notEqual(second.metadata.uid, first.metadata.uid);
  assert.equal(status(second, 'app').restartCount, 0);
  const rvs = changes.map((ch) => ch.rv);
  assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));
  assert.equal(new Set(rvs).size, rvs.length);
  const types = changes.map((ch) => ch.type);
  assert.equal(types.filter((t) => t === 'DELETED').length, 1);
  assert.equal(types.at(-2), 'ADDED');
  assert.equal(changes.find((ch) => ch.type === 'DELETED')?.object.metadata.uid, first.metadata.uid);
  c.stopAll();
  assert.equal(c.getPod('ns', 'p')?.status.phase, 'Succeeded');
  c.close();
});

test('unscheduled pods are Pending without statuses and start once bound', () => {
  const c = cluster();
  c.createPod({ namespace: 'ns', name: 'p', nodeName: '', containers: [{ name: 'app' }] });
  const pod = c.getPod('ns', 'p');
  assert.equal(pod?.status.phase, 'Pending');
  assert.equal(pod?.status.containerStatuses, undefined);
  assert.equal(pod?.spec.nodeName, undefined);
  assert.deepEqual(c.resolveLog('ns', 'p', 'app', false), { kind: 'unscheduled' });
  c.schedulePod('ns', 'p', 'node-7');
  assert.equal(c.getPod('ns', 'p')?.status.phase, 'Running');
  assert.equal(c.getPod('ns', 'p')?.spec.nodeName, 'node-7');
  c.close();
});
