// The follower against the simulated API server over real HTTP (and h2), one way a stream dies per test: the kubelet's
// stream cut-off, a silent stall, a connection reset, rotation (both kubelet behaviours), a crash loop faster
// than a reconnect, a pod re-created under the same name, and containers that finish for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { KubeConfig } from '@kubernetes/client-node';
import { startSim, type Sim } from '../src/sim/index.ts';
import { KubeClient, type KubeStream } from '../src/kube/client.ts';
import { Limiter } from '../src/kube/limiter.ts';
import { Credit } from '../src/pipeline/credit.ts';
import { tail } from '../src/tailer.ts';
import { batchEntries, type HashedEntry } from '../src/pipeline/block.ts';
import type { LogEntry, TargetInfo } from '../src/pipeline/entry.ts';
import type { EndReason, FollowStart } from '../src/kube/follow.ts';
import { Cursor, lineHash } from '../src/kube/cursor.ts';
import { readText } from '../src/kube/chunks.ts';
import { PassThrough } from 'node:stream';
import { createLogger } from '../src/observe/log.ts';
import { compareWithLedger } from '../scripts/compare.ts';

interface Run {
  readonly sim: Sim;
  readonly reasons: EndReason[];
  readonly finished: Set<string>;
  readonly gaps: string[];
  stop(): Promise<HashedEntry[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(
  sim: Sim,
  follow: { stallTimeoutMs?: number; maxStreamAgeMs?: number; pausedCloseMs?: number } = {},
  credit = new Credit(64 << 20),
  extra: { startOf?: (t: TargetInfo) => FollowStart | undefined; client?: (client: KubeClient) => void } = {},
): Promise<Run> {
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  const client = new KubeClient(kc);
  extra.client?.(client);
  const stop$ = new Subject<void>();
  const reasons: EndReason[] = [];
  const finished = new Set<string>();
  const gaps: string[] = [];
  const name = (t: TargetInfo): string => `${t.pod}/${t.container}`;
  const lines = lastValueFrom(
    tail(
      {
        watch: { namespaces: [] },
        selection: {},
        follow: {
          stallTimeoutMs: follow.stallTimeoutMs ?? 60_000, maxStreamAgeMs: follow.maxStreamAgeMs ?? 3_600_000, sinceMs: undefined,
          maxLineBytes: 1 << 20, maxBackoffMs: 1000, recheckMs: 500, pausedCloseMs: follow.pausedCloseMs,
        },
      },
      {
        client,
        opens: new Limiter(8),
        credit,
        log: createLogger({ level: 'silent', format: 'json' }),
        events: {
          closed: (_t, reason) => reasons.push(reason),
          state: (t, state) => {
            if (state === 'finished') finished.add(name(t));
          },
          gap: (t, reason) => gaps.push(`${name(t)}:${reason}`),
        },
        startOf: extra.startOf,
      },
      stop$,
    ).pipe(toArray()),
  );
  return {
    sim,
    reasons,
    finished,
    gaps,
    async stop() {
      stop$.next();
      const out = batchEntries(await lines);
      await client.close();
      return out;
    },
  };
}

function check(sim: Sim, entries: readonly LogEntry[]): void {
  const r = compareWithLedger(
    sim.ledger(),
    entries.map((e) => ({ pod_uid: e.target.podUid, container: e.target.container, line: e.line, restart: e.restart })),
  );
  assert.ok(r.produced > 0, 'lines were produced');
  assert.deepEqual(
    { lost: r.lost, duplicated: r.duplicated, reordered: r.reordered, unknown: r.unknown, mislabelled: r.mislabelled },
    { lost: 0, duplicated: 0, reordered: 0, unknown: 0, mislabelled: 0 },
    JSON.stringify(r.examples),
  );
}

/** Writes `n` lines like a busy container: bursts sharing one timestamp, stderr lines stamped a little earlier. */
async function writeLines(sim: Sim, pod: string, container: string, n: number, everyMs: number, tag = ''): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) {
      const burst = sim.cluster.write('ns', pod, container, `${tag}burst-start ${i}`);
      for (let j = 0; j < 4 && burst !== undefined; j++) {
        sim.cluster.write('ns', pod, container, `${tag}burst ${i}.${j}`, { ts: parseLedgerTs(burst.ts) });
      }
    }
    const out = sim.cluster.write('ns', pod, container, `${tag}line ${i}`);
    if (out !== undefined && i % 7 === 3) {
      const t = parseLedgerTs(out.ts);
      sim.cluster.write('ns', pod, container, `${tag}stderr ${i}`, { ts: { sec: t.nsec >= 3_000_000 ? t.sec : t.sec - 1, nsec: (t.nsec + 1_000_000_000 - 3_000_000) % 1_000_000_000 }, stream: 'stderr' });
    }
    await sleep(everyMs);
  }
}

