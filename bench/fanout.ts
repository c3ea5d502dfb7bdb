// Fan-out and API load: N slow containers (src/sim 'many', one line a second each) followed by the tailer, or by
// one `kubectl logs -f` per container. Memory per followed container is the RSS above that of the same reader
// following nothing; the event-loop lag and API requests are taken over a steady window once every stream is open.
// Recovery: with 1,000 targets the simulated API server drops every connection at once; we watch the opens in
// flight and per second, and the time until every target has shipped a line written after the drop.
import { startLokiReceiver, type LokiReceiver } from '../test/loki-receiver.ts';
import { KubectlGroup, SimServer, TailerProcess, type SimStats } from './children.ts';
import { sleep, type ProcSample } from './proc.ts';

export interface FanoutConfig {
  readonly dir: string;
  /** Seconds of steady state measured once every stream is open. */
  readonly steadySec: number;
  /** Longest wait for every stream to open. */
  readonly openTimeoutSec: number;
}

export interface FanoutResult {
  readonly reader: 'tailer' | 'kubectl';
  readonly containers: number;
  /** Seconds from start until every container's stream was open. */
  readonly openSec: number;
  readonly rssBytes: number;
  readonly baselineRssBytes: number;
  readonly rssPerContainerBytes: number;
  /** CPU seconds per second while steady (1 = one core). */
  readonly cpu: number;
  readonly eventLoopLagP99Ms?: number;
  readonly eventLoopLagMaxMs?: number;
  /** V8 heap in use and memory outside it (buffers, TLS), from the tailer's metrics. */
  readonly heapUsedBytes?: number;
  readonly externalBytes?: number;
  /** API requests per minute while steady, in total and by `verb resource`. */
  readonly apiRequestsPerMin: number;
  readonly apiByVerb: Record<string, number>;
  /** Connections the API server had while steady, and how many of them h2 (streams share them). */
  readonly connections: number;
  readonly http2Connections: number;
}

export interface RecoveryResult {
  readonly containers: number;
  readonly maxConcurrentOpens: number;
  /** Most log requests waiting for their response at once, as the API server saw them. */
  readonly peakOpensInFlight: number;
  readonly peakOpensPerSec: number;
  /** Seconds from the drop until every target shipped a line written after it; undefined if it never did. */
  readonly recoverySec: number | undefined;
  readonly recoveredTargets: number;
  readonly apiRequestsPerMinSteady: number;
  readonly apiRequestsPerMinRecovery: number;
}

/** Pods of the 'many' scenario: a `worker` in svc-I, spread over three namespaces. */
function manyTargets(n: number): { namespace: string; pod: string; container: string }[] {
  const teams = ['team-a', 'team-b', 'team-c'];
  return Array.from({ length: n }, (_, i) => ({ namespace: teams[i % 3], pod: `svc-${i}`, container: 'worker' }));
}

function manySim(pods: number, dir: string, faults?: Record<string, string>): Promise<SimServer> {
  return SimServer.start({ scenario: 'many', tls: process.env.BENCH_TLS !== '0', scale: { pods, linesPerSec: 1 }, cluster: { keepLedger: false }, faults }, dir);
}

async function waitOpen(sim: SimServer, n: number, timeoutSec: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const stats = await sim.stats();
    if (stats.openStreams >= n) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutSec * 1000) {
      throw new Error(`only ${stats.openStreams} of ${n} log streams opened within ${timeoutSec} s`);
    }
    await sleep(250);
  }
}

function requestDelta(a: SimStats, b: SimStats): { total: number; byVerb: Record<string, number> } {
  const byVerb: Record<string, number> = {};
  let total = 0;
  for (const [verb, n] of Object.entries(b.requests)) {
    const d = n - (a.requests[verb] ?? 0);
    if (d > 0) byVerb[verb] = d;
    total += d;
  }
  return { total, byVerb };
}

const perMinute = (n: number, seconds: number): number => (n * 60) / seconds;
const mapValues = (r: Record<string, number>, f: (v: number) => number): Record<string, number> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v)]));

/** RSS of the tailer following nothing (an empty 'many' cluster): what per-container figures are above. */
export async function tailerBaselineRss(cfg: FanoutConfig): Promise<number> {
  const sim = await manySim(0, cfg.dir);
  const receiver = await startLokiReceiver({ discard: true, validate: false });
  const tailer = await TailerProcess.start({ kubeconfig: sim.kubeconfig, lokiUrl: receiver.url, dir: cfg.dir });
  try {
    await sleep(cfg.steadySec * 1000);
    return await settledRss(() => tailer.sample().rssBytes);
  } finally {
    await tailer.stop();
    await receiver.close();
    await sim.close();
  }
}

/** Median of five RSS samples 400 ms apart (RSS moves with every GC). */
async function settledRss(sample: () => number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < 5; i++) {
    values.push(sample());
    await sleep(400);
  }
  return values.sort((a, b) => a - b)[2];
}

type SteadyFigures = Pick<FanoutResult, 'rssBytes' | 'cpu' | 'apiRequestsPerMin' | 'apiByVerb' | 'connections' | 'http2Connections'>;

/**
 * A reader's steady state once every stream is open: 2 s to settle, then CPU and API requests over the rest of
 * `steadySec`, and the settled RSS at its end. `atStart` runs as the window opens.
 */
