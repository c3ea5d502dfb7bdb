// The production modes as an operator runs them: the real `tailer` process against the simulated cluster, observed
// through its HTTP endpoint (/metrics, /healthz, /ready) and its outputs. Sharding, node-local (DaemonSet) and
// sidecar (--self) selection are checked against what the simulator produced.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../src/config/resolve.ts';
import { METRIC_NAMES } from '../src/observe/metrics.ts';
import { VERSION } from '../src/run.ts';
import { shardOf } from '../src/selection.ts';
import { startSim, type Sim } from '../src/sim/index.ts';
import { startLokiReceiver } from './loki-receiver.ts';

const CLI = path.resolve(import.meta.dirname, '../src/cli.ts');
// Each test takes a few seconds; a hang fails it instead of the whole run.
const TEST_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------------------------
// Helpers: a tailer process, its metrics, its file output

/** Variables that would select a mode by themselves, kept out of the children's environment. */
const MODE_VARIABLES = /^(TAILER_.*|KUBECONFIG|NODE_NAME|POD_NAME|POD_NAMESPACE|CONTAINER_NAME)$/;

interface Tailer {
  /** Base URL of /metrics, /healthz and /ready. */
  readonly url: string;
  /** The JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number>;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tailer-production-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startCluster(t: TestContext, opts: Parameters<typeof startSim>[0]): Promise<{ sim: Sim; kubeconfig: string }> {
  const sim = await startSim(opts);
  t.after(() => sim.close());
  const kubeconfig = path.join(tempDir(t), 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  return { sim, kubeconfig };
}

/**
 * Starts `tailer` with a fresh data dir and an ephemeral HTTP port; resolves once the HTTP endpoint is up. The URL
 * comes from the info-level log line, so `args` must not raise --log-level above info.
 */
async function startTailer(t: TestContext, kubeconfig: string, args: string[], env: Record<string, string> = {}): Promise<Tailer> {
  const data = tempDir(t);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !MODE_VARIABLES.test(k)));
  const child = spawn(
    process.execPath,
    [CLI, '--kubeconfig', kubeconfig, '--http-listen', '127.0.0.1:0', '--log-format', 'json', '--status=false', '--data-dir', data,
      '--since', '1h', '--loki-batch-wait', '100ms', ...args],
    { env: { ...base, HOME: data, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  const logs: Record<string, unknown>[] = [];
  const url = new Promise<string>((resolve, reject) => {
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'Serving /metrics, /healthz and /ready') resolve(String(entry.url));
      }
    });
    void exited.then((code) => reject(new Error(`tailer exited ${code} before serving HTTP:\n${stderr}`)));
  });
  return {
    url: await url,
    logs: () => [...logs],
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  readonly text: string;
  readonly samples: readonly Sample[];
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

/** The sum of the samples of `name` whose labels include `labels`; undefined when there is no such sample. */
function total(s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return matching.length === 0 ? undefined : matching.reduce((sum, x) => sum + x.value, 0);
}

async function until<T>(what: string, probe: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface OutLine {
  readonly namespace: string;
  readonly pod: string;
  readonly pod_uid: string;
  readonly container: string;
  readonly line: string;
}

/** Complete JSON lines of a file output so far. */
function readOutput(file: string): OutLine[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as OutLine);
}

// ---------------------------------------------------------------------------------------------------------------
// /metrics, /healthz, /ready

test('/metrics exposes every metric, and the counters move while the tailer ships to Loki and a file', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { sim, kubeconfig } = await startCluster(t, { scenario: 'steady', faults: { 'stream-max-age': '1s' } });
  // Loki's line limit made small, so that one long line is refused while the tailer's own limit lets it through.
  const loki = await startLokiReceiver({ validate: { maxLineBytes: 1000 } });
  t.after(() => loki.close());
  const out = path.join(tempDir(t), 'out.jsonl');
  const tailer = await startTailer(t, kubeconfig, ['-A', '-o', out, '--output-format', 'json', '--loki-url', loki.url]);
  const lokiSink = { sink: `loki:${new URL(loki.url).host}` };
  const fileSink = { sink: `file:${out}` };

  // The target gauges are refreshed on an interval: wait for the first refresh that saw followed containers.
  const first = await until('following targets and lines sent to Loki', () => scrape(tailer.url), (s) =>
    (total(s, 'tailer_targets', { state: 'following' }) ?? 0) > 0 && (total(s, 'tailer_sink_lines_sent_total', lokiSink) ?? 0) > 0);
  for (const name of METRIC_NAMES) assert.match(first.text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is not exposed`);
  assert.notEqual(total(first, 'tailer_buffered_bytes'), undefined, 'tailer_buffered_bytes has a value');
  assert.notEqual(total(first, 'tailer_spool_bytes'), undefined, 'tailer_spool_bytes has a value');
  assert.equal(total(first, 'tailer_build_info', { version: VERSION }), 1);
  assert.ok((total(first, 'tailer_open_streams') ?? 0) > 0, 'streams are open');

  sim.cluster.createPod({ namespace: 'prod', name: 'long-0', containers: [{ name: 'app', image: 'busybox' }] });
  assert.ok(sim.cluster.write('prod', 'long-0', 'app', 'x'.repeat(2000)));

  const moving: [string, Record<string, string>?][] = [
    ['tailer_lines_read_total'], ['tailer_bytes_read_total'], ['tailer_stream_opens_total'], ['tailer_reconnects_total'],
    ['tailer_sink_lines_sent_total', lokiSink], ['tailer_sink_bytes_sent_total', lokiSink],
    ['tailer_sink_lines_sent_total', fileSink], ['tailer_sink_bytes_sent_total', fileSink],
    ['tailer_push_duration_seconds_count', lokiSink], ['tailer_target_lag_seconds_count'], ['tailer_api_requests_total'],
    ['tailer_dropped_lines_total', { ...lokiSink, reason: 'line_too_long' }], ['tailer_dropped_bytes_total', { ...lokiSink, reason: 'line_too_long' }],
  ];
  const before = moving.map(([name, labels]) => total(first, name, labels) ?? 0);
  const moved = (s: Scrape): boolean[] => moving.map(([name, labels], i) => (total(s, name, labels) ?? 0) > before[i]);
  // On a timeout, the last scrape says which of them stood still.
  const second = await until('every counter to move', () => scrape(tailer.url), (s) => moved(s).every(Boolean)).catch(() => scrape(tailer.url));
  const still = moving.filter((_, i) => !moved(second)[i]).map(([name, labels]) => `${name}${JSON.stringify(labels ?? {})}`);
  assert.deepEqual(still, [], 'these did not move between the scrapes');

  assert.equal(total(second, 'tailer_dropped_lines_total', { ...lokiSink, reason: 'line_too_long' }), 1, 'exactly the long line was dropped');
  assert.equal(loki.stats().rejected.line_too_long, 1);
  assert.ok((total(second, 'tailer_reconnects_total', { reason: 'eof' }) ?? 0) > 0, 'streams ended by the server (stream-max-age) are reopened');
  assert.equal(await tailer.stop(), 0);
});

test('/ready is 503 while Loki is unreachable and 200 once it is up; /healthz is 200 throughout', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { sim, kubeconfig } = await startCluster(t, { scenario: 'none' });
  sim.cluster.createPod({ namespace: 'shop', name: 'web-0', containers: [{ name: 'app', image: 'nginx' }] });
  // A port that nothing listens on yet: a receiver's, closed.
  const gone = await startLokiReceiver();
  const port = gone.port;
  await gone.close();
  const tailer = await startTailer(t, kubeconfig, ['-A', '--loki-url', `http://127.0.0.1:${port}`, '--loki-timeout', '1s']);

  const healthz = await fetch(`${tailer.url}/healthz`);
  assert.equal(healthz.status, 200);
  await healthz.text();
  const ready = (): Promise<{ status: number; body: string }> =>
    fetch(`${tailer.url}/ready`).then(async (r) => ({ status: r.status, body: await r.text() }));
  // Once the first pod list is done, the unreachable Loki is the only reason left.
  const down = await until('/ready to name only the unreachable Loki', ready, (r) => r.status !== 200 && !/first pod list/.test(r.body));
  assert.equal(down.status, 503);
  assert.match(down.body, new RegExp(`^loki:127\\.0\\.0\\.1:${port} unreachable`));

  const loki = await startLokiReceiver({ port });
  t.after(() => loki.close());
  const up = await until('/ready to turn 200', ready, (r) => r.status === 200);
  assert.equal(up.body, 'ready\n');
  sim.cluster.write('shop', 'web-0', 'app', 'after Loki came up');
  await until('the line to reach Loki', () => loki.stats().entries, (n) => n > 0);
  assert.equal(await tailer.stop(), 0);
});

test('while Loki does not answer, busy h2 streams are held back (the API server sends little beyond --max-buffer-bytes) and the pause is logged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { sim, kubeconfig } = await startCluster(t, { scenario: 'flood', tls: true, scale: { pods: 8, lineBytes: 1024 } });
  const loki = await startLokiReceiver({ validate: false });
  t.after(() => loki.close());
  loki.setMode('hang');
  const bound = 1024 * 1024;
  const tailer = await startTailer(t, kubeconfig, ['-n', 'flood', '--loki-url', loki.url, '--loki-timeout', '60s', '--max-buffer-bytes', String(bound)]);
  await until('8 streams open', () => sim.stats().openStreams, (n) => n >= 8);
  // Once the buffer is full nothing is read: what the simulator sent settles.
  let sent = sim.stats().charsSent;
  for (let quiet = 0; quiet < 1000; quiet += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = sim.stats().charsSent;
    if (now !== sent) quiet = -100;
    sent = now;
  }
  // With a full 1 MiB window for each of the 8 streams it would be over 9 MiB; the simulator's own stream buffers
  // account for up to ~80 KB a stream besides the window.
  assert.ok(sent < bound + 8 * 256 * 1024, `the API server sent ${sent} bytes for a buffer of ${bound}`);
  const told = (start: string): boolean => tailer.logs().some((e) => String(e.msg).startsWith(start));
  await until('the pause to be logged', () => told('Reading paused'), Boolean);
  loki.setMode('ok');
  // Released, the streams run at full speed again: far more than the held windows could carry.
  await until('20 MB of lines to reach Loki', () => loki.stats().bytes, (bytes) => bytes > 20_000_000, 30_000);
  assert.ok(told('Reading resumed'), 'the end of the pause is logged');
});

