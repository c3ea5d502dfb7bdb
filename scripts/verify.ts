// `npm run verify -- --scenario NAME [--duration S] [--sink file|loki] [--fault K=V ...]`: runs the simulator
// for a scenario, runs the real `tailer` process against it, stops the tailer once the simulator has finished
// and the output is quiet, and compares the output with the ground-truth ledger.
// Prints `lost=N duplicated=N reordered=N mislabelled=N`; exits 1 when anything was lost, duplicated, reordered or
// delivered with another restart number than the instance that wrote it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../src/node-flags.ts';
import { startSim } from '../src/sim/index.ts';
import { startLokiReceiver, type LokiReceiver } from '../test/loki-receiver.ts';
import { compareWithLedger, dedupe, deliveredOf, readJsonOutput, type Comparison } from './compare.ts';
import { runScript } from './main.ts';

export interface VerifyOptions {
  readonly scenario: string;
  readonly durationSec: number;
  readonly sink: 'file' | 'loki';
  readonly faults?: Record<string, string>;
  /** Extra flags for the tailer (e.g. short stream lifetimes). */
  readonly tailerArgs?: readonly string[];
  /** How long the output must stay unchanged after production ended before the tailer is stopped. */
  readonly quietMs?: number;
  /** With the Loki sink: how long the receiver goes away in the middle of the run (default 30 s). */
  readonly lokiDownMs?: number;
  readonly log?: (msg: string) => void;
}

const root = path.resolve(import.meta.dirname, '..');

export async function verify(opts: VerifyOptions): Promise<Comparison> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`verify: ${m}\n`));
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-verify-'));
  const sim = await startSim({ scenario: opts.scenario, durationSec: opts.durationSec, faults: opts.faults });
  const loki = opts.sink === 'loki' ? await startLokiReceiver() : undefined;
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    const out = path.join(dir, 'out.jsonl');
    const output = loki === undefined ? ['-o', out, '--output-format', 'json'] : ['--loki-url', loki.url, '--loki-timeout', '2s'];
    const args = [
      path.join(root, 'src/cli.ts'),
      '--kubeconfig', kubeconfig, '-A', ...output, '--http-listen', '',
      '--log-format', 'logfmt', '--log-level', 'warn', '--since', '1h', '--data-dir', path.join(dir, 'data'),
      '--stall-timeout', '3s', '--loki-batch-wait', '200ms',
      ...(opts.tailerArgs ?? []),
    ];
    log(`scenario ${opts.scenario} for ${opts.durationSec}s, tailer: ${args.slice(1).join(' ')}`);
    const child = spawn(process.execPath, [...NODE_FLAGS, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
    });
    const exited = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
    const faults = loki === undefined ? undefined : lokiFaults(loki, opts.durationSec * 1000, opts.lokiDownMs ?? 30_000, log);
    await sim.produced;
    await faults;
    const expected = sim.ledger().filter((l) => !l.unrecoverable).length;
    log(`production ended: ${sim.ledger().length} lines produced; waiting for the output to settle`);
    const count = loki === undefined ? () => countLines(out) : async () => loki.stats().entries;
    await settle(count, expected, opts.quietMs ?? 5000, exited);
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) log(`tailer exited ${code}; its last stderr:\n${stderr.split('\n').slice(-20).join('\n')}`);
    if (loki === undefined) {
      const { delivered, damaged } = await readJsonOutput(out);
      if (damaged > 0) throw new Error(`${damaged} lines of the JSON output ${out} are not JSON`);
      return compareWithLedger(sim.ledger(), delivered);
    }
    const arrived = loki.entries();
    const kept = dedupe(arrived);
    log(`receiver: ${JSON.stringify(loki.stats())}; exact resends Loki drops: ${arrived.length - kept.length}`);
    return compareWithLedger(sim.ledger(), kept.map(deliveredOf));
  } finally {
    await loki?.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The receiver misbehaves the way Loki does under load: 429 (with Retry-After) on a share of pushes in the first
 * third of the run, 500 on a share of pushes in the second, then it goes away for `downMs`.
 */
async function lokiFaults(loki: LokiReceiver, runMs: number, downMs: number, log: (m: string) => void): Promise<void> {
  const third = Math.max(1000, Math.floor(runMs / 3));
  loki.setMode(429, { share: 0.3, forMs: third, retryAfter: '1' });
  await new Promise((r) => setTimeout(r, third));
  loki.setMode(500, { share: 0.3, forMs: third });
  await new Promise((r) => setTimeout(r, third));
  log(`receiver down for ${downMs} ms`);
  await loki.goDown(downMs);
  await loki.whenUp();
  log('receiver back');
}

async function countLines(file: string): Promise<number> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').length - 1;
}

/** Waits until the output holds `expected` lines, or has not grown for `quietMs`, or the tailer died. */
async function settle(count: () => Promise<number>, expected: number, quietMs: number, exited: Promise<number>): Promise<void> {
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  let last = -1;
  let since = Date.now();
  for (;;) {
    const lines = await count();
    if (lines >= expected || dead) return;
    if (lines !== last) {
      last = lines;
      since = Date.now();
    } else if (Date.now() - since > quietMs) {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function formatComparison(c: Comparison): string {
  return `lost=${c.lost} duplicated=${c.duplicated} reordered=${c.reordered} unknown=${c.unknown} mislabelled=${c.mislabelled} produced=${c.produced} unrecoverable=${c.unrecoverable} delivered=${c.delivered}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'steady' },
      duration: { type: 'string', default: '20' },
      sink: { type: 'string', default: 'file' },
      fault: { type: 'string', multiple: true, default: [] },
      'loki-down': { type: 'string', default: '30' },
    },
  });
  const sink = values.sink;
  if (sink !== 'file' && sink !== 'loki') throw new Error(`--sink must be file or loki, got ${sink}`);
  const faults: Record<string, string> = {};
  for (const f of values.fault) {
    const eq = f.indexOf('=');
    if (eq < 1) throw new Error(`--fault takes NAME=VALUE, got ${f}`);
    faults[f.slice(0, eq)] = f.slice(eq + 1);
  }
  const durationSec = Number(values.duration);
  const lokiDownMs = Number(values['loki-down']) * 1000;
  if (!(durationSec > 0) || !(lokiDownMs >= 0)) throw new Error('--duration and --loki-down take seconds');
  const result = await verify({ scenario: values.scenario, durationSec, sink, faults, lokiDownMs });
  process.stdout.write(`${formatComparison(result)}\n`);
  for (const [what, list] of Object.entries(result.examples)) {
    for (const ex of list) process.stdout.write(`  ${what}: ${ex}\n`);
  }
  return result.lost + result.duplicated + result.reordered + result.unknown + result.mislabelled === 0 ? 0 : 1;
}

runScript('verify', import.meta.filename, main);
