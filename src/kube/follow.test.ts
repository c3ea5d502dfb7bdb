// The follower's pure parts; its behaviour against the simulated API server is in test/follow.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamAge } from './follow.ts';

test('stream ages spread over ±10% of the limit in 21 steps (one Node timer list each, not one per stream)', () => {
  const ages = new Set(Array.from({ length: 5000 }, () => streamAge(3_600_000)));
  for (const age of ages) assert.ok(age >= 3_240_000 && age <= 3_960_000, String(age));
  assert.ok(ages.size > 15 && ages.size <= 21, `${ages.size} distinct ages`);
});