// ---------------------------------------------------------------------------------------------------------------
// Sharding, node-local and sidecar selection

test('--shard 0/3, 1/3, 2/3 split a many-pod cluster into disjoint sets whose union is every pod that logged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { sim, kubeconfig } = await startCluster(t, { scenario: 'many', scale: { pods: 60, linesPerSec: 2 } });
  const dir = tempDir(t);
  const outs = [0, 1, 2].map((i) => path.join(dir, `shard-${i}.jsonl`));
  const tailers = await Promise.all(outs.map((out, i) =>
    startTailer(t, kubeconfig, ['-A', '--shard', `${i}/3`, '-o', out, '--output-format', 'json'])));
  await until('lines from 45 pods', () => new Set(sim.ledger().map((l) => l.pod_uid)).size, (n) => n >= 45);
  await sim.stopProducing();
  const expected = sim.ledger().filter((l) => !l.unrecoverable).length;
  await until(`all ${expected} produced lines in the outputs`, () => outs.reduce((n, out) => n + readOutput(out).length, 0), (n) => n >= expected);
  for (const tailer of tailers) assert.equal(await tailer.stop(), 0);

  const shards = outs.map((out) => new Set(readOutput(out).map((l) => l.pod_uid)));
  const logged = new Set(sim.ledger().map((l) => l.pod_uid));
  shards.forEach((uids, i) => {
    assert.ok(uids.size > 0, `shard ${i} got no pods`);
    for (const uid of uids) assert.equal(shardOf(uid, 3), i, `pod ${uid} is in shard ${i}'s output`);
  });
  const union = new Set(shards.flatMap((s) => [...s]));
  assert.equal(union.size, shards.reduce((n, s) => n + s.size, 0), 'the shards overlap');
  assert.deepEqual([...union].sort(), [...logged].sort());
  assert.equal(outs.reduce((n, out) => n + readOutput(out).length, 0), expected, 'every line exactly once over the three shards');
});

