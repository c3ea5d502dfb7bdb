// The processes a benchmark runs: the simulated cluster (bench/sim-server.ts), the real tailer (src/cli.ts) and
// `kubectl logs -f` per container. Each is a child of this process, measured through /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { NODE_FLAGS } from '../src/node-flags.ts';
import type { SimOptions } from '../src/sim/index.ts';
import type { ApiStats } from '../src/sim/server.ts';
import { freePort, sampleProc, sleep, sumSamples, type ProcSample } from './proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface SimStats extends ApiStats {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

/** How to reach the sim without a Kubernetes client: base URL, bearer token and the CA (PEM) of its certificate. */
export interface SimAccess {
  readonly url: string;
  readonly token: string;
  readonly ca: string | undefined;
}

export class SimServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly kubeconfig: string;
  readonly access: SimAccess;
  readonly #replies: ((line: string) => void)[];

  private constructor(child: ChildProcess, url: string, kubeconfig: string, replies: ((line: string) => void)[]) {
    this.child = child;
    this.url = url;
    this.kubeconfig = kubeconfig;
    this.#replies = replies;
    const config = parseYaml(readFileSync(kubeconfig, 'utf8')) as {
      clusters: { cluster: { 'certificate-authority-data'?: string } }[];
      users: { user: { token: string } }[];
    };
    const caData = config.clusters[0].cluster['certificate-authority-data'];
    this.access = { url, token: config.users[0].user.token, ca: caData === undefined ? undefined : Buffer.from(caData, 'base64').toString('utf8') };
  }

  /**
   * `BENCH_HTTP2=0` serves HTTP/1.1 only (one connection per stream), to compare with h2. `BENCH_SIM_NODE_FLAGS`
   * (space-separated, e.g. `--cpu-prof --cpu-prof-dir=DIR`): node flags for the simulator, to see what it spends
   * its CPU on while it feeds a reader.
   */
  static async start(options: SimOptions, dir: string): Promise<SimServer> {
    const kubeconfig = join(dir, `sim-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.kubeconfig`);
    const served = process.env.BENCH_HTTP2 === '0' ? { ...options, disableHttp2: true } : options;
    const flags = splitFlags(process.env.BENCH_SIM_NODE_FLAGS);
    const child = spawn(process.execPath, [...flags, join(ROOT, 'bench/sim-server.ts'), JSON.stringify(served), kubeconfig], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const replies: ((line: string) => void)[] = [];
    const lines = createInterface({ input: child.stdout! });
    const first = new Promise<string>((resolve, reject) => {
      replies.push(resolve);
      child.once('exit', (code) => reject(new Error(`bench/sim-server.ts exited with ${code} before listening`)));
    });
    lines.on('line', (line) => replies.shift()?.(line));
    const hello = JSON.parse(await first) as { url: string };
    return new SimServer(child, hello.url, kubeconfig, replies);
  }

  #ask(command: string): Promise<string> {
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.child.stdin!.write(`${command}\n`);
    });
  }

  async stats(): Promise<SimStats> {
    return JSON.parse(await this.#ask('stats')) as SimStats;
  }

  async drop(): Promise<void> {
    await this.#ask('drop');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Prometheus text → value per metric name, summed over label sets. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value)) out.set(m[1], (out.get(m[1]) ?? 0) + value);
  }
  return out;
}

export interface TailerOptions {
  readonly kubeconfig: string;
  readonly lokiUrl?: string;
  readonly dir: string;
  readonly args?: readonly string[];
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

/**
 * `BENCH_TAILER_NODE_FLAGS` (space-separated, e.g. `--max-semi-space-size=8`): node flags for every tailer run,
 * after the launchers' own (src/node-flags.ts), which they override.
 */
function tailerNodeFlags(): string[] {
  return splitFlags(process.env.BENCH_TAILER_NODE_FLAGS);
}

function splitFlags(value: string | undefined): string[] {
  return (value ?? '').split(' ').filter((f) => f !== '');
}

/** The real tailer (`node src/cli.ts`) as a child process, with its /metrics. */
export class TailerProcess {
  readonly child: ChildProcess;
  readonly metricsUrl: string;
  #last: ProcSample | undefined;

  private constructor(child: ChildProcess, metricsUrl: string) {
    this.child = child;
    this.metricsUrl = metricsUrl;
  }

  static async start(opts: TailerOptions): Promise<TailerProcess> {
    const port = await freePort();
    const output = opts.lokiUrl !== undefined ? ['--loki-url', opts.lokiUrl] : ['-o', '/dev/null'];
    const args = [
      ...NODE_FLAGS, ...tailerNodeFlags(), ...(opts.nodeArgs ?? []), join(ROOT, 'src/cli.ts'), '--kubeconfig', opts.kubeconfig, ...output,
      '--http-listen', `127.0.0.1:${port}`, '--log-level', 'warn', '--log-format', 'logfmt', '--status=false',
      '--positions-file', join(opts.dir, `positions-${port}.json`), ...(opts.args ?? ['-A']),
    ];
    // Its log (warnings, e.g. every stream cut by a drop) goes to a file in the work directory.
    const logFd = openSync(join(opts.dir, `tailer-${port}.log`), 'w');
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', logFd], cwd: opts.dir });
    closeSync(logFd);
    const tailer = new TailerProcess(child, `http://127.0.0.1:${port}/metrics`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the tailer exited with ${child.exitCode} at start`);
      if ((await tailer.metrics().catch(() => undefined)) !== undefined) return tailer;
      if (Date.now() > deadline) throw new Error('the tailer did not serve /metrics within 20 s');
      await sleep(100);
    }
  }

  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(this.metricsUrl);
    if (!res.ok) throw new Error(`GET ${this.metricsUrl}: ${res.status}`);
    return parseMetrics(await res.text());
  }

  /** CPU and memory now (the last sample taken while it ran, once it has exited). */
  sample(): ProcSample {
    const s = this.child.pid === undefined ? undefined : sampleProc(this.child.pid);
    if (s !== undefined) this.#last = s;
    return this.#last ?? { cpuSeconds: 0, rssBytes: 0, peakRssBytes: 0 };
  }

  /** SIGTERM (the tailer flushes), SIGKILL after `graceMs`. Returns the last sample taken before it exited. */
  async stop(graceMs = 10_000): Promise<ProcSample> {
    const last = this.sample();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    return last;
  }
}

/** `kubectl logs -f --timestamps` per container into /dev/null: the one-process-per-container approach. */
export class KubectlGroup {
  readonly children: ChildProcess[];
  readonly #devNull: number;

  private constructor(children: ChildProcess[], devNull: number) {
    this.children = children;
    this.#devNull = devNull;
  }

  static available(): boolean {
    return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
  }

  static start(kubeconfig: string, targets: readonly { namespace: string; pod: string; container: string }[]): KubectlGroup {
    const devNull = openSync('/dev/null', 'w');
    const children = targets.map((t) =>
      spawn('kubectl', ['--kubeconfig', kubeconfig, 'logs', '-f', '--timestamps', '-n', t.namespace, t.pod, '-c', t.container], {
        stdio: ['ignore', devNull, 'ignore'],
      }),
    );
    return new KubectlGroup(children, devNull);
  }

  sample(): ProcSample {
    return sumSamples(this.children.map((c) => (c.pid === undefined ? undefined : sampleProc(c.pid))));
  }

  async stop(): Promise<ProcSample> {
    const last = this.sample();
    await Promise.all(this.children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      await exited;
    }));
    closeSync(this.#devNull);
    return last;
  }
}
