// `npm run soak -- --duration 120`: the durability test of issue 5. Runs the simulator's `chaos` scenario and a
// Loki-compatible receiver in this process and the real tailer as a child process (file and Loki outputs, positions
// saved every second, a spool), then, over the run: SIGTERM + restart at 1/4, the receiver down for a third of the
// run from 3/10, SIGKILL + restart at 1/2. It samples the tailer's /metrics every 500 ms for peaks, waits for the
// output to settle once production ended, and compares both outputs with the simulator's ledger.
//
// Exits 1 when a line was lost (Loki or file), a duplicate survives dedup by (stream, timestamp, line) in Loki, a
// SIGTERM did not end the tailer cleanly, or the peak RSS exceeded the memory limit:
//   limit = idle RSS + RSS_WORKING_SET_BYTES + RSS_BUFFER_FACTOR × --max-buffer-bytes
// The idle RSS is measured first, in the same environment: the tailer run for a few seconds on a namespace without
// pods (~175 MiB on Node 24, x86-64, most of it code: the TypeScript loader, the Kubernetes client, undici).
// RSS_WORKING_SET_BYTES covers what following a few dozen streams through restarts and an outage adds with almost
// nothing buffered (40-56 MiB above idle measured with chaos, Node 24, x86-64); each buffered byte costs several in
// memory (UTF-16 strings, entry objects, batches, encoded request bodies), hence the factor. At chaos' own rate
// (~300 lines/s) the spool takes batches long before the in-flight bound is reached; `--rate N` (lines per second
// per container) raises the load.
//
// Duplicates in the file after the SIGKILL are expected and reported: lines acknowledged after the last positions
// save are read and written again (Loki drops them as exact duplicates).
//
// Lines that left the kubelet while no tailer ran are reported as `gone`, not `lost`: chaos rotates the rot-* logs
// every 1.5 s, crash-* containers live under a second and web-* pods are deleted and re-created every 3 s, so during
// a restart files are rotated away, instances garbage-collected (the kubelet serves only the current file and one
// previous instance) and pods deleted with their logs. No client of the API can fetch those lines. A missing line
// counts as gone only when it was written at most UNSAVED_MS before a restart's signal (so it may not have been in
// the saved positions) and either its pod was deleted between the signal and POD_CHECK_MS after the new start, or
// the restarted tailer reported a gap for its container (tailer_gaps_total, a warning per target) within
// GAP_REPORT_MS of its start, at or after the line's time. Every other missing line is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../src/node-flags.ts';
import { startSim } from '../src/sim/index.ts';
import { startLokiReceiver } from '../test/loki-receiver.ts';
import { compareWithLedger, dedupe, deliveredOf, readJsonOutput, type Comparison, type LedgerLine } from './compare.ts';
import { runScript } from './main.ts';

const MiB = 1024 * 1024;
export const RSS_WORKING_SET_BYTES = 48 * MiB;
export const RSS_BUFFER_FACTOR = 4;
/** How old a line may be and still not be in the saved positions at a kill (save interval + spool-after + batch wait, with margin). */
const UNSAVED_MS = 5000;
/** How long after its start a restarted tailer has to report the gaps the restart caused. */
const GAP_REPORT_MS = 20_000;
/** A pod gone this long after the new start was deleted before the restarted tailer could read it. */
const POD_CHECK_MS = 3000;

export interface SoakOptions {
  readonly durationSec: number;
  readonly maxBufferBytes?: number;
  /** Lines per second per container (default: the scenario's). */
  readonly linesPerSec?: number;
  /** How long the outputs must stay unchanged after production ended before the tailer is stopped. */
  readonly quietMs?: number;
  /** Keep the work folder (outputs, spool, the tailer's log); it is always kept when the run throws. */
  readonly keep?: boolean;
  readonly log?: (msg: string) => void;
}

