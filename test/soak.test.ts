// The soak run, shortened: chaos for 30 s with SIGTERM + restart, Loki down for 10 s, SIGKILL + restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { excuse, failures, gapReports, metricValue, report, soak, type Restart } from '../scripts/soak.ts';
import type { LedgerLine } from '../scripts/compare.ts';

test('soak: chaos, receiver down, SIGTERM and SIGKILL restarts: nothing lost, memory bounded', { timeout: 90_000 }, async () => {
  const result = await soak({ durationSec: 30, log: () => undefined });
  const text = report(result);
  assert.deepEqual(failures(result), [], text);
  assert.equal(result.loki.lost, 0, text);
  assert.equal(result.file.lost, 0, text);
  assert.equal(result.lokiDeduplicated.duplicated, 0, text);
  assert.ok(result.loki.delivered > 1000, text);
  assert.ok(result.peakSpoolBytes > 0, `the outage must have been spooled\n${text}`);
  assert.deepEqual(result.sigtermExits, [0, 0], text);
  assert.match(text, /^loki: lost=0 duplicated=\d+ /m);
  assert.match(text, /^file: lost=0 /m);
});

test('metricValue reads an unlabelled sample', () => {
  const text = '# HELP x y\nprocess_resident_memory_bytes 123456\ntailer_buffered_bytes 0\n';
  assert.equal(metricValue(text, 'process_resident_memory_bytes'), 123456);
  assert.equal(metricValue(text, 'tailer_spool_bytes'), undefined);
});

test('excuse: only lines around a restart whose pod was deleted or whose container had a gap reported', () => {
  const at = (ms: number): string => new Date(ms).toISOString();
  const t = 1_700_000_000_000;
  const line = (pod: string, uid: string, ms: number): LedgerLine => ({
    namespace: 'chaos', pod, pod_uid: uid, container: 'worker', line: `${pod}@${ms}`, ts: at(ms),
  });
  const restarts: Restart[] = [{ signalAt: t, startAt: t + 1000, deletedPods: new Set(['uid-deleted']) }];
  const log = [
    `ts=${at(t + 2000)} level=warn msg="Lines between two reads are gone from the kubelet (rotated away while disconnected): gap counted" target=chaos/rot-0/worker`,
    `ts=${at(t + 2000)} level=warn msg="Log stream failed, reconnecting" target=chaos/web-0/app error="x"`,
    `ts=${at(t + 60_000)} level=warn msg="Container restarted more than once while we were away: lines of the lost instances cannot be fetched" target=chaos/crash-0/worker restart=3`,
  ].join('\n');
  const gaps = gapReports(log);
  assert.equal(gaps.length, 2);
  const ledger = [
    line('rot-0', 'uid-rot', t - 1000), // gap after the restart, written just before the signal: gone
    line('rot-0', 'uid-rot', t - 60_000), // long before: was in the saved positions, so lost if missing
    line('rot-0', 'uid-rot', t + 5000), // after the gap was reported: fetchable
    line('web-0', 'uid-deleted', t + 500), // pod deleted while down
    line('web-1', 'uid-alive', t + 500), // no gap, pod alive
    line('crash-0', 'uid-crash', t + 59_000), // gap reported long after the restart: not excused
  ];
  const marked = excuse(ledger, restarts, gaps).map((l) => l.unrecoverable === true);
  assert.deepEqual(marked, [true, false, false, true, false, false]);
});
