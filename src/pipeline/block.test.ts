import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineHash } from '../kube/cursor.ts';
import { batchEntries, batchLines, BlockBuilder, blocksOf, LINE_OVERHEAD } from './block.ts';
import type { LogEntry, TargetInfo } from './entry.ts';

const target = (podUid: string): TargetInfo => ({ key: `${podUid}/c`, namespace: 'n', pod: 'p', podUid, container: 'c', kind: 'app', nodeName: '', labels: {} });
const A = target('a');
const B = target('b');

test('a block keeps each line as the range of the buffer it was read in, with its timestamp and hash', () => {
  const chunk = Buffer.from('2024-01-01T00:00:00.000000001Z héllo\n2024-01-01T00:00:01.000000002Z world\n');
  const joined = Buffer.from('spanned two chunks');
  const builder = new BlockBuilder(A, 3, 'containerd://x');
  builder.addBytes(chunk, 31, 37, 1704067200, 1, 11);
  builder.addBytes(joined, 0, joined.length, 1704067200, 5, 12);
  builder.addText('repl\uFFFDced', 1704067201, 2, 13);
  builder.addBytes(chunk, 69, 74, 1704067201, 2, 14);
  assert.equal(builder.length, 4);
  const block = builder.take()!;
  assert.equal(builder.length, 0, 'taken: the builder starts over');
  assert.equal(builder.take(), undefined, 'nothing added: no block');
  assert.equal(block.length, 4);
  assert.deepEqual(Array.from({ length: 4 }, (_, i) => block.text(i)), ['héllo', 'spanned two chunks', 'repl\uFFFDced', 'world']);
  assert.deepEqual(Array.from({ length: 4 }, (_, i) => block.hash(i)), [11, 12, 13, 14]);
  assert.deepEqual(block.ts(1), { sec: 1704067200, nsec: 5 });
  assert.equal(block.buffer(0), chunk, 'the chunk itself, not a copy');
  assert.equal(block.buffer(1), joined);
  assert.equal(block.buffer(2), undefined, 'a line held as text has no bytes');
  assert.equal(block.buffer(3), chunk);
  assert.deepEqual([block.start(3), block.end(3)], [69, 74]);
  assert.deepEqual(Array.from({ length: 4 }, (_, i) => block.utf8Bytes(i)), [6, 18, 10, 5]);
  assert.equal(block.size, 6 + 18 + 'repl\uFFFDced'.length + 5 + 4 * LINE_OVERHEAD);
  assert.deepEqual(block.entry(2), { target: A, restart: 3, containerId: 'containerd://x', ts: { sec: 1704067201, nsec: 2 }, line: 'repl\uFFFDced', hash: 13 });
});

test('filter keeps the lines a hash check lets through, in order, with their sizes', () => {
  const builder = new BlockBuilder(A, 0, undefined);
  const chunk = Buffer.from('aa bbb c dddd');
  for (const [start, end, hash] of [[0, 2, 1], [3, 6, 2], [7, 8, 3], [9, 13, 4]]) builder.addBytes(chunk, start, end, 1, hash, hash);
  const block = builder.take()!;
  assert.equal(block.filter(() => true), block, 'nothing filtered: the same block');
  const kept = block.filter((h) => h % 2 === 0);
  assert.deepEqual(batchEntries([kept]).map((e) => [e.line, e.hash, e.ts.nsec]), [['bbb', 2, 2], ['dddd', 4, 4]]);
  assert.equal(kept.size, 3 + 4 + 2 * LINE_OVERHEAD);
  assert.equal(block.filter(() => false).length, 0);
  assert.ok(!('containerId' in kept.entry(0)), 'no container ID: none on the entry');
});

test('blocksOf groups consecutive entries of one instance and hashes entries that have no hash', () => {
  const e = (t: TargetInfo, restart: number, line: string, hash?: number): LogEntry => ({ target: t, restart, ts: { sec: 5, nsec: line.length }, line, ...(hash === undefined ? {} : { hash }) });
  const entries = [e(A, 0, 'a1', 99), e(A, 0, 'a2'), e(A, 1, 'a3'), e(B, 0, 'b1'), e(A, 1, 'a4')];
  const blocks = blocksOf(entries);
  assert.deepEqual(blocks.map((b) => [b.target.podUid, b.restart, b.length]), [['a', 0, 2], ['a', 1, 1], ['b', 0, 1], ['a', 1, 1]]);
  assert.equal(batchLines(blocks), 5);
  const out = batchEntries(blocks);
  assert.deepEqual(out.map((x) => x.line), ['a1', 'a2', 'a3', 'b1', 'a4']);
  assert.equal(out[0].hash, 99, 'a hash it had is kept');
  assert.equal(out[1].hash, lineHash({ sec: 5, nsec: 2 }, 'a2'));
});

test('lines not taken block other builders until discarded: the columns are shared', () => {
  const one = new BlockBuilder(A, 0, undefined);
  const two = new BlockBuilder(B, 0, undefined);
  one.addText('x', 1, 0, 1);
  assert.throws(() => two.addText('y', 1, 0, 2), /not taken/);
  one.discard();
  two.addText('y', 1, 0, 2);
  assert.deepEqual(batchEntries([two.take()!]).map((e) => e.line), ['y']);
  assert.equal(one.take(), undefined, 'discarded lines are gone');
});

test('a block larger than the shared columns grows them', () => {
  const builder = new BlockBuilder(A, 0, undefined);
  const chunk = Buffer.alloc(5000, 0x61);
  for (let i = 0; i < 5000; i++) builder.addBytes(chunk, i, i + 1, 1, i, i);
  const block = builder.take()!;
  assert.equal(block.length, 5000);
  assert.deepEqual([block.nsec(4999), block.hash(4999), block.start(4999)], [4999, 4999, 4999]);
});
