// The cluster model: pods, their containers and container instances, phases and states following the kubelet's
// rules, and the log of every instance. Every change bumps the global resourceVersion and is published to the
// watch hub; every line written goes to the instance's log and the ledger.
import { createHash } from 'node:crypto';
import type {
  ContainerSpec, ContainerState, ContainerStatus, EphemeralContainerSpec, Pod, PodPhase, RestartPolicy, Status,
} from '../kube/types.ts';
import type { ContainerKind } from '../pipeline/entry.ts';
import { formatSeconds, formatTimestamp, nowTimestamp, type Timestamp } from '../time/timestamp.ts';
import { Faults } from './faults.ts';
import { Ledger, type LedgerEntry } from './ledger.ts';
import { InstanceLog, type StreamName } from './logs.ts';
import { randomHex, randomUid, seededRandom, type Random } from './random.ts';
import { badRequest, podNotFound } from './status.ts';
import { WatchHub, type ChangeType } from './watch.ts';

export interface ClusterOptions {
  /** Delay before a container that exited is restarted (CrashLoopBackOff), constant. Default 300 ms. */
  restartBackoffMs?: number;
  /** Delay between a scheduled pod's creation and its containers starting. Default 0 (same tick). */
  startDelayMs?: number;
  /** Default grace period of deletePod. Default 200 ms. */
  deleteGraceMs?: number;
  /** Watch history length; a watch from an RV older than that gets 410. Default 1000. */
  historySize?: number;
  /** Automatic rotation size of a container's log file (kubelet containerLogMaxSize). Default 10 MiB. */
  logMaxBytes?: number;
  /** Keep the ledger of every line (default true); off for long benchmarks that do not verify lines. */
  keepLedger?: boolean;
  seed?: number;
}

export interface PodDef {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Default `node-1`; `''` leaves the pod unscheduled (Pending, logs answer 204) until schedulePod. */
  nodeName?: string;
  restartPolicy?: RestartPolicy;
  /** Init containers in order; `restartPolicy: 'Always'` makes one a sidecar. */
  initContainers?: ContainerSpec[];
  containers: ContainerSpec[];
}

export interface WriteOptions {
  /** Default: now. */
  ts?: Timestamp;
  /** Default stdout. The log interleaves both without a marker, as in a real container. */
  stream?: StreamName;
}

export class Instance {
  readonly containerId: string;
  readonly restart: number;
  readonly startedAt: Timestamp;
  readonly log: InstanceLog;
  finishedAt: Timestamp | undefined;
  exitCode: number | undefined;
  reason: string | undefined;

  constructor(containerId: string, restart: number, log: InstanceLog) {
    this.containerId = containerId;
    this.restart = restart;
    this.startedAt = nowTimestamp();
    this.log = log;
  }
}

/** waiting: never ran yet; backoff: exited and will be restarted; terminated: exited for good. */
type ContainerPhase = 'waiting' | 'running' | 'backoff' | 'terminated';

export class SimContainer {
  readonly name: string;
  readonly kind: ContainerKind;
  readonly image: string;
  phase: ContainerPhase = 'waiting';
  waitingReason: string;
  /** The latest instance (running, or the one that exited last). */
  current: Instance | undefined;
  /** The instance before `current`: what `previous=true` reads while `current` runs. */
  previous: Instance | undefined;
  /** No restart any more (pod stopping, or a sidecar after the main containers ended). */
  final = false;

  constructor(name: string, kind: ContainerKind, image: string | undefined, waitingReason: string) {
    this.name = name;
    this.kind = kind;
    this.image = image ?? 'busybox';
    this.waitingReason = waitingReason;
  }
}

