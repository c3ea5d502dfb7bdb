import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32, fnv1a32Integer } from './hash.ts';

test('FNV-1a 32 matches the published test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('chaining with a seed equals hashing the concatenation', () => {
  assert.equal(fnv1a32('bar', fnv1a32('foo')), fnv1a32('foobar'));
});

test('hashing an integer equals hashing its decimal text', () => {
  for (const n of [0, 7, 10, 99, 100, 999_999_999, 1_700_000_000, 17_000_000_000, -1, -86_400]) {
    assert.equal(fnv1a32Integer(n), fnv1a32(String(n)), String(n));
    assert.equal(fnv1a32Integer(n, fnv1a32('x')), fnv1a32(`x${n}`), String(n));
  }
});
