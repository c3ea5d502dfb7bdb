// Pod → the containers to follow, and where each one is in its lifecycle (SPEC-kubernetes.md §2.5, §3).
// Pure functions over the pod JSON: the follower asks them whether a log request can succeed now and whether
// a container has ended for good.
import type { ContainerStatus, Pod } from './kube/types.ts';
import type { ContainerKind, TargetInfo } from './pipeline/entry.ts';

/** Every container of the pod in start order: init containers and sidecars, app containers, ephemeral ones. */
export function podTargets(pod: Pod): TargetInfo[] {
  const { namespace, name, uid } = pod.metadata;
  const labels = Object.freeze({ ...pod.metadata.labels });
  const nodeName = pod.spec.nodeName ?? '';
  const target = (container: string, kind: ContainerKind): TargetInfo => ({
    key: `${uid}/${container}`, namespace, pod: name, podUid: uid, container, kind, nodeName, labels,
  });
  return [
    ...(pod.spec.initContainers ?? []).map((c) => target(c.name, c.restartPolicy === 'Always' ? 'sidecar' : 'init')),
    ...pod.spec.containers.map((c) => target(c.name, 'app')),
    ...(pod.spec.ephemeralContainers ?? []).map((c) => target(c.name, 'ephemeral')),
  ];
}

/** The kind of a container of the pod, undefined when the pod has no container of that name. */
export function containerKind(pod: Pod, container: string): ContainerKind | undefined {
  const init = pod.spec.initContainers?.find((c) => c.name === container);
  if (init !== undefined) return init.restartPolicy === 'Always' ? 'sidecar' : 'init';
  if (pod.spec.containers.some((c) => c.name === container)) return 'app';
  if (pod.spec.ephemeralContainers?.some((c) => c.name === container)) return 'ephemeral';
  return undefined;
}

export type ContainerState = 'waiting' | 'running' | 'terminated' | 'unknown';

export interface ContainerStatusInfo {
  readonly kind: ContainerKind;
  /**
   * The instance a log request reads now (running, terminated, or the one that died while the next waits to
   * start: the kubelet counts a restart when the new instance is created).
   */
  readonly restartCount: number;
  readonly containerID: string | undefined;
  /** `unknown`: the pod has no status for the container yet. */
  readonly state: ContainerState;
  /** The waiting or terminated reason (ContainerCreating, CrashLoopBackOff, Completed, Error, ...). */
  readonly reason: string | undefined;
  /** When terminated. */
  readonly exitCode: number | undefined;
  /** The container ID of `lastState.terminated`: the instance `previous=true` reads. */
  readonly lastTerminatedID: string | undefined;
  /** `lastState.terminated` is present (a waiting container then still serves that instance's log). */
  readonly hasLastTerminated: boolean;
  /**
   * Another instance is expected after the current one: for a terminated container, the kubelet will restart
   * it; for a waiting or unknown one, it is still to start. False while running.
   */
  readonly willRestart: boolean;
  /**
   * No further log lines will ever be written: terminated and not restarting, or waiting/unknown in a pod where
   * nothing starts any more (finished or being deleted). What the kubelet still has can be read until the pod
   * is gone: drain, then stop.
   */
  readonly finished: boolean;
  /**
   * The pod is being deleted. Its name may soon belong to a new pod (a StatefulSet's replacement), and log requests
   * name the pod, not its UID: a request sent from now on may be answered with the new pod's log.
   */
  readonly podDeleting: boolean;
}

/** Where one container of the pod is; undefined when the pod spec has no container of that name. */
export function containerStatus(pod: Pod, container: string): ContainerStatusInfo | undefined {
  const kind = containerKind(pod, container);
  if (kind === undefined) return undefined;
  const status = statusOf(pod, container, kind);
  const s = status?.state;
  const state: ContainerState =
    s?.running !== undefined ? 'running' : s?.terminated !== undefined ? 'terminated' : s?.waiting !== undefined ? 'waiting' : 'unknown';
  const exitCode = s?.terminated?.exitCode;
  const last = status?.lastState?.terminated;
  let willRestart: boolean;
  if (state === 'terminated') willRestart = restartsAfterExit(pod, kind, exitCode ?? 0);
  else if (state === 'running') willRestart = false;
  else willRestart = !nothingStarts(pod) && !(kind === 'sidecar' && mainContainersDone(pod));
  return {
    kind,
    restartCount: status?.restartCount ?? 0,
    containerID: nonEmpty(status?.containerID) ?? nonEmpty(s?.terminated?.containerID),
    state,
    reason: s?.waiting?.reason ?? s?.terminated?.reason,
    exitCode,
    lastTerminatedID: nonEmpty(last?.containerID),
    hasLastTerminated: last !== undefined,
    willRestart,
    finished: state !== 'running' && !willRestart,
    podDeleting: pod.metadata.deletionTimestamp !== undefined,
  };
}

/**
 * Whether a (non-previous) log request can succeed now, by the kubelet's checks: running or terminated, or
 * waiting to restart with the dead instance still there (CrashLoopBackOff). Not while waiting to start.
 */
export function hasLogs(status: ContainerStatusInfo): boolean {
  switch (status.state) {
    case 'running':
      return true;
    case 'terminated':
      return status.containerID !== undefined || status.lastTerminatedID !== undefined;
    case 'waiting':
      return status.hasLastTerminated;
    case 'unknown':
      return false;
  }
}

/** The pod will start no container any more: it is being deleted, or it has Succeeded or Failed. */
export function nothingStarts(pod: Pod): boolean {
  const phase = pod.status.phase;
  return pod.metadata.deletionTimestamp !== undefined || phase === 'Succeeded' || phase === 'Failed';
}

/** Whether the kubelet restarts a container of this kind that exited with `exitCode` (SPEC §3). */
function restartsAfterExit(pod: Pod, kind: ContainerKind, exitCode: number): boolean {
  if (nothingStarts(pod)) return false;
  switch (kind) {
    case 'ephemeral':
      return false;
    case 'sidecar':
      return !mainContainersDone(pod);
    case 'init':
      return exitCode !== 0 && pod.spec.restartPolicy !== 'Never';
    case 'app':
      return appRestarts(pod, exitCode);
  }
}

function appRestarts(pod: Pod, exitCode: number): boolean {
  const policy = pod.spec.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** Every app container terminated for good: sidecars are stopped then and not restarted. */
function mainContainersDone(pod: Pod): boolean {
  return pod.spec.containers.every((c) => {
    const terminated = statusOf(pod, c.name, 'app')?.state?.terminated;
    return terminated !== undefined && !appRestarts(pod, terminated.exitCode);
  });
}

function statusOf(pod: Pod, container: string, kind: ContainerKind): ContainerStatus | undefined {
  const list =
    kind === 'app' ? pod.status.containerStatuses : kind === 'ephemeral' ? pod.status.ephemeralContainerStatuses : pod.status.initContainerStatuses;
  return list?.find((s) => s.name === container);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}
