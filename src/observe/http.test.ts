import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METRIC_NAMES, Metrics } from './metrics.ts';
import { parseListen, startHttpServer } from './http.ts';
import type { Readiness } from './http.ts';

test('/metrics serves every exported metric in the Prometheus text format, with live values', async (t) => {
  const metrics = new Metrics({ version: 'test' });
  const server = await startHttpServer({ listen: '127.0.0.1:0', metrics, ready: () => true });
  t.after(() => server.close());

  let res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  let text = await res.text();
  for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  assert.match(text, /^process_resident_memory_bytes /m);
  assert.match(text, /^tailer_lines_read_total 0$/m);

  metrics.linesRead.inc(42);
  metrics.sinkLinesSent.inc({ sink: 'loki' }, 40);
  metrics.pushDuration.observe({ sink: 'loki', status: '204' }, 0.02);
  res = await fetch(`${server.url}/metrics`);
  text = await res.text();
  assert.match(text, /^tailer_lines_read_total 42$/m);
  assert.match(text, /^tailer_sink_lines_sent_total\{sink="loki"\} 40$/m);
  assert.match(text, /^tailer_push_duration_seconds_count\{sink="loki",status="204"\} 1$/m);
});

test('/healthz is ok; /ready flips from 503 with reasons to 200', async (t) => {
  let readiness: Readiness = { ok: false, reasons: ['pod list not synced', 'positions not loaded'] };
  const server = await startHttpServer({
    listen: '127.0.0.1:0',
    metrics: new Metrics({ defaultMetrics: false }),
    ready: async () => readiness,
  });
  t.after(() => server.close());

  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok\n');

  let res = await fetch(`${server.url}/ready`);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'pod list not synced\npositions not loaded\n');

  readiness = { ok: true, reasons: [] };
  res = await fetch(`${server.url}/ready`);
  assert.equal(res.status, 200);
  await res.text();
});

test('a boolean readiness and a throwing one', async (t) => {
  let ready: () => boolean = () => false;
  const server = await startHttpServer({ listen: '127.0.0.1:0', metrics: new Metrics({ defaultMetrics: false }), ready: () => ready() });
  t.after(() => server.close());
  let res = await fetch(`${server.url}/ready`);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'not ready\n');
  ready = () => {
    throw new Error('boom');
  };
  res = await fetch(`${server.url}/ready`);
  assert.equal(res.status, 500);
  assert.match(await res.text(), /boom/);
});

test('/debug/targets serves the callback as JSON, and is 404 without one', async (t) => {
  const metrics = new Metrics({ defaultMetrics: false });
  const withDebug = await startHttpServer({
    listen: '127.0.0.1:0',
    metrics,
    ready: () => true,
    debugTargets: () => [{ key: 'uid/c', state: 'following' }],
  });
  const without = await startHttpServer({ listen: '127.0.0.1:0', metrics, ready: () => true });
  t.after(() => Promise.all([withDebug.close(), without.close()]));

  const res = await fetch(`${withDebug.url}/debug/targets`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), [{ key: 'uid/c', state: 'following' }]);
  const missing = await fetch(`${without.url}/debug/targets`);
  assert.equal(missing.status, 404);
  await missing.text();
});

test('an address in use is one clear line', async (t) => {
  const metrics = new Metrics({ defaultMetrics: false });
  const first = await startHttpServer({ listen: '127.0.0.1:0', metrics, ready: () => true });
  t.after(() => first.close());
  const port = new URL(first.url).port;
  await assert.rejects(startHttpServer({ listen: `127.0.0.1:${port}`, metrics, ready: () => true }), {
    message: `--http-listen 127.0.0.1:${port} is in use: choose another or '' to disable`,
  });
});

test('close() does not wait for idle keep-alive connections', async () => {
  const server = await startHttpServer({ listen: '127.0.0.1:0', metrics: new Metrics({ defaultMetrics: false }), ready: () => true });
  await (await fetch(`${server.url}/healthz`)).text();
  const started = performance.now();
  await server.close();
  assert.ok(performance.now() - started < 1000);
});

test('parseListen', () => {
  assert.deepEqual(parseListen('0.0.0.0:9080'), { host: '0.0.0.0', port: 9080 });
  assert.deepEqual(parseListen(':9080'), { host: '0.0.0.0', port: 9080 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseListen('9080'), /--http-listen "9080" is not host:port/);
  assert.throws(() => parseListen('localhost:70000'), /is not host:port/);
});
