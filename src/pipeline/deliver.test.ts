import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { deliver } from './deliver.ts';
import { Credit } from './credit.ts';
import { entrySize, type LogEntry, type Sink, type TargetInfo } from './entry.ts';

const target: TargetInfo = { key: 'u/c', namespace: 'n', pod: 'p', podUid: 'u', container: 'c', kind: 'app', nodeName: '', labels: {} };
const entry = (line: string): LogEntry => ({ target, restart: 0, ts: { sec: 1, nsec: 0 }, line });

class SlowSink implements Sink {
  readonly name: string;
  readonly got: string[][] = [];
  readonly #delayMs: number;
  constructor(name: string, delayMs: number) {
    this.name = name;
    this.#delayMs = delayMs;
  }
  async write(batch: readonly LogEntry[]): Promise<void> {
    await new Promise((r) => setTimeout(r, this.#delayMs));
    this.got.push(batch.map((e) => e.line));
  }
  async close(): Promise<void> {}
}

test('a batch is acknowledged only when every sink has it; credit comes back; order is kept', async () => {
  const fast = new SlowSink('fast', 1);
  const slow = new SlowSink('slow', 30);
  const credit = new Credit(1 << 20);
  const src = new Subject<LogEntry>();
  const acked: string[][] = [];
  const done = lastValueFrom(
    deliver(src, { batchBytes: 3 * entrySize(entry('x')), batchWaitMs: 10 }, {
      sinks: [fast, slow],
      credit,
      acknowledged: (b) => {
        assert.equal(slow.got.length, acked.length + 1, 'the slow sink already has the batch');
        acked.push(b.map((e) => e.line));
      },
    }).pipe(toArray()),
  );
  const lines = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  for (const l of lines) {
    credit.take(entrySize(entry(l)));
    src.next(entry(l));
  }
  src.complete();
  const counts = await done;
  assert.deepEqual(acked.flat(), lines);
  assert.deepEqual(fast.got, slow.got);
  assert.deepEqual(counts.reduce((a, b) => a + b, 0), lines.length);
  assert.equal(credit.inFlight, 0);
});
