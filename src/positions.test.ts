import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Positions, PositionsError, POSITIONS_KIND, POSITIONS_VERSION } from './positions.ts';
import { Cursor, lineHash } from './kube/cursor.ts';
import { blocksOf } from './pipeline/block.ts';
import type { LogEntry, TargetInfo } from './pipeline/entry.ts';

const HOUR = 3_600_000;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'positions-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function target(podUid: string, container = 'app'): TargetInfo {
  return { key: `${podUid}/${container}`, namespace: 'ns', pod: `pod-${podUid}`, podUid, container, kind: 'app', nodeName: 'n1', labels: {} };
}

/** `n` lines of one instance, several per second, starting at second `fromSec`. */
function lines(t: TargetInfo, containerId: string, restart: number, fromSec: number, n: number, prefix = 'line'): LogEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    target: t,
    restart,
    containerId,
    ts: { sec: fromSec + Math.floor(i / 3), nsec: (i % 3) * 1000 },
    line: `${prefix} ${i}`,
  }));
}

/** A clock the test moves by hand. */
function clock(start = Date.UTC(2024, 0, 1)): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('round trip: what is saved loads back with the same containers and cursors', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const c = clock();
  const p = await Positions.load(file, { retentionMs: HOUR, now: c.now });
  assert.equal(p.size, 0);
  const a = target('uid-a');
  const b = target('uid-b', 'sidecar');
  p.acknowledge(blocksOf([...lines(a, 'containerd://a1', 0, 1000, 7), ...lines(b, 'containerd://b3', 3, 2000, 4)]));
  await p.save();

  const doc = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(doc.version, POSITIONS_VERSION);
  assert.equal(doc.kind, POSITIONS_KIND);
  assert.deepEqual(Object.keys(doc.targets).sort(), ['uid-a/app', 'uid-b/sidecar']);
  assert.deepEqual(
    { ...doc.targets['uid-b/sidecar'], cursor: undefined },
    { namespace: 'ns', pod: 'pod-uid-b', container: 'sidecar', containerId: 'containerd://b3', updatedAt: '2024-01-01T00:00:00.000000000Z', cursor: undefined },
  );

  const q = await Positions.load(file, { retentionMs: HOUR, now: c.now });
  assert.equal(q.size, 2);
  for (const key of ['uid-a/app', 'uid-b/sidecar']) {
    assert.deepEqual(q.startOf(key)?.cursor.toJSON(), p.startOf(key)?.cursor.toJSON());
    assert.equal(q.startOf(key)?.containerId, p.startOf(key)?.containerId);
  }
  assert.equal(q.startOf('uid-b/sidecar')?.cursor.instance, 3);
  assert.equal(q.startOf('uid-c/app'), undefined);
});

test('resume after save and load is the resume of the cursor that saw every acknowledged line', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const a = target('uid-a');
  const batch = lines(a, 'containerd://a1', 2, 5000, 20);
  // A line whose timestamp goes backwards and a burst sharing one timestamp: the counts must still match.
  batch.push({ target: a, restart: 2, containerId: 'containerd://a1', ts: { sec: 5004, nsec: 5 }, line: 'late stderr' });
  batch.push({ target: a, restart: 2, containerId: 'containerd://a1', ts: { sec: 5006, nsec: 0 }, line: 'same' });
  batch.push({ target: a, restart: 2, containerId: 'containerd://a1', ts: { sec: 5006, nsec: 0 }, line: 'same' });
  const reference = new Cursor(2);
  for (const e of batch) reference.record(e.ts, lineHash(e.ts, e.line));

  const p = await Positions.load(file, { retentionMs: HOUR });
  p.acknowledge(blocksOf(batch.slice(0, 9)));
  p.acknowledge(blocksOf(batch.slice(9)));
  await p.save();
  const start = (await Positions.load(file, { retentionMs: HOUR })).startOf(a.key);
  assert.ok(start !== undefined);
  assert.equal(start.containerId, 'containerd://a1');
  assert.deepEqual(start.cursor.resume(), reference.resume());
  assert.equal(start.cursor.total, batch.length);
});

