// The simulator against the real kubectl over HTTPS and h2 (kubectl never sends a bearer token over plain HTTP).
// Skipped where kubectl is not installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startSim, type Sim } from '../src/sim/index.ts';
import { formatTimestamp, nowTimestamp } from '../src/time/timestamp.ts';
import { lines, waitFor } from './sim-helpers.ts';

const kubectl = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'kubectl')).find((p) => existsSync(p));

interface Result { code: number | null; stdout: string; stderr: string }

describe('kubectl against the simulator', { skip: kubectl === undefined ? 'kubectl not installed' : false }, () => {
  let sim: Sim;
  let dir: string;
  let args: string[];

  before(async () => {
    sim = await startSim({ scenario: 'none', tls: true, cluster: { restartBackoffMs: 100, deleteGraceMs: 50 } });
    dir = await mkdtemp(join(tmpdir(), 'kubectl-sim-'));
    await sim.writeKubeconfig(join(dir, 'kubeconfig'));
    args = ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache')];
  });

  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  function run(...extra: string[]): Promise<Result> {
    return new Promise((resolve) => {
      execFile(kubectl!, [...args, ...extra], { timeout: 20_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
        resolve({ code, stdout, stderr });
      });
    });
  }

  function start(...extra: string[]) {
    const child = spawn(kubectl!, [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exit, stdout: () => stdout, stderr: () => stderr };
  }

  test('kubectl get pods -A verifies the generated CA and lists every namespace', async () => {
    sim.cluster.createPod({ namespace: 'prod', name: 'web-0', containers: [{ name: 'app' }] });
    sim.cluster.createPod({ namespace: 'staging', name: 'worker-0', containers: [{ name: 'worker' }] });
    const r = await run('get', 'pods', '-A');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAMESPACE\s+NAME/);
    assert.match(r.stdout, /\nprod\s+web-0\s/);
    assert.match(r.stdout, /\nstaging\s+worker-0\s/);
  });

  test('kubectl get pods -w shows pods created later', async () => {
    const w = start('get', 'pods', '-n', 'watched', '-w');
    try {
      sim.cluster.createPod({ namespace: 'watched', name: 'first', containers: [{ name: 'app' }] });
      await waitFor(() => w.stdout().includes('first'), 10_000, 'first in the watch output');
      sim.cluster.createPod({ namespace: 'watched', name: 'second', containers: [{ name: 'app' }] });
      await waitFor(() => w.stdout().includes('second'), 10_000, 'second in the watch output');
    } finally {
      w.child.kill('SIGTERM');
      await w.exit;
    }
  });

  test('kubectl logs -f --timestamps streams with nine fraction digits and exits 0 when the container ends', async () => {
    const c = sim.cluster;
    c.createPod({ namespace: 'logs', name: 'follow', containers: [{ name: 'app' }] });
    c.write('logs', 'follow', 'app', 'early');
    const f = start('logs', '-n', 'logs', 'follow', '-f', '--timestamps');
    await waitFor(() => f.stdout().includes('early'), 10_000, 'the first line');
    assert.equal(sim.stats().http2Connections, 1, "Go's client negotiates h2 with the sim, as with kube-apiserver");
    c.write('logs', 'follow', 'app', 'live', { ts: { sec: nowTimestamp().sec, nsec: 120_000_000 } });
    await waitFor(() => f.stdout().includes('live'), 10_000, 'the live line');
    c.terminate('logs', 'follow', 'app', 0);
    assert.equal(await f.exit, 0, f.stderr());
    const out = f.stdout().trim().split('\n');
    assert.equal(out.length, 2);
    assert.match(out[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z early$/);
    assert.match(out[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.120000000Z live$/);
  });

  test('kubectl logs --previous reads the dead instance', async () => {
    const c = sim.cluster;
    c.createPod({ namespace: 'logs', name: 'crashy', containers: [{ name: 'app' }] });
    c.write('logs', 'crashy', 'app', 'before the crash');
    c.terminate('logs', 'crashy', 'app', 1);
    await waitFor(() => c.findPod('logs', 'crashy')?.app[0].phase === 'running');
    c.write('logs', 'crashy', 'app', 'after the restart');
    const prev = await run('logs', '-n', 'logs', 'crashy', '--previous');
    assert.equal(prev.code, 0, prev.stderr);
    assert.deepEqual(lines(prev.stdout), ['before the crash']);
    const cur = await run('logs', '-n', 'logs', 'crashy');
    assert.deepEqual(lines(cur.stdout), ['after the restart']);
  });

  test('kubectl logs --since-time has one-second precision: the whole second is replayed', async () => {
    const c = sim.cluster;
    c.createPod({ namespace: 'logs', name: 'since', containers: [{ name: 'app' }] });
    const sec = nowTimestamp().sec - 5;
    c.write('logs', 'since', 'app', 'previous second', { ts: { sec: sec - 1, nsec: 900_000_000 } });
    c.write('logs', 'since', 'app', 'start of second', { ts: { sec, nsec: 100_000_000 } });
    c.write('logs', 'since', 'app', 'end of second', { ts: { sec, nsec: 800_000_000 } });
    const r = await run('logs', '-n', 'logs', 'since', `--since-time=${formatTimestamp({ sec, nsec: 500_000_000 })}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ['start of second', 'end of second']);
  });

  test('kubectl prints the Status message of a log error and exits 1', async () => {
    sim.cluster.createPod({ namespace: 'logs', name: 'waiting', initContainers: [{ name: 'init' }], containers: [{ name: 'app' }] });
    const r = await run('logs', '-n', 'logs', 'waiting', '-c', 'app');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(BadRequest\): container "app" in pod "waiting" is waiting to start: PodInitializing/);
    const missing = await run('logs', '-n', 'logs', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error from server \(NotFound\): pods "nope" not found in namespace "logs"/);
  });
});
