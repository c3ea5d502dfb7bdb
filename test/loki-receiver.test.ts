// The test receiver itself: it must reject what Loki rejects, with Loki's texts, and count what it sees.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeBody, encodePushJson } from '../src/sinks/loki/encode.ts';
import type { LabelPair } from '../src/sinks/loki/labels.ts';
import type { PlannedStream } from '../src/sinks/loki/plan.ts';
import { plannedStream } from './loki-fixtures.ts';
import { parseRejection } from '../src/sinks/loki/policy.ts';
import { startLokiReceiver, type LokiReceiver, type LokiReceiverOptions } from './loki-receiver.ts';

const receivers: LokiReceiver[] = [];
after(async () => {
  for (const receiver of receivers) await receiver.close();
});

async function start(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const receiver = await startLokiReceiver(options);
  receivers.push(receiver);
  return receiver;
}

const NOW = Math.floor(Date.now() / 1000);

function stream(labels: string, lines: [number, string][], metadata: LabelPair[] = []): PlannedStream {
  return plannedStream(labels, [], lines.map(([sec, line]) => ({ sec, nsec: 0, line, metadata })));
}

async function push(receiver: LokiReceiver, streams: PlannedStream[]): Promise<{ status: number; text: string }> {
  const { body, contentType } = encodeBody(streams, 'protobuf');
  const response = await fetch(`${receiver.url}/loki/api/v1/push`, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: response.status, text: await response.text() };
}

test('valid pushes get 204 and are stored per normalised stream', async () => {
  const receiver = await start();
  const answer = await push(receiver, [stream('{b="2", a="1"}', [[NOW, 'x'], [NOW, 'y']], [['restart', '0']])]);
  assert.equal(answer.status, 204);
  assert.deepEqual([...receiver.streams().keys()], ['{a="1", b="2"}']);
  assert.deepEqual(receiver.entries().map((entry) => [entry.line, entry.metadata]), [['x', { restart: '0' }], ['y', { restart: '0' }]]);
});

