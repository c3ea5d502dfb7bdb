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

test('pressure is signalled once when the bound is reached and once when acknowledgements bring it below half', () => {
  const credit = new Credit(100);
  const signals: boolean[] = [];
  credit.onPressure((full) => signals.push(full));
  credit.take(60);
  credit.give(60);
  assert.deepEqual(signals, [], 'never full');
  credit.take(70);
  credit.take(40);
  credit.take(10);
  assert.deepEqual(signals, [true], 'full at 110, once');
  credit.give(20);
  credit.take(20);
  credit.give(40);
  assert.deepEqual(signals, [true], 'at 70 and back at 110: readers resumed, still above half');
  credit.give(30);
  assert.deepEqual(signals, [true], 'at 50: not below half yet');
  credit.give(1);
  assert.deepEqual(signals, [true, false], 'below half');
  credit.give(49);
  credit.take(100);
  assert.deepEqual(signals, [true, false, true], 'full again');
});