export interface SoakResult {
  readonly file: Comparison;
  readonly loki: Comparison;
  /** Missing lines that left the kubelet while no tailer ran (see the top of this file), per output. */
  readonly fileGone: number;
  readonly lokiGone: number;
  /** Entries the receiver saw twice (same stream, timestamp, line). */
  readonly lokiReceiverDuplicates: number;
  /** Loki's comparison after dropping what the receiver counted as duplicates. */
  readonly lokiDeduplicated: Comparison;
  /** Lines of the output file that are not JSON (a write cut by SIGKILL). */
  readonly damagedFileLines: number;
  readonly peakRssBytes: number;
  readonly peakBufferedBytes: number;
  readonly peakSpoolBytes: number;
  readonly maxBufferBytes: number;
  readonly idleRssBytes: number;
  readonly rssLimitBytes: number;
  /** Exit codes of the tailer after each SIGTERM (expected 0). */
  readonly sigtermExits: number[];
}

const root = path.resolve(import.meta.dirname, '..');

export async function soak(opts: SoakOptions): Promise<SoakResult> {
  const began = Date.now();
  const log = (m: string): void => (opts.log ?? ((t: string) => process.stderr.write(`soak: ${t}\n`)))(`${((Date.now() - began) / 1000).toFixed(1)}s ${m}`);
  const durationMs = opts.durationSec * 1000;
  const maxBufferBytes = opts.maxBufferBytes ?? 8 * MiB;
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-soak-'));
  const idleRssBytes = await measureIdleRss(dir);
  log(`idle tailer RSS ${mib(idleRssBytes)}`);
  const sim = await startSim({
    scenario: 'chaos',
    durationSec: opts.durationSec,
    ...(opts.linesPerSec === undefined ? {} : { scale: { linesPerSec: opts.linesPerSec } }),
  });
  const receiver = await startLokiReceiver();
  let keep = opts.keep ?? false;
  const tailerLog = createWriteStream(path.join(dir, 'tailer.log'));
  const peaks = { rss: 0, buffered: 0, spool: 0 };
  let tailer: Tailer | undefined;
  const timers: NodeJS.Timeout[] = [];
  const sampler = setInterval(() => {
    if (tailer !== undefined) void sample(tailer.metricsUrl, peaks);
  }, 500);
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    const out = path.join(dir, 'out.jsonl');
    const args = [
      path.join(root, 'src/cli.ts'),
      '--kubeconfig', kubeconfig, '-A', '--loki-url', receiver.url, '-o', out, '--output-format', 'json',
      '--positions-file', path.join(dir, 'positions.json'), '--positions-interval', '1s',
      '--spool-dir', path.join(dir, 'spool'), '--spool-after', '2s', '--max-buffer-bytes', String(maxBufferBytes),
      '--stall-timeout', '3s', '--since', '1h', '--loki-batch-wait', '200ms', '--log-format', 'logfmt', '--log-level', 'warn',
    ];
    const restarts: Restart[] = [];
    const start = async (): Promise<Tailer> => {
      tailer = await startTailer(args, tailerLog);
      return tailer;
    };
    const podUids = (): Set<string> => new Set(sim.cluster.pods().map((p) => p.uid));
    const restart = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<Tailer> => {
      log(`${signal}, restart`);
      const signalAt = Date.now();
      const podsBefore = podUids();
      const code = await current.stop(signal);
      if (signal === 'SIGTERM') sigtermExits.push(code);
      const deletedPods = new Set<string>();
      restarts.push({ signalAt, startAt: Date.now(), deletedPods });
      timers.push(
        setTimeout(() => {
          const podsAfter = podUids();
          for (const uid of podsBefore) if (!podsAfter.has(uid)) deletedPods.add(uid);
        }, POD_CHECK_MS),
      );
      return start();
    };
    const t0 = Date.now();
    const at = (share: number): Promise<void> => sleep(Math.max(0, t0 + share * durationMs - Date.now()));
    const sigtermExits: number[] = [];
    const downMs = Math.round(durationMs / 3);
    log(`chaos for ${opts.durationSec}s: SIGTERM at 1/4, Loki down ${downMs / 1000}s from 3/10, SIGKILL at 1/2; tailer log ${tailerLog.path}`);

    let current = await start();
    await at(0.25);
    current = await restart('SIGTERM');
    await at(0.3);
    log(`receiver down for ${downMs / 1000}s`);
    await receiver.goDown(downMs);
    await at(0.5);
    current = await restart('SIGKILL');
    await sim.produced;
    await receiver.whenUp();
    log(`production ended: ${sim.ledger().length} lines; waiting for the outputs to settle`);
    const outcome = async (): Promise<Outcome> => {
      const ledger = sim.ledger();
      const excused = excuse(ledger, restarts, gapReports(await readFile(tailerLog.path, 'utf8')));
      const fileLines = await readJsonOutput(out);
      const arrived = receiver.entries();
      const lokiLines = arrived.map(deliveredOf);
      const file = compareWithLedger(excused, fileLines.delivered);
      const loki = compareWithLedger(excused, lokiLines);
      return {
        file,
        fileGone: compareWithLedger(ledger, fileLines.delivered).lost - file.lost,
        damagedFileLines: fileLines.damaged,
        loki,
        lokiGone: compareWithLedger(ledger, lokiLines).lost - loki.lost,
        lokiReceiverDuplicates: receiver.stats().duplicates,
        lokiDeduplicated: compareWithLedger(excused, dedupe(arrived).map(deliveredOf)),
      };
    };
    await settle(outcome, opts.quietMs ?? 15_000);
    log('settled; stopping the tailer');
    sigtermExits.push(await current.stop('SIGTERM'));
    tailer = undefined;
    return {
      ...(await outcome()),
      peakRssBytes: peaks.rss,
      peakBufferedBytes: peaks.buffered,
      peakSpoolBytes: peaks.spool,
      maxBufferBytes,
      idleRssBytes,
      rssLimitBytes: idleRssBytes + RSS_WORKING_SET_BYTES + RSS_BUFFER_FACTOR * maxBufferBytes,
      sigtermExits,
    };
  } catch (error) {
    keep = true;
    throw error;
  } finally {
    clearInterval(sampler);
    for (const t of timers) clearTimeout(t);
    await tailer?.stop('SIGKILL');
    tailerLog.end();
    await receiver.close();
    await sim.close();
    if (keep) log(`work folder kept: ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

interface Tailer {
  readonly metricsUrl: string;
  /** Sends the signal and resolves with the exit code (128 + n for a signal) once the process is gone. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<number>;
}

async function startTailer(args: readonly string[], logTo: NodeJS.WritableStream): Promise<Tailer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, ...args, '--http-listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.pipe(logTo, { end: false });
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 1))),
  );
  return {
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await Promise.race([exited, sleep(30_000, undefined, { ref: false })]);
      if (code !== undefined) return code;
      child.kill('SIGKILL');
      await exited;
      return -1;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function sample(url: string, peaks: { rss: number; buffered: number; spool: number }): Promise<void> {
  const text = await fetch(url, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.text())
    .catch(() => '');
  peaks.rss = Math.max(peaks.rss, metricValue(text, 'process_resident_memory_bytes') ?? 0);
  peaks.buffered = Math.max(peaks.buffered, metricValue(text, 'tailer_buffered_bytes') ?? 0);
  peaks.spool = Math.max(peaks.spool, metricValue(text, 'tailer_spool_bytes') ?? 0);
}

/** The value of an unlabelled metric in Prometheus text exposition. */
export function metricValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
}

type Outcome = Pick<
  SoakResult,
  'file' | 'fileGone' | 'damagedFileLines' | 'loki' | 'lokiGone' | 'lokiReceiverDuplicates' | 'lokiDeduplicated'
>;

/** Waits until nothing is missing from either output, or neither has grown for `quietMs`. */
async function settle(outcome: () => Promise<Outcome>, quietMs: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const now = await outcome();
    if (now.file.lost + now.loki.lost === 0) return;
    const delivered = now.file.delivered + now.loki.delivered;
    if (delivered !== last) {
      last = delivered;
      since = Date.now();
    } else if (Date.now() - since > quietMs) {
      return;
    }
    await sleep(1000);
  }
}

export interface Restart {
  /** Epoch ms the old process was signalled. */
  readonly signalAt: number;
  /** Epoch ms the new process was started. */
  readonly startAt: number;
  /** UIDs of the pods deleted between the signal and POD_CHECK_MS after the start (filled in then). */
  readonly deletedPods: ReadonlySet<string>;
}

export interface GapReport {
  /** namespace/pod/container */
  readonly target: string;
  /** Epoch ms. */
  readonly at: number;
}

/** The tailer's warnings about lines it could not fetch (logfmt). */
export function gapReports(log: string): GapReport[] {
  const out: GapReport[] = [];
  for (const line of log.split('\n')) {
    if (!/level=warn msg="[^"]*(gap counted|cannot be fetched)/.test(line)) continue;
    const ts = /^ts=(\S+)/.exec(line)?.[1];
    const target = / target=(\S+)/.exec(line)?.[1];
    if (ts !== undefined && target !== undefined) out.push({ target, at: Date.parse(ts) });
  }
  return out;
}

/** The ledger with the lines that left the kubelet while no tailer ran marked unrecoverable (see the top). */
export function excuse<L extends LedgerLine>(ledger: readonly L[], restarts: readonly Restart[], gaps: readonly GapReport[]): L[] {
  const gapWindows = new Map<string, { from: number; to: number }[]>();
  for (const g of gaps) {
    const r = restarts.find((r) => g.at >= r.startAt && g.at <= r.startAt + GAP_REPORT_MS);
    if (r === undefined) continue;
    const list = gapWindows.get(g.target) ?? [];
    list.push({ from: r.signalAt - UNSAVED_MS, to: g.at });
    gapWindows.set(g.target, list);
  }
  const gone = (l: L): boolean => {
    const at = Date.parse(l.ts);
    if (restarts.some((r) => r.deletedPods.has(l.pod_uid) && at >= r.signalAt - UNSAVED_MS)) return true;
    const windows = gapWindows.get(`${l.namespace}/${l.pod}/${l.container}`) ?? [];
    return windows.some((w) => at >= w.from && at <= w.to);
  };
  return ledger.map((l) => (l.unrecoverable !== true && gone(l) ? { ...l, unrecoverable: true } : l));
}

/** RSS of a tailer following a namespace without pods, after it settled. */
async function measureIdleRss(dir: string): Promise<number> {
  const sim = await startSim({ scenario: 'none' });
  const kubeconfig = path.join(dir, 'idle.kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  const peaks = { rss: 0, buffered: 0, spool: 0 };
  const tailer = await startTailer(
    // With a Loki output, as in the run (nothing is pushed: there are no lines), so the idle figure includes it.
    [path.join(root, 'src/cli.ts'), '--kubeconfig', kubeconfig, '-n', 'idle', '-o', path.join(dir, 'idle.out'),
      '--loki-url', 'http://127.0.0.1:9', '--positions-file', path.join(dir, 'idle-positions.json'), '--log-level', 'error'],
    process.stderr,
  );
  try {
    // Two soaks starting at once on two cores can take the tailer more than a few seconds to come up.
    for (const deadline = Date.now() + 20_000; peaks.rss === 0 && Date.now() < deadline; ) {
      await sleep(250);
      await sample(tailer.metricsUrl, peaks);
    }
    await sleep(2500);
    for (let i = 0; i < 4; i++) {
      await sample(tailer.metricsUrl, peaks);
      await sleep(250);
    }
  } finally {
    await tailer.stop('SIGTERM');
    await sim.close();
  }
  if (peaks.rss === 0) throw new Error('the idle tailer served no metrics within 20 s');
  return peaks.rss;
}

/** Why the run failed; empty when it passed. */
export function failures(r: SoakResult): string[] {
  const out: string[] = [];
  if (r.loki.lost > 0) out.push(`Loki lost ${r.loki.lost} lines`);
  if (r.lokiDeduplicated.duplicated > 0) out.push(`Loki has ${r.lokiDeduplicated.duplicated} duplicates that differ in stream or timestamp`);
  if (r.file.lost > 0) out.push(`the file lost ${r.file.lost} lines`);
  if (r.damagedFileLines > 0) out.push(`the file has ${r.damagedFileLines} damaged lines`);
  if (r.loki.mislabelled + r.file.mislabelled > 0) {
    const examples = [...r.loki.examples.mislabelled, ...r.file.examples.mislabelled].slice(0, 3).join(' | ');
    out.push(`lines delivered with another restart number than their instance's: ${r.loki.mislabelled} in Loki, ${r.file.mislabelled} in the file (${examples})`);
  }
  if (r.peakRssBytes > r.rssLimitBytes) out.push(`peak RSS ${mib(r.peakRssBytes)} above the limit ${mib(r.rssLimitBytes)}`);
  if (r.peakRssBytes === 0) out.push('no memory sample from the tailer');
  const unclean = r.sigtermExits.filter((code) => code !== 0);
  if (unclean.length > 0) out.push(`the tailer exited ${unclean.join(', ')} after SIGTERM`);
  return out;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export function report(r: SoakResult): string {
  const l = r.loki;
  const f = r.file;
  return [
    `loki: lost=${l.lost} duplicated=${r.lokiReceiverDuplicates} (after dedup by stream+timestamp+line: ${r.lokiDeduplicated.duplicated}) gone=${r.lokiGone} reordered=${l.reordered} unknown=${l.unknown} mislabelled=${l.mislabelled} produced=${l.produced} unrecoverable=${l.unrecoverable} delivered=${l.delivered}`,
    `file: lost=${f.lost} duplicated=${f.duplicated} (written again after SIGKILL: acknowledged after the last positions save) gone=${r.fileGone} reordered=${f.reordered} unknown=${f.unknown} mislabelled=${f.mislabelled} damaged=${r.damagedFileLines} delivered=${f.delivered}`,
    `  gone: lines that left the kubelet while no tailer ran (rotated away, instance replaced twice, pod deleted): no API client can fetch them`,
    `memory: peak RSS ${mib(r.peakRssBytes)} (limit ${mib(r.rssLimitBytes)} = idle ${mib(r.idleRssBytes)} + working set ${mib(RSS_WORKING_SET_BYTES)} + ${RSS_BUFFER_FACTOR} x max-buffer-bytes ${mib(r.maxBufferBytes)}), peak buffered ${mib(r.peakBufferedBytes)}, peak spool ${mib(r.peakSpoolBytes)}`,
    ...[...l.examples.lost, ...f.examples.lost].slice(0, 5).map((e) => `  lost: ${e}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '120' },
      'max-buffer-bytes': { type: 'string', default: String(8 * MiB) },
      rate: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const durationSec = Number(values.duration);
  if (!Number.isFinite(durationSec) || durationSec < 12) throw new Error(`--duration takes seconds (at least 12), got ${values.duration}`);
  const maxBufferBytes = Number(values['max-buffer-bytes']);
  if (!Number.isFinite(maxBufferBytes) || maxBufferBytes <= 0) throw new Error(`--max-buffer-bytes takes a byte count, got ${values['max-buffer-bytes']}`);
  const linesPerSec = values.rate === undefined ? undefined : Number(values.rate);
  const result = await soak({ durationSec, maxBufferBytes, keep: values.keep, ...(linesPerSec === undefined ? {} : { linesPerSec }) });
  process.stdout.write(`${report(result)}\n`);
  const failed = failures(result);
  for (const why of failed) process.stdout.write(`FAIL: ${why}\n`);
  return failed.length === 0 ? 0 : 1;
}

runScript('soak', import.meta.filename, main);