function parseLedgerTs(ts: string): { sec: number; nsec: number } {
  const sec = Math.floor(Date.parse(ts.slice(0, 19) + 'Z') / 1000);
  return { sec, nsec: Number(ts.slice(20, 29)) };
}

/** A cursor of instance 0 that has delivered these lines (as positions saved before a restart hold it). */
function shippedCursor(lines: readonly { ts: string; line: string }[]): Cursor {
  const cursor = new Cursor(0);
  for (const e of lines) {
    const ts = parseLedgerTs(e.ts);
    cursor.record(ts, lineHash(ts, e.line));
  }
  return cursor;
}

/** Writes lines `PREFIX 0` … `PREFIX n-1` to the pod's app container. */
function writeNumbered(sim: Sim, podName: string, prefix: string, n: number): void {
  for (let i = 0; i < n; i++) sim.cluster.write('ns', podName, 'app', `${prefix} ${i}`);
}

function pod(name: string, restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always'): Parameters<Sim['cluster']['createPod']>[0] {
  return { namespace: 'ns', name, restartPolicy, containers: [{ name: 'app' }] };
}

const streamFaults: {
  name: string;
  faults: Record<string, string>;
  follow: { stallTimeoutMs?: number; maxStreamAgeMs?: number };
  lines: number;
  everyMs: number;
  seen: (reasons: readonly EndReason[]) => boolean;
}[] = [
  {
    name: 'the kubelet cutting every stream after 0.7 s: bursts and backward timestamps are delivered once each',
    faults: { 'stream-max-age': '700ms' }, follow: {}, lines: 120, everyMs: 25,
    seen: (reasons) => reasons.filter((x) => x === 'eof').length >= 2,
  },
  {
    name: 'a stream that stays open but stops sending is reopened after the stall timeout',
    faults: { 'stall-after': '600ms' }, follow: { stallTimeoutMs: 400 }, lines: 80, everyMs: 25,
    seen: (reasons) => reasons.includes('stall'),
  },
  {
    name: 'abrupt connection resets resume exactly',
    faults: { 'reset-after': '500ms' }, follow: { maxStreamAgeMs: 900 }, lines: 100, everyMs: 20,
    seen: (reasons) => reasons.includes('error'),
  },
  {
    name: 'streams reopened at --max-stream-age resume exactly',
    faults: {}, follow: { maxStreamAgeMs: 400 }, lines: 100, everyMs: 20,
    seen: (reasons) => reasons.filter((x) => x === 'max_age').length >= 2,
  },
];

// Over TLS the streams share one h2 connection, and a reset or stall is one stream's, not the connection's.
for (const c of streamFaults) for (const tls of [false, true]) {
  test(`${c.name} (${tls ? 'h2 over TLS' : 'HTTP/1.1'})`, async () => {
    const sim = await startSim({ scenario: 'none', faults: c.faults, tls });
    try {
      sim.cluster.createPod(pod('web'));
      const r = await run(sim, c.follow);
      await sleep(200);
      await writeLines(sim, 'web', 'app', c.lines, c.everyMs);
      await sleep(2000);
      const entries = await r.stop();
      check(sim, entries);
      assert.ok(c.seen(r.reasons), `the fault was met and the streams reopened: ${r.reasons.join(',')}`);
    } finally {
      await sim.close();
    }
  });
}

/** Strips the timestamp of every fifth "line N" in the pod's log answers, as a proxy mangling the body would. */
function stripTimestamps(podName: string, stripped: { count: number }): (client: KubeClient) => void {
  const bare = /^\S+ (line \d*[05])$/;
  return (client) => {
    const open = client.open.bind(client);
    client.open = async (req, verb) => {
      const res = await open(req, verb);
      if (!req.path.endsWith(`/${podName}/log`)) return res;
      let rest = '';
      const body = new PassThrough();
      res.body.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const l of lines) {
          const m = bare.exec(l);
          if (m !== null) stripped.count++;
          body.write(`${m === null ? l : m[1]}\n`);
        }
      });
      res.body.on('end', () => body.end(rest));
      res.body.on('error', (err) => body.destroy(err));
      return { status: res.status, body };
    };
  };
}

