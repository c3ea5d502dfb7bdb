// Scenario drivers: create pods and make their containers write, crash, restart, rotate, burst and churn.
// Every line reads `ns/pod/container#restart seq=N <filler>`, N counting from 1 per container instance, so a
// missing or repeated line is visible from the text alone.
import { nowTimestamp, type Timestamp } from '../time/timestamp.ts';
import type { StreamScope } from './faults.ts';
import type { Cluster, Instance, PodDef, SimContainer, SimPod } from './model.ts';
import type { Random } from './random.ts';

export const SCENARIOS = ['none', 'steady', 'churn', 'crashloop', 'rotation', 'burst', 'many', 'chaos', 'flood'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioScale {
  /** Number of pods (default per scenario). */
  pods?: number;
  /** Lines per second per container (default per scenario). */
  linesPerSec?: number;
  /** Approximate bytes per line (default 100). */
  lineBytes?: number;
}

export function isScenario(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}

export function checkScenario(name: string): ScenarioName {
  if (!isScenario(name)) throw new Error(`unknown scenario "${name}"; valid scenarios: ${SCENARIOS.join(', ')}`);
  return name;
}

/** Faults a scenario turns on by default (user --fault settings override them). */
export interface ScenarioFaults {
  global: Record<string, string>;
  scoped: { scope: StreamScope; values: Record<string, string> }[];
}

export function scenarioFaults(name: ScenarioName): ScenarioFaults {
  if (name !== 'chaos') return { global: {}, scoped: [] };
  return {
    global: { 'stream-max-age': '4s', 'watch-drop-after': '7s', 'watch-410-rate': '0.2', 'error-rate': '0.03' },
    scoped: [
      { scope: { namespace: 'chaos', pod: 'web-0' }, values: { 'stall-after': '2s' } },
      { scope: { namespace: 'chaos', pod: 'web-1' }, values: { 'reset-after': '1500ms' } },
      { scope: { namespace: 'chaos', pod: 'burst-0' }, values: { slow: '300ms' } },
    ],
  };
}

/** Back-off between a container's exit and its restart, per scenario (crash loops want it short). */
export function scenarioBackoffMs(name: ScenarioName): number | undefined {
  return name === 'crashloop' || name === 'chaos' ? 400 : undefined;
}

const TICK_MS = 50;
const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore '
  + 'magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo ';

/** Per-instance writer state. */
interface InstanceState {
  seq: number;
  credit: number;
  /** Lines of a pending burst (one write of many lines, one timestamp). */
  burst: number;
  lastTs: Timestamp | undefined;
  /** Epoch ms at which the driver makes this instance exit. */
  exitAt: number | undefined;
  exitCode: number;
}

interface Behaviour {
  /** Lines per second of a container. */
  rate(pod: SimPod, c: SimContainer): number;
  /** When (ms after start) this app instance should exit, and with which code; undefined = runs on. */
  exit?(pod: SimPod, c: SimContainer, inst: Instance): { afterMs: number; code: number } | undefined;
  /** Share of lines written as stderr, stamped a few ms before the previous line. */
  stderrShare: number;
  /** Chance per tick and container of a burst of lines sharing one timestamp. */
  burstChance: number;
  periodic: { everyMs: number; run(): void }[];
  /** Flood: write whenever fewer than this many lines of a container are unsent, so output follows the reader. */
  backlog?: number;
  /** Interval of the write loop; default TICK_MS. */
  tickMs?: number;
}

export interface Producer {
  /** Stops generating lines and actions (containers keep their state). */
  stop(): void;
}

function labels(app: string): Record<string, string> {
  return { app, 'app.kubernetes.io/name': app };
}

function webPod(namespace: string, name: string): PodDef {
  return {
    namespace, name, labels: labels('web'),
    annotations: { 'kubectl.kubernetes.io/default-container': 'app' },
    initContainers: [{ name: 'init-db', image: 'busybox' }, { name: 'proxy', image: 'envoy', restartPolicy: 'Always' }],
    containers: [{ name: 'app', image: 'nginx' }],
  };
}

function workerPod(namespace: string, name: string, restartPolicy: PodDef['restartPolicy'] = 'Always'): PodDef {
  return { namespace, name, labels: labels('worker'), restartPolicy, containers: [{ name: 'worker', image: 'python' }] };
}

class Driver {
  readonly #cluster: Cluster;
  readonly #random: Random;
  readonly #lineBytes: number;
  readonly #state = new WeakMap<Instance, InstanceState>();
  readonly #timers: NodeJS.Timeout[] = [];
  #behaviour: Behaviour | undefined;
  #stopped = false;

  constructor(cluster: Cluster, random: Random, lineBytes: number) {
    this.#cluster = cluster;
    this.#random = random;
    this.#lineBytes = lineBytes;
  }

  start(behaviour: Behaviour): void {
    this.#behaviour = behaviour;
    this.#timers.push(setInterval(() => this.#tick(), behaviour.tickMs ?? TICK_MS));
    for (const p of behaviour.periodic) this.#timers.push(setInterval(() => p.run(), p.everyMs));
  }

  after(ms: number, fn: () => void): void {
    this.#timers.push(setTimeout(() => {
      if (!this.#stopped) fn();
    }, ms));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
  }

  line(pod: SimPod, c: SimContainer, inst: Instance, seq: number): string {
    const prefix = `${pod.namespace}/${pod.name}/${c.name}#${inst.restart} seq=${seq}`;
    const fill = Math.max(0, this.#lineBytes - prefix.length - 1);
    let filler = FILLER;
    while (filler.length < fill) filler += FILLER;
    return fill === 0 ? prefix : `${prefix} ${filler.slice(0, fill).trimEnd()}`;
  }

  #stateOf(inst: Instance, pod: SimPod, c: SimContainer): InstanceState {
    let s = this.#state.get(inst);
    if (s === undefined) {
      const exit = c.kind === 'init'
        ? { afterMs: 200 + this.#random() * 300, code: 0 }
        : this.#behaviour?.exit?.(pod, c, inst);
      s = {
        seq: 0, credit: c.kind === 'init' ? 3 : this.#random(), burst: 0, lastTs: undefined,
        exitAt: exit === undefined ? undefined : Date.now() + exit.afterMs, exitCode: exit?.code ?? 0,
      };
      this.#state.set(inst, s);
    }
    return s;
  }

  #write(pod: SimPod, c: SimContainer, inst: Instance, s: InstanceState, ts: Timestamp, stream: 'stdout' | 'stderr'): void {
    s.seq++;
    this.#cluster.write(pod.namespace, pod.name, c.name, this.line(pod, c, inst, s.seq), { ts, stream });
  }

  #tick(): void {
    const b = this.#behaviour;
    if (b === undefined || this.#stopped) return;
    const now = Date.now();
    for (const pod of this.#cluster.pods()) {
      for (const c of pod.containers.values()) {
        const inst = c.current;
        if (c.phase !== 'running' || inst === undefined) continue;
        const s = this.#stateOf(inst, pod, c);
        if (b.backlog !== undefined) s.credit += floodCredit(inst, b.backlog);
        else if (c.kind !== 'init') s.credit += (b.rate(pod, c) * TICK_MS) / 1000;
        if (c.kind !== 'init' && this.#random() < b.burstChance) s.burst += 20 + Math.floor(this.#random() * 100);
        this.#emit(pod, c, inst, s, b);
        if (s.exitAt !== undefined && now >= s.exitAt) this.#cluster.terminate(pod.namespace, pod.name, c.name, s.exitCode);
      }
    }
  }

  #emit(pod: SimPod, c: SimContainer, inst: Instance, s: InstanceState, b: Behaviour): void {
    let n = Math.floor(s.credit);
    s.credit -= n;
    while (n-- > 0) {
      const last = s.lastTs;
      if (last !== undefined && this.#random() < b.stderrShare) {
        // stderr and stdout are stamped by two writers: this one lands a few ms before the line above it.
        const skewNs = (1 + Math.floor(this.#random() * 4)) * 1_000_000;
        const ts = last.nsec >= skewNs ? { sec: last.sec, nsec: last.nsec - skewNs } : { sec: last.sec - 1, nsec: last.nsec + 1e9 - skewNs };
        this.#write(pod, c, inst, s, ts, 'stderr');
        continue;
      }
      const ts = nowTimestamp();
      s.lastTs = ts;
      this.#write(pod, c, inst, s, ts, 'stdout');
    }
    if (s.burst > 0) {
      const ts = nowTimestamp();
      s.lastTs = ts;
      for (; s.burst > 0; s.burst--) this.#write(pod, c, inst, s, ts, 'stdout');
    }
  }
}

/**
 * Lines a flooding container writes now: a batch of `backlog` once the reader has taken all but fewer than
 * `backlog` of its lines (a sequential reader keeps it between one and two batches ahead), none while nobody reads.
 */
function floodCredit(inst: Instance, backlog: number): number {
  const records = inst.log.current.records;
  return records.length < backlog || records[records.length - backlog].sent ? backlog : 0;
}

function pick<T>(random: Random, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}

/** Creates the scenario's pods and starts its driver. */
export function startScenario(name: ScenarioName, cluster: Cluster, random: Random, scale: ScenarioScale = {}): Producer {
  const driver = new Driver(cluster, random, scale.lineBytes ?? 100);
  if (name === 'none') return driver;
  const rate = scale.linesPerSec;
  const create = (defs: PodDef[]) => {
    for (const d of defs) cluster.createPod(d);
  };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const base: Behaviour = { rate: () => rate ?? 10, stderrShare: 0.05, burstChance: 0, periodic: [] };
  /** Recreates one pod; `spareFaulted` leaves alone pods whose streams are faulted (their unsent lines would be lost). */
  const churn = (namespace: string, prefix: string, graceMs: number, spareFaulted = false) => () => {
    const victim = pick(random, cluster.pods().filter((p) => p.namespace === namespace && p.name.startsWith(prefix) && !p.stopping
      && !(spareFaulted && [...p.containers.keys()].some((c) => cluster.faults.hasScopedStreamFault(p.namespace, p.name, c)))));
    if (victim !== undefined) cluster.recreatePod(victim.namespace, victim.name, { graceMs }).catch(() => undefined);
  };
  const debugLater = (namespace: string, pod: string) => driver.after(3000, () => {
    if (cluster.findPod(namespace, pod)?.started !== true) return;
    cluster.addEphemeralContainer(namespace, pod, { name: 'debugger', image: 'busybox', targetContainerName: 'app' });
    driver.after(3000, () => cluster.terminate(namespace, pod, 'debugger', 0));
  });

  switch (name) {
    case 'steady': {
      const n = scale.pods ?? 8;
      create(range(n).map((i) => (i % 2 === 0 ? webPod('prod', `web-${i / 2}`) : workerPod('staging', `worker-${(i - 1) / 2}`))));
      driver.start(base);
      debugLater('prod', 'web-0');
      break;
    }
    case 'churn': {
      create(range(scale.pods ?? 6).map((i) => webPod('prod', `web-${i}`)));
      driver.start({ ...base, periodic: [{ everyMs: 2000, run: churn('prod', 'web-', 300) }] });
      break;
    }
    case 'crashloop': {
      const n = scale.pods ?? 4;
      create(range(n).map((i) => workerPod('crash', `crash-${i}`)));
      create([workerPod('crash', 'job-0', 'OnFailure'), workerPod('crash', 'once-0', 'Never')]);
      driver.start({
        ...base,
        rate: () => rate ?? 20,
        exit: (pod, _c, inst) => {
          if (pod.name.startsWith('job-')) return { afterMs: 800, code: inst.restart < 2 ? 1 : 0 };
          if (pod.name.startsWith('once-')) return { afterMs: 3000, code: 2 };
          return { afterMs: 200 + random() * 700, code: 1 };
        },
      });
      break;
    }
    case 'rotation': {
      create(range(scale.pods ?? 4).map((i) => workerPod('rotate', `rot-${i}`)));
      const rotateAll = () => {
        for (const p of cluster.pods()) for (const c of p.app) cluster.rotate(p.namespace, p.name, c.name);
      };
      driver.start({ ...base, rate: () => rate ?? 30, periodic: [{ everyMs: 1500, run: rotateAll }] });
      break;
    }
    case 'burst': {
      create(range(scale.pods ?? 4).map((i) => workerPod('burst', `burst-${i}`)));
      driver.start({ ...base, rate: () => rate ?? 5, stderrShare: 0.15, burstChance: 0.04 });
      break;
    }
    case 'many': {
      const n = scale.pods ?? 300;
      const teams = ['team-a', 'team-b', 'team-c'];
      create(range(n).map((i) => workerPod(teams[i % teams.length], `svc-${i}`)));
      driver.start({ ...base, rate: () => rate ?? 0.5 });
      break;
    }
    case 'chaos': {
      create(range(scale.pods ?? 4).map((i) => webPod('chaos', `web-${i}`)));
      create(range(2).map((i) => workerPod('chaos', `crash-${i}`)));
      create(range(2).map((i) => workerPod('chaos', `burst-${i}`)));
      create(range(2).map((i) => workerPod('chaos', `rot-${i}`)));
      const rotateSafely = () => {
        for (const p of cluster.pods()) {
          for (const c of p.app) {
            if (cluster.faults.hasScopedStreamFault(p.namespace, p.name, c.name)) continue;
            if (p.name.startsWith('rot-') || random() < 0.1) cluster.rotate(p.namespace, p.name, c.name, { ifSafe: true });
          }
        }
      };
      driver.start({
        ...base,
        rate: (pod) => rate ?? (pod.name.startsWith('rot-') ? 30 : 8),
        burstChance: 0.01,
        stderrShare: 0.1,
        exit: (pod) => (pod.name.startsWith('crash-') ? { afterMs: 300 + random() * 600, code: 1 } : undefined),
        periodic: [
          { everyMs: 3000, run: churn('chaos', 'web-', 1000, true) },
          { everyMs: 1500, run: rotateSafely },
        ],
      });
      debugLater('chaos', 'web-2');
      break;
    }
    case 'flood': {
      create(range(scale.pods ?? 4).map((i) => workerPod('flood', `flood-${i}`)));
      driver.start({ ...base, rate: () => 0, stderrShare: 0, backlog: 1000, tickMs: 5 });
      break;
    }
  }
  return driver;
}