test('a version-1 file (FNV-1a line hashes) loads without its hashes: the resume skips by count, and saving upgrades it', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const a = target('uid-a');
  const batch = lines(a, 'containerd://a1', 0, 5000, 12);
  const reference = new Cursor(0);
  for (const e of batch) reference.record(e.ts, lineHash(e.ts, e.line));
  const p = await Positions.load(file, { retentionMs: HOUR });
  assert.equal(p.upgraded, false);
  p.acknowledge(blocksOf(batch));
  await p.save();
  // As the previous release wrote it: version 1, its hashes those of another function.
  const doc = JSON.parse(await readFile(file, 'utf8'));
  doc.version = 1;
  const cursor = doc.targets[a.key].cursor;
  cursor.lastHash = 12345;
  cursor.recent = cursor.recent.map(([sec]: [number, number]) => [sec, 777]);
  await writeFile(file, JSON.stringify(doc));

  const old = await Positions.load(file, { retentionMs: HOUR });
  assert.equal(old.upgraded, true);
  const point = old.startOf(a.key)!.cursor.resume();
  const expected = reference.resume();
  assert.deepEqual({ sinceSec: point.sinceSec, skip: point.skip, newest: point.newest }, { sinceSec: expected.sinceSec, skip: expected.skip, newest: expected.newest });
  assert.equal(point.expectHash, undefined, 'the old hash of the boundary line cannot be checked');
  assert.deepEqual(point.expect, [], 'nor the old hashes of the lines before it');
  // Saved in the current version at the first save, still without the hashes it could not read, and loaded back.
  await old.save();
  const saved = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(saved.version, POSITIONS_VERSION);
  assert.equal(saved.targets[a.key].cursor.lastHash, undefined);
  const again = await Positions.load(file, { retentionMs: HOUR });
  assert.equal(again.upgraded, false);
  assert.equal(again.startOf(a.key)!.cursor.resume().skip, expected.skip);
});

test('entries of several targets interleaved in one batch advance each target\'s own cursor', async (t) => {
  const dir = await tempDir(t);
  const p = await Positions.load(join(dir, 'positions.json'), { retentionMs: HOUR });
  const [a, b] = [target('uid-a'), target('uid-b')];
  // The same instance fields on purpose: only the target tells the entries apart.
  const la = lines(a, 'c1', 0, 100, 6, 'a');
  const lb = lines(b, 'c1', 0, 300, 6, 'b');
  p.acknowledge(blocksOf(la.flatMap((e, i) => [e, lb[i]])));
  for (const [key, own] of [[a.key, la], [b.key, lb]] as const) {
    const reference = new Cursor(0);
    for (const e of own) reference.record(e.ts, lineHash(e.ts, e.line));
    assert.deepEqual(p.startOf(key)?.cursor.toJSON(), reference.toJSON());
  }
});

test('startOf hands out a copy: a follower advancing it does not move the acknowledged position', async (t) => {
  const dir = await tempDir(t);
  const p = await Positions.load(join(dir, 'positions.json'), { retentionMs: HOUR });
  const a = target('uid-a');
  p.acknowledge(blocksOf(lines(a, 'containerd://a1', 0, 100, 3)));
  const start = p.startOf(a.key);
  start?.cursor.record({ sec: 101, nsec: 0 }, lineHash({ sec: 101, nsec: 0 }, 'read but not acknowledged'));
  assert.equal(p.startOf(a.key)?.cursor.total, 3);
});

test('a new container instance starts a new cursor', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const p = await Positions.load(file, { retentionMs: HOUR });
  const a = target('uid-a');
  p.acknowledge(blocksOf([...lines(a, 'containerd://old', 4, 100, 10, 'old'), ...lines(a, 'containerd://new', 5, 104, 2, 'new')]));
  const start = p.startOf(a.key);
  assert.equal(start?.containerId, 'containerd://new');
  assert.equal(start?.cursor.instance, 5);
  assert.equal(start?.cursor.total, 2);
  await p.save();
  const q = await Positions.load(file, { retentionMs: HOUR });
  assert.equal(q.startOf(a.key)?.containerId, 'containerd://new');
  assert.equal(q.startOf(a.key)?.cursor.total, 2);
});

