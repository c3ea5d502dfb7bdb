// Ceiling and throughput: K flooding containers (src/sim 'flood'), read by a raw discarding reader (the source's
// limit), by the tailer shipping to a discarding Loki receiver, and by `kubectl logs -f` per container. Each reader
// gets a fresh simulator process with the same streams; rates are measured over a window after a warm-up.
import { KubectlGroup, SimServer, TailerProcess, type SimStats } from './children.ts';
import { startNullReceiver } from './null-receiver.ts';
import { sleep, type ProcSample } from './proc.ts';
import { readRaw } from './reader.ts';

export interface ThroughputConfig {
  readonly pods: number;
  readonly lineBytes: number;
  readonly warmSec: number;
  readonly measureSec: number;
  readonly dir: string;
  /** node flags for the tailer, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  readonly tailerNodeArgs?: readonly string[];
}

export interface RateResult {
  readonly reader: 'ceiling' | 'tailer' | 'kubectl';
  readonly linesPerSec: number;
  /** Bytes as read from the API server (timestamp prefix included) per second, in MB. */
  readonly mbPerSec: number;
  /** CPU seconds the reader spent per million lines (the raw reader's are this process', shared with polling). */
  readonly cpuSecPerMillionLines: number;
  readonly peakRssBytes: number;
  /** CPU seconds per second of the simulator while it fed this reader (1 = a whole core). */
  readonly simCpu: number;
}

function targets(pods: number): { namespace: string; pod: string; container: string }[] {
  return Array.from({ length: pods }, (_, i) => ({ namespace: 'flood', pod: `flood-${i}`, container: 'worker' }));
}

interface Point {
  readonly at: number;
  readonly lines: number;
  readonly cpuSeconds: number;
  readonly sim: SimStats;
}

/** Measures a reader between two points taken `measureSec` apart after `warmSec`. */
async function window(
  cfg: ThroughputConfig,
  sim: SimServer,
  reader: RateResult['reader'],
  read: () => Promise<{ lines: number; cpuSeconds: number }>,
  peak: () => number,
): Promise<RateResult> {
  const point = async (): Promise<Point> => {
    const [r, s] = await Promise.all([read(), sim.stats()]);
    return { at: performance.now(), lines: r.lines, cpuSeconds: r.cpuSeconds, sim: s };
  };
  await sleep(cfg.warmSec * 1000);
  const a = await point();
  await sleep(cfg.measureSec * 1000);
  const b = await point();
  const seconds = (b.at - a.at) / 1000;
  const lines = b.lines - a.lines;
  const simLines = b.sim.linesSent - a.sim.linesSent;
  const wirePerLine = simLines > 0 ? (b.sim.charsSent - a.sim.charsSent) / simLines : cfg.lineBytes + 31;
  return {
    reader,
    linesPerSec: lines / seconds,
    mbPerSec: (lines * wirePerLine) / seconds / 1e6,
    cpuSecPerMillionLines: lines > 0 ? ((b.cpuSeconds - a.cpuSeconds) / lines) * 1e6 : Number.NaN,
    peakRssBytes: peak(),
    simCpu: (b.sim.cpuSeconds - a.sim.cpuSeconds) / seconds,
  };
}

function floodSim(cfg: ThroughputConfig): Promise<SimServer> {
  return SimServer.start(
    { scenario: 'flood', tls: true, scale: { pods: cfg.pods, lineBytes: cfg.lineBytes }, cluster: { keepLedger: false } },
    cfg.dir,
  );
}

export async function measureCeiling(cfg: ThroughputConfig): Promise<RateResult> {
  const sim = await floodSim(cfg);
  const reader = readRaw(sim.access, targets(cfg.pods));
  try {
    const cpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    return await window(cfg, sim, 'ceiling', async () => ({ lines: reader.counts.lines, cpuSeconds: cpu() }), () => process.memoryUsage.rss());
  } finally {
    reader.close();
    await sim.close();
  }
}

export async function measureTailer(cfg: ThroughputConfig): Promise<RateResult> {
  const sim = await floodSim(cfg);
  const receiver = await startNullReceiver();
  let tailer: TailerProcess | undefined;
  try {
    tailer = await TailerProcess.start({
      kubeconfig: sim.kubeconfig, lokiUrl: receiver.url, dir: cfg.dir, args: ['-n', 'flood'], nodeArgs: cfg.tailerNodeArgs,
    });
    const t = tailer;
    return await window(cfg, sim, 'tailer', async () => {
      const m = await t.metrics();
      return { lines: m.get('tailer_sink_lines_sent_total') ?? 0, cpuSeconds: t.sample().cpuSeconds };
    }, () => t.sample().peakRssBytes);
  } finally {
    await tailer?.stop();
    if (receiver.stats.rejected > 0) throw new Error(`the receiver refused ${receiver.stats.rejected} pushes`);
    await receiver.close();
    await sim.close();
  }
}

export async function measureKubectl(cfg: ThroughputConfig): Promise<RateResult> {
  const sim = await floodSim(cfg);
  const group = KubectlGroup.start(sim.kubeconfig, targets(cfg.pods));
  let last: ProcSample | undefined;
  try {
    return await window(cfg, sim, 'kubectl', async () => {
      const stats = await sim.stats();
      last = group.sample();
      return { lines: stats.linesSent, cpuSeconds: last.cpuSeconds };
    }, () => last?.peakRssBytes ?? 0);
  } finally {
    await group.stop();
    await sim.close();
  }
}
