import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readChunk, readText } from './chunks.ts';

async function all(body: Readable): Promise<string[]> {
  const out: string[] = [];
  for (let c = await readChunk(body); c !== null; c = await readChunk(body)) out.push(c.toString());
  return out;
}

test('chunks in order, then null at the end; no listeners left behind', async () => {
  const body = new Readable({ read() {} });
  const reading = all(body);
  body.push('a');
  setTimeout(() => {
    body.push('b');
    body.push(null);
  }, 10);
  assert.equal((await reading).join(''), 'ab');
  for (const event of ['readable', 'end', 'error', 'close']) assert.equal(body.listenerCount(event), 0, event);
});

test('a body that fails or is destroyed before its end rejects', async () => {
  const failing = new Readable({ read() {} });
  const pending = readChunk(failing);
  failing.destroy(new Error('reset'));
  await assert.rejects(pending, /reset/);
  const closed = new Readable({ read() {} });
  const waiting = readChunk(closed);
  closed.destroy();
  await assert.rejects(waiting, /closed before its end/);
  await assert.rejects(readChunk(closed), /closed before its end/, 'and so does a read after it');
});

test('an h2 body that ends with a close code other than NO_ERROR was cut: it rejects after its data; code 0 is an end', async () => {
  const body = (code: number): Readable => Object.assign(Readable.from([Buffer.from('x')]), { rstCode: code });
  const cut = body(8);
  assert.equal((await readChunk(cut))?.toString(), 'x', 'what arrived before the cut is read');
  await assert.rejects(readChunk(cut), /cut \(HTTP\/2 code 8\)/);
  assert.deepEqual(await all(body(0)), ['x']);
});

test('readText joins a body as UTF-8, a character split across chunks included', async () => {
  const euro = Buffer.from('€');
  assert.equal(await readText(Readable.from([Buffer.from('a'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('b')])), 'a€b');
});
