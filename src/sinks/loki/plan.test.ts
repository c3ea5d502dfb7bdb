import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEntries, makeTarget } from '../../../test/loki-fixtures.ts';
import { StreamLabeler } from './labels.ts';
import { fitLine } from './lines.ts';
import { halvePlan, MetadataCache, plannedEntries, planRequests, type PlanOptions, type PushPlan } from './plan.ts';
import { BlockBuilder, blocksOf } from '../../pipeline/block.ts';
import type { LogEntry } from '../../pipeline/entry.ts';

const OPTIONS: PlanOptions = { batchBytes: 1000, maxLineBytes: 256_000, lineTooLong: 'truncate' };

function plan(entries: readonly LogEntry[], options: PlanOptions = OPTIONS): PushPlan[] {
  return planRequests(blocksOf(entries), new StreamLabeler({}, () => undefined), new MetadataCache(), options);
}

function lines(p: PushPlan): string[] {
  return p.streams.flatMap((s) => plannedEntries(s).map((e) => e.line));
}

test('requests are cut so their text stays within batchBytes', () => {
  const entries = makeEntries(makeTarget(), 25, { line: (i) => String(i % 10).repeat(100) });
  const plans = plan(entries);
  assert.deepEqual(plans.map((p) => p.entries), [10, 10, 5]);
  assert.deepEqual(plans.map((p) => p.bytes), [1000, 1000, 500]);
  assert.deepEqual(plans.flatMap(lines), entries.map((e) => e.line));
  // Lines read as bytes are referred to where they are: one run of their block per request, cut where it is.
  const chunk = Buffer.from(entries.map((e) => e.line).join(''));
  const builder = new BlockBuilder(makeTarget(), 0, undefined);
  entries.forEach((e, i) => builder.addBytes(chunk, i * 100, (i + 1) * 100, e.ts.sec, e.ts.nsec, i));
  const byRuns = planRequests([builder.take()!], new StreamLabeler({}, () => undefined), new MetadataCache(), OPTIONS);
  assert.deepEqual(byRuns.map((p) => p.streams[0].runs.map((r) => [r.from, r.to])), [[[0, 10]], [[10, 20]], [[20, 25]]]);
  assert.deepEqual(byRuns.flatMap(lines), entries.map((e) => e.line));
  // So is text that fits as it is (spooled lines): a lone surrogate is repaired in a block of its own.
  const texts = plan(makeEntries(makeTarget(), 4, { line: (i) => (i === 2 ? 'bad \uD800' : `text-${i}`) }));
  assert.deepEqual(texts[0].streams[0].runs.map((r) => [r.from, r.to]), [[0, 2], [0, 1], [3, 4]]);
  assert.deepEqual(lines(texts[0]), ['text-0', 'text-1', 'bad \uFFFD', 'text-3']);
  const over = plan(makeEntries(makeTarget(), 3, { line: () => 'x'.repeat(1001) }));
  assert.deepEqual(over.map((p) => p.entries), [1, 1, 1], 'an entry larger than the limit goes alone');
});

test('entries are grouped into streams by label set, each stream keeping batch order', () => {
  const a = makeTarget({ container: 'a' });
  const b = makeTarget({ container: 'b' });
  const aAgain = { ...a }; // another object, same labels: the same stream
  const entries = [...makeEntries(a, 2), ...makeEntries(b, 2), ...makeEntries(aAgain, 2, { line: (i) => `again-${i}` })];
  const [only] = plan(entries);
  assert.equal(only.streams.length, 2);
  assert.deepEqual(plannedEntries(only.streams[0]).map((e) => e.line), ['line-0', 'line-1', 'again-0', 'again-1']);
  assert.match(only.streams[0].labels, /container="a"/);
  assert.deepEqual(plannedEntries(only.streams[0])[0].metadata, [['pod_uid', a.podUid], ['restart', '0']]);
});

test('structured metadata carries pod_uid and restart, shared per target instance', () => {
  const target = makeTarget();
  const entries = [...makeEntries(target, 2, { restart: 1 }), ...makeEntries(target, 1, { restart: 2 })];
  const [only] = plan(entries);
  const [first, second, third] = plannedEntries(only.streams[0]);
  assert.equal(first.metadata, second.metadata);
  assert.deepEqual(third.metadata, [['pod_uid', target.podUid], ['restart', '2']]);
});

test('long lines are fitted before byte accounting: truncated, or split into consecutive entries', () => {
  const entries = makeEntries(makeTarget(), 1, { line: () => 'y'.repeat(250) });
  const [truncated] = plan(entries, { ...OPTIONS, maxLineBytes: 100 });
  assert.equal(truncated.entries, 1);
  assert.ok(truncated.bytes <= 100);
  const split = plan(entries, { maxLineBytes: 100, batchBytes: 200, lineTooLong: 'split' });
  assert.deepEqual(split.map((p) => p.entries), [2, 1]);
  assert.equal(split.flatMap(lines).join(''), 'y'.repeat(250));
  const ts = split.flatMap((p) => p.streams.flatMap((s) => plannedEntries(s).map((e) => `${e.sec}.${e.nsec}`)));
  assert.deepEqual(new Set(ts).size, 1, 'parts keep the original timestamp');
});

