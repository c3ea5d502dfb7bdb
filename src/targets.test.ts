import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerKind, containerStatus, hasLogs, nothingStarts, podTargets } from './targets.ts';
import type { ContainerState, ContainerStatus, Pod, PodPhase, RestartPolicy } from './kube/types.ts';

interface PodShape {
  restartPolicy?: RestartPolicy;
  phase?: PodPhase;
  deleting?: boolean;
  app?: Record<string, ContainerState | undefined>;
  init?: Record<string, ContainerState | undefined>;
  sidecars?: string[];
  ephemeral?: Record<string, ContainerState | undefined>;
  lastState?: Record<string, ContainerState>;
}

function status(name: string, state: ContainerState | undefined, last: ContainerState | undefined): ContainerStatus {
  const s: ContainerStatus = { name, ready: false, restartCount: 2, state: state ?? {} };
  if (state?.running !== undefined || state?.terminated !== undefined || last !== undefined) s.containerID = `containerd://${name}`;
  if (last !== undefined) s.lastState = last;
  return s;
}

function pod(shape: PodShape): Pod {
  const statuses = (m: Record<string, ContainerState | undefined> | undefined) =>
    m === undefined ? undefined : Object.entries(m).filter(([, st]) => st !== undefined).map(([n, st]) => status(n, st, shape.lastState?.[n]));
  const init = { ...shape.init, ...Object.fromEntries((shape.sidecars ?? []).map((n) => [n, shape.init?.[n]])) };
  const p: Pod = {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', resourceVersion: '7', labels: { app: 'web' } },
    spec: {
      nodeName: 'node-a',
      restartPolicy: shape.restartPolicy,
      containers: Object.keys(shape.app ?? { app: undefined }).map((name) => ({ name })),
    },
    status: { phase: shape.phase ?? 'Running', containerStatuses: statuses(shape.app), initContainerStatuses: statuses(init) },
  };
  if (shape.init !== undefined || shape.sidecars !== undefined) {
    p.spec.initContainers = Object.keys(init).map((name) => (shape.sidecars?.includes(name) ? { name, restartPolicy: 'Always' as const } : { name }));
  }
  if (shape.ephemeral !== undefined) {
    p.spec.ephemeralContainers = Object.keys(shape.ephemeral).map((name) => ({ name, targetContainerName: 'app' }));
    p.status.ephemeralContainerStatuses = statuses(shape.ephemeral);
  }
  if (shape.deleting === true) p.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  return p;
}

