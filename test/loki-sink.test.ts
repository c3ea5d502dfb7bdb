// The Loki sink against the test receiver over real HTTP.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { blocksOf } from '../src/pipeline/block.ts';
import type { LogEntry } from '../src/pipeline/entry.ts';
import { LokiSink, type LokiSinkHooks, type LokiSinkOptions } from '../src/sinks/loki/sink.ts';
import { generateTls } from '../src/sim/tls.ts';
import { makeEntries, makeTarget } from './loki-fixtures.ts';
import { startLokiReceiver, type LokiReceiver, type LokiReceiverOptions } from './loki-receiver.ts';

interface Recorded {
  sent: { entries: number; bytes: number }[];
  dropped: { entries: number; bytes: number; reason: string }[];
  requests: string[];
  retries: { reason: string; delayMs: number }[];
  logs: { level: string; msg: string; fields: Record<string, unknown> }[];
}

function recorder(): { hooks: LokiSinkHooks; seen: Recorded } {
  const seen: Recorded = { sent: [], dropped: [], requests: [], retries: [], logs: [] };
  return {
    seen,
    hooks: {
      sent: (entries, bytes) => seen.sent.push({ entries, bytes }),
      dropped: (entries, bytes, reason) => seen.dropped.push({ entries, bytes, reason }),
      request: (status) => seen.requests.push(status),
      retry: (reason, delayMs) => seen.retries.push({ reason, delayMs }),
      log: (level, msg, fields) => seen.logs.push({ level, msg, fields }),
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function setup(
  sinkOptions: Partial<LokiSinkOptions> = {},
  receiverOptions: LokiReceiverOptions = {},
): Promise<{ receiver: LokiReceiver; sink: LokiSink; seen: Recorded }> {
  const receiver = await startLokiReceiver(receiverOptions);
  const { hooks, seen } = recorder();
  const sink = new LokiSink({ url: receiver.url, minBackoffMs: 10, maxBackoffMs: 50, timeoutMs: 2000, hooks, ...sinkOptions });
  cleanups.push(async () => {
    await sink.close(100);
    await receiver.close();
  });
  return { receiver, sink, seen };
}

/** Every entry exactly once, in batch order per stream. */
function assertDeliveredOnce(receiver: LokiReceiver, batch: readonly LogEntry[]): void {
  const lines = receiver.entries().map((entry) => entry.line);
  assert.deepEqual(lines, batch.map((entry) => entry.line));
  assert.equal(receiver.stats().duplicates, 0);
  assert.equal(receiver.stats().outOfOrder, 0);
}

test('204: labels, nanosecond timestamps, metadata and order arrive as sent', async () => {
  const { receiver, sink, seen } = await setup({ staticLabels: { cluster: 'c1' } });
  const target = makeTarget();
  const batch = makeEntries(target, 50, { start: { sec: Math.floor(Date.now() / 1000) - 5, nsec: 999_999_001 }, restart: 3 });
  await sink.write(blocksOf(batch));
  const streams = receiver.streams();
  assert.equal(streams.size, 1);
  const [[selector, entries]] = [...streams];
  assert.equal(
    selector,
    '{app="web", cluster="c1", container="app", job="shop/web", namespace="shop", node_name="node-1", pod="web-7d4b9c-x2x9q"}',
  );
  assert.deepEqual(entries.map((entry) => entry.ts), batch.map((entry) => entry.ts));
  assert.deepEqual(entries[0].metadata, { pod_uid: target.podUid, restart: '3' });
  assertDeliveredOnce(receiver, batch);
  assert.deepEqual(seen.requests, ['204']);
  assert.deepEqual(seen.sent, [{ entries: 50, bytes: batch.reduce((sum, entry) => sum + entry.line.length, 0) }]);
  assert.equal(receiver.requests()[0].contentType, 'application/x-protobuf');
  assert.equal(receiver.requests()[0].contentEncoding, undefined);
});

test('429 with Retry-After is honoured, then everything arrives once', async () => {
  const { receiver, sink, seen } = await setup();
  receiver.setMode(429, { requests: 1, retryAfter: '1' });
  const batch = makeEntries(makeTarget(), 20);
  const started = Date.now();
  await sink.write(blocksOf(batch));
  assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
  assert.deepEqual(seen.requests, ['429', '204']);
  assert.deepEqual(seen.retries, [{ reason: '429', delayMs: 1000 }]);
  assertDeliveredOnce(receiver, batch);
});

test('5xx answers are retried with back-off until Loki takes the batch', async () => {
  const { receiver, sink, seen } = await setup();
  receiver.setMode(500, { requests: 3 });
  const batch = makeEntries(makeTarget(), 20);
  await sink.write(blocksOf(batch));
  assert.deepEqual(seen.requests, ['500', '500', '500', '204']);
  assert.equal(seen.retries.length, 3);
  for (const retry of seen.retries) assert.ok(retry.delayMs >= 10 && retry.delayMs <= 50);
  assert.equal(seen.logs.filter((log) => log.level === 'warn').length, 1, 'one warning, not one per attempt');
  assertDeliveredOnce(receiver, batch);
});

test('a hanging request times out and is retried', async () => {
  const { receiver, sink, seen } = await setup({ timeoutMs: 200 });
  receiver.setMode('hang', { requests: 1 });
  const batch = makeEntries(makeTarget(), 5);
  await sink.write(blocksOf(batch));
  assert.deepEqual(seen.requests, ['timeout', '204']);
  assertDeliveredOnce(receiver, batch);
});

test('Loki down for a while, then back on the same port: nothing lost, nothing doubled', async () => {
  const { receiver, sink, seen } = await setup({ maxBackoffMs: 200 });
  const first = makeEntries(makeTarget(), 10);
  await sink.write(blocksOf(first));
  await receiver.goDown(1500);
  const second = makeEntries(makeTarget(), 10, { line: (i) => `second-${i}`, start: { sec: Math.floor(Date.now() / 1000), nsec: 0 } });
  await sink.write(blocksOf(second));
  assert.ok(seen.requests.includes('network'), seen.requests.join(','));
  assertDeliveredOnce(receiver, [...first, ...second]);
});

test('a 400 is partial: the rejected entries are counted by reason, the rest kept, and the pipeline goes on', async () => {
  const { receiver, sink, seen } = await setup();
  const target = makeTarget();
  const now = Math.floor(Date.now() / 1000);
  const batch = [
    ...makeEntries(target, 3, { start: { sec: now - 200 * 3600, nsec: 0 }, line: (i) => `old-${i}` }),
    ...makeEntries(target, 7, { start: { sec: now - 2, nsec: 0 } }),
  ];
  await sink.write(blocksOf(batch));
  assert.deepEqual(seen.requests, ['400']);
  assert.deepEqual(seen.dropped.map((d) => [d.entries, d.reason]), [[3, 'greater_than_max_sample_age']]);
  assert.deepEqual(seen.sent.map((s) => s.entries), [7]);
  const errors = seen.logs.filter((log) => log.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0].fields.stream), /namespace="shop"/);
  assert.equal(receiver.stats().entries, 7);
  const next = makeEntries(target, 4, { line: (i) => `next-${i}` });
  await sink.write(blocksOf(next));
  assert.equal(receiver.stats().entries, 11);
});

test('413: the request is halved until it fits; a single entry too large alone is dropped and counted', async () => {
  const { receiver, sink, seen } = await setup({ format: 'json' }, { maxBodyBytes: 4000 });
  const batch = makeEntries(makeTarget(), 40, { line: (i) => `${i}`.padStart(150, '.') });
  await sink.write(blocksOf(batch));
  assert.ok(seen.requests.filter((status) => status === '413').length >= 1);
  assertDeliveredOnce(receiver, batch);
  const huge = makeEntries(makeTarget(), 1, { line: () => 'z'.repeat(5000) });
  await sink.write(blocksOf(huge));
  assert.deepEqual(seen.dropped.map((d) => [d.entries, d.reason]), [[1, 'batch_too_large']]);
});

test('tenant and basic auth headers arrive', async () => {
  const { receiver, sink } = await setup({ tenant: 'team-a', basicAuth: { user: 'u', password: 'p w' } });
  await sink.write(blocksOf(makeEntries(makeTarget(), 1)));
  const [request] = receiver.requests();
  assert.equal(request.tenant, 'team-a');
  assert.equal(request.authorization, `Basic ${Buffer.from('u:p w').toString('base64')}`);
});

test('a bearer token arrives; credentials never appear in logs', async () => {
  const { receiver, sink, seen } = await setup({ bearerToken: 'tok-123' });
  receiver.setMode(500, { requests: 1 });
  await sink.write(blocksOf(makeEntries(makeTarget(), 1)));
  assert.equal(receiver.requests().at(-1)?.authorization, 'Bearer tok-123');
  assert.ok(seen.logs.length > 0);
  assert.ok(!JSON.stringify(seen.logs).includes('tok-123'));
});

test('JSON format delivers the same entries with nanosecond timestamps', async () => {
  const { receiver, sink } = await setup({ format: 'json' });
  const batch = makeEntries(makeTarget(), 5, { start: { sec: Math.floor(Date.now() / 1000) - 1, nsec: 123_456_789 } });
  await sink.write(blocksOf(batch));
  assert.equal(receiver.requests()[0].contentType, 'application/json');
  assert.deepEqual(receiver.entries().map((entry) => entry.ts), batch.map((entry) => entry.ts));
  assert.deepEqual(receiver.entries()[0].metadata, { pod_uid: batch[0].target.podUid, restart: '0' });
  assertDeliveredOnce(receiver, batch);
});

test('a big batch is split into requests of at most batchBytes, delivered in order', async () => {
  const { receiver, sink, seen } = await setup({ batchBytes: 10_000 });
  const batch = [
    ...makeEntries(makeTarget({ container: 'a' }), 300, { line: (i) => `a-${i}`.padEnd(100, '.') }),
    ...makeEntries(makeTarget({ container: 'b' }), 300, { line: (i) => `b-${i}`.padEnd(100, '.') }),
  ];
  await sink.write(blocksOf(batch));
  assert.equal(seen.requests.length, 6);
  assert.deepEqual(seen.sent.map((s) => s.bytes), [10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  assert.equal(receiver.stats().entries, 600);
  assert.equal(receiver.stats().duplicates, 0);
  assert.equal(receiver.stats().outOfOrder, 0);
});

test('over-long lines and lone surrogates are fitted so Loki accepts them', async () => {
  const { receiver, sink, seen } = await setup({ maxLineBytes: 1000, lineTooLong: 'split' }, { validate: { maxLineBytes: 1000 } });
  const batch = makeEntries(makeTarget(), 2, { line: (i) => (i === 0 ? 'q'.repeat(2500) : 'broken \uD83D pair') });
  await sink.write(blocksOf(batch));
  assert.deepEqual(seen.dropped, []);
  assert.deepEqual(receiver.entries().map((entry) => entry.line.length), [1000, 1000, 500, 13]);
  assert.equal(receiver.entries()[3].line, 'broken \uFFFD pair');
});

test('close waits for the batch in flight', async () => {
  const { receiver, sink } = await setup();
  receiver.setMode(503, { requests: 3 });
  const batch = makeEntries(makeTarget(), 5);
  const writing = sink.write(blocksOf(batch));
  await sink.close(5000);
  await writing;
  assertDeliveredOnce(receiver, batch);
  await assert.rejects(sink.write(blocksOf(batch)), /write after close/);
});

test('close gives up after its timeout and the undelivered write rejects', async () => {
  const { receiver, sink } = await setup();
  receiver.setMode(503);
  const writing = sink.write(blocksOf(makeEntries(makeTarget(), 5)));
  const rejected = assert.rejects(writing, /closed before a batch of 5 entries was delivered/);
  await sink.close(150);
  await rejected;
  assert.equal(receiver.stats().entries, 0);
});

test('an abandoned write stops retrying and rejects with an AbortError; the sink goes on', async () => {
  const { receiver, sink } = await setup();
  receiver.setMode(503);
  const abandon = new AbortController();
  const writing = sink.write(blocksOf(makeEntries(makeTarget(), 5)), abandon.signal);
  while (receiver.stats().requests < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  abandon.abort();
  await assert.rejects(writing, (error: unknown) => error instanceof Error && error.name === 'AbortError');
  const requests = receiver.stats().requests;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(receiver.stats().requests, requests, 'no retry after the abort');
  receiver.setMode('ok');
  const batch = makeEntries(makeTarget(), 3, { line: (i) => `after-${i}` });
  await sink.write(blocksOf(batch));
  assert.deepEqual(receiver.entries().map((entry) => entry.line), batch.map((entry) => entry.line));
});

test('probe: any HTTP answer from {base}/ready means reachable', async () => {
  const { receiver, sink } = await setup();
  assert.deepEqual(await sink.probe(), { reachable: true, status: 200 });
  await receiver.close();
  const down = await sink.probe(500);
  assert.equal(down.reachable, false);
  assert.ok(down.error !== undefined && down.error.length > 0);
});

test('TLS: the CA option verifies the server; without it the certificate is refused unless verification is off', async () => {
  const tls = await generateTls();
  const receiver = await startLokiReceiver({ tls: { key: tls.key, cert: tls.cert } });
  const sinks = [
    new LokiSink({ url: receiver.url, caPem: tls.caCert }),
    new LokiSink({ url: receiver.url, timeoutMs: 2000 }),
    new LokiSink({ url: receiver.url, insecureSkipVerify: true }),
  ];
  cleanups.push(async () => {
    for (const sink of sinks) await sink.close(100);
    await receiver.close();
  });
  const [verified, refused, unverified] = await Promise.all(sinks.map((sink) => sink.probe()));
  assert.deepEqual(verified, { reachable: true, status: 200 });
  assert.equal(refused.reachable, false);
  assert.match(refused.error ?? '', /certificate/i);
  assert.equal(unverified.reachable, true);
  await sinks[0].write(blocksOf(makeEntries(makeTarget(), 3)));
  assert.equal(receiver.stats().entries, 3);
});