export class SimPod {
  readonly def: PodDef;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly restartPolicy: RestartPolicy;
  readonly creationTimestamp: Timestamp;
  readonly init: SimContainer[];
  readonly app: SimContainer[];
  readonly ephemeral: SimContainer[] = [];
  readonly ephemeralSpecs: EphemeralContainerSpec[] = [];
  readonly containers = new Map<string, SimContainer>();
  nodeName: string;
  startTime: Timestamp | undefined;
  deletionTimestamp: Timestamp | undefined;
  deletionGraceSeconds: number | undefined;
  /** Index of the next init container to run. */
  nextInit = 0;
  started = false;
  /** Being deleted or production ended: containers stop and are not restarted. */
  stopping = false;
  gone = false;
  /** The latest rendered object (what GET and watches show). */
  last!: Pod;

  constructor(def: PodDef, uid: string) {
    this.def = def;
    this.uid = uid;
    this.namespace = def.namespace;
    this.name = def.name;
    this.labels = { ...def.labels };
    this.annotations = { ...def.annotations };
    this.restartPolicy = def.restartPolicy ?? 'Always';
    this.nodeName = def.nodeName ?? 'node-1';
    this.creationTimestamp = nowTimestamp();
    const inits = def.initContainers ?? [];
    const appReason = inits.length > 0 ? 'PodInitializing' : 'ContainerCreating';
    this.init = inits.map((s) =>
      new SimContainer(s.name, s.restartPolicy === 'Always' ? 'sidecar' : 'init', s.image, 'PodInitializing'));
    this.app = def.containers.map((s) => new SimContainer(s.name, 'app', s.image, appReason));
    for (const c of [...this.init, ...this.app]) this.containers.set(c.name, c);
  }

  get key(): string {
    return `${this.namespace}/${this.name}`;
  }

  /** All container names in the order the apiserver lists them in errors: init, regular, ephemeral. */
  containerNames(): string[] {
    return [...this.init, ...this.app, ...this.ephemeral].map((c) => c.name);
  }
}

/** What a log request reads: one instance of one container, or why not. */
export type LogTarget =
  | { kind: 'instance'; pod: SimPod; container: SimContainer; instance: Instance }
  | { kind: 'unscheduled' }
  | { kind: 'error'; status: Status };

function imageRef(image: string): string {
  return image.includes('/') ? image : `docker.io/library/${image}`;
}

