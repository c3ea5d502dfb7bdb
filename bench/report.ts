// The benchmark's verdicts and tables: pure functions from measured results to PASS/FAIL lines and text.
import type { FanoutResult, RecoveryResult } from './fanout.ts';
import type { MicroResult } from './micro.ts';
import { ENCODE_COMPRESS } from './micro.ts';
import type { RateResult } from './throughput.ts';

/** The three readers measured one after the other on the same streams. */
export interface ThroughputRound {
  readonly ceiling: RateResult;
  readonly tailer: RateResult;
  readonly kubectl: RateResult | undefined;
}

/**
 * One line size, measured in rounds. A ratio is taken within each round (readers measured minutes apart see a
 * different machine), and the verdict is the median ratio over the rounds: one round's ratio moves ±10–25 % here.
 */
export interface ThroughputRun {
  readonly lineBytes: number;
  readonly pods: number;
  readonly rounds: readonly ThroughputRound[];
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Tailer / ceiling and tailer / kubectl of each round (kubectl: only rounds that ran it). */
export function ratios(run: ThroughputRun): { ceiling: number[]; kubectl: number[] } {
  const ceiling = run.rounds.map((r) => r.tailer.linesPerSec / r.ceiling.linesPerSec);
  const kubectl = run.rounds.flatMap((r) => (r.kubectl === undefined ? [] : [r.tailer.linesPerSec / r.kubectl.linesPerSec]));
  return { ceiling, kubectl };
}

/** A reader's figures over the rounds: the median of each (peak RSS: the highest). */
export function medianRate(rates: readonly RateResult[]): RateResult {
  const m = (f: (r: RateResult) => number): number => median(rates.map(f));
  return {
    reader: rates[0].reader, linesPerSec: m((r) => r.linesPerSec), mbPerSec: m((r) => r.mbPerSec),
    cpuSecPerMillionLines: m((r) => r.cpuSecPerMillionLines), peakRssBytes: Math.max(...rates.map((r) => r.peakRssBytes)),
    simCpu: m((r) => r.simCpu),
  };
}

export interface Results {
  readonly throughput: readonly ThroughputRun[];
  readonly fanout: readonly FanoutResult[];
  readonly recovery: RecoveryResult | undefined;
  readonly micro: readonly MicroResult[];
}

export interface Verdict {
  readonly name: string;
  readonly value: number;
  readonly target: string;
  readonly pass: boolean;
}

export const TARGETS = {
  ceilingRatio: 0.8,
  kubectlRatio: 1.0,
  rssPerContainerBytes: 64 * 1024,
  rssAtContainers: 1000,
  recoverySec: 30,
  encodeMbPerSec: 100,
} as const;

const KIB = 1024;
const MIB = 1024 * 1024;

/** Every target the issue sets, judged on what was measured (a target whose run was skipped is left out). */
export function verdicts(r: Results): Verdict[] {
  const out: Verdict[] = [];
  for (const t of r.throughput) {
    const { ceiling, kubectl } = ratios(t);
    const c = median(ceiling);
    out.push({ name: `throughput ${t.lineBytes} B: tailer / ceiling`, value: c, target: `>= ${TARGETS.ceilingRatio}`, pass: c >= TARGETS.ceilingRatio });
    if (kubectl.length > 0) {
      const k = median(kubectl);
      out.push({ name: `throughput ${t.lineBytes} B: tailer / kubectl`, value: k, target: `>= ${TARGETS.kubectlRatio}`, pass: k >= TARGETS.kubectlRatio });
    }
  }
  const at = r.fanout.find((f) => f.reader === 'tailer' && f.containers === TARGETS.rssAtContainers);
  if (at !== undefined) {
    out.push({
      name: `RSS per followed container at ${at.containers} (KiB)`, value: at.rssPerContainerBytes / KIB,
      target: `<= ${TARGETS.rssPerContainerBytes / KIB}`, pass: at.rssPerContainerBytes <= TARGETS.rssPerContainerBytes,
    });
  }
  if (r.recovery !== undefined) {
    const rec = r.recovery;
    out.push({
      name: 'recovery: stream opens in flight', value: rec.peakOpensInFlight, target: `<= ${rec.maxConcurrentOpens}`,
      pass: rec.peakOpensInFlight <= rec.maxConcurrentOpens,
    });
    out.push({
      name: `recovery: seconds until ${rec.containers} targets deliver`, value: rec.recoverySec ?? Number.POSITIVE_INFINITY,
      target: `<= ${TARGETS.recoverySec}`, pass: rec.recoverySec !== undefined && rec.recoverySec <= TARGETS.recoverySec,
    });
  }
  for (const m of r.micro.filter((x) => x.name === ENCODE_COMPRESS)) {
    out.push({
      name: `${ENCODE_COMPRESS} ${m.lineBytes} B lines (MB/s of text)`, value: m.mbPerSec, target: `>= ${TARGETS.encodeMbPerSec}`,
      pass: m.mbPerSec >= TARGETS.encodeMbPerSec,
    });
  }
  return out;
}

/** A Markdown table: the first `textColumns` columns left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], textColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < textColumns ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fixed = (n: number | undefined, digits = 1): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

export function render(r: Results): string {
  const parts: string[] = [];
  if (r.throughput.length > 0) {
    const rows: string[][] = [];
    for (const t of r.throughput) {
      const q = ratios(t);
      const spread = (values: readonly number[]): string =>
        values.length === 0 ? '' : `${fixed(median(values), 2)} (${fixed(Math.min(...values), 2)}–${fixed(Math.max(...values), 2)})`;
      const kubectlRates = t.rounds.flatMap((x) => (x.kubectl === undefined ? [] : [x.kubectl]));
      const readers = [medianRate(t.rounds.map((x) => x.ceiling)), medianRate(t.rounds.map((x) => x.tailer))];
      if (kubectlRates.length > 0) readers.push(medianRate(kubectlRates));
      for (const x of readers) {
        rows.push([
          `${t.lineBytes} B x ${t.pods}`, x.reader, int(x.linesPerSec), fixed(x.mbPerSec), fixed(x.cpuSecPerMillionLines, 2),
          fixed(x.peakRssBytes / MIB, 0), fixed(x.simCpu, 2), x.reader === 'tailer' ? spread(q.ceiling) : '',
          x.reader === 'tailer' ? spread(q.kubectl) : '',
        ]);
      }
    }
    const rounds = Math.max(...r.throughput.map((t) => t.rounds.length));
    parts.push(`Throughput (flooding containers; medians of ${rounds} round${rounds === 1 ? '' : 's'}, ratios: median (lowest–highest round))\n` + table(
      ['lines x containers', 'reader', 'lines/s', 'MB/s', 'CPU s / M lines', 'peak RSS MiB', 'sim CPU', '/ ceiling', '/ kubectl'], rows, 2));
  }
  if (r.fanout.length > 0) {
    parts.push('Fan-out (1 line/s per container)\n' + table(
      ['reader', 'containers', 'open in s', 'RSS MiB', 'KiB / container', 'CPU', 'loop lag p99 ms', 'loop lag max ms', 'API req/min'],
      r.fanout.map((f) => [
        f.reader, int(f.containers), fixed(f.openSec), fixed(f.rssBytes / MIB, 0), fixed(f.rssPerContainerBytes / KIB, 0),
        fixed(f.cpu, 3), fixed(f.eventLoopLagP99Ms), fixed(f.eventLoopLagMaxMs), fixed(f.apiRequestsPerMin, 0),
      ]), 1));
  }
  if (r.recovery !== undefined) {
    const rec = r.recovery;
    parts.push('API load and recovery (every connection dropped at once)\n' + table(['measure', 'value'], [
      ['targets', int(rec.containers)],
      ['API requests/min, steady', fixed(rec.apiRequestsPerMinSteady, 0)],
      ['API requests/min, during recovery', fixed(rec.apiRequestsPerMinRecovery, 0)],
      ['peak stream opens/s', fixed(rec.peakOpensPerSec, 0)],
      [`peak opens in flight (--max-concurrent-opens ${rec.maxConcurrentOpens})`, int(rec.peakOpensInFlight)],
      ['seconds until every target delivers again', rec.recoverySec === undefined ? `never (${rec.recoveredTargets} did)` : fixed(rec.recoverySec)],
    ], 1));
  }
  if (r.micro.length > 0) {
    parts.push('Pipeline micro-benchmarks (one core)\n' + table(['stage', 'line', 'lines/s', 'MB/s of text'],
      r.micro.map((m) => [m.name, `${m.lineBytes} B`, int(m.linesPerSec), fixed(m.mbPerSec)]), 2));
  }
  const v = verdicts(r);
  if (v.length > 0) {
    parts.push('Targets\n' + table(['', 'target', 'value', 'verdict'],
      v.map((x) => [x.name, x.target, fixed(x.value, 2), x.pass ? 'PASS' : 'FAIL']), 2));
  }
  return parts.join('\n\n');
}
