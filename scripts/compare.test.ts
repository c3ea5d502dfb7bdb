import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithLedger, type LedgerLine } from './compare.ts';

const l = (uid: string, line: string, unrecoverable?: boolean): LedgerLine => ({
  namespace: 'ns', pod: 'p', pod_uid: uid, container: 'c', line, ts: '2024-01-01T00:00:00.000000000Z', ...(unrecoverable ? { unrecoverable } : {}),
});

test('counts lost, duplicated, reordered and unknown lines, and excuses unrecoverable ones', () => {
  const ledger = [l('u1', 'a'), l('u1', 'b'), l('u1', 'c'), l('u1', 'd', true), l('u2', 'a'), l('u2', 'b')];
  const d = (uid: string, line: string) => ({ pod_uid: uid, container: 'c', line });
  const r = compareWithLedger(ledger, [d('u1', 'a'), d('u1', 'c'), d('u1', 'b'), d('u1', 'c'), d('u2', 'b'), d('u2', 'zzz')]);
  assert.equal(r.lost, 1, 'u2 a is lost; u1 d is unrecoverable');
  assert.equal(r.duplicated, 1);
  assert.equal(r.reordered, 1, 'u1 b came after c');
  assert.equal(r.unknown, 1);
  assert.equal(r.unrecoverable, 1);
  assert.deepEqual(r.examples.lost, ['ns/p/c a']);
});

test('a perfect delivery compares clean', () => {
  const ledger = [l('u1', 'x'), l('u1', 'y')];
  const r = compareWithLedger(ledger, ledger);
  assert.deepEqual([r.lost, r.duplicated, r.reordered, r.unknown], [0, 0, 0, 0]);
});
