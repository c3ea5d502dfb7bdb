import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from './duration.ts';

test('durations: units, compounds, fractions and bare seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1m0.5s'), 60_500);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('0.25'), 250);
  assert.equal(parseDuration(' 0 '), 0);
});

test('durations: bad input says how to write one', () => {
  for (const bad of ['', '5x', 's', '-5s', '1h 30m', '5 s', '1.s', 'abc', '5s10']) {
    assert.throws(() => parseDuration(bad), (e: Error) => {
      assert.match(e.message, /^invalid duration ".*": use a number with ms, s, m or h/);
      assert.ok(!e.message.includes('\n'));
      return true;
    }, bad);
  }
});

test('durations format back readably', () => {
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(3_605_000), '1h5s');
  assert.equal(formatDuration(0), '0ms');
  for (const ms of [1, 999, 1000, 61_001, 7_200_000, 5_430_250]) assert.equal(parseDuration(formatDuration(ms)), ms);
});

test('byte sizes: binary and decimal units, case-insensitive', () => {
  assert.equal(parseByteSize('1024'), 1024);
  assert.equal(parseByteSize('64KiB'), 65_536);
  assert.equal(parseByteSize('1MiB'), 1_048_576);
  assert.equal(parseByteSize('1GiB'), 1_073_741_824);
  assert.equal(parseByteSize('16Mi'), 16 * 1_048_576);
  assert.equal(parseByteSize('1KB'), 1000);
  assert.equal(parseByteSize('1MB'), 1_000_000);
  assert.equal(parseByteSize('256k'), 256_000);
  assert.equal(parseByteSize('1m'), 1_000_000);
  assert.equal(parseByteSize('1.5MiB'), 1_572_864);
  assert.equal(parseByteSize('10 B'), 10);
});

test('byte sizes: bad input names the accepted units', () => {
  for (const bad of ['', 'MiB', '1XB', '-1', '1 2', 'constructor', '1constructor', '1TiB']) {
    assert.throws(() => parseByteSize(bad), /^Error: invalid size ".*": use bytes or a unit, KiB, MiB, GiB \(1024-based\) or KB, MB, GB/, bad);
  }
});

test('byte sizes format in 1024 units', () => {
  assert.equal(formatByteSize(512), '512B');
  assert.equal(formatByteSize(65_536), '64KiB');
  assert.equal(formatByteSize(1_572_864), '1.5MiB');
});
