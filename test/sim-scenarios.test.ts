// Every scenario, run briefly: lines carry instance and sequence, sequences are contiguous per instance in
// production order, and each scenario shows the behaviour it is named for.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SCENARIOS, startSim, type LedgerEntry, type Sim } from '../src/sim/index.ts';
import { parseTimestamp, compareTimestamps } from '../src/time/timestamp.ts';

const LINE = /^([^/]+)\/([^/]+)\/([^#]+)#(\d+) seq=(\d+)( |$)/;

async function run(scenario: string, ms: number, opts: Parameters<typeof startSim>[0] = {}): Promise<{ sim: Sim; ledger: LedgerEntry[] }> {
  const sim = await startSim({ scenario, seed: 42, ...opts });
  await sleep(ms);
  await sim.stopProducing();
  return { sim, ledger: sim.ledger() };
}

function checkSequences(ledger: LedgerEntry[]): Map<string, LedgerEntry[]> {
  const byInstance = new Map<string, LedgerEntry[]>();
  for (const e of ledger) {
    const m = LINE.exec(e.line);
    assert.ok(m, e.line);
    assert.deepEqual([m[1], m[2], m[3], Number(m[4])], [e.namespace, e.pod, e.container, e.restart]);
    const key = `${e.pod_uid}/${e.container}#${e.restart}`;
    const list = byInstance.get(key) ?? [];
    assert.equal(Number(m[5]), list.length + 1, `contiguous seq in ${key}`);
    list.push(e);
    byInstance.set(key, list);
    assert.match(e.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  }
  return byInstance;
}

const hasBackwardsTimestamp = (list: LedgerEntry[]) =>
  list.some((e, i) => i > 0 && compareTimestamps(parseTimestamp(e.ts)!, parseTimestamp(list[i - 1].ts)!) < 0);
const hasSharedTimestamp = (list: LedgerEntry[]) => list.some((e, i) => i > 0 && e.ts === list[i - 1].ts);

describe('scenarios', { concurrency: true }, () => {
  test('steady: init, sidecar, app and ephemeral containers write; all pods end Succeeded', async () => {
    const { sim, ledger } = await run('steady', 3500);
    try {
      const byInstance = checkSequences(ledger);
      const containers = new Set(ledger.map((e) => e.container));
      for (const c of ['init-db', 'proxy', 'app', 'worker', 'debugger']) assert.ok(containers.has(c), c);
      assert.ok(ledger.length > 200, `${ledger.length} lines`);
      assert.ok([...byInstance.values()].some(hasBackwardsTimestamp), 'stderr lines stamped before the previous line');
      assert.ok(sim.cluster.pods().every((p) => p.last.status.phase === 'Succeeded'));
      assert.equal(ledger.filter((e) => e.unrecoverable).length, 0);
    } finally {
      await sim.close();
    }
  });

  test('churn: pods are recreated under the same name with new uids', async () => {
    const { sim, ledger } = await run('churn', 4500);
    try {
      checkSequences(ledger);
      const uids = new Map<string, Set<string>>();
      for (const e of ledger) uids.set(e.pod, (uids.get(e.pod) ?? new Set()).add(e.pod_uid));
      assert.ok([...uids.values()].some((s) => s.size > 1));
    } finally {
      await sim.close();
    }
  });

  test('crashloop: instances die within a second and restart; previous logs are served', async () => {
    const { sim, ledger } = await run('crashloop', 3000);
    try {
      checkSequences(ledger);
      assert.ok(ledger.some((e) => e.pod.startsWith('crash-') && e.restart >= 2));
      const job = sim.cluster.getPod('crash', 'job-0');
      assert.ok(job !== undefined && (job.status.containerStatuses?.[0].restartCount ?? 0) >= 1);
    } finally {
      await sim.close();
    }
  });

  test('rotation: with no reader, rotated lines are unrecoverable', async () => {
    const { sim, ledger } = await run('rotation', 2000);
    try {
      checkSequences(ledger);
      const lost = ledger.filter((e) => e.unrecoverable);
      assert.ok(lost.length > 0 && lost.length < ledger.length);
    } finally {
      await sim.close();
    }
  });

  test('burst: many lines share one timestamp', async () => {
    const { sim, ledger } = await run('burst', 2500);
    try {
      const byInstance = checkSequences(ledger);
      assert.ok([...byInstance.values()].some(hasSharedTimestamp));
    } finally {
      await sim.close();
    }
  });

  test('many: hundreds of pods', async () => {
    const { sim, ledger } = await run('many', 1500);
    try {
      checkSequences(ledger);
      assert.equal(sim.cluster.pods().length, 300);
      assert.ok(ledger.length > 100);
    } finally {
      await sim.close();
    }
  });

  test('chaos: scenario faults are on, crashes, churn and bursts happen', async () => {
    const { sim, ledger } = await run('chaos', 3500);
    try {
      checkSequences(ledger);
      assert.ok(sim.cluster.faults.global.errorRate !== undefined);
      assert.ok(ledger.some((e) => e.pod.startsWith('crash-') && e.restart >= 1));
    } finally {
      await sim.close();
    }
  });

  test('every scenario name is covered', () => {
    assert.deepEqual([...SCENARIOS], ['none', 'steady', 'churn', 'crashloop', 'rotation', 'burst', 'many', 'chaos', 'flood']); // flood: test/sim-bench.test.ts
  });
});
