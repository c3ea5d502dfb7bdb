import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METRIC_NAMES, Metrics } from './metrics.ts';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('every exported name is registered, and nothing else under tailer_', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const registered = metrics.registry.getMetricsAsArray().map((m) => m.name).sort();
  assert.deepEqual(registered, [...METRIC_NAMES].sort());
});

test('two instances do not share state and the global registry stays empty', async () => {
  const a = new Metrics();
  const b = new Metrics();
  a.linesRead.inc(5);
  assert.equal(sample(await a.text(), 'tailer_lines_read_total'), 5);
  assert.equal(sample(await b.text(), 'tailer_lines_read_total'), 0);
  const { register } = await import('prom-client');
  assert.equal(register.getMetricsAsArray().length, 0);
  assert.match(await a.text(), /^process_cpu_user_seconds_total /m);
});

test('known states and reconnect reasons start at zero', async () => {
  const text = await new Metrics({ defaultMetrics: false }).text();
  assert.equal(sample(text, 'tailer_targets{state="backoff"}'), 0);
  assert.equal(sample(text, 'tailer_reconnects_total{reason="max_age"}'), 0);
});

test('setTargetStates replaces every state, zeroing absent ones', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.setTargetStates({ following: 3, backoff: 1 });
  metrics.setTargetStates({ following: 4 });
  const text = await metrics.text();
  assert.equal(sample(text, 'tailer_targets{state="following"}'), 4);
  assert.equal(sample(text, 'tailer_targets{state="backoff"}'), 0);
});

test('observeLags records one sample per target and the maximum, clamping clock skew to 0', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.observeLags([0.2, 7, -1]);
  let text = await metrics.text();
  assert.equal(sample(text, 'tailer_target_lag_seconds_count'), 3);
  assert.equal(sample(text, 'tailer_max_lag_seconds'), 7);
  assert.equal(sample(text, 'tailer_target_lag_seconds_bucket{le="0.25"}'), 2);
  metrics.observeLags([]);
  text = await metrics.text();
  assert.equal(sample(text, 'tailer_max_lag_seconds'), 0);
});

test('positions age is measured from the last save on the injected clock', async () => {
  let now = 1_000_000;
  const metrics = new Metrics({ defaultMetrics: false, now: () => now });
  metrics.positionsWritten();
  now += 2_500;
  const text = await metrics.text();
  assert.equal(sample(text, 'tailer_positions_age_seconds'), 2.5);
  assert.equal(sample(text, 'tailer_positions_saved_total'), 1);
});

test('build info carries the version', async () => {
  const text = await new Metrics({ defaultMetrics: false, version: '1.2.3' }).text();
  assert.equal(sample(text, 'tailer_build_info{version="1.2.3"}'), 1);
});