test('--node-name follows only the pods the API server lists for that node', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { sim, kubeconfig } = await startCluster(t, { scenario: 'none' });
  const pods = [
    { name: 'a-1', nodeName: 'node-1', containers: ['app'] },
    { name: 'a-2', nodeName: 'node-2', containers: ['app'] },
    { name: 'b-1', nodeName: 'node-1', containers: ['app', 'proxy'] },
    { name: 'b-2', nodeName: 'node-2', containers: ['app', 'proxy'] },
  ];
  for (const p of pods) {
    sim.cluster.createPod({ namespace: 'shop', name: p.name, nodeName: p.nodeName, containers: p.containers.map((name) => ({ name, image: 'nginx' })) });
    for (const c of p.containers) for (let i = 0; i < 3; i++) assert.ok(sim.cluster.write('shop', p.name, c, `${p.name}/${c} ${i}`));
  }
  const out = path.join(tempDir(t), 'out.jsonl');
  const tailer = await startTailer(t, kubeconfig, ['-A', '--node-name', 'node-2', '-o', out, '--output-format', 'json']);
  const lines = await until('the node-2 pods\' 9 lines', () => readOutput(out), (l) => l.length >= 9);
  assert.equal(await tailer.stop(), 0);

  assert.deepEqual(new Set(lines.map((l) => `${l.pod}/${l.container}`)), new Set(['a-2/app', 'b-2/app', 'b-2/proxy']));
  assert.equal(readOutput(out).length, 9);
  // Nothing but the field selector filters by node: pods of node-1 never reached the tailer at all.
  const seen = tailer.logs().filter((l) => l.msg === 'Processing new pod').map((l) => l.pod);
  assert.deepEqual(seen.sort(), ['shop/a-2', 'shop/b-2']);
  assert.equal(sim.stats().requests['get pods/log'], 3, 'log streams of node-2 containers only');
});

