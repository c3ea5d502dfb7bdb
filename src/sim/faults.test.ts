import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Faults, parseDuration, parseFaults, splitFaultArg } from './faults.ts';

test('durations accept ms, s, m, h and bare seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.throws(() => parseDuration('5x'), /invalid duration "5x"/);
});

test('faults are validated with one-line errors listing the valid names', () => {
  assert.deepEqual(parseFaults({ 'stall-after': '2s', 'error-rate': '0.05', rotation: 'stall' }),
    { stallAfterMs: 2000, errorRate: 0.05, rotation: 'stall' });
  assert.throws(() => parseFaults({ nope: '1' }), /unknown fault "nope"; valid faults: stream-max-age, stall-after/);
  assert.throws(() => parseFaults({ 'error-rate': '2' }), /between 0 and 1/);
  assert.throws(() => parseFaults({ rotation: 'sideways' }), /stall .* or continue/);
  assert.deepEqual(splitFaultArg('slow=1s'), ['slow', '1s']);
  assert.throws(() => splitFaultArg('slow'), /NAME=VALUE/);
});

test('scoped faults overlay the global ones for matching streams only', () => {
  const f = new Faults();
  f.set({ 'stream-max-age': '10s' });
  f.set({ 'stall-after': '1s' }, { namespace: 'prod', container: 'app' });
  assert.deepEqual(f.forStream('prod', 'web-0', 'app'), { streamMaxAgeMs: 10_000, stallAfterMs: 1000 });
  assert.deepEqual(f.forStream('prod', 'web-0', 'side'), { streamMaxAgeMs: 10_000 });
  assert.equal(f.hasScopedStreamFault('prod', 'x', 'app'), true);
  f.clear({ namespace: 'prod', container: 'app' });
  assert.deepEqual(f.forStream('prod', 'web-0', 'app'), { streamMaxAgeMs: 10_000 });
  f.clear();
  assert.deepEqual(f.forStream('prod', 'web-0', 'app'), {});
});