test('lines that arrive without a timestamp keep their place, borrow the one before them, and are delivered once across reopens', async () => {
  // Not what a kubelet writes, but what a proxy mangling the body would hand over: every fifth "line N" loses its
  // timestamp, in every answer alike, while the kubelet's cut-off reopens the stream again and again.
  const sim = await startSim({ scenario: 'none', faults: { 'stream-max-age': '700ms' } });
  const stripped = { count: 0 };
  try {
    sim.cluster.createPod(pod('web'));
    const r = await run(sim, {}, undefined, { client: stripTimestamps('web', stripped) });
    await sleep(200);
    await writeLines(sim, 'web', 'app', 120, 25);
    await sleep(2000);
    const entries = await r.stop();
    check(sim, entries);
    assert.ok(r.reasons.filter((x) => x === 'eof').length >= 2, `the streams were reopened: ${r.reasons.join(',')}`);
    assert.ok(stripped.count > 24, `${stripped.count} lines arrived without a timestamp`);
    // The first line of an answer has no line before it to borrow from: it is stamped with the time it was read.
    let readTimes = 0;
    entries.forEach((e, i) => {
      if (!/^line \d*[05]$/.test(e.line)) return;
      const before = entries[i - 1].ts;
      if (e.ts.sec === before.sec && e.ts.nsec === before.nsec) return;
      readTimes++;
      assert.ok(e.ts.sec > before.sec || (e.ts.sec === before.sec && e.ts.nsec > before.nsec), `"${e.line}" is stamped after "${entries[i - 1].line}"`);
    });
    assert.ok(readTimes <= r.reasons.length + 1, `${readTimes} lines stamped with the time they were read, in ${r.reasons.length + 1} answers`);
    assert.ok(readTimes < stripped.count / 4, `${readTimes} of ${stripped.count} lines without a timestamp stamped with the time they were read`);
  } finally {
    await sim.close();
  }
});

test('lines that arrive without a timestamp are recognised in the replay after a restart from the saved position', async () => {
  const sim = await startSim({ scenario: 'none' });
  const stripped = { count: 0 };
  try {
    sim.cluster.createPod(pod('web'));
    const first = await run(sim, {}, undefined, { client: stripTimestamps('web', stripped) });
    await sleep(200);
    const writing = writeLines(sim, 'web', 'app', 120, 25);
    await sleep(1500);
    const before = await first.stop();
    // What the positions file saves: the shipped lines recorded block by block (timestamp carried, hash), as JSON.
    const shipped = new Cursor(0);
    for (const e of before) shipped.recordAt(e.ts.sec, e.ts.nsec, e.hash);
    const cursor = Cursor.fromJSON(JSON.parse(JSON.stringify(shipped)));
    const containerId = sim.cluster.findPod('ns', 'web')!.containers.get('app')!.current!.containerId;
    const second = await run(sim, {}, undefined, { startOf: () => ({ containerId, cursor }), client: stripTimestamps('web', stripped) });
    await writing;
    await sleep(1500);
    const after = await second.stop();
    assert.ok(before.some((e) => /^line \d*[05]$/.test(e.line)) && after.length > 0, 'the restart fell among the stripped lines');
    check(sim, [...before, ...after]);
    assert.ok(stripped.count > 24, `${stripped.count} lines arrived without a timestamp`);
  } finally {
    await sim.close();
  }
});

test('rotation: a pre-1.29 kubelet goes silent (stall → reopen), a 1.29+ one continues; nothing lost or repeated', async () => {
  for (const mode of ['stall', 'continue']) {
    const sim = await startSim({ scenario: 'none', faults: { rotation: mode } });
    try {
      sim.cluster.createPod(pod('web'));
      const r = await run(sim, { stallTimeoutMs: 500 });
      await sleep(200);
      await writeLines(sim, 'web', 'app', 20, 20);
      await sleep(300);
      assert.ok(sim.cluster.rotate('ns', 'web', 'app', { ifSafe: true }), 'rotated');
      await writeLines(sim, 'web', 'app', 20, 20, 'after rotation ');
      await sleep(1500);
      const entries = await r.stop();
      check(sim, entries);
      if (mode === 'stall') assert.ok(r.reasons.includes('stall'), `${mode}: ${r.reasons.join(',')}`);
    } finally {
      await sim.close();
    }
  }
});

