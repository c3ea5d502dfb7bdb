import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitLine, truncationMarker } from './lines.ts';
import { repairUtf8, utf8Prefix } from './utf8.ts';

test('lone surrogates are repaired; well-formed text is returned as is', () => {
  assert.equal(repairUtf8('a\uD800b\uDC00c'), 'a\uFFFDb\uFFFDc');
  assert.equal(repairUtf8('ok 😀'), 'ok 😀');
  assert.deepEqual(fitLine('x\uDBFF', 100, 'truncate'), ['x\uFFFD']);
  assert.equal(Buffer.from(fitLine('x\uDBFF', 100, 'truncate')[0]).toString(), 'x\uFFFD');
});

test('utf8Prefix never splits a character', () => {
  assert.equal(utf8Prefix('ab😀', 5), 'ab');
  assert.equal(utf8Prefix('ab😀', 6), 'ab😀');
  assert.equal(utf8Prefix('ééé', 5), 'éé');
});

test('a line that fits is one entry, untouched', () => {
  const line = 'a'.repeat(100);
  assert.deepEqual(fitLine(line, 100, 'truncate'), [line]);
  assert.deepEqual(fitLine('é'.repeat(50), 100, 'split'), ['é'.repeat(50)]);
});

test('truncation keeps the limit and says how much was cut', () => {
  const line = `${'é'.repeat(100)}tail`; // 204 bytes
  const [cut] = fitLine(line, 100, 'truncate');
  const bytes = Buffer.byteLength(cut);
  assert.ok(bytes <= 100, `${bytes} bytes`);
  const kept = cut.slice(0, cut.indexOf('…'));
  assert.ok(line.startsWith(kept));
  assert.ok(cut.endsWith(truncationMarker(204 - Buffer.byteLength(kept))));
  assert.ok(!cut.includes('\uFFFD'));
});

test('splitting gives consecutive parts within the limit that join back to the line', () => {
  const line = `${'abc😀'.repeat(40)}é`.repeat(5);
  const parts = fitLine(line, 64, 'split');
  assert.ok(parts.length > 1);
  for (const part of parts) assert.ok(Buffer.byteLength(part) <= 64);
  assert.equal(parts.join(''), line);
});
