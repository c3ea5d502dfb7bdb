// `tailer sim` as a process: URL on the first stdout line, kubeconfig, ledger at the end of production,
// serving until SIGTERM; one-line errors for unknown scenario and fault names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './sim-helpers.ts';

const entry = new URL('../src/sim/cli.ts', import.meta.url).pathname;

function runSim(args: string[]) {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `import { simCommand } from ${JSON.stringify(entry)}; process.exitCode = await simCommand(${JSON.stringify(args)});`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

test('tailer sim prints its URL, writes kubeconfig and ledger, serves until SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    const ledger = join(dir, 'ledger.jsonl');
    const run = runSim(['--port', '0', '--scenario', 'steady', '--duration', '1', '--kubeconfig-out', kubeconfig, '--ledger-out', ledger]);
    const first = await new Promise<string>((resolve) => createInterface({ input: run.child.stdout }).once('line', resolve));
    const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
    assert.ok(m, first);
    const config = await readFile(kubeconfig, 'utf8');
    assert.match(config, new RegExp(`server: ${m[1]}`));
    assert.match(config, /insecure-skip-tls-verify: true/);
    const token = /token: (\S+)/.exec(config)?.[1];
    await waitFor(() => run.stderr().includes('production ended'), 10_000, 'end of production');
    const rows = (await readFile(ledger, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(rows.length > 20, `${rows.length} ledger lines`);
    assert.deepEqual(Object.keys(rows[0]), ['namespace', 'pod', 'pod_uid', 'container', 'restart', 'ts', 'line']);
    const res = await fetch(`${m[1]}/api/v1/pods`, { headers: { authorization: `Bearer ${token}` } });
    const list = await res.json() as { items: { status: { phase: string } }[] };
    assert.ok(list.items.every((p) => p.status.phase === 'Succeeded'), 'all containers terminated, still serving');
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0);
    assert.ok((await stat(ledger)).size > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('unknown scenario and fault names get one line listing the valid ones', async () => {
  const bad = runSim(['--scenario', 'nope']);
  assert.equal(await bad.exit, 2);
  assert.equal(bad.stderr(), 'tailer sim: unknown scenario "nope"; valid scenarios: none, steady, churn, crashloop, rotation, burst, many, chaos, flood\n');
  const fault = runSim(['--fault', 'boom=1']);
  assert.equal(await fault.exit, 2);
  assert.match(fault.stderr(), /^tailer sim: unknown fault "boom"; valid faults: stream-max-age, stall-after, reset-after, watch-drop-after, watch-410-rate, error-rate, slow, rotation\n$/);
});
