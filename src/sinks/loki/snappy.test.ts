import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { compress, uncompress } from 'snappyjs';
import { maxCompressedLength, snappyCompress } from './snappy.ts';

function roundTrip(input: Uint8Array): Uint8Array {
  const packed = snappyCompress(input);
  assert.ok(packed.length <= maxCompressedLength(input.length));
  assert.deepEqual(Buffer.from(uncompress(packed)), Buffer.from(input));
  return packed;
}

function logText(bytes: number, seed: number): Buffer {
  let text = '';
  for (let i = seed; text.length < bytes; i++) text += `level=info i=${i} path=/api/v${i % 3}/orders status=${200 + (i % 5)} ✓\n`;
  return Buffer.from(text).subarray(0, bytes);
}

test('snappy output decodes with snappyjs for sizes around every boundary', () => {
  for (const size of [0, 1, 3, 4, 14, 15, 16, 17, 100, 65_535, 65_536, 65_537, 131_072, 200_003]) {
    roundTrip(logText(size, size));
    roundTrip(randomBytes(size));
    roundTrip(new Uint8Array(size));
    roundTrip(new Uint8Array(size).fill(0x61));
  }
});

test('random mixtures of repeated and random runs round-trip', () => {
  for (let round = 0; round < 40; round++) {
    const parts: Buffer[] = [];
    let size = 0;
    while (size < 150_000) {
      const part = Math.random() < 0.5 ? randomBytes(1 + Math.floor(Math.random() * 300)) : logText(1 + Math.floor(Math.random() * 5000), round);
      parts.push(part, part.subarray(0, Math.floor(Math.random() * part.length)));
      size += part.length * 2;
    }
    roundTrip(Buffer.concat(parts));
  }
});

test('log text compresses as well as with snappyjs', () => {
  const text = logText(1 << 20, 7);
  const ours = roundTrip(text).length;
  const theirs = compress(text).length;
  assert.ok(ours <= theirs * 1.02, `${ours} vs ${theirs}`);
  assert.ok(ours < text.length / 2);
});
