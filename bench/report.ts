// The benchmark's verdicts and tables: pure functions from measured results to PASS/FAIL lines and text.
import type { FanoutResult, RecoveryResult } from './fanout.ts';
import type { MicroResult } from './micro.ts';
import { ENCODE_COMPRESS } from './micro.ts';
import type { RateResult } from './throughput.ts';

export interface ThroughputRun {
  readonly lineBytes: number;
  readonly pods: number;
  readonly ceiling: RateResult;
  readonly tailer: RateResult;
  readonly kubectl: RateResult | undefined;
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
    const ratio = t.tailer.linesPerSec / t.ceiling.linesPerSec;
    out.push({ name: `throughput ${t.lineBytes} B: tailer / ceiling`, value: ratio, target: `>= ${TARGETS.ceilingRatio}`, pass: ratio >= TARGETS.ceilingRatio });
    if (t.kubectl !== undefined) {
      const k = t.tailer.linesPerSec / t.kubectl.linesPerSec;
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
      for (const x of [t.ceiling, t.tailer, t.kubectl]) {
        if (x === undefined) continue;
        rows.push([
          `${t.lineBytes} B x ${t.pods}`, x.reader, int(x.linesPerSec), fixed(x.mbPerSec), fixed(x.cpuSecPerMillionLines, 2),
          fixed(x.peakRssBytes / MIB, 0), fixed(x.simCpu, 2), x === t.tailer ? fixed(x.linesPerSec / t.ceiling.linesPerSec, 2) : '',
          x === t.tailer && t.kubectl !== undefined ? fixed(x.linesPerSec / t.kubectl.linesPerSec, 2) : '',
        ]);
      }
    }
    parts.push('Throughput (flooding containers)\n' + table(
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
