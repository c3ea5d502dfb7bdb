import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32 } from './hash.ts';

test('FNV-1a 32 matches the published test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('chaining with a seed equals hashing the concatenation', () => {
  assert.equal(fnv1a32('bar', fnv1a32('foo')), fnv1a32('foobar'));
});
