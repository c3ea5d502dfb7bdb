import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FNV_OFFSET_32, fnv1a32, fnv1a32Ascii, fnv1a32Bytes, fnv1a32Integer } from './hash.ts';

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

test('integers below 10^9 (hashed three digits at a time) hash like their text, leading zeros of each group included', () => {
  const values = [1_000, 1_001, 1_000_000, 1_000_001, 1_010_101, 100_000_000, 100_000_001, 900_090_009, 999_999_999, -1_000_005];
  for (let n = 0; n < 20_000; n++) values.push(n);
  for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.random() * 1e9));
  for (const n of values) assert.equal(fnv1a32Integer(n, 12_345), fnv1a32(String(n), 12_345), String(n));
});

test('bytes hash like the text they encode; the ASCII variant says when they are not ASCII', () => {
  const ascii = Buffer.from('xfoobarx');
  assert.equal(fnv1a32Bytes(ascii, 1, 7), fnv1a32('foobar'));
  assert.equal(fnv1a32Ascii(ascii, 1, 7, FNV_OFFSET_32), fnv1a32('foobar'));
  assert.equal(fnv1a32Ascii(Buffer.from('foé'), 0, 4, FNV_OFFSET_32), -1);
  assert.equal(fnv1a32Ascii(Buffer.from('foé'), 0, 2, FNV_OFFSET_32), fnv1a32('fo'));
});
