import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { uncompress } from 'snappyjs';
import { defaultSnappy, loadNativeSnappy, snappyjs, type Snappy } from './snappy.ts';

const native = loadNativeSnappy();

function inputs(): Uint8Array[] {
  const logLike = Array.from({ length: 5000 }, (_, i) => `2026-11-23T07:51:41.${String(i).padStart(9, '0')}Z level=info msg="request ${i % 17}" took=${i % 997}ms\n`).join('');
  return [
    new Uint8Array(0),
    Buffer.from('a'),
    Buffer.from(logLike),
    randomBytes(200_000),
    // Past snappy's 64 KiB block size, with matches that would cross a block boundary.
    Buffer.from('0123456789abcdef'.repeat(20_000)),
  ];
}

function roundTrips(s: Snappy): void {
  for (const input of inputs()) {
    const body = s.compress(input);
    // snappyjs is the decoder the test receiver uses, as Loki's Go decoder would be.
    assert.deepEqual(Buffer.from(uncompress(body)), Buffer.from(input), `${s.implementation}, ${input.length} bytes`);
  }
}

test('snappyjs bodies are snappy block format', () => roundTrips(snappyjs));

test('the native binding loads on this platform and writes the same format', { skip: 'error' in native ? native.error : false }, () => {
  assert.ok('snappy' in native);
  roundTrips(native.snappy);
  // It actually compresses: log-like text shrinks to well under half.
  const text = inputs()[2];
  assert.ok(native.snappy.compress(text).length < text.length / 2);
});

test('the sink compresses natively where the binding loads, with snappyjs otherwise', () => {
  assert.equal(defaultSnappy().implementation, 'error' in native ? 'snappyjs' : 'native');
});