test('a stream held back by backpressure past pausedCloseMs is closed and resumed from the cursor: nothing lost or repeated', async () => {
  const sim = await startSim({ scenario: 'none' });
  try {
    sim.cluster.createPod(pod('busy'));
    // Room for a few lines only, and nothing acknowledged for 1.5 s: a sink that is down.
    const credit = new Credit(2_000);
    const r = await run(sim, { pausedCloseMs: 300 }, credit);
    const writing = writeLines(sim, 'busy', 'app', 80, 10);
    await sleep(1500);
    assert.ok(r.reasons.includes('paused'), `the paused stream was closed: ${r.reasons.join(',')}`);
    // The sink is back: everything taken is acknowledged from now on.
    const ack = setInterval(() => credit.give(credit.inFlight), 20);
    try {
      await writing;
      await sleep(1500);
    } finally {
      clearInterval(ack);
    }
    check(sim, await r.stop());
  } finally {
    await sim.close();
  }
});

test('a crash loop faster than the follower: the dead instances are read with previous=true', async () => {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 50 } });
  try {
    sim.cluster.createPod(pod('crash'));
    const r = await run(sim);
    await sleep(300);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) sim.cluster.write('ns', 'crash', 'app', `round ${round} line ${i}`);
      sim.cluster.terminate('ns', 'crash', 'app', 1, 'Error');
      await sleep(150);
    }
    await sleep(1500);
    const entries = await r.stop();
    check(sim, entries);
    assert.ok(new Set(entries.map((e) => e.restart)).size >= 3, 'several instances were read');
  } finally {
    await sim.close();
  }
});

test('attached during a back-off, the lines of the dead instance carry its own restart number', async () => {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 1500 } });
  try {
    sim.cluster.createPod(pod('loop'));
    await sleep(100);
    sim.cluster.write('ns', 'loop', 'app', 'first');
    sim.cluster.terminate('ns', 'loop', 'app', 1, 'Error');
    await sleep(1700);
    writeNumbered(sim, 'loop', 'second', 5);
    sim.cluster.terminate('ns', 'loop', 'app', 1, 'Error');
    // The container waits to restart a second time: its status says restartCount 1, and the dead instance, the one
    // previous=true serves, is restart 1 (the instance that runs next will be restart 2).
    const r = await run(sim);
    await sleep(800);
    const entries = await r.stop();
    const second = entries.filter((e) => e.line.startsWith('second'));
    assert.equal(second.length, 5);
    assert.deepEqual([...new Set(second.map((e) => e.restart))], [1]);
  } finally {
    await sim.close();
  }
});

test('a follow answered after the container restarted (the open waited): the instance before is read first, each line under its own restart number', async () => {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 200 } });
  try {
    sim.cluster.createPod(pod('quick'));
    await sleep(200);
    writeNumbered(sim, 'quick', 'first', 5);
    // Opens wait 1.5 s: the follower decides on the first instance, which dies and is replaced before its answer.
    sim.cluster.faults.set({ slow: '1500ms' }, { namespace: 'ns', pod: 'quick', container: 'app' });
    const r = await run(sim);
    await sleep(300);
    sim.cluster.terminate('ns', 'quick', 'app', 1, 'Error');
    await sleep(600);
    writeNumbered(sim, 'quick', 'second', 5);
    sim.cluster.faults.clear({ namespace: 'ns', pod: 'quick', container: 'app' });
    await sleep(3000);
    check(sim, await r.stop());
  } finally {
    await sim.close();
  }
});

test('a dead instance read with previous=true after the next one died too: the answer is the next one, under its own restart number', async () => {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 300 } });
  try {
    sim.cluster.createPod(pod('fast'));
    await sleep(100);
    writeNumbered(sim, 'fast', 'first', 5);
    sim.cluster.terminate('ns', 'fast', 'app', 1, 'Error');
    await sleep(500);
    writeNumbered(sim, 'fast', 'second', 5);
    // Log requests wait 800 ms: the follower asks for the first instance's rest (previous=true) and, while it waits,
    // the second instance dies, so previous=true serves the second.
    sim.cluster.faults.set({ slow: '800ms' }, { namespace: 'ns', pod: 'fast', container: 'app' });
    const r = await run(sim);
    await sleep(200);
    sim.cluster.terminate('ns', 'fast', 'app', 1, 'Error');
    await sleep(3000);
    const entries = await r.stop();
    check(sim, entries);
    assert.deepEqual(r.gaps, ['fast/app:restart'], 'what was left of the first instance is gone');
  } finally {
    await sim.close();
  }
});