test('--self follows the containers of its own pod, except its own container', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const env = { POD_NAME: 'app-0', POD_NAMESPACE: 'demo' };
  assert.equal(resolveConfig(['--self'], env).config.selfContainer, 'k8s-tailer', 'the default');
  assert.equal(resolveConfig(['--self'], { ...env, CONTAINER_NAME: 'shipper' }).config.selfContainer, 'shipper', 'from CONTAINER_NAME');
  assert.equal(resolveConfig(['--self', '--self-container', 'tail'], { ...env, CONTAINER_NAME: 'shipper' }).config.selfContainer, 'tail');

  const { sim, kubeconfig } = await startCluster(t, { scenario: 'none' });
  const image = 'busybox';
  // The tailer as a native sidecar of app-0; a second pod in its namespace and a namesake in another.
  sim.cluster.createPod({
    namespace: 'demo', name: 'app-0',
    initContainers: [{ name: 'k8s-tailer', image, restartPolicy: 'Always' }],
    containers: [{ name: 'app', image }, { name: 'helper', image }],
  });
  sim.cluster.createPod({ namespace: 'demo', name: 'app-1', containers: [{ name: 'app', image }] });
  sim.cluster.createPod({ namespace: 'other', name: 'app-0', containers: [{ name: 'app', image }] });
  const targets = [['demo', 'app-0', 'k8s-tailer'], ['demo', 'app-0', 'app'], ['demo', 'app-0', 'helper'], ['demo', 'app-1', 'app'], ['other', 'app-0', 'app']];
  for (const [ns, pod, c] of targets) for (let i = 0; i < 3; i++) assert.ok(sim.cluster.write(ns, pod, c, `${ns}/${pod}/${c} ${i}`));

  const out = path.join(tempDir(t), 'out.jsonl');
  const tailer = await startTailer(t, kubeconfig, ['--self', '-o', out, '--output-format', 'json'], env);
  const lines = await until('app-0\'s app and helper lines', () => readOutput(out), (l) => l.length >= 6);
  assert.equal(await tailer.stop(), 0);

  assert.deepEqual(new Set(lines.map((l) => `${l.namespace}/${l.pod}/${l.container}`)), new Set(['demo/app-0/app', 'demo/app-0/helper']));
  assert.equal(readOutput(out).length, 6);
  assert.equal(sim.stats().requests['get pods/log'], 2, "no log stream for the tailer's own container or other pods");
});