function imageID(image: string): string {
  return `${imageRef(image)}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

function terminatedState(i: Instance): ContainerState {
  return {
    terminated: {
      exitCode: i.exitCode ?? 0,
      reason: i.reason,
      startedAt: formatSeconds(i.startedAt.sec),
      finishedAt: formatSeconds((i.finishedAt ?? i.startedAt).sec),
      containerID: i.containerId,
    },
  };
}

export class Cluster {
  readonly hub: WatchHub;
  readonly ledger: Ledger;
  readonly faults = new Faults();
  readonly #pods = new Map<string, SimPod>();
  /** Namespaces exist once a pod was created in them (plus the ones every cluster has). */
  readonly #namespaces = new Map<string, Timestamp>([['default', nowTimestamp()], ['kube-system', nowTimestamp()]]);
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #random: Random;
  readonly #backoffMs: number;
  readonly #startDelayMs: number;
  readonly #deleteGraceMs: number;
  readonly #logMaxBytes: number;
  #closed = false;

  constructor(opts: ClusterOptions = {}) {
    this.hub = new WatchHub(opts.historySize ?? 1000);
    this.ledger = new Ledger(opts.keepLedger ?? true);
    this.#random = seededRandom(opts.seed ?? 1);
    this.#backoffMs = opts.restartBackoffMs ?? 300;
    this.#startDelayMs = opts.startDelayMs ?? 0;
    this.#deleteGraceMs = opts.deleteGraceMs ?? 200;
    this.#logMaxBytes = opts.logMaxBytes ?? 10 * 1024 * 1024;
  }

  // ---- queries

  /** The pod as the API shows it (without kind/apiVersion, as a list item), or undefined. */
  getPod(namespace: string, name: string): Pod | undefined {
    return this.#pods.get(`${namespace}/${name}`)?.last;
  }

  /** The live model object, for the server and scenarios. */
  findPod(namespace: string, name: string): SimPod | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }

  /** Namespace names with their creation time, sorted by name. */
  namespaces(): [string, Timestamp][] {
    return [...this.#namespaces.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  /** All pods in etcd key order (namespace, then name). */
  pods(): SimPod[] {
    return [...this.#pods.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  // ---- pod lifecycle

  createPod(def: PodDef): Pod {
    const key = `${def.namespace}/${def.name}`;
    if (this.#pods.has(key)) throw new Error(`pods "${def.name}" already exists in namespace ${def.namespace}`);
    const pod = new SimPod(def, randomUid(this.#random));
    this.#pods.set(key, pod);
    if (!this.#namespaces.has(def.namespace)) this.#namespaces.set(def.namespace, nowTimestamp());
    this.#touch(pod, 'ADDED');
    if (pod.nodeName !== '') this.#scheduleStart(pod);
    return pod.last;
  }

  /** Binds an unscheduled pod to a node; its containers then start. */
  schedulePod(namespace: string, name: string, nodeName = 'node-1'): void {
    const pod = this.#need(namespace, name);
    if (pod.nodeName !== '') throw new Error(`pod ${pod.key} is already bound to ${pod.nodeName}`);
    pod.nodeName = nodeName;
    this.#touch(pod);
    this.#scheduleStart(pod);
  }

  /**
   * Graceful delete: MODIFIED with deletionTimestamp, containers stop (no restarts), then after the grace period
   * DELETED with the final state; the pod's logs are gone. Resolves once DELETED was published.
   */
  deletePod(namespace: string, name: string, opts: { graceMs?: number } = {}): Promise<void> {
    const pod = this.#need(namespace, name);
    if (pod.deletionTimestamp !== undefined) return this.#whenGone(pod);
    const graceMs = pod.nodeName === '' ? 0 : opts.graceMs ?? this.#deleteGraceMs;
    const now = nowTimestamp();
    pod.deletionGraceSeconds = Math.ceil(graceMs / 1000);
    pod.deletionTimestamp = { sec: now.sec + pod.deletionGraceSeconds, nsec: 0 };
    this.#touch(pod);
    this.#stopPod(pod);
    return new Promise((resolve) => {
      this.#later(graceMs, () => {
        this.#remove(pod);
        resolve();
      });
    });
  }

  /** Deletes the pod (if present) and creates it again from the same definition: same name, new UID. */
  async recreatePod(namespace: string, name: string, opts: { graceMs?: number; def?: PodDef } = {}): Promise<Pod> {
    const pod = this.findPod(namespace, name);
    const def = opts.def ?? pod?.def;
    if (def === undefined) throw new Error(`pod ${namespace}/${name} does not exist and no definition was given`);
    if (pod !== undefined) await this.deletePod(namespace, name, opts);
    return this.createPod(def);
  }

  /** `kubectl debug`: adds an ephemeral container that starts at once and is never restarted. */
  addEphemeralContainer(namespace: string, name: string, spec: EphemeralContainerSpec): void {
    const pod = this.#need(namespace, name);
    if (pod.containers.has(spec.name)) throw new Error(`container ${spec.name} already exists in pod ${pod.key}`);
    const c = new SimContainer(spec.name, 'ephemeral', spec.image, 'ContainerCreating');
    pod.ephemeral.push(c);
    pod.ephemeralSpecs.push({ ...spec });
    pod.containers.set(c.name, c);
    if (pod.started && !pod.stopping) this.#startContainer(pod, c);
    this.#touch(pod);
  }

  /** Ends production: every container of every pod stops for good (exit 0), pods reach Succeeded/Failed. */
  stopAll(): void {
    for (const pod of this.#pods.values()) {
      if (pod.stopping) continue;
      this.#stopPod(pod);
    }
  }

  // ---- containers

  /** Appends a line to the container's running instance. Returns the ledger entry, or undefined if not running. */
  write(namespace: string, podName: string, container: string, line: string, opts: WriteOptions = {}): LedgerEntry | undefined {
    const pod = this.#pods.get(`${namespace}/${podName}`);
    const c = pod?.containers.get(container);
    if (pod === undefined || c === undefined || c.phase !== 'running' || c.current === undefined) return undefined;
    const ts = opts.ts ?? nowTimestamp();
    const entry: LedgerEntry = {
      namespace, pod: podName, pod_uid: pod.uid, container, restart: c.current.restart, ts: formatTimestamp(ts), line,
    };
    this.ledger.add(entry);
    c.current.log.append(entry, ts, opts.stream ?? 'stdout');
    return entry;
  }

  /** The running instance exits with `exitCode`; it is restarted per the restart rules after the back-off. */
  terminate(namespace: string, podName: string, container: string, exitCode = 0, reason?: string): boolean {
    const pod = this.#pods.get(`${namespace}/${podName}`);
    const c = pod?.containers.get(container);
    if (pod === undefined || c === undefined || c.phase !== 'running') return false;
    this.#exit(pod, c, exitCode, reason);
    this.#afterExit(pod);
    this.#touch(pod);
    return true;
  }

  /**
   * Rotates the running instance's log file. With `ifSafe`, only when no line would become unrecoverable:
   * every line of the file was sent, or an open stream still reads the file. Returns whether it rotated.
   */
  rotate(namespace: string, podName: string, container: string, opts: { ifSafe?: boolean } = {}): boolean {
    const c = this.findPod(namespace, podName)?.containers.get(container);
    const log = c?.phase === 'running' ? c.current?.log : undefined;
    if (log === undefined) return false;
    if (opts.ifSafe === true && log.current.holders === 0 && log.current.records.some((r) => !r.sent)) return false;
    log.rotate();
    return true;
  }

  /** Which instance a log request reads (k/k validateContainerLogStatus), or the error the apiserver returns. */
  resolveLog(namespace: string, podName: string, containerName: string | undefined, previous: boolean): LogTarget {
    const pod = this.findPod(namespace, podName);
    if (pod === undefined) return { kind: 'error', status: podNotFound(podName) };
    let name = containerName;
    if (name === undefined || name === '') {
      if (pod.app.length !== 1) {
        return {
          kind: 'error',
          status: badRequest(`a container name must be specified for pod ${podName}, choose one of: [${pod.containerNames().join(' ')}]`),
        };
      }
      name = pod.app[0].name;
    }
    const c = pod.containers.get(name);
    if (c === undefined) return { kind: 'error', status: badRequest(`container ${name} is not valid for pod ${podName}`) };
    if (pod.nodeName === '') return { kind: 'unscheduled' };
    const found = (instance: Instance): LogTarget => ({ kind: 'instance', pod, container: c, instance });
    const error = (message: string): LogTarget => ({ kind: 'error', status: badRequest(message) });
    const where = `container "${name}" in pod "${podName}"`;
    if (previous) {
      const last = c.phase === 'backoff' ? c.current : c.previous;
      return last === undefined ? error(`previous terminated ${where} not found`) : found(last);
    }
    if (c.current !== undefined) return found(c.current);
    const why = c.waitingReason === 'ErrImagePull' ? 'image can\'t be pulled'
      : c.waitingReason === 'ImagePullBackOff' ? 'trying and failing to pull image' : c.waitingReason;
    return error(`${where} is waiting to start: ${why}`);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  // ---- internals

  #need(namespace: string, name: string): SimPod {
    const pod = this.findPod(namespace, name);
    if (pod === undefined) throw new Error(`pod ${namespace}/${name} does not exist`);
    return pod;
  }

  #later(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #whenGone(pod: SimPod): Promise<void> {
    return new Promise((resolve) => {
      const unsubscribe = this.hub.subscribe((c) => {
        if (c.type === 'DELETED' && c.object.metadata.uid === pod.uid) {
          unsubscribe();
          resolve();
        }
      });
    });
  }

  #scheduleStart(pod: SimPod): void {
    const start = () => {
      if (pod.gone || pod.stopping || pod.started) return;
      pod.started = true;
      pod.startTime = nowTimestamp();
      this.#advance(pod);
      this.#touch(pod);
    };
    if (this.#startDelayMs <= 0) start();
    else this.#later(this.#startDelayMs, start);
  }

  /** Runs init containers in order (sidecars start and stay up), then starts the app containers. */
  #advance(pod: SimPod): void {
    while (pod.nextInit < pod.init.length) {
      const c = pod.init[pod.nextInit];
      if (c.kind === 'sidecar') {
        if (c.phase === 'waiting') this.#startContainer(pod, c);
        pod.nextInit++;
        continue;
      }
      if (c.phase === 'terminated' && c.current?.exitCode === 0) {
        pod.nextInit++;
        continue;
      }
      if (c.phase === 'waiting') this.#startContainer(pod, c);
      return;
    }
    for (const c of pod.app) if (c.phase === 'waiting') this.#startContainer(pod, c);
  }

  #startContainer(pod: SimPod, c: SimContainer): void {
    const restart = c.current === undefined ? 0 : c.current.restart + 1;
    // The kubelet keeps one dead instance per container: the one before it is garbage-collected with its log.
    c.previous?.log.discard();
    c.previous = c.current;
    c.current = new Instance(`containerd://${randomHex(this.#random, 64)}`, restart, new InstanceLog(this.#logMaxBytes));
    c.phase = 'running';
  }

  #exit(pod: SimPod, c: SimContainer, exitCode: number, reason: string | undefined): void {
    const inst = c.current;
    if (inst === undefined) return;
    inst.finishedAt = nowTimestamp();
    inst.exitCode = exitCode;
    inst.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    inst.log.end();
    if (this.#restarts(pod, c, exitCode)) {
      c.phase = 'backoff';
      c.waitingReason = 'CrashLoopBackOff';
      this.#later(this.#backoffMs, () => {
        if (c.phase !== 'backoff' || pod.stopping || pod.gone) return;
        this.#startContainer(pod, c);
        this.#touch(pod);
      });
    } else {
      c.phase = 'terminated';
    }
  }

  #restarts(pod: SimPod, c: SimContainer, exitCode: number): boolean {
    if (pod.stopping || c.final || c.kind === 'ephemeral') return false;
    if (c.kind === 'sidecar') return true;
    if (c.kind === 'init' && exitCode === 0) return false;
    return pod.restartPolicy === 'Always' || (pod.restartPolicy === 'OnFailure' && exitCode !== 0);
  }

  /** After an exit: continue the init sequence, or stop the sidecars once the main containers are done. */
  #afterExit(pod: SimPod): void {
    if (pod.stopping) return;
    if (pod.nextInit < pod.init.length) {
      this.#advance(pod);
      return;
    }
    if (pod.app.every((c) => c.phase === 'terminated')) {
      for (const c of pod.init) {
        if (c.kind !== 'sidecar') continue;
        c.final = true;
        if (c.phase === 'running') this.#exit(pod, c, 0, undefined);
        else if (c.phase === 'backoff') c.phase = 'terminated';
      }
    }
  }

  #stopPod(pod: SimPod): void {
    pod.stopping = true;
    for (const c of pod.containers.values()) {
      if (c.phase === 'running') this.#exit(pod, c, 0, undefined);
      else if (c.phase === 'backoff') c.phase = 'terminated';
    }
    this.#touch(pod);
  }

  #remove(pod: SimPod): void {
    pod.gone = true;
    this.#pods.delete(pod.key);
    for (const c of pod.containers.values()) {
      c.current?.log.discard();
      c.previous?.log.discard();
    }
    this.#touch(pod, 'DELETED');
  }

  #touch(pod: SimPod, type: ChangeType = 'MODIFIED'): void {
    const previous = type === 'ADDED' ? undefined : pod.last;
    const rv = this.hub.nextRv();
    pod.last = this.#render(pod, rv);
    this.hub.publish({ rv, type, object: pod.last, previous });
  }

  #phase(pod: SimPod): PodPhase {
    if (!pod.started) return pod.stopping ? 'Failed' : 'Pending';
    const initFailed = pod.init.some((c) => c.kind === 'init' && c.phase === 'terminated' && c.current?.exitCode !== 0);
    if (initFailed) return 'Failed';
    const stopped = (c: SimContainer) => c.phase === 'terminated' || (pod.stopping && c.phase === 'waiting');
    if (pod.nextInit < pod.init.length) return pod.stopping && pod.init.every(stopped) ? 'Failed' : 'Pending';
    if (!pod.app.every(stopped)) return 'Running';
    return pod.app.every((c) => c.current?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }

  #status(pod: SimPod, c: SimContainer): ContainerStatus {
    const cur = c.current;
    let state: ContainerState;
    let last: ContainerState = c.previous === undefined ? {} : terminatedState(c.previous);
    if (c.phase === 'running' && cur !== undefined) state = { running: { startedAt: formatSeconds(cur.startedAt.sec) } };
    else if (c.phase === 'terminated' && cur !== undefined) state = terminatedState(cur);
    else if (c.phase === 'backoff' && cur !== undefined) {
      const secs = Math.max(1, Math.round(this.#backoffMs / 1000));
      state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${secs}s restarting failed container=${c.name} pod=${pod.name}_${pod.namespace}(${pod.uid})`,
        },
      };
      last = terminatedState(cur);
    } else state = { waiting: { reason: c.waitingReason } };
    const running = c.phase === 'running';
    const ready = c.kind === 'init' ? c.phase === 'terminated' && cur?.exitCode === 0 : c.kind !== 'ephemeral' && running;
    const status: ContainerStatus = { name: c.name, ready, restartCount: cur?.restart ?? 0 };
    if (c.kind !== 'ephemeral') status.started = running && c.kind !== 'init';
    status.image = `${imageRef(c.image)}:latest`;
    status.imageID = cur === undefined ? '' : imageID(c.image);
    if (cur !== undefined) status.containerID = cur.containerId;
    status.state = state;
    status.lastState = last;
    return status;
  }

  #render(pod: SimPod, rv: number): Pod {
    const metadata: Pod['metadata'] = {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: String(rv),
      creationTimestamp: formatSeconds(pod.creationTimestamp.sec),
    };
    if (pod.deletionTimestamp !== undefined) {
      metadata.deletionTimestamp = formatSeconds(pod.deletionTimestamp.sec);
      metadata.deletionGracePeriodSeconds = pod.deletionGraceSeconds;
    }
    if (Object.keys(pod.labels).length > 0) metadata.labels = { ...pod.labels };
    if (Object.keys(pod.annotations).length > 0) metadata.annotations = { ...pod.annotations };
    const spec: Pod['spec'] = { containers: pod.def.containers.map((s) => ({ image: 'busybox', ...s })) };
    if (pod.nodeName !== '') spec.nodeName = pod.nodeName;
    spec.restartPolicy = pod.restartPolicy;
    if (pod.init.length > 0) spec.initContainers = (pod.def.initContainers ?? []).map((s) => ({ image: 'busybox', ...s }));
    if (pod.ephemeral.length > 0) spec.ephemeralContainers = pod.ephemeralSpecs.map((s) => ({ image: 'busybox', ...s }));
    const status: Pod['status'] = { phase: this.#phase(pod) };
    if (pod.nodeName !== '') {
      if (pod.startTime !== undefined) status.startTime = formatSeconds(pod.startTime.sec);
      if (pod.init.length > 0) status.initContainerStatuses = pod.init.map((c) => this.#status(pod, c));
      status.containerStatuses = [...pod.app].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => this.#status(pod, c));
      if (pod.ephemeral.length > 0) status.ephemeralContainerStatuses = pod.ephemeral.map((c) => this.#status(pod, c));
    }
    return { metadata, spec, status };
  }
}

