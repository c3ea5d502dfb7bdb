import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32, hashAscii, hashBytes, hashIntegers } from './hash.ts';

test('FNV-1a 32 matches the published test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('chaining with a seed equals hashing the concatenation', () => {
  assert.equal(fnv1a32('bar', fnv1a32('foo')), fnv1a32('foobar'));
});

test('hashBytes depends on the bytes of the range only, not on where they lie or what surrounds them', () => {
  const text = 'level=info msg="request served" path=/api/v1/items/42 status=200';
  const alone = Buffer.from(text);
  const h = hashBytes(alone, 0, alone.length, 7);
  for (let offset = 1; offset < 9; offset++) {
    const big = Buffer.alloc(alone.length + 20, 0x7a);
    alone.copy(big, offset);
    // Views at every alignment: the words are read from the view's own offset.
    assert.equal(hashBytes(big, offset, offset + alone.length, 7), h, `at ${offset}`);
    assert.equal(hashBytes(big.subarray(offset - 1), 1, 1 + alone.length, 7), h, `in a view at ${offset}`);
  }
  assert.notEqual(hashBytes(alone, 0, alone.length, 8), h, 'the seed counts');
  assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
});

test('hashBytes tells apart ranges that differ in one byte, in length, or only in the order of their words', () => {
  const base = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ');
  const seen = new Set<number>();
  for (let len = 0; len <= base.length; len++) seen.add(hashBytes(base, 0, len, 1));
  assert.equal(seen.size, base.length + 1, 'every prefix differs');
  const h = hashBytes(base, 0, base.length, 1);
  for (let i = 0; i < base.length; i++) {
    for (const bit of [0x01, 0x20, 0x40]) {
      const changed = Buffer.from(base);
      changed[i] ^= bit;
      assert.notEqual(hashBytes(changed, 0, changed.length, 1), h, `byte ${i}, bit ${bit}`);
    }
  }
  const swapped = Buffer.concat([base.subarray(8, 16), base.subarray(0, 8), base.subarray(16)]);
  assert.notEqual(hashBytes(swapped, 0, swapped.length, 1), h);
});

test('a million distinct log-like lines of one second hash to nearly a million values', () => {
  const seen = new Set<number>();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) {
    const line = Buffer.from(`GET /api/v1/orders/${i} status=200 latency_ms=${i % 997}`);
    seen.add(hashBytes(line, 0, line.length, 0));
  }
  // A random 32-bit function collides ~n²/2³³ ≈ 116 times here.
  assert.ok(n - seen.size < 400, `${n - seen.size} collisions`);
});

test('hashAscii is hashBytes for ASCII and -1 as soon as a byte is not', () => {
  const ascii = Buffer.from('xfoobarbazquxx');
  assert.equal(hashAscii(ascii, 1, 13, 5), hashBytes(ascii, 1, 13, 5));
  const utf8 = Buffer.from('fooé and more text');
  assert.equal(hashAscii(utf8, 0, utf8.length, 5), -1);
  assert.equal(hashAscii(Buffer.from('0123456é'), 0, 9, 5), -1, 'in a word');
  assert.equal(hashAscii(utf8, 0, 3, 5), hashBytes(utf8, 0, 3, 5));
});

test('hashIntegers tells apart the timestamps of neighbouring lines', () => {
  const seen = new Set<number>();
  for (const sec of [0, 1, 1_700_000_000, 1_700_000_001, 2 ** 32 + 1_700_000_000, -1]) {
    for (const nsec of [0, 1, 2, 999_999_999]) seen.add(hashIntegers(3, sec, nsec));
  }
  assert.equal(seen.size, 24);
  assert.notEqual(hashIntegers(3, 1, 2), hashIntegers(3, 2, 1));
});
