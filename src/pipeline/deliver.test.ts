import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { deliver } from './deliver.ts';
import { Credit } from './credit.ts';
import { batchEntries, blocksOf, type Batch, type LineBlock } from './block.ts';
import type { Sink, TargetInfo } from './entry.ts';

const target: TargetInfo = { key: 'u/c', namespace: 'n', pod: 'p', podUid: 'u', container: 'c', kind: 'app', nodeName: '', labels: {} };
const block = (line: string): LineBlock => blocksOf([{ target, restart: 0, ts: { sec: 1, nsec: 0 }, line }])[0];
const lines = (batch: Batch): string[] => batchEntries(batch).map((e) => e.line);

class SlowSink implements Sink {
  readonly name: string;
  readonly got: string[][] = [];
  readonly #delayMs: number;
  constructor(name: string, delayMs: number) {
    this.name = name;
    this.#delayMs = delayMs;
  }
  async write(batch: Batch): Promise<void> {
    await new Promise((r) => setTimeout(r, this.#delayMs));
    this.got.push(lines(batch));
  }
  async close(): Promise<void> {}
}

test('a batch is acknowledged only when every sink has it; credit comes back; order is kept', async () => {
  const fast = new SlowSink('fast', 1);
  const slow = new SlowSink('slow', 30);
  const credit = new Credit(1 << 20);
  const src = new Subject<LineBlock>();
  const acked: string[][] = [];
  const done = lastValueFrom(
    deliver(src, { batchBytes: 3 * block('x').size, batchWaitMs: 10 }, {
      sinks: [fast, slow],
      credit,
      acknowledged: (b) => {
        assert.equal(slow.got.length, acked.length + 1, 'the slow sink already has the batch');
        acked.push(lines(b));
      },
    }).pipe(toArray()),
  );
  const texts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  for (const l of texts) {
    credit.take(block(l).size);
    src.next(block(l));
  }
  src.complete();
  const counts = await done;
  assert.deepEqual(acked.flat(), texts);
  assert.equal(acked.length, 3, 'batches of at most three lines');
  assert.deepEqual(fast.got, slow.got);
  assert.deepEqual(counts.reduce((a, b) => a + b, 0), texts.length);
  assert.equal(credit.inFlight, 0);
});

test('counts and credit are per line when blocks hold several', async () => {
  const credit = new Credit(1 << 20);
  const sink = new SlowSink('one', 1);
  const entries = ['a', 'b', 'c', 'd'].map((line, i) => ({ target, restart: 0, ts: { sec: 1, nsec: i }, line }));
  const blocks = blocksOf(entries);
  assert.equal(blocks.length, 1, 'one instance: one block');
  assert.equal(blocks[0].size, 4 * block('x').size);
  credit.take(blocks[0].size);
  const counts = await lastValueFrom(deliver(from1(blocks[0]), { batchBytes: 1 << 20, batchWaitMs: 10 }, { sinks: [sink], credit }).pipe(toArray()));
  assert.deepEqual(counts, [4]);
  assert.deepEqual(sink.got, [['a', 'b', 'c', 'd']]);
  assert.equal(credit.inFlight, 0);
});

function from1(b: LineBlock): Subject<LineBlock> {
  const s = new Subject<LineBlock>();
  queueMicrotask(() => {
    s.next(b);
    s.complete();
  });
  return s;
}