test('halving a request keeps every entry once, in order', () => {
  const entries = [...makeEntries(makeTarget({ container: 'a' }), 3), ...makeEntries(makeTarget({ container: 'b' }), 4)];
  const [whole] = plan(entries);
  const [first, second] = halvePlan(whole);
  assert.equal(first.entries, 3);
  assert.equal(second.entries, 4);
  assert.equal(first.bytes + second.bytes, whole.bytes);
  assert.deepEqual([...lines(first), ...lines(second)], lines(whole));
});

test('lines read as UTF-8 bytes are planned as those bytes, never decoded; longer ones are fitted as text', () => {
  // Each line is a range of the chunk it arrived in, between a timestamp and the next line.
  const builder = new BlockBuilder(makeTarget(), 0, undefined);
  const chunks: Buffer[] = [];
  for (const text of ['héllo', 'x'.repeat(300)]) {
    const chunk = Buffer.from(`2024-01-01T00:00:00Z ${text}\nnext line`);
    chunks.push(chunk);
    builder.addBytes(chunk, 21, 21 + Buffer.byteLength(text), 1, 0, 0);
  }
  const [p] = planRequests([builder.take()!], new StreamLabeler({}, () => undefined), new MetadataCache(), { ...OPTIONS, maxLineBytes: 256 });
  const [first, second] = p.streams[0].runs;
  assert.equal(first.block.buffer(first.from), chunks[0], 'the bytes as read, not a copy or a decoded string');
  assert.equal(first.to - first.from, 1);
  assert.equal(first.block.start(first.from), 21);
  assert.equal(first.block.utf8Bytes(first.from), Buffer.byteLength('héllo'));
  assert.equal(first.block.text(first.from), 'héllo', 'the range of the chunk, not the chunk');
  assert.equal(second.block.buffer(second.from), undefined, 'the over-long line was decoded, to be truncated');
  const fitted = second.block.utf8Bytes(second.from);
  assert.ok(fitted <= 256 && fitted > 200, String(fitted));
  assert.match(second.block.text(second.from), /^x+/);
  assert.equal(p.bytes, Buffer.byteLength('héllo') + fitted);
});

test('mixed blocks (lines read and held as text, over-long ones, several containers) fill each request as far as it goes', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const options: PlanOptions = { batchBytes: 1000, maxLineBytes: 256, lineTooLong: 'truncate' };
  const targets = [makeTarget({ container: 'a' }), makeTarget({ container: 'b' })];
  const blocks = Array.from({ length: 40 }, (_, b) => {
    const builder = new BlockBuilder(targets[b % 2], 0, undefined);
    const texts = Array.from({ length: 1 + random(12) }, (_, i) => `${b}.${i} ${'z'.repeat(random(5) === 0 ? 250 + random(60) : random(180))}`);
    const chunk = Buffer.from(texts.join('\n'));
    let at = 0;
    for (const text of texts) {
      if (random(6) === 0) builder.addText(text, 1, 0, 0);
      else builder.addBytes(chunk, at, at + text.length, 1, 0, 0);
      at += text.length + 1;
    }
    return { texts, block: builder.take()! };
  });
  const plans = planRequests(blocks.map((b) => b.block), new StreamLabeler({}, () => undefined), new MetadataCache(), options);
  const sent = plans.map((p) => p.streams.flatMap((s) => s.runs.flatMap((r) => Array.from({ length: r.to - r.from }, (_, k) => r.block.text(r.from + k)))));
  // Every line once, in order per container; the over-long ones truncated.
  assert.ok(blocks.some((b) => b.texts.some((t) => t.length > 256)));
  for (const [c, target] of targets.entries()) {
    const want = blocks.filter((_, b) => b % 2 === c).flatMap((b) => b.texts).map((t) => fitLine(t, 256, 'truncate')[0]);
    const got = plans.flatMap((p) => p.streams.filter((s) => s.labels.includes(`container="${target.container}"`)))
      .flatMap((s) => s.runs.flatMap((r) => Array.from({ length: r.to - r.from }, (_, k) => r.block.text(r.from + k))));
    assert.deepEqual(got, want);
  }
  plans.forEach((p, n) => {
    const bytes = sent[n].reduce((sum, t) => sum + Buffer.byteLength(t), 0);
    assert.equal(p.bytes, bytes, 'bytes are the lines\' bytes');
    assert.equal(p.entries, sent[n].length);
    assert.ok(bytes <= options.batchBytes, `request ${n}: ${bytes} bytes`);
    // Cut only where the next line would not fit.
    if (n + 1 < plans.length) assert.ok(bytes + Buffer.byteLength(sent[n + 1][0]) > options.batchBytes, `request ${n} had room for the next line`);
  });
  assert.ok(plans.length > 5, `${plans.length} requests`);
});
