import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSink, jsonLines, textLines } from './file.ts';
import { BlockBuilder, blocksOf, type LineBlock } from '../pipeline/block.ts';
import { seededRandom } from '../sim/random.ts';
import { formatTimestamp } from '../time/timestamp.ts';
import type { LogEntry, TargetInfo } from '../pipeline/entry.ts';

const target: TargetInfo = { key: 'u1/app', namespace: 'shop', pod: 'web-0', podUid: 'u1', container: 'app', kind: 'app', nodeName: 'n1', labels: {} };
const entry = (line: string, nsec = 5): LogEntry => ({ target, restart: 2, ts: { sec: 1704067200, nsec }, line });

test('text and JSON lines keep nanoseconds and every field', () => {
  assert.equal(textLines(blocksOf([entry('hello')])).toString(), '2024-01-01T00:00:00.000000005Z shop/web-0/app hello\n');
  assert.deepEqual(JSON.parse(jsonLines(blocksOf([entry('say "hi"\tnow')])).toString()), {
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

test('text and JSON lines of a batch: lines read and held as text, any second, any target, each as formatted alone', () => {
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const targets: TargetInfo[] = [target, { ...target, key: 'u2/side', pod: 'wëb-1', podUid: 'u2', container: 'sidecar' }];
  const words = ['GET /', 'ünïcödé', '日本語', '😀 emoji', 'tab\there', '', ' lead', 'trail ', 'x'.repeat(300)];
  const batch: LineBlock[] = [];
  const expected: string[] = [];
  const json: object[] = [];
  let sec = 1704067199;
  for (let b = 0; b < 40; b++) {
    const t = pick(targets);
    const builder = new BlockBuilder(t, 0, undefined);
    const lines = Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(words) + pick(words));
    const chunk = Buffer.from(`${lines.join('\n')}\n`);
    let at = 0;
    for (const line of lines) {
      if (random() < 0.3) sec += 1 + Math.floor(random() * 100_000);
      const nsec = pick([0, 5, 999_999_999, Math.floor(random() * 1e9)]);
      const bytes = Buffer.byteLength(line);
      if (random() < 0.25) builder.addText(line, sec, nsec, 0);
      else builder.addBytes(chunk, at, at + bytes, sec, nsec, 0);
      at += bytes + 1;
      expected.push(`${formatTimestamp({ sec, nsec })} ${t.namespace}/${t.pod}/${t.container} ${line}\n`);
      json.push({ ts: formatTimestamp({ sec, nsec }), namespace: t.namespace, pod: t.pod, pod_uid: t.podUid, container: t.container, restart: 0, line });
    }
    batch.push(builder.take()!);
  }
  assert.equal(textLines(batch).toString('utf8'), expected.join(''));
  assert.equal(textLines([]).length, 0);
  assert.equal(jsonLines(batch).toString('utf8'), json.map((o) => `${JSON.stringify(o)}\n`).join(''));
  assert.equal(jsonLines([]).length, 0);
});
