// The `tailer` command as a user runs it: one clear line and a non-zero exit for every kind of bad start, and a
// clean SIGTERM that flushes what was read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSim } from '../src/sim/index.ts';

const cli = path.resolve(import.meta.dirname, '../src/cli.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { env?: NodeJS.ProcessEnv; stopAfterMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, KUBECONFIG: '/nonexistent', HOME: tmpdir(), ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = opts.stopAfterMs !== undefined ? setTimeout(() => child.kill('SIGTERM'), opts.stopAfterMs) : undefined;
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function kubeconfig(server: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    `users: [{name: u, user: {token: ${token}}}]`,
    'contexts: [{name: c, context: {cluster: c, user: u, namespace: shop}}]',
    'current-context: c',
  ].join('\n');
}

async function tmp(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-cli-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

const oneLine = (r: Result): string => {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  return lines[0];
};

test('an unknown flag is a usage error with a suggestion', async () => {
  const r = await run(['--namspace', 'x']);
  assert.equal(r.code, 2);
  assert.match(oneLine(r), /unknown flag --namspace.*--namespace/);
});

test('a missing or broken kubeconfig says which file and what to fix', async () => {
  const missing = await run(['--kubeconfig', '/nonexistent/kubeconfig', '-A']);
  assert.equal(missing.code, 1);
  assert.match(oneLine(missing), /kubeconfig \/nonexistent\/kubeconfig does not exist/);
  const broken = await run(['--kubeconfig', await tmp('kc', 'clusters: [oops'), '-A']);
  assert.equal(broken.code, 1);
  assert.match(oneLine(broken), /cannot load kubeconfig .*kc/);
});

test('an unreachable API server', async () => {
  const r = await run(['--kubeconfig', await tmp('kc', kubeconfig('http://127.0.0.1:1', 't')), '-A', '--http-listen', '']);
  assert.equal(r.code, 1);
  assert.match(oneLine(r), /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:1.*check that the cluster is up/);
});

test('wrong credentials (401) and missing RBAC (403) name what to fix', async () => {
  const sim = await startSim({ scenario: 'none' });
  try {
    const r = await run(['--kubeconfig', await tmp('kc', kubeconfig(sim.url, 'wrong-token')), '-A', '--http-listen', '']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /401 Unauthorized.*refresh the kubeconfig's token/);
  } finally {
    await sim.close();
  }
  const forbidden = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods is forbidden: User "system:serviceaccount:x:y" cannot list resource "pods" in API group "" in the namespace "shop"', reason: 'Forbidden', code: 403 }));
  });
  await new Promise<void>((resolve) => forbidden.listen(0, '127.0.0.1', resolve));
  try {
    const port = (forbidden.address() as { port: number }).port;
    const r = await run(['--kubeconfig', await tmp('kc', kubeconfig(`http://127.0.0.1:${port}`, 't')), '--http-listen', '']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /forbidden \(403\): the user needs RBAC verb "list" on "pods" in namespace "shop"/, 'the context namespace is used, like kubectl');
  } finally {
    forbidden.close();
  }
});

test('with no kubeconfig anywhere the main job runs against the built-in simulated cluster; SIGTERM flushes and exits 0', async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'tailer-cli-')), 'out.jsonl');
  const data = path.dirname(out);
  const r = await run(['-A', '-o', out, '--output-format', 'json', '--http-listen', '', '--log-format', 'json', '--data-dir', data], { stopAfterMs: 4000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /No kubeconfig found.*built-in simulated cluster/);
  assert.match(r.stderr, /Processing new pod/);
  assert.match(r.stderr, /Tailing logs for container/);
  const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.length > 10, `lines shipped: ${lines.length}`);
  for (const key of ['ts', 'namespace', 'pod', 'pod_uid', 'container', 'line']) assert.ok(key in lines[0], key);
  const positions = JSON.parse(await readFile(path.join(data, 'positions.json'), 'utf8')) as { kind: string; targets: object };
  assert.equal(positions.kind, 'k8s-tailer-positions');
  assert.ok(Object.keys(positions.targets).length > 0, 'positions saved on shutdown');
});

test('--help lists the options', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--namespace', '--loki-url', '--stall-timeout', '--max-stream-age', '--output-file', '--positions-file']) assert.ok(r.stdout.includes(flag), flag);
});