test('a target not seen for the retention period is pruned at save; touched and acknowledged ones stay', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const c = clock();
  const p = await Positions.load(file, { retentionMs: HOUR, now: c.now });
  const [gone, quiet, busy] = [target('gone'), target('quiet'), target('busy')];
  p.acknowledge(blocksOf([...lines(gone, 'g', 0, 100, 1), ...lines(quiet, 'q', 0, 100, 1), ...lines(busy, 'b', 0, 100, 1)]));
  await p.save();
  c.advance(HOUR / 2);
  p.touch(quiet.key);
  p.acknowledge(blocksOf(lines(busy, 'b', 0, 200, 1)));
  c.advance(HOUR / 2 + 1);
  await p.save();
  assert.equal(p.size, 2);
  assert.equal(p.startOf(gone.key), undefined);
  const doc = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(Object.keys(doc.targets).sort(), ['busy/app', 'quiet/app']);
  assert.equal(doc.targets['quiet/app'].updatedAt, '2024-01-01T00:30:00.000000000Z');
});

test('time the tailer was not running does not count as a target being gone', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const c = clock();
  const p = await Positions.load(file, { retentionMs: HOUR, now: c.now });
  const a = target('uid-a');
  p.acknowledge(blocksOf(lines(a, 'a1', 0, 100, 1)));
  await p.save();
  // Down for a day, then the pod list is slow to arrive: the position must survive until it can be touched.
  c.advance(24 * HOUR);
  const q = await Positions.load(file, { retentionMs: HOUR, now: c.now });
  c.advance(HOUR - 1);
  await q.save();
  assert.equal(q.size, 1);
  c.advance(2);
  await q.save();
  assert.equal(q.size, 0);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')).targets, {});
});

test('an unusable positions file is a one-line error naming the file and the way out', async (t) => {
  const dir = await tempDir(t);
  const valid = { version: POSITIONS_VERSION, kind: POSITIONS_KIND, targets: {} };
  const entry = { namespace: 'ns', pod: 'p', container: 'app', containerId: 'c', updatedAt: '2024-01-01T00:00:00Z', cursor: new Cursor(0).toJSON() };
  const cases: [string, string | null, RegExp][] = [
    ['corrupt JSON', '{"version":1,"kind":"k8s-tail', /not JSON/],
    ['empty file', '', /not JSON/],
    ['wrong kind', JSON.stringify({ ...valid, kind: 'promtail-positions' }), /"kind" is "promtail-positions"/],
    ['foreign content', 'positions:\n  /var/log/x.log: "123"\n', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['wrong version', JSON.stringify({ ...valid, version: 3 }), /"version" is 3, this tailer reads versions 1 and 2/],
    ['targets missing', JSON.stringify({ version: POSITIONS_VERSION, kind: POSITIONS_KIND }), /"targets" must be an object/],
    ['bad cursor', JSON.stringify({ ...valid, targets: { 'u/app': { ...entry, cursor: { instance: -1 } } } }), /target "u\/app": invalid saved cursor/],
    ['bad updatedAt', JSON.stringify({ ...valid, targets: { 'u/app': { ...entry, updatedAt: 'yesterday' } } }), /"updatedAt" must be an RFC3339/],
    ['key of another container', JSON.stringify({ ...valid, targets: { 'u/web': entry } }), /the key must be/],
    ['a directory', null, /cannot read it: EISDIR/],
  ];
  for (const [name, content, why] of cases) {
    const file = join(dir, `${name.replace(/ /g, '-')}.json`);
    if (content === null) await mkdir(file);
    else await writeFile(file, content);
    await assert.rejects(
      Positions.load(file, { retentionMs: HOUR }),
      (err: unknown) => {
        assert.ok(err instanceof PositionsError, name);
        assert.match(err.message, why, name);
        assert.ok(err.message.startsWith(`positions file ${file} is not valid (`), name);
        assert.ok(err.message.endsWith(`: move it aside (mv ${file} ${file}.bad) to start over from --since, or fix it`), name);
        assert.ok(!err.message.includes('\n'), `${name}: one line`);
        return true;
      },
      name,
    );
  }
});

test('a save replaces the file by renaming a synced temp file from the same directory', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const p = await Positions.load(file, { retentionMs: HOUR });
  const a = target('uid-a');
  p.acknowledge(blocksOf(lines(a, 'a1', 0, 100, 5)));
  await p.save();
  const before = await readFile(file, 'utf8');
  const inode = (await stat(file)).ino;

  p.acknowledge(blocksOf(lines(a, 'a1', 0, 110, 5)));
  await p.save();
  // A new inode: the old file was never opened for writing, so no crash could have left it half written.
  assert.notEqual((await stat(file)).ino, inode);
  assert.deepEqual(await readdir(dir), ['positions.json']);

  // A crash before the rename (here: the temp file cannot be written) leaves the previous file as it was.
  const saved = await readFile(file, 'utf8');
  assert.notEqual(saved, before);
  await mkdir(join(dir, '.positions.json.tmp'));
  p.acknowledge(blocksOf(lines(a, 'a1', 0, 120, 5)));
  await assert.rejects(p.save(), /cannot save positions to .*positions\.json: .*EISDIR/);
  assert.equal(await readFile(file, 'utf8'), saved);

  // The failed save is not forgotten: once the disk is fine again, the next save writes it.
  await rm(join(dir, '.positions.json.tmp'), { recursive: true });
  await p.save();
  assert.equal((await Positions.load(file, { retentionMs: HOUR })).startOf(a.key)?.cursor.total, 15);
});

