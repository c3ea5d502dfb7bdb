// The spool with real files and a real Loki sink talking HTTP to the test receiver.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { batchEntries, batchLines, blocksOf, type Batch, type LineBlock } from '../pipeline/block.ts';
import { makeEntries, makeTarget } from '../../test/loki-fixtures.ts';
import { startLokiReceiver, type LokiReceiver } from '../../test/loki-receiver.ts';
import { LokiSink } from './loki/sink.ts';
import { SpoolingSink } from './spool.ts';
import { decodeBatch, encodeBatch, SpoolError, SpoolStore } from './spool-store.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function receiver(): Promise<LokiReceiver> {
  const r = await startLokiReceiver();
  cleanups.push(() => r.close());
  return r;
}

function loki(r: LokiReceiver): LokiSink {
  return new LokiSink({ url: r.url, minBackoffMs: 20, maxBackoffMs: 100, timeoutMs: 1000 });
}

async function spooling(r: LokiReceiver, dir: string, maxBytes = 1 << 20): Promise<{ sink: SpoolingSink<LokiSink>; sizes: number[] }> {
  const sizes: number[] = [];
  const sink = await SpoolingSink.open(loki(r), { dir, maxBytes, afterMs: 150, hooks: { bytes: (b) => sizes.push(b) } });
  cleanups.push(() => sink.close());
  return { sink, sizes };
}

const target = makeTarget();
const other = makeTarget({ podUid: 'a2b3c4d5-0000-4000-8000-000000000001', container: 'sidecar', kind: 'sidecar', labels: {} });
let next = 0;

/** Distinct entries of two targets, timestamps increasing across calls. */
function batch(n: number): LineBlock[] {
  const start = { sec: Math.floor(Date.now() / 1000) - 5, nsec: next * 1000 };
  const first = makeEntries(target, n, { start, line: (i) => `line ${next + i}`, restart: 2 });
  const entries = first.map((e, i) => (i % 3 === 2 ? { ...e, target: other, containerId: 'containerd://abc' } : e));
  next += n;
  return blocksOf(entries);
}

async function batchFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.batch')).sort();
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Lines per pod UID in arrival order (a push groups a batch by stream, so only the order within a stream holds). */
/**
 * What Loki keeps: it drops an entry identical to one it has (stream, timestamp, line). A push abandoned after
 * spool-after may already have been stored, and its replay is such an exact repeat.
 */
