import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTimestamps, formatSeconds, formatTimestamp, nowTimestamp, parseTimestamp, toEpochNanosString } from './timestamp.ts';

test('parses the kubelet fixed nine-digit format and formats it back', () => {
  const text = '2024-01-01T00:00:02.100000000Z';
  const ts = parseTimestamp(text);
  assert.deepEqual(ts, { sec: 1704067202, nsec: 100000000 });
  assert.equal(formatTimestamp(ts!), text);
});

test('trimmed fractions compare numerically, not as strings', () => {
  const a = parseTimestamp('2024-01-01T00:00:00.61732014Z')!;
  const b = parseTimestamp('2024-01-01T00:00:00.617316084Z')!;
  assert.ok('2024-01-01T00:00:00.61732014Z' > '2024-01-01T00:00:00.617316084Z');
  assert.ok(compareTimestamps(a, b) > 0);
  assert.equal(a.nsec, 617320140);
});

test('offsets are converted to UTC', () => {
  const ts = parseTimestamp('2024-01-01T02:00:00.5+02:00')!;
  assert.deepEqual(ts, { sec: 1704067200, nsec: 500000000 });
  assert.deepEqual(parseTimestamp('2023-12-31T23:30:00-00:30'), { sec: 1704067200, nsec: 0 });
});

test('rejects what is not RFC3339', () => {
  for (const bad of ['', 'hello', '2024-01-01 00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T00:00:00.1234567890Z', '2024-01-01T00:00:00']) {
    assert.equal(parseTimestamp(bad), undefined, bad);
  }
});

test('whole-second and epoch-nanosecond renderings', () => {
  assert.equal(formatSeconds(1704067202), '2024-01-01T00:00:02Z');
  assert.equal(toEpochNanosString({ sec: 1704067202, nsec: 5 }), '1704067202000000005');
});

test('formatting: seconds going forward, back and forward again each get their own date and time', () => {
  const seen = [
    [{ sec: 1704067199, nsec: 999999999 }, '2023-12-31T23:59:59.999999999Z'],
    [{ sec: 1704067200, nsec: 0 }, '2024-01-01T00:00:00.000000000Z'],
    [{ sec: 1704067200, nsec: 42 }, '2024-01-01T00:00:00.000000042Z'],
    [{ sec: 1704067199, nsec: 5 }, '2023-12-31T23:59:59.000000005Z'],
    [{ sec: 1709208000, nsec: 123456789 }, '2024-02-29T12:00:00.123456789Z'],
  ] as const;
  for (const [ts, text] of seen) assert.equal(formatTimestamp(ts), text);
});

test('now: the wall clock with nanoseconds in range, never going backwards', () => {
  let last = nowTimestamp();
  for (let i = 0; i < 10_000; i++) {
    const ts = nowTimestamp();
    assert.ok(Number.isInteger(ts.sec) && Number.isInteger(ts.nsec) && ts.nsec >= 0 && ts.nsec < 1e9, JSON.stringify(ts));
    assert.ok(compareTimestamps(ts, last) >= 0);
    last = ts;
  }
  const ms = last.sec * 1000 + last.nsec / 1e6;
  assert.ok(Math.abs(ms - Date.now()) < 50, `${ms} against ${Date.now()}`);
});
