import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Credit } from './credit.ts';

test('waiters are released only once acknowledgements bring the bytes below the bound', async () => {
  const credit = new Credit(100);
  await credit.available();
  credit.take(60);
  credit.take(60);
  assert.equal(credit.exhausted, true);
  let released = false;
  const waiting = credit.available().then(() => {
    released = true;
  });
  credit.give(10);
  await Promise.resolve();
  assert.equal(released, false, 'still at 110 > 100');
  credit.give(60);
  await waiting;
  assert.equal(released, true);
  assert.equal(credit.inFlight, 50);
  assert.equal(credit.peak, 120);
});