test('a crash-looping pod deleted while its dead instance is being read: no instance is read twice', async () => {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 300, deleteGraceMs: 5000 } });
  try {
    sim.cluster.createPod(pod('loop'));
    const r = await run(sim);
    await sleep(300);
    writeNumbered(sim, 'loop', 'first', 10);
    await sleep(300);
    sim.cluster.terminate('ns', 'loop', 'app', 1, 'Error');
    await sleep(600);
    writeNumbered(sim, 'loop', 'second', 10);
    await sleep(300);
    // From now on the container's log requests wait 600 ms: the read of the second instance's rest (previous=true)
    // is still waiting when the pod is deleted. Deletion ends the back-off: the second instance becomes the
    // container's terminated state, the first its last state, and previous=true serves the first again.
    sim.cluster.faults.set({ slow: '600ms' }, { namespace: 'ns', pod: 'loop', container: 'app' });
    sim.cluster.terminate('ns', 'loop', 'app', 1, 'Error');
    await sleep(100);
    void sim.cluster.deletePod('ns', 'loop');
    await sleep(3000);
    const entries = await r.stop();
    check(sim, entries);
    assert.deepEqual([...new Set(entries.map((e) => e.restart))], [0, 1]);
  } finally {
    await sim.close();
  }
});

test('a pod re-created under the same name is a new target; finished containers end their follower', async () => {
  const sim = await startSim({ scenario: 'none', cluster: { deleteGraceMs: 100 } });
  try {
    sim.cluster.createPod(pod('job', 'Never'));
    const r = await run(sim);
    await sleep(300);
    writeNumbered(sim, 'job', 'first', 10);
    await sleep(300);
    await sim.cluster.recreatePod('ns', 'job', { graceMs: 100 });
    await sleep(300);
    writeNumbered(sim, 'job', 'second', 10);
    await sleep(200);
    sim.cluster.terminate('ns', 'job', 'app', 0, 'Completed');
    await sleep(1500);
    const entries = await r.stop();
    check(sim, entries);
    assert.equal(new Set(entries.map((e) => e.target.podUid)).size, 2, 'two pod UIDs');
    assert.ok(r.finished.has('job/app'), 'the follower of the completed container finished');
  } finally {
    await sim.close();
  }
});

test('a log request answered after the pod was replaced under its name is not read as the old pod\'s log', async () => {
  // Log requests name the pod, not its UID: a tailer restarted while a StatefulSet-like pod is being replaced resumes
  // the old pod from its positions, and the request can reach the new pod, whose first lines read like the old one's.
  const sim = await startSim({ scenario: 'none' });
  try {
    const def = pod('db', 'Never');
    sim.cluster.createPod(def);
    await sleep(50);
    const texts = ['migrating', 'migrated', 'done'];
    const written = texts.map((text) => sim.cluster.write('ns', 'db', 'app', text)!);
    sim.cluster.terminate('ns', 'db', 'app', 0, 'Completed');
    const old = sim.cluster.findPod('ns', 'db')!;
    const containerId = old.containers.get('app')!.current!.containerId;
    // What the tailer had saved of the old pod before it was restarted: every line shipped.
    const cursor = shippedCursor(written);
    const deleted = sim.cluster.deletePod('ns', 'db', { graceMs: 200 });
    let replacedFirst = false;
    const r = await run(sim, {}, undefined, {
      startOf: (t) => (t.podUid === old.uid ? { containerId, cursor } : undefined),
      client: (client) => {
        const open = client.open.bind(client);
        // The old pod's log request is held until its successor has taken the name and logged the same lines.
        client.open = async (req, verb) => {
          if (!replacedFirst && req.path.endsWith('/db/log')) {
            replacedFirst = true;
            await deleted;
            sim.cluster.createPod(def);
            await sleep(50);
            for (const text of texts) sim.cluster.write('ns', 'db', 'app', text);
          }
          return open(req, verb);
        };
      },
    });
    await sleep(1500);
    const entries = await r.stop();
    assert.ok(replacedFirst, 'the old pod\'s log was asked for');
    assert.deepEqual(entries.filter((e) => e.target.podUid === old.uid).map((e) => e.line), [], 'nothing shipped as the old pod\'s');
    assert.deepEqual(entries.filter((e) => e.target.podUid !== old.uid).map((e) => e.line), texts, 'the new pod\'s lines, once');
    assert.ok(r.gaps.includes('db/app:pod_replaced'), r.gaps.join(','));
    assert.ok(r.finished.has('db/app'), 'the old pod\'s follower ended');
  } finally {
    await sim.close();
  }
});

