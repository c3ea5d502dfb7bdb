import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compress, uncompress } from 'snappyjs';
import { snappyCompressAsync } from './compress.ts';

test('the worker compresses to the snappy block format, byte for byte what snappyjs makes', async () => {
  const bodies = [Buffer.from('a log line that repeats\n'.repeat(5000)), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)), Buffer.alloc(0)];
  const outs = await Promise.all(bodies.map((b) => snappyCompressAsync(b)));
  for (const [i, body] of bodies.entries()) {
    assert.deepEqual(Buffer.from(outs[i]), Buffer.from(compress(body)), `body ${i}`);
    assert.deepEqual(Buffer.from(uncompress(outs[i])), body);
  }
  assert.equal(bodies[0].length, 24 * 5000, 'the input is copied, not taken from the caller');
});