test("each Loki validation rule answers 400 with Loki's reason text", async () => {
  const receiver = await start();
  const many = `{${Array.from({ length: 16 }, (_, i) => `l${i}="v"`).join(', ')}}`;
  const cases: [PlannedStream, string][] = [
    [stream('{}', [[NOW, 'x']]), 'missing_labels'],
    [stream('{a=b}', [[NOW, 'x']]), 'invalid_labels'],
    [stream('{a="1", a="2"}', [[NOW, 'x']]), 'duplicate_label_names'],
    [stream(many, [[NOW, 'x']]), 'max_label_names_per_series'],
    [stream(`{${'n'.repeat(1025)}="v"}`, [[NOW, 'x']]), 'label_name_too_long'],
    [stream(`{a="${'v'.repeat(2049)}"}`, [[NOW, 'x']]), 'label_value_too_long'],
    [stream('{a="1"}', [[NOW, 'l'.repeat(256_001)]]), 'line_too_long'],
    [stream('{a="1"}', [[NOW - 169 * 3600, 'old']]), 'greater_than_max_sample_age'],
    [stream('{a="1"}', [[NOW + 3600, 'new']]), 'too_far_in_future'],
    [stream('{a="1"}', [[NOW, 'x']], Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v'] as LabelPair)), 'structured_metadata_too_many'],
    [stream('{a="1"}', [[NOW, 'x']], [['big', 'm'.repeat(70_000)]]), 'structured_metadata_too_large'],
  ];
  for (const [body, reason] of cases) {
    const answer = await push(receiver, [body]);
    assert.equal(answer.status, 400, reason);
    assert.equal(parseRejection(400, answer.text).reason, reason, answer.text.slice(0, 200));
  }
  assert.equal(receiver.stats().entries, 0);
});

test('a 400 is partial: valid entries are kept and the text says how many were ignored', async () => {
  const receiver = await start();
  await push(receiver, [stream('{a="1"}', [[NOW, 'newest']])]);
  const answer = await push(receiver, [
    stream('{a="1"}', [[NOW, 'ok-1'], [NOW - 2 * 3600, 'too far behind'], [NOW, 'ok-2']]),
    stream('{b="1"}', [[NOW, 'ok-3']]),
  ]);
  assert.equal(answer.status, 400);
  const rejection = parseRejection(400, answer.text);
  assert.deepEqual([rejection.reason, rejection.ignored, rejection.total], ['too_far_behind', 1, 4]);
  assert.deepEqual(receiver.entries().map((entry) => entry.line), ['newest', 'ok-1', 'ok-2', 'ok-3']);
  assert.deepEqual(receiver.stats().rejected, { too_far_behind: 1 });
});

test('duplicates and out-of-order entries are counted, not hidden', async () => {
  const receiver = await start();
  await push(receiver, [stream('{a="1"}', [[NOW, 'x'], [NOW - 1, 'earlier'], [NOW, 'x']])]);
  const stats = receiver.stats();
  assert.equal(stats.entries, 3);
  assert.equal(stats.duplicates, 1);
  assert.equal(stats.outOfOrder, 1);
});

test('JSON pushes, plain or gzipped, decode to the same entries', async () => {
  const receiver = await start();
  const body = encodePushJson([{ ...stream('{a="1"}', [[NOW, 'json']], [['restart', '1']]), pairs: [['a', '1']] }]);
  for (const gzip of [false, true]) {
    const response = await fetch(`${receiver.url}/loki/api/v1/push`, {
      method: 'POST',
      body: gzip ? gzipSync(body) : body,
      headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    });
    assert.equal(response.status, 204);
  }
  assert.equal(receiver.stats().entries, 2);
  assert.equal(receiver.stats().duplicates, 1);
  assert.deepEqual(receiver.entries()[0].metadata, { restart: '1' });
});

test('faults apply to a number of requests, a share of them, or for a while', async () => {
  const receiver = await start();
  receiver.setMode(429, { requests: 2, retryAfter: '3' });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await push(receiver, [stream('{a="1"}', [[NOW, `r${i}`]])])).status);
  assert.deepEqual(statuses, [429, 429, 204]);
  receiver.setMode(500, { share: 0.5 });
  const shared: number[] = [];
  for (let i = 0; i < 40; i++) shared.push((await push(receiver, [stream('{a="1"}', [[NOW, `s${i}`]])])).status);
  assert.ok(shared.includes(500) && shared.includes(204), shared.join(','));
  receiver.setMode(503, { forMs: 100 });
  assert.equal((await push(receiver, [stream('{a="1"}', [[NOW, 't']])])).status, 503);
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal((await push(receiver, [stream('{a="1"}', [[NOW, 'u']])])).status, 204);
});

test('goDown refuses connections, then the receiver is back on the same port', async () => {
  const receiver = await start();
  await receiver.goDown(300);
  await assert.rejects(fetch(`${receiver.url}/ready`));
  await receiver.whenUp();
  assert.equal((await fetch(`${receiver.url}/ready`)).status, 200);
});

test('discard mode decodes and counts only', async () => {
  const receiver = await start({ discard: true });
  assert.equal((await push(receiver, [stream('{}', [[0, 'abc'], [0, 'de']])])).status, 204);
  assert.equal(receiver.stats().entries, 2);
  assert.equal(receiver.stats().bytes, 5);
  assert.equal(receiver.streams().size, 0);
});

test('standalone: prints its URL and serves the control API', async () => {
  const script = fileURLToPath(new URL('./loki-receiver.ts', import.meta.url));
  const child = spawn(process.execPath, [script, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [url] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const mode = await fetch(`${url}/receiver/mode`, { method: 'POST', body: JSON.stringify({ mode: 500, requests: 1 }) });
    assert.equal(mode.status, 200);
    const { body, contentType } = encodeBody([stream('{a="1"}', [[NOW, 'x']])], 'protobuf');
    const pushAt = (): Promise<Response> => fetch(`${url}/loki/api/v1/push`, { method: 'POST', body, headers: { 'content-type': contentType } });
    assert.equal((await pushAt()).status, 500);
    assert.equal((await pushAt()).status, 204);
    const stats = (await (await fetch(`${url}/receiver/stats`)).json()) as { entries: number; statuses: Record<string, number> };
    assert.equal(stats.entries, 1);
    assert.deepEqual(stats.statuses, { 204: 1, 500: 1 });
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