function received(r: LokiReceiver): Record<string, string[]> {
  const seen = new Set<string>();
  const kept = r.entries().filter((e) => {
    const key = `${e.stream} ${e.ts.sec}.${e.ts.nsec} ${e.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return byPod(kept.map((e) => ({ pod: e.metadata.pod_uid ?? '', line: e.line })));
}

function expected(batch: Batch): Record<string, string[]> {
  return byPod(batchEntries(batch).map((e) => ({ pod: e.target.podUid, line: e.line })));
}

function byPod(lines: readonly { pod: string; line: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { pod, line } of lines) (out[pod] ??= []).push(line);
  return out;
}

test('encode/decode keeps every field the sink needs', () => {
  const entries = batch(5);
  const decoded = batchEntries(decodeBatch(encodeBatch(entries)));
  assert.deepEqual(decoded, batchEntries(entries));
  assert.equal(decoded[0].target, decoded[1].target, 'one target object per target in a batch');
  assert.ok(!('containerId' in decoded[0]), 'an absent containerId stays absent');
  assert.throws(() => decodeBatch(Buffer.from('{"kind":"k8s-tailer-spool","version":9,"targets":[],"entries":[]}')), /version 9/);
  assert.throws(() => decodeBatch(Buffer.from('{"kind":"k8s-tailer-spool","version":1,"targets":[],"entries":[[0,0,null,1,2,"x"]]}')), /entry 0/);
});

test('Loki down longer than spool-after: writes resolve from the spool; back: replayed in order, once', async () => {
  const r = await receiver();
  const dir = await tempDir();
  const { sink, sizes } = await spooling(r, dir);
  const before = batch(4);
  await sink.write(before);
  // On a loaded machine even this push can outlast spool-after and be spooled: start from an empty spool.
  await until('first batch delivered', async () => sink.spoolBytes === 0 && (await batchFiles(dir)).length === 0);
  await r.goDown(1500);
  const spooled = [batch(3), batch(3), batch(3)];
  const started = Date.now();
  for (const b of spooled) await sink.write(b);
  assert.ok(Date.now() - started < 1200, 'writes do not wait for Loki');
  assert.equal((await batchFiles(dir)).length, 3);
  assert.ok(sink.spoolBytes > 0);
  await r.whenUp();
  // Written while the spool still holds batches (the replayer is in its back-off): must arrive after them.
  assert.ok(sink.spoolBytes > 0);
  const behind = batch(2);
  await sink.write(behind);
  await until('spool drained', async () => sink.spoolBytes === 0 && (await batchFiles(dir)).length === 0);
  const after = batch(2);
  await sink.write(after);
  // On a loaded machine even this push can outlast spool-after and go through the spool: let it drain.
  await until('spool drained again', async () => sink.spoolBytes === 0 && (await batchFiles(dir)).length === 0);
  assert.deepEqual(received(r), expected([...before, ...spooled.flat(), ...behind, ...after]));
  assert.equal(sizes.at(-1), 0);
  assert.ok(Math.max(...sizes) > 0);
});

test('a spool left by a previous run is replayed at start, entries intact', async () => {
  const r = await receiver();
  const dir = await tempDir();
  const first = await SpoolingSink.open(loki(r), { dir, maxBytes: 1 << 20, afterMs: 100 });
  await r.goDown(60_000);
  const spooled = [batch(3), batch(4)];
  for (const b of spooled) await first.write(b);
  await first.close();
  assert.equal((await batchFiles(dir)).length, 2, 'close keeps the spool');
  await r.close();

  const again = await receiver();
  const { sink } = await spooling(again, dir);
  await until('replayed', () => again.entries().length === 7);
  await until('files removed', async () => (await batchFiles(dir)).length === 0);
  const want = spooled.flat();
  assert.deepEqual(received(again), expected(want));
  const got = new Map(again.entries().map((e) => [e.line, e]));
  for (const e of batchEntries(want)) {
    const arrived = got.get(e.line);
    assert.deepEqual(arrived?.ts, e.ts, 'nanosecond timestamps survive');
    assert.equal(arrived?.metadata.restart, '2');
  }
  assert.ok([...again.streams().keys()].some((s) => s.includes('container="sidecar"')));
  assert.equal(sink.spoolBytes, 0);
});

test('a full spool makes write wait until the replayer frees room; nothing is dropped', async () => {
  const r = await receiver();
  const dir = await tempDir();
  const one = batch(3);
  const { sink } = await spooling(r, dir, encodeBatch(one).length + 10);
  await r.goDown(1200);
  await sink.write(one);
  assert.equal((await batchFiles(dir)).length, 1);
  const two = batch(3);
  let resolved = false;
  const blocked = sink.write(two).then(() => {
    resolved = true;
  });
  await sleep(400);
  assert.equal(resolved, false, 'waits for room');
  assert.equal((await batchFiles(dir)).length, 1);
  await blocked;
  await until('drained', () => sink.spoolBytes === 0);
  assert.deepEqual(received(r), expected([...one, ...two]));
});

test('a damaged spool file stops the start with the file named and the way out', async () => {
  const dir = await tempDir();
  const good = encodeBatch(batch(2));
  await writeFile(join(dir, '0000000000000000.batch'), good);
  await writeFile(join(dir, '0000000000000001.batch'), Buffer.concat([good.subarray(0, 40), Buffer.from('\n')]));
  await writeFile(join(dir, '0000000000000002.batch.tmp'), 'half written');
  await assert.rejects(SpoolStore.open(dir), (error: unknown) => {
    assert.ok(error instanceof SpoolError);
    assert.match(error.message, /spool file .*0000000000000001\.batch is damaged \(.+\): move it out of the spool folder/);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
  await rm(join(dir, '0000000000000001.batch'));
  const store = await SpoolStore.open(dir);
  assert.equal(store.size, 1);
  assert.deepEqual(await readdir(dir), ['0000000000000000.batch'], 'the unfinished temporary file is removed');
  assert.deepEqual(batchLines(decodeBatch(await readFile(join(dir, '0000000000000000.batch')))), 2);
});

test('close while a write waits for room: the write rejects, the spool stays for the next start', async () => {
  const r = await receiver();
  const dir = await tempDir();
  const one = batch(3);
  const sink = await SpoolingSink.open(loki(r), { dir, maxBytes: encodeBatch(one).length + 10, afterMs: 100 });
  await r.goDown(60_000);
  await sink.write(one);
  const blocked = sink.write(batch(3));
  const rejected = assert.rejects(blocked, /closed while waiting for room in the spool/);
  await sleep(100);
  await sink.close();
  await rejected;
  assert.equal((await batchFiles(dir)).length, 1);
});
