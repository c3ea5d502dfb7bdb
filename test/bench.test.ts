// The benchmark's own parts, on tiny inputs: the micro-benchmarks run, /proc and Prometheus text are read right,
// and targets are judged right. (The benchmark itself is `npm run bench`, not part of the test suite.)
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PODS, FULL_ROUNDS, PARTS, QUICK_ROUNDS, parseArgs } from '../bench/args.ts';
import { parseMetrics } from '../bench/children.ts';
import { runMicro, workingSet } from '../bench/micro.ts';
import { parseProc } from '../bench/proc.ts';
import { batchLines } from '../src/pipeline/block.ts';
import { defaultSnappy } from '../src/sinks/loki/snappy.ts';
import { countNewlines } from '../bench/reader.ts';
import { median, render, verdicts, type Results } from '../bench/report.ts';

test('every micro-benchmark runs once on a small input and reports a rate', async () => {
  const results = await runMicro({ lineBytes: 100, lines: 400, seconds: 0 });
  assert.deepEqual(results.map((r) => r.name), [
    'split + parse + cursor + block', 'batch (1 MiB)', 'Loki request planning', 'protobuf encode',
    `snappy compress (${defaultSnappy().implementation})`, 'snappy compress (snappyjs)', 'encode + snappy',
    'file output (text)', 'file output (json)',
  ]);
  for (const r of results) assert.ok(r.linesPerSec > 0 && r.mbPerSec > 0, r.name);
  const set = workingSet(45, 1024);
  assert.ok(batchLines(set) >= 45);
  assert.ok(set.every((b) => Array.from({ length: b.length }, (_, i) => b.utf8Bytes(i)).every((n) => n === 1024)));
  const first = set[0];
  assert.ok(first.length > 1 && Array.from({ length: first.length }, (_, i) => first.buffer(i)).every((buf) => buf === first.buffer(0)), 'a block is the lines of one chunk');
  assert.ok(first.buffer(0)!.length <= 16 * 1024, 'chunks the size of an h2 DATA frame');
  assert.ok(new Set(set.map((b) => b.target)).size > 1, 'containers take turns');
});

test('/proc stat and status give CPU seconds, RSS and peak RSS', () => {
  const stat = '4242 (node worker) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 11 0 100 1000000 2500';
  const s = parseProc(stat, 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n');
  assert.equal(s.rssBytes, 100 * 1024 * 1024);
  assert.equal(s.peakRssBytes, 200 * 1024 * 1024);
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  assert.equal(s.cpuSeconds, (250 + 50) / ticks, 'utime + stime, in clock ticks');
});

test('Prometheus text is summed per metric over label sets; newlines are counted', () => {
  const m = parseMetrics('# HELP x\ntailer_sink_lines_sent_total{sink="a"} 5\ntailer_sink_lines_sent_total{sink="b"} 7\nnodejs_eventloop_lag_p99_seconds 0.012\n');
  assert.equal(m.get('tailer_sink_lines_sent_total'), 12);
  assert.equal(m.get('nodejs_eventloop_lag_p99_seconds'), 0.012);
  assert.equal(countNewlines(Buffer.from('a\nb\n\nc')), 3);
});

test('targets are judged on what was measured', () => {
  const rate = (reader: 'ceiling' | 'tailer' | 'kubectl', linesPerSec: number) =>
    ({ reader, linesPerSec, mbPerSec: 1, cpuSecPerMillionLines: 1, peakRssBytes: 1, simCpu: 1 });
  const results: Results = {
    // Three rounds: tailer / kubectl 0.94, 1.10, 0.90 (median 0.94); tailer / ceiling 0.85, 0.55, 0.95 (median 0.85).
    throughput: [{
      lineBytes: 100, pods: 4, rounds: [
        { ceiling: rate('ceiling', 100), tailer: rate('tailer', 85), kubectl: rate('kubectl', 90) },
        { ceiling: rate('ceiling', 200), tailer: rate('tailer', 110), kubectl: rate('kubectl', 100) },
        { ceiling: rate('ceiling', 100), tailer: rate('tailer', 95), kubectl: rate('kubectl', 105.5) },
      ],
    }],
    fanout: [],
    recovery: {
      containers: 1000, maxConcurrentOpens: 16, peakOpensInFlight: 17, peakOpensPerSec: 300, recoverySec: 6,
      recoveredTargets: 1000, apiRequestsPerMinSteady: 0, apiRequestsPerMinRecovery: 100,
    },
    micro: [],
  };
  assert.deepEqual(verdicts(results).map((v) => [v.name, v.pass]), [
    ['throughput 100 B: tailer / ceiling', true],
    ['throughput 100 B: tailer / kubectl', false],
    ['recovery: stream opens in flight', false],
    ['recovery: seconds until 1000 targets deliver', true],
  ]);
  assert.deepEqual(verdicts(results).slice(0, 2).map((v) => v.value.toFixed(2)), ['0.85', '0.94']);
  const text = render(results);
  assert.match(text, /\| throughput 100 B: tailer \/ kubectl +\| >= 1 +\| +0\.94 \| +FAIL \|/);
  assert.match(text, /\| tailer +\| +95 \|.*\| 0\.85 \(0\.55–0\.95\) \| 0\.94 \(0\.90–1\.10\) \|/, 'median lines/s and the spread of the ratios');
});

test('median: the middle value, or the mean of the middle two', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

test('the command line: parts, rounds (full and quick defaults, --rounds), containers, and one-line errors for the rest', () => {
  assert.deepEqual(parseArgs([]), { quick: false, parts: new Set(PARTS), rounds: FULL_ROUNDS, pods: DEFAULT_PODS, cpuProf: false });
  assert.deepEqual(parseArgs(['--quick', '--only', 'throughput,micro']), {
    quick: true, parts: new Set(['throughput', 'micro']), rounds: QUICK_ROUNDS, pods: DEFAULT_PODS, cpuProf: false,
  });
  assert.deepEqual(parseArgs(['--quick', '--rounds', '7', '--pods', '16', '--cpu-prof']), {
    quick: true, parts: new Set(PARTS), rounds: 7, pods: 16, cpuProf: true,
  });
  assert.equal(parseArgs(['--rounds', '1']).rounds, 1);
  for (const bad of [['--rounds'], ['--rounds', '0'], ['--rounds', '2.5'], ['--rounds', 'many'], ['--rounds', '51']]) {
    assert.throws(() => parseArgs(bad), /^Error: --rounds must be a whole number from 1 to 50, got "[^"]*"$/, bad.join(' '));
  }
  assert.throws(() => parseArgs(['--pods', '101']), /^Error: --pods must be a whole number from 1 to 100, got "101"$/);
  assert.throws(() => parseArgs(['--only', 'speed']), /unknown --only part "speed": use throughput, fanout, recovery, micro/);
  assert.throws(() => parseArgs(['--rounds', '3', '--fast']), /unknown argument "--fast": use --quick, --only PARTS, --rounds N, --pods N, --cpu-prof/);
});
