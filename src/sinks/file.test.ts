import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSink, formatEntry } from './file.ts';
import { blocksOf } from '../pipeline/block.ts';
import type { LogEntry, TargetInfo } from '../pipeline/entry.ts';

const target: TargetInfo = { key: 'u1/app', namespace: 'shop', pod: 'web-0', podUid: 'u1', container: 'app', kind: 'app', nodeName: 'n1', labels: {} };
const entry = (line: string, nsec = 5): LogEntry => ({ target, restart: 2, ts: { sec: 1704067200, nsec }, line });

test('text and JSON lines keep nanoseconds and every field', () => {
  assert.equal(formatEntry(entry('hello'), 'text'), '2024-01-01T00:00:00.000000005Z shop/web-0/app hello');
  assert.deepEqual(JSON.parse(formatEntry(entry('say "hi"\tnow'), 'json')), {
    ts: '2024-01-01T00:00:00.000000005Z', namespace: 'shop', pod: 'web-0', pod_uid: 'u1', container: 'app', restart: 2, line: 'say "hi"\tnow',
  });
});

test('appends batches in order to a file it creates, with its folder', async () => {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'tailer-file-')), 'deep', 'out.jsonl');
  const sink = await FileSink.open(file, 'json');
  await sink.write(blocksOf([entry('a', 1), entry('b', 2)]));
  await sink.write(blocksOf([]));
  await sink.write(blocksOf([entry('c', 3)]));
  await sink.close();
  const again = await FileSink.open(file, 'json');
  await again.write(blocksOf([entry('d', 4)]));
  await again.close();
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { line: string }).line);
  assert.deepEqual(lines, ['a', 'b', 'c', 'd']);
});

test('an output that cannot be opened is one clear error naming it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-file-'));
  const notADir = path.join(dir, 'file');
  await writeFile(notADir, 'x');
  await assert.rejects(FileSink.open(path.join(notADir, 'out.txt'), 'text'), /cannot open output file .*file\/out\.txt/);
  await assert.rejects(FileSink.open(dir, 'text'), /cannot open output file/);
});
