import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compareWithLedger, dedupe, deliveredOf, readJsonOutput, type LedgerLine } from './compare.ts';

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
  assert.deepEqual([r.lost, r.duplicated, r.reordered, r.unknown, r.mislabelled], [0, 0, 0, 0, 0]);
});

test('a line delivered with another restart number than the instance that wrote it is mislabelled', () => {
  const ledger = [{ ...l('u1', 'a'), restart: 0 }, { ...l('u1', 'b'), restart: 1 }, { ...l('u1', 'c'), restart: 1 }];
  const d = (line: string, restart?: number) => ({ pod_uid: 'u1', container: 'c', line, ...(restart === undefined ? {} : { restart }) });
  const r = compareWithLedger(ledger, [d('a', 0), d('b', 0), d('c'), d('b', 0)]);
  assert.equal(r.mislabelled, 1, 'b came with restart 0; c carried none; the repeat of b counts as a duplicate only');
  assert.equal(r.duplicated, 1);
  assert.deepEqual(r.examples.mislabelled, ['b (restart 0, written by 1)']);
});

test('outputs as delivered lines: Loki entries (exact resends dropped as Loki does) and the JSON file output', async () => {
  const entry = (stream: string, nsec: number, line: string) => ({ stream, ts: { sec: 1, nsec }, line, metadata: { pod_uid: 'u1', restart: '2' } });
  const a = '{namespace="ns", container="app"}';
  const b = '{namespace="ns", container="side"}';
  const kept = dedupe([entry(a, 1, 'x'), entry(a, 1, 'x'), entry(b, 1, 'x'), entry(a, 2, 'x'), entry(a, 1, 'y')]);
  assert.deepEqual(kept.map((e) => `${e.stream === a ? 'app' : 'side'} ${e.ts.nsec} ${e.line}`), ['app 1 x', 'side 1 x', 'app 2 x', 'app 1 y']);
  assert.deepEqual(deliveredOf(kept[1]), { pod_uid: 'u1', container: 'side', line: 'x', restart: 2 });
  const dir = await mkdtemp(path.join(tmpdir(), 'compare-'));
  try {
    const file = path.join(dir, 'out.jsonl');
    await writeFile(file, '{"ts":"t","pod_uid":"u1","container":"app","restart":0,"line":"a"}\n{"ts":"t","pod_uid":"u1","cont\n\n');
    assert.deepEqual(await readJsonOutput(file), { delivered: [{ pod_uid: 'u1', container: 'app', line: 'a', restart: 0 }], damaged: 1 });
    assert.deepEqual(await readJsonOutput(path.join(dir, 'missing')), { delivered: [], damaged: 0 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