const running: ContainerState = { running: { startedAt: '2024-01-01T00:00:00Z' } };
const exited = (exitCode: number): ContainerState => ({ terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', containerID: 'containerd://t' } });
const waiting = (reason: string): ContainerState => ({ waiting: { reason } });

test('targets: every container kind, in start order, keyed by pod uid', () => {
  const p = pod({ init: { setup: undefined }, sidecars: ['proxy'], app: { app: undefined, worker: undefined }, ephemeral: { debugger: undefined } });
  const targets = podTargets(p);
  assert.deepEqual(targets.map((t) => [t.key, t.kind]), [
    ['uid-1/setup', 'init'], ['uid-1/proxy', 'sidecar'], ['uid-1/app', 'app'], ['uid-1/worker', 'app'], ['uid-1/debugger', 'ephemeral'],
  ]);
  assert.deepEqual(targets[0], {
    key: 'uid-1/setup', namespace: 'shop', pod: 'web-0', podUid: 'uid-1', container: 'setup', kind: 'init', nodeName: 'node-a', labels: { app: 'web' },
  });
  assert.ok(Object.isFrozen(targets[0].labels));
  assert.equal(containerKind(p, 'proxy'), 'sidecar');
  assert.equal(containerKind(p, 'nope'), undefined);
  assert.equal(containerStatus(p, 'nope'), undefined);
});

test('targets: a pod not yet scheduled has an empty node name and no labels', () => {
  const p = pod({});
  delete p.spec.nodeName;
  delete p.metadata.labels;
  const [t] = podTargets(p);
  assert.equal(t.nodeName, '');
  assert.deepEqual(t.labels, {});
});

// [restartPolicy, exitCode, will restart]
const appRules: [RestartPolicy | undefined, number, boolean][] = [
  [undefined, 0, true], ['Always', 0, true], ['Always', 1, true],
  ['OnFailure', 0, false], ['OnFailure', 137, true],
  ['Never', 0, false], ['Never', 1, false],
];

test('app containers restart per the pod restartPolicy', () => {
  for (const [restartPolicy, code, restarts] of appRules) {
    const s = containerStatus(pod({ restartPolicy, app: { app: exited(code) } }), 'app')!;
    assert.equal(s.state, 'terminated');
    assert.equal(s.exitCode, code);
    assert.equal(s.willRestart, restarts, `${restartPolicy} exit ${code}`);
    assert.equal(s.finished, !restarts, `${restartPolicy} exit ${code}`);
  }
});

test('init containers restart on failure unless Never, never after success', () => {
  for (const [restartPolicy, code, restarts] of [['Always', 0, false], ['Always', 1, true], ['OnFailure', 1, true], ['Never', 1, false], ['OnFailure', 0, false]] as const) {
    const s = containerStatus(pod({ restartPolicy, phase: 'Pending', init: { setup: exited(code) } }), 'setup')!;
    assert.equal(s.kind, 'init');
    assert.equal(s.finished, !restarts, `${restartPolicy} exit ${code}`);
  }
});

test('sidecars restart whatever the policy until the main containers are done', () => {
  const sidecar = (shape: PodShape) => containerStatus(pod({ sidecars: ['proxy'], ...shape }), 'proxy')!;
  assert.equal(sidecar({ restartPolicy: 'Never', init: { proxy: exited(0) }, app: { app: running } }).finished, false);
  assert.equal(sidecar({ restartPolicy: 'Never', init: { proxy: exited(1) }, app: { app: exited(0) }, phase: 'Running' }).finished, true);
  assert.equal(sidecar({ restartPolicy: 'Always', init: { proxy: exited(1) }, app: { app: exited(0) } }).finished, false);
  assert.equal(sidecar({ restartPolicy: 'OnFailure', init: { proxy: exited(0) }, app: { app: exited(0) } }).finished, true);
  assert.equal(sidecar({ init: { proxy: exited(0) }, app: { app: running }, phase: 'Succeeded' }).finished, true);
  assert.equal(sidecar({ init: { proxy: exited(0) }, app: { app: running }, deleting: true }).finished, true);
  assert.equal(sidecar({ restartPolicy: 'Never', init: { proxy: waiting('CrashLoopBackOff') }, app: { app: exited(0) } }).finished, true);
});

test('ephemeral containers never restart', () => {
  const s = containerStatus(pod({ app: { app: running }, ephemeral: { debugger: exited(1) } }), 'debugger')!;
  assert.equal(s.kind, 'ephemeral');
  assert.equal(s.finished, true);
  assert.equal(containerStatus(pod({ app: { app: running }, ephemeral: { debugger: running } }), 'debugger')!.finished, false);
});

test('a pod being deleted, or Succeeded/Failed, restarts and starts nothing', () => {
  for (const shape of [{ deleting: true }, { phase: 'Succeeded' as const }, { phase: 'Failed' as const }]) {
    assert.ok(nothingStarts(pod(shape)));
    assert.equal(containerStatus(pod({ ...shape, restartPolicy: 'Always', app: { app: exited(1) } }), 'app')!.finished, true);
    assert.equal(containerStatus(pod({ ...shape, app: { app: waiting('PodInitializing') } }), 'app')!.finished, true);
    assert.equal(containerStatus(pod({ ...shape, app: { app: undefined } }), 'app')!.finished, true);
  }
  assert.equal(containerStatus(pod({ deleting: true, app: { app: running } }), 'app')!.finished, false);
});

test('waiting containers are not finished while the pod can still start them', () => {
  const s = containerStatus(pod({ phase: 'Pending', app: { app: waiting('ContainerCreating') } }), 'app')!;
  assert.deepEqual([s.state, s.reason, s.willRestart, s.finished], ['waiting', 'ContainerCreating', true, false]);
  const r = containerStatus(pod({ app: { app: running } }), 'app')!;
  assert.deepEqual([r.state, r.willRestart, r.finished, r.restartCount, r.containerID], ['running', false, false, 2, 'containerd://app']);
});

test('hasLogs follows the kubelet checks', () => {
  const crashLoop = pod({ app: { app: waiting('CrashLoopBackOff') }, lastState: { app: exited(1) } });
  const s = containerStatus(crashLoop, 'app')!;
  assert.equal(s.hasLastTerminated, true);
  assert.equal(s.lastTerminatedID, 'containerd://t');
  assert.equal(hasLogs(s), true);
  assert.equal(hasLogs(containerStatus(pod({ app: { app: waiting('ContainerCreating') } }), 'app')!), false);
  assert.equal(hasLogs(containerStatus(pod({ app: { app: running } }), 'app')!), true);
  assert.equal(hasLogs(containerStatus(pod({ app: { app: exited(0) } }), 'app')!), true);
  assert.equal(hasLogs(containerStatus(pod({ app: { app: undefined } }), 'app')!), false);
  const noId = pod({ app: { app: { terminated: { exitCode: 0 } } } });
  delete noId.status.containerStatuses![0].containerID;
  assert.equal(hasLogs(containerStatus(noId, 'app')!), false);
});