/**
 * A tailer restarted while a container was restarting: its positions end inside instance 0 (two of its five lines
 * shipped), which has died since; instance 1 runs. `failPrevious` previous=true requests fail before any answer.
 */
async function restartedDuringRestart(
  failPrevious: number,
  opts: { oldLines?: number; previousBody?: (res: KubeStream) => Promise<KubeStream> } = {},
): Promise<{ entries: LogEntry[]; failed: number; gaps: string[] }> {
  const sim = await startSim({ scenario: 'none', cluster: { restartBackoffMs: 50 } });
  try {
    sim.cluster.createPod(pod('crash'));
    await sleep(50);
    const written = Array.from({ length: opts.oldLines ?? 5 }, (_, i) => sim.cluster.write('ns', 'crash', 'app', `old ${i}`)!);
    const first = sim.cluster.findPod('ns', 'crash')!;
    const containerId = first.containers.get('app')!.current!.containerId;
    sim.cluster.terminate('ns', 'crash', 'app', 1, 'Error');
    await sleep(200);
    writeNumbered(sim, 'crash', 'new', 3);
    const cursor = shippedCursor(written.slice(0, 2));
    let failed = 0;
    const r = await run(sim, {}, undefined, {
      startOf: (t) => (t.podUid === first.uid ? { containerId, cursor } : undefined),
      client: (client) => {
        const open = client.open.bind(client);
        client.open = async (req, verb) => {
          if (req.query?.previous === true && failed < failPrevious) {
            failed++;
            throw new Error('read ECONNRESET (injected)');
          }
          const res = await open(req, verb);
          return req.query?.previous === true && opts.previousBody !== undefined ? opts.previousBody(res) : res;
        };
      },
    });
    await sleep(failPrevious > 1 || opts.previousBody !== undefined ? 5000 : 2000);
    return { entries: await r.stop(), failed, gaps: r.gaps };
  } finally {
    await sim.close();
  }
}

test('a failed read of the previous instance is tried again before the new instance is followed: nothing lost', async () => {
  const { entries, failed, gaps } = await restartedDuringRestart(1);
  assert.equal(failed, 1, 'the first previous=true read failed');
  assert.deepEqual(entries.map((e) => `${e.restart}:${e.line}`), ['0:old 2', '0:old 3', '0:old 4', '1:new 0', '1:new 1', '1:new 2']);
  assert.deepEqual(gaps, []);
});

test('a previous instance that can never be read is given up after 5 tries as a counted gap; the new one is followed', async () => {
  const { entries, failed, gaps } = await restartedDuringRestart(Number.POSITIVE_INFINITY);
  assert.equal(failed, 5);
  assert.deepEqual(entries.map((e) => `${e.restart}:${e.line}`), ['1:new 0', '1:new 1', '1:new 2']);
  assert.deepEqual(gaps, ['crash/app:restart']);
});

test('reads of a previous instance cut again and again are not given up while each one gets further', async () => {
  // Each previous=true answer is cut right after the first line not shipped yet: 7 lines left take 7 reads, more
  // than the 5 failed tries after which an instance that cannot be read at all is given up.
  const shipped = new Set(['old 0', 'old 1']);
  const cutAfterNewLine = async (res: KubeStream): Promise<KubeStream> => {
    const lines = (await readText(res.body)).split('\n').filter((l) => l !== '');
    const upTo = lines.findIndex((l) => !shipped.has(l.slice(l.indexOf(' ') + 1)));
    const body = new PassThrough();
    for (const l of lines.slice(0, upTo + 1)) body.write(`${l}\n`);
    if (upTo === -1 || upTo === lines.length - 1) body.end();
    else setImmediate(() => body.destroy(new Error('read ECONNRESET (injected)')));
    if (upTo !== -1) shipped.add(lines[upTo].slice(lines[upTo].indexOf(' ') + 1));
    return { status: res.status, body };
  };
  const { entries, gaps } = await restartedDuringRestart(0, { oldLines: 9, previousBody: cutAfterNewLine });
  assert.deepEqual(entries.map((e) => `${e.restart}:${e.line}`), [
    ...Array.from({ length: 7 }, (_, i) => `0:old ${i + 2}`), '1:new 0', '1:new 1', '1:new 2',
  ]);
  assert.deepEqual(gaps, []);
});
