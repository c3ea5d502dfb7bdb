import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { batchBy } from './batch.ts';

const size = (s: string): number => s.length;

test('splits at the byte bound without exceeding it, and flushes the rest on completion', async () => {
  const src = new Subject<string>();
  const out = lastValueFrom(src.pipe(batchBy({ maxBytes: 10, maxWaitMs: 60_000, size }), toArray()));
  for (const s of ['aaaa', 'bbbb', 'cc', 'dddddd', 'e', 'ffffffffffff', 'g']) src.next(s);
  src.complete();
  const batches = await out;
  assert.deepEqual(batches, [['aaaa', 'bbbb', 'cc'], ['dddddd', 'e'], ['ffffffffffff'], ['g']]);
});

test('flushes a partial batch after the wait', async () => {
  const src = new Subject<string>();
  const seen: string[][] = [];
  const sub = src.pipe(batchBy({ maxBytes: 1000, maxWaitMs: 30, size })).subscribe((b) => seen.push(b));
  src.next('x');
  src.next('y');
  assert.equal(seen.length, 0);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(seen, [['x', 'y']]);
  sub.unsubscribe();
});
