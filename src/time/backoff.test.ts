import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, sleep } from './backoff.ts';

test('back-off doubles from the minimum, stays within [cap/2, cap] and never exceeds the maximum', () => {
  assert.equal(backoffDelay(1, 500, 30_000, () => 1), 500);
  assert.equal(backoffDelay(1, 500, 30_000, () => 0), 250);
  assert.equal(backoffDelay(3, 500, 30_000, () => 1), 2000);
  assert.equal(backoffDelay(30, 500, 30_000, () => 1), 30_000);
  assert.equal(backoffDelay(30, 500, 30_000, () => 0), 15_000);
  for (let i = 1; i < 40; i++) {
    const d = backoffDelay(i, 500, 30_000);
    assert.ok(d >= 250 && d <= 30_000, `attempt ${i}: ${d}`);
  }
});

test('sleep ends early when aborted', async () => {
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 20);
  await sleep(10_000, ac.signal);
  assert.ok(Date.now() - started < 5000);
});
