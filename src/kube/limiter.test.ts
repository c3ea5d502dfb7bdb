import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter } from './limiter.ts';

test('never runs more than max at once and runs everything in arrival order', async () => {
  const limiter = new Limiter(3);
  const started: number[] = [];
  let running = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      limiter.run(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
      }),
    ),
  );
  assert.equal(most, 3);
  assert.equal(limiter.peak, 3);
  assert.deepEqual(started, [...Array(20).keys()]);
});

test('a failing task frees its slot', async () => {
  const limiter = new Limiter(1);
  await assert.rejects(limiter.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await limiter.run(async () => 7), 7);
});
