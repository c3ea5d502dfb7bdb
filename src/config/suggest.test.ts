import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from './suggest.ts';

test('edit distance', () => {
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('same', 'same'), 0);
});

test('closest: typos and prefixes suggest, unrelated words do not', () => {
  const names = ['--loki-url', '--loki-tenant', '--namespace', '--since'];
  assert.equal(closest('--loki-ulr', names), '--loki-url');
  assert.equal(closest('--namspace', names), '--namespace');
  assert.equal(closest('--loki-ten', names), '--loki-tenant');
  assert.equal(closest('--verbose-logging', names), undefined);
});