test('save creates the data directory and skips writing when nothing changed', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state', 'nested', 'positions.json');
  const p = await Positions.load(file, { retentionMs: HOUR });
  await p.save();
  await assert.rejects(stat(file), { code: 'ENOENT' });
  p.acknowledge(blocksOf(lines(target('uid-a'), 'a1', 0, 100, 1)));
  await p.save();
  const inode = (await stat(file)).ino;
  await p.save();
  p.touch('uid-a/app');
  await p.save();
  assert.equal((await stat(file)).ino, inode);
});

test('autosave writes on the interval and once more on stop; errors go to the callback', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const p = await Positions.load(file, { retentionMs: HOUR });
  const a = target('uid-a');
  const errors: Error[] = [];
  let saved = 0;
  let tick: (() => void) | undefined;
  const autosave = p.startAutosave(
    20,
    (err) => {
      errors.push(err);
      tick?.();
    },
    () => {
      saved++;
      tick?.();
    },
  );
  t.after(() => autosave.stop().catch(() => undefined));
  // Waits tick by tick (a tick may have started before the change being waited for).
  const until = async (done: () => Promise<boolean> | boolean): Promise<void> => {
    while (!(await done())) await new Promise<void>((resolve) => void (tick = resolve));
  };
  const savedTotal = async (): Promise<number | undefined> => (await Positions.load(file, { retentionMs: HOUR })).startOf(a.key)?.cursor.total;

  p.acknowledge(blocksOf(lines(a, 'a1', 0, 100, 2)));
  await until(async () => (await savedTotal()) === 2);

  // A failing save is reported, not thrown, and the timer keeps going.
  await mkdir(join(dir, '.positions.json.tmp'));
  p.acknowledge(blocksOf(lines(a, 'a1', 0, 110, 2)));
  await until(() => errors.length > 0);
  assert.match(errors[0].message, /cannot save positions/);
  await rm(join(dir, '.positions.json.tmp'), { recursive: true });
  await until(async () => (await savedTotal()) === 4);

  // Lines acknowledged just before shutdown are saved by stop().
  p.acknowledge(blocksOf(lines(a, 'a1', 0, 120, 3)));
  const before = saved;
  await autosave.stop();
  assert.ok(saved > before);
  assert.equal(await savedTotal(), 7);
});

test('stop saves at once even with a long interval', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'positions.json');
  const p = await Positions.load(file, { retentionMs: HOUR });
  const autosave = p.startAutosave(HOUR, (err) => assert.fail(err));
  p.acknowledge(blocksOf(lines(target('uid-a'), 'a1', 0, 100, 1)));
  await autosave.stop();
  assert.equal((await Positions.load(file, { retentionMs: HOUR })).size, 1);
});
