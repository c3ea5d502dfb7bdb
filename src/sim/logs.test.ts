import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerEntry } from './ledger.ts';
import { formatRecord, InstanceLog, passesSince, startIndex } from './logs.ts';

function entry(line: string, ts = '2024-01-01T00:00:00.000000000Z'): LedgerEntry {
  return { namespace: 'ns', pod: 'p', pod_uid: 'u', container: 'c', restart: 0, ts, line };
}

test('tailLines counts from the end of the current file; since is inclusive, line by line', () => {
  const log = new InstanceLog();
  const r1 = log.append(entry('a'), { sec: 10, nsec: 500 }, 'stdout');
  const r2 = log.append(entry('b'), { sec: 11, nsec: 0 }, 'stdout');
  const r3 = log.append(entry('c'), { sec: 10, nsec: 900 }, 'stderr');
  assert.equal(startIndex(log.current, undefined), 0);
  assert.equal(startIndex(log.current, 2), 1);
  assert.equal(startIndex(log.current, 10), 0);
  assert.equal(startIndex(log.current, 0), 3);
  const since = { sec: 10, nsec: 900 };
  assert.deepEqual([r1, r2, r3].map((r) => passesSince(r, since)), [false, true, true]);
  assert.equal(formatRecord(r2, true), '2024-01-01T00:00:00.000000000Z b\n');
  assert.equal(formatRecord(r2, false), 'b\n');
});

test('automatic rotation at the size limit; subscribers hear lines, rotation and the end', () => {
  const log = new InstanceLog(100);
  let changes = 0;
  const unsubscribe = log.subscribe(() => changes++);
  const first = log.current;
  log.append(entry('x'.repeat(30)), { sec: 1, nsec: 0 }, 'stdout');
  log.append(entry('y'.repeat(30)), { sec: 1, nsec: 0 }, 'stdout');
  assert.notEqual(log.current, first);
  assert.equal(first.rotated, true);
  assert.equal(first.next, log.current);
  assert.equal(first.records[0].entry.unrecoverable, true, 'nobody read it');
  log.end();
  assert.equal(log.ended, true);
  unsubscribe();
  log.discard();
  assert.equal(changes, 3);
});