async function steadyWindow(cfg: FanoutConfig, sim: SimServer, sample: () => ProcSample, atStart?: () => Promise<unknown>): Promise<SteadyFigures> {
  await sleep(2000);
  await atStart?.();
  const a = await sim.stats();
  const cpuA = sample().cpuSeconds;
  const startedAt = performance.now();
  await sleep(Math.max(0, cfg.steadySec * 1000 - 2000));
  const rssBytes = await settledRss(() => sample().rssBytes);
  const seconds = (performance.now() - startedAt) / 1000;
  const b = await sim.stats();
  const requests = requestDelta(a, b);
  return {
    rssBytes,
    cpu: (sample().cpuSeconds - cpuA) / seconds,
    apiRequestsPerMin: perMinute(requests.total, seconds),
    apiByVerb: mapValues(requests.byVerb, (n) => perMinute(n, seconds)),
    connections: b.connections,
    http2Connections: b.http2Connections,
  };
}

export async function fanoutTailer(cfg: FanoutConfig, containers: number, baselineRssBytes: number): Promise<FanoutResult> {
  const sim = await manySim(containers, cfg.dir);
  const receiver = await startLokiReceiver({ discard: true, validate: false });
  let tailer: TailerProcess | undefined;
  try {
    tailer = await TailerProcess.start({ kubeconfig: sim.kubeconfig, lokiUrl: receiver.url, dir: cfg.dir });
    const openSec = await waitOpen(sim, containers, cfg.openTimeoutSec);
    const t = tailer;
    // The event-loop lag histogram restarts at each scrape: scrape once as the window opens.
    const w = await steadyWindow(cfg, sim, () => t.sample(), () => t.metrics());
    const m = await t.metrics();
    return {
      reader: 'tailer', containers, openSec, ...w, baselineRssBytes,
      rssPerContainerBytes: (w.rssBytes - baselineRssBytes) / containers,
      eventLoopLagP99Ms: (m.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
      eventLoopLagMaxMs: (m.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
      heapUsedBytes: m.get('nodejs_heap_size_used_bytes'),
      externalBytes: m.get('nodejs_external_memory_bytes'),
    };
  } finally {
    await tailer?.stop();
    await receiver.close();
    await sim.close();
  }
}

export async function fanoutKubectl(cfg: FanoutConfig, containers: number): Promise<FanoutResult> {
  const sim = await manySim(containers, cfg.dir);
  const group = KubectlGroup.start(sim.kubeconfig, manyTargets(containers));
  try {
    const openSec = await waitOpen(sim, containers, cfg.openTimeoutSec);
    const w = await steadyWindow(cfg, sim, () => group.sample());
    return { reader: 'kubectl', containers, openSec, ...w, baselineRssBytes: 0, rssPerContainerBytes: w.rssBytes / containers };
  } finally {
    await group.stop();
    await sim.close();
  }
}

/** Newest entry time (ms) per stream that the receiver holds. */
function newestPerStream(receiver: LokiReceiver): number[] {
  const out: number[] = [];
  for (const entries of receiver.streams().values()) {
    const last = entries[entries.length - 1];
    if (last !== undefined) out.push(last.ts.sec * 1000 + last.ts.nsec / 1e6);
  }
  return out;
}

export async function recovery(cfg: FanoutConfig, containers: number, maxConcurrentOpens: number, timeoutSec: number): Promise<RecoveryResult> {
  // A restarted API server answers slowly: each request waits 50 ms, so opens in flight are visible to the server.
  const sim = await manySim(containers, cfg.dir, { slow: '50ms' });
  const receiver = await startLokiReceiver({ validate: false });
  let tailer: TailerProcess | undefined;
  try {
    tailer = await TailerProcess.start({
      kubeconfig: sim.kubeconfig, lokiUrl: receiver.url, dir: cfg.dir,
      args: ['-A', '--max-concurrent-opens', String(maxConcurrentOpens), '--loki-batch-wait', '200ms'],
    });
    await waitOpen(sim, containers, cfg.openTimeoutSec);
    await sleep(2000);
    const a = await sim.stats();
    await sleep(cfg.steadySec * 1000);
    const b = await sim.stats();
    const steady = requestDelta(a, b).total;

    const dropAt = Date.now();
    const dropClock = performance.now();
    await sim.drop();
    const samples: { at: number; opens: number }[] = [{ at: dropClock, opens: b.opensTotal }];
    let recoverySec: number | undefined;
    let recovered = 0;
    let last = b;
    while (performance.now() - dropClock < timeoutSec * 1000) {
      await sleep(200);
      last = await sim.stats();
      samples.push({ at: performance.now(), opens: last.opensTotal });
      recovered = newestPerStream(receiver).filter((ms) => ms > dropAt).length;
      if (recovered >= containers) {
        recoverySec = (performance.now() - dropClock) / 1000;
        break;
      }
    }
    let peakOpensPerSec = 0;
    for (let i = 0, j = 0; i < samples.length; i++) {
      while (samples[i].at - samples[j].at > 1000) j++;
      const span = Math.max(samples[i].at - samples[j].at, 200) / 1000;
      peakOpensPerSec = Math.max(peakOpensPerSec, (samples[i].opens - samples[j].opens) / span);
    }
    const recoverySeconds = (performance.now() - dropClock) / 1000;
    return {
      containers, maxConcurrentOpens,
      peakOpensInFlight: last.peakPendingOpens,
      peakOpensPerSec,
      recoverySec,
      recoveredTargets: recovered,
      apiRequestsPerMinSteady: perMinute(steady, cfg.steadySec),
      apiRequestsPerMinRecovery: perMinute(requestDelta(b, last).total, recoverySeconds),
    };
  } finally {
    await tailer?.stop();
    await receiver.close();
    await sim.close();
  }
}
