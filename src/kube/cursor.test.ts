import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { Cursor, RECENT_KEPT, RECENT_LINES, ResumeFilter, arrivedLineHash, lineHash, lineHashBytes, type CursorJSON, type CursorOptions } from './cursor.ts';
import { parseLogLine } from './lines.ts';
import type { Timestamp } from '../time/timestamp.ts';
import { seededRandom as rng } from '../sim/random.ts';
import { BlockBuilder, type LineBlock } from '../pipeline/block.ts';
import { makeTarget } from '../../test/loki-fixtures.ts';

// A simulated container log file and the kubelet's replay of it.
interface FileLine {
  readonly index: number;
  /** The kubelet's timestamp, which its sinceTime filter uses. */
  readonly ts: Timestamp;
  /** What the follower parsed: usually ts, undefined for a line whose timestamp could not be parsed. */
  readonly parsed: Timestamp | undefined;
  readonly text: string;
}


const BASE_SEC = 1_704_067_200;

function addNanos(ts: Timestamp, ns: number): Timestamp {
  const total = ts.nsec + ns;
  const sec = ts.sec + Math.floor(total / 1e9);
  return { sec, nsec: total - Math.floor(total / 1e9) * 1e9 };
}

/**
 * Lines from two writers: stdout advances the clock (often by 0 ns: bursts), stderr lines are stamped up to
 * `maxSkewMs` before the current stdout time. Some texts repeat. A few lines reach the follower without a parsable
 * timestamp; the kubelet's own filter still uses the one it stamped.
 */
function makeFile(rand: () => number, n: number, maxSkewMs = 1500): FileLine[] {
  const lines: FileLine[] = [];
  let clock: Timestamp = { sec: BASE_SEC, nsec: Math.floor(rand() * 1e9) };
  for (let i = 0; i < n; i++) {
    const r = rand();
    let ts: Timestamp;
    if (r < 0.25) ts = clock; // burst: identical timestamp
    else if (r < 0.45) ts = addNanos(clock, -Math.floor(rand() * maxSkewMs * 1e6)); // stderr skew
    else if (r < 0.5) ts = clock = addNanos(clock, Math.floor(rand() * 3e9)); // a quiet spell
    else ts = clock = addNanos(clock, Math.floor(rand() * 2e8));
    const unparsable = i > 0 && rand() < 0.03;
    const text = rand() < 0.2 ? 'same text' : `line ${i}`;
    lines.push({ index: i, ts, parsed: unparsable ? undefined : ts, text });
  }
  return lines;
}

/** What the kubelet sends for sinceTime = sinceSec: the file filtered by `ts >= since`, in file order. */
function replay(file: readonly FileLine[], sinceSec: number | undefined): FileLine[] {
  return sinceSec === undefined ? [...file] : file.filter((l) => l.ts.sec >= sinceSec);
}

interface Follow {
  delivered: FileLine[];
  gaps: number;
  requests: number;
}

/**
 * Follows `file` through replies that are cut after a random number of lines, resuming from the cursor each
 * time, optionally through a save and restore of the cursor, until a reply is read to its end.
 */
function follow(file: readonly FileLine[], rand: () => number, opts?: CursorOptions): Follow {
  let cursor = new Cursor(0, opts);
  const out: Follow = { delivered: [], gaps: 0, requests: 0 };
  for (;;) {
    out.requests++;
    const point = cursor.resume();
    const reply = replay(file, point.sinceSec);
    const cut = rand() < 0.3 ? reply.length : Math.floor(rand() * (reply.length + 1));
    const filter = new ResumeFilter(point);
    for (const l of reply.slice(0, cut)) {
      if (filter.accept(l.parsed, lineHash(l.parsed, l.text))) {
        cursor.record(l.parsed, lineHash(l.parsed, l.text));
        out.delivered.push(l);
      }
    }
    if (filter.gap) out.gaps++;
    if (cut === reply.length) return out;
    if (rand() < 0.3) cursor = Cursor.fromJSON(JSON.parse(JSON.stringify(cursor)));
    else if (rand() < 0.2) cursor = cursor.clone();
  }
}

function assertExactlyOnce(file: readonly FileLine[], got: Follow, what: string): void {
  assert.deepEqual(got.delivered.map((l) => l.index), file.map((l) => l.index), what);
  assert.equal(got.gaps, 0, what);
}

test('simulation: random cuts over skewed, bursty, repetitive logs deliver every line exactly once', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = rng(seed);
    const file = makeFile(rand, 5 + Math.floor(rand() * 400));
    assertExactlyOnce(file, follow(file, rand), `seed ${seed}`);
  }
});

test('simulation: other window and margin settings, skew within the margin', () => {
  for (const [windowSec, marginSec, skewMs] of [[3, 1, 900], [5, 3, 2900], [10, 5, 4500], [2, 2, 1900]]) {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = rng(seed * 7919);
      const file = makeFile(rand, 200, skewMs);
      assertExactlyOnce(file, follow(file, rand, { windowSec, marginSec }), `w${windowSec} m${marginSec} seed ${seed}`);
    }
  }
});

test('simulation: with no margin, skewed lines across a reconnect are lost (why the margin exists)', () => {
  let lost = 0;
  for (let seed = 1; seed <= 50; seed++) {
    const rand = rng(seed);
    const file = makeFile(rand, 300);
    lost += file.length - follow(file, rand, { marginSec: 0 }).delivered.length;
  }
  assert.ok(lost > 0);
});

function at(sec: number, nsec = 0): Timestamp {
  return { sec: BASE_SEC + sec, nsec };
}

function line(index: number, ts: Timestamp, text = `line ${index}`): FileLine {
  return { index, ts, parsed: ts, text };
}

/** Delivers file[0, p), resumes against the full file, returns the accepted lines and the filter. */
function resumeAfter(file: readonly FileLine[], p: number, opts?: CursorOptions): { accepted: number[]; filter: ResumeFilter; skip: number; since: number | undefined } {
  const cursor = new Cursor(0, opts);
  for (const l of file.slice(0, p)) cursor.record(l.parsed, lineHash(l.parsed, l.text));
  const point = cursor.resume();
  const filter = new ResumeFilter(point);
  const accepted = replay(file, point.sinceSec).filter((l) => filter.accept(l.parsed, lineHash(l.parsed, l.text))).map((l) => l.index);
  return { accepted, filter, skip: point.skip, since: point.sinceSec };
}

test('a burst of 50 identical lines in one nanosecond, reconnected in the middle', () => {
  const file = [line(0, at(0, 5)), ...Array.from({ length: 50 }, (_, i) => line(i + 1, at(1, 7), 'same')), line(51, at(1, 8))];
  for (const p of [1, 2, 20, 50, 51]) {
    const r = resumeAfter(file, p);
    assert.deepEqual(r.accepted, file.slice(p).map((l) => l.index), `after ${p}`);
    assert.equal(r.skip, p);
    assert.equal(r.filter.gap, false);
  }
});

test('the whole-second replay is skipped line by line', () => {
  const file = [line(0, at(0, 1)), line(1, at(3, 100)), line(2, at(3, 900_000_000)), line(3, at(3, 999_999_999)), line(4, at(4, 0))];
  const r = resumeAfter(file, 3);
  assert.equal(r.since, BASE_SEC + 1);
  assert.equal(r.skip, 2);
  assert.deepEqual(r.accepted, [3, 4]);
});

test('a line stamped earlier than its predecessor, across the boundary, is still delivered', () => {
  // stdout at 10.100 was delivered; stderr written after it but stamped 8.950 was not.
  const file = [line(0, at(9, 900_000_000)), line(1, at(10, 100_000_000)), line(2, at(8, 950_000_000)), line(3, at(10, 200_000_000))];
  const r = resumeAfter(file, 2);
  assert.equal(r.since, BASE_SEC + 8);
  assert.deepEqual(r.accepted, [2, 3]);
  assert.equal(r.filter.gap, false);
  // The same after that skewed line was delivered: its second is kept in the replay so its hash can be checked.
  const r2 = resumeAfter([...file, line(4, at(11, 0))], 3);
  assert.equal(r2.since, BASE_SEC + 8);
  assert.deepEqual(r2.accepted, [3, 4]);
  assert.equal(r2.filter.gap, false);
});

test('reconnecting right after a second boundary', () => {
  const file = [line(0, at(4, 999_999_999)), line(1, at(5, 0)), line(2, at(5, 0)), line(3, at(5, 1))];
  const r = resumeAfter(file, 2);
  assert.equal(r.since, BASE_SEC + 3);
  assert.equal(r.skip, 2);
  assert.deepEqual(r.accepted, [2, 3]);
});

test('a reply cut before the skip is done: the next reply skips correctly from the unchanged cursor', () => {
  const file = Array.from({ length: 10 }, (_, i) => line(i, at(0, i)));
  const cursor = new Cursor(3);
  for (const l of file.slice(0, 6)) cursor.record(l.parsed, lineHash(l.parsed, l.text));
  const first = new ResumeFilter(cursor.resume());
  for (const l of file.slice(0, 4)) assert.equal(first.accept(l.parsed, lineHash(l.parsed, l.text)), false);
  assert.equal(first.remaining, 2);
  assert.equal(first.gap, false);
  const second = new ResumeFilter(cursor.resume());
  assert.deepEqual(file.filter((l) => second.accept(l.parsed, lineHash(l.parsed, l.text))).map((l) => l.index), [6, 7, 8, 9]);
  assert.equal(second.gap, false);
});

test('nothing delivered: no sinceTime and no skip', () => {
  const point = new Cursor(0).resume();
  assert.deepEqual(point, { sinceSec: undefined, skip: 0, expectHash: undefined, newest: undefined, expect: [] });
  assert.equal(new ResumeFilter(point).accept(at(0), lineHash(at(0), 'x')), true);
});

test('lines without any timestamp: replay from the start and skip all delivered', () => {
  const cursor = new Cursor(0);
  cursor.record(undefined, lineHash(undefined, 'a'));
  cursor.record(undefined, lineHash(undefined, 'b'));
  const point = cursor.resume();
  assert.equal(point.sinceSec, undefined);
  assert.equal(point.skip, 2);
  const filter = new ResumeFilter(point);
  assert.deepEqual(['a', 'b', 'c'].filter((t) => filter.accept(undefined, lineHash(undefined, t))), ['c']);
  assert.equal(filter.gap, false);
});

test('a line without a timestamp counted under the second before the resume point is recognised in the replay', () => {
  // The kubelet stamped "untimed" 4.05 s, after its predecessor's second: a replay from second 4 starts with it.
  const untimed = (index: number, ts: Timestamp): FileLine => ({ index, ts, parsed: undefined, text: `untimed ${index}` });
  const file = [line(0, at(3, 900_000_000)), untimed(1, at(4, 50_000_000)), line(2, at(4, 100_000_000)), line(3, at(6, 0)), line(4, at(6, 1))];
  const r = resumeAfter(file, 4);
  assert.equal(r.since, BASE_SEC + 4);
  assert.equal(r.skip, 2, 'counted under second 3, the untimed line is not in the count');
  assert.deepEqual(r.accepted, [4]);
  assert.equal(r.filter.gap, false);
  // After a quiet spell it is counted below the window, and a saved cursor still keeps it.
  const quiet = [line(0, at(0, 900_000_000)), untimed(1, at(4, 50_000_000)), line(2, at(4, 100_000_000)), line(3, at(6, 0)), line(4, at(6, 1))];
  const cursor = new Cursor(0);
  for (const l of quiet.slice(0, 4)) cursor.record(l.parsed, lineHash(l.parsed, l.text));
  const point = Cursor.fromJSON(JSON.parse(JSON.stringify(cursor))).resume();
  const filter = new ResumeFilter(point);
  assert.deepEqual(replay(quiet, point.sinceSec).filter((l) => filter.accept(l.parsed, lineHash(l.parsed, l.text))).map((l) => l.index), [4]);
  assert.equal(filter.gap, false);
  // A new line without a timestamp is never taken for one of them.
  const fresh = new ResumeFilter(cursor.resume());
  assert.equal(fresh.accept(undefined, lineHash(undefined, 'untimed 9')), true);
  assert.equal(fresh.gap, true);
});

test('rotation: delivered lines are recognised in the new file, new ones are never skipped, lost ones are counted', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = rng(seed);
    const file = makeFile(rand, 60).map((l) => ({ ...l, text: `unique ${l.index}` }));
    const p = 1 + Math.floor(rand() * (file.length - 2));
    const cursor = new Cursor(0);
    for (const l of file.slice(0, p)) cursor.record(l.parsed, lineHash(l.parsed, l.text));
    const point = cursor.resume();
    const rotatedAt = Math.floor(rand() * file.length);
    const reply = replay(file.slice(rotatedAt), point.sinceSec);
    const firstReplayed = replay(file, point.sinceSec)[0].index;
    const filter = new ResumeFilter(point);
    const accepted = reply.filter((l) => filter.accept(l.parsed, lineHash(l.parsed, l.text))).map((l) => l.index);
    const stillThere = reply.filter((l) => l.index >= p).map((l) => l.index);
    assert.deepEqual(accepted, stillThere, `seed ${seed}: every undelivered line still in the file is delivered, no delivered one again`);
    if (rotatedAt <= firstReplayed) assert.equal(filter.gap, false, `seed ${seed}`);
    if (rotatedAt > p) assert.equal(filter.gap, true, `seed ${seed}: lines ${p}..${rotatedAt - 1} were lost and must be counted`);
  }
});

test('a line newer than anything delivered ends the skip early and reports a gap', () => {
  const cursor = new Cursor(0);
  cursor.record(at(0, 1), lineHash(at(0, 1), 'a'));
  cursor.record(at(0, 2), lineHash(at(0, 2), 'b'));
  const filter = new ResumeFilter(cursor.resume());
  assert.equal(filter.accept(at(0, 3), lineHash(at(0, 3), 'c')), true);
  assert.equal(filter.gap, true);
  assert.equal(filter.accept(at(0, 4), lineHash(at(0, 4), 'd')), true);
});

test('the boundary hash covers timestamp and text', () => {
  assert.notEqual(lineHash(at(0, 1), 'a'), lineHash(at(0, 2), 'a'));
  assert.notEqual(lineHash(at(0, 1), 'a'), lineHash(at(0, 1), 'b'));
  assert.notEqual(lineHash(undefined, 'a'), lineHash(at(0, 0), 'a'));
});

test('the line hash covers the timestamp and the UTF-8 bytes of the text, whether they come as text or as bytes read', () => {
  const ts = { sec: 1_700_000_123, nsec: 45_000 };
  const utf8 = Buffer.from('héllo ✓ 😀');
  assert.equal(lineHash(ts, 'héllo ✓ 😀'), lineHashBytes(ts, utf8, 0, utf8.length));
  // The follower hashes the bytes the line arrived in, at their offset: the same value.
  const raw = Buffer.concat([Buffer.from('2023-11-14T22:15:23.000045000Z '), utf8]);
  assert.equal(lineHashBytes(ts, raw, 31, raw.length), lineHash(ts, 'héllo ✓ 😀'));
  assert.notEqual(lineHash(ts, 'héllo ✓ 😀'), lineHash({ sec: 1_700_000_124, nsec: 45_000 }, 'héllo ✓ 😀'));
  assert.notEqual(lineHash(ts, ''), lineHash(undefined, ''));
  for (const h of [lineHash(ts, 'x'), lineHash(undefined, 'x'), lineHash({ sec: 0, nsec: 0 }, '')]) assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
});

// Values of this release's line hash, as positions files of version 2 hold them.
const PINNED = { hello: 3978158694, empty: 4208756756, untimed: 3090336526, long: 2569175313 };

test('the line hash keeps its values: positions files save them (a change needs a new positions version)', () => {
  assert.equal(lineHash({ sec: 1_700_000_123, nsec: 45_000 }, 'hello'), PINNED.hello);
  assert.equal(lineHash({ sec: 0, nsec: 0 }, ''), PINNED.empty);
  assert.equal(lineHash(undefined, 'x'), PINNED.untimed);
  assert.equal(lineHash({ sec: 4_102_444_800, nsec: 999_999_999 }, 'a'.repeat(300) + 'é'), PINNED.long);
});

test('old seconds leave the window; counts survive a JSON round trip', () => {
  const cursor = new Cursor(2, { windowSec: 3, marginSec: 1 });
  for (let s = 0; s < 10; s++) for (let i = 0; i <= s; i++) cursor.record(at(s, i), lineHash(at(s, i), `l${s}.${i}`));
  const j = cursor.toJSON();
  assert.equal(j.instance, 2);
  assert.equal(j.total, 55);
  assert.deepEqual(j.counts, [[BASE_SEC + 6, 7], [BASE_SEC + 7, 8], [BASE_SEC + 8, 9], [BASE_SEC + 9, 10]]);
  assert.equal(j.newest, '2024-01-01T00:00:09.000000009Z');
  const back = Cursor.fromJSON(JSON.parse(JSON.stringify(j)));
  assert.deepEqual(back.toJSON(), j);
  assert.deepEqual(back.resume(), cursor.resume());
  assert.deepEqual(cursor.resume().skip, 19);
  const copy = cursor.clone();
  copy.record(at(10), lineHash(at(10), 'more'));
  assert.equal(cursor.total, 55);
  assert.equal(copy.total, 56);
});

test('malformed saved cursors are rejected with a message naming the problem', () => {
  const good = (() => {
    const c = new Cursor(0);
    c.record(at(0), lineHash(at(0), 'a'));
    return c.toJSON();
  })();
  const cases: [unknown, RegExp][] = [
    [null, /expected an object/],
    [[], /expected an object/],
    [{ ...good, instance: -1 }, /"instance" must be an integer >= 0, got -1/],
    [{ ...good, total: 1.5 }, /"total" must be an integer/],
    [{ ...good, windowSec: 0 }, /"windowSec" must be an integer >= 1/],
    [{ ...good, marginSec: 9 }, /marginSec must be an integer from 0 to windowSec/],
    [{ ...good, newest: 'yesterday' }, /"newest" must be an RFC3339 timestamp/],
    [{ ...good, counts: 'x' }, /"counts" must be an array/],
    [{ ...good, counts: [[BASE_SEC, 1, 2]] }, /"counts" must be an array/],
    [{ ...good, counts: [[BASE_SEC - 60, 1]] }, /outside the window/],
    [{ ...good, counts: [[BASE_SEC, 1], [BASE_SEC, 1]] }, /twice/],
    [{ ...good, counts: [[BASE_SEC, 0]] }, /"counts lines" must be an integer >= 1/],
    [{ ...good, counts: [[BASE_SEC, 5]] }, /more than "total"/],
    [{ ...good, lastSec: BASE_SEC + 1 }, /"lastSec" must not be newer/],
    [{ ...good, lastSec: undefined }, /"lastSec" is missing/],
    [{ ...good, lastHash: -1 }, /"lastHash" must be a 32-bit unsigned integer/],
    [{ ...good, lastHash: 2 ** 32 }, /"lastHash" must be a 32-bit unsigned integer/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => Cursor.fromJSON(input), (e: Error) => {
      assert.match(e.message, /^invalid saved cursor: /);
      assert.match(e.message, message);
      return true;
    }, JSON.stringify(input));
  }
});

test('constructor options are validated', () => {
  assert.throws(() => new Cursor(0, { windowSec: 2, marginSec: 3 }), /marginSec must be an integer from 0 to windowSec \(2\)/);
  assert.throws(() => new Cursor(-1), /restart count/);
});

test('long lines hash by length and both ends: a change at either end or in length changes the hash', () => {
  const base = 'a'.repeat(100) + 'b'.repeat(300) + 'c'.repeat(100);
  const ts = at(0, 1);
  const h = lineHash(ts, base);
  assert.notEqual(lineHash(ts, 'x' + base.slice(1)), h);
  assert.notEqual(lineHash(ts, base.slice(0, -1) + 'x'), h);
  assert.notEqual(lineHash(ts, base + 'c'), h);
  assert.notEqual(lineHash(at(0, 2), base), h);
  assert.equal(lineHash(ts, base), h);
  // Long is counted in bytes: 200 two-byte characters are hashed by their ends, as the follower's bytes are.
  const wide = 'é'.repeat(200);
  const bytes = Buffer.from(wide);
  assert.equal(lineHash(ts, wide), lineHashBytes(ts, bytes, 0, bytes.length));
  assert.equal(lineHash(ts, 'é'.repeat(90) + 'x'.repeat(20) + 'é'.repeat(100)), lineHash(ts, 'é'.repeat(90) + 'y'.repeat(20) + 'é'.repeat(100)), 'the middle of a long line is not hashed');
});

test('a line is hashed from the bytes it arrived in; invalid UTF-8 is left to the caller', () => {
  const hashOf = (raw: Buffer): number => {
    const p = parseLogLine(raw);
    return arrivedLineHash(raw, p.textStart, raw.length, p.ts?.sec ?? Number.NaN, p.ts?.nsec ?? 0, { validUtf8: () => isUtf8(raw) });
  };
  const good = Buffer.from('2024-01-01T00:00:02.100000000Z héllo wörld');
  assert.equal(hashOf(good), lineHash(parseLogLine(good).ts, 'héllo wörld'));
  const bad = Buffer.concat([Buffer.from('2024-01-01T00:00:02.100000000Z a'), Buffer.from([0xff]), Buffer.from('b')]);
  const q = parseLogLine(bad);
  assert.equal(q.line, 'a\ufffdb');
  assert.equal(hashOf(bad), -1, 'not valid UTF-8: the caller hashes the repaired text');
  const untimed = Buffer.from('no timestamp here');
  assert.equal(hashOf(untimed), lineHash(undefined, 'no timestamp here'));
  const long = Buffer.from(`2024-01-01T00:00:02.100000000Z ${'é'.repeat(300)}`);
  assert.equal(hashOf(long), lineHash(parseLogLine(long).ts, 'é'.repeat(300)));
});

test('the remembered hashes keep the last 1,024 lines, oldest first, across growth and wrap-around', () => {
  const cursor = new Cursor(0);
  const hashes: number[] = [];
  for (let i = 0; i < 2500; i++) {
    const ts = at(Math.floor(i / 1000), i);
    const hash = lineHash(ts, `l${i}`);
    hashes.push(hash);
    cursor.record(ts, hash);
    if (i === 9 || i === 1023 || i === 2499) {
      assert.deepEqual([...cursor.recentHashes()], [...new Set(hashes.slice(-1024))], `after ${i + 1} lines`);
    }
  }
  const again = Cursor.fromJSON(JSON.parse(JSON.stringify(cursor.toJSON())) as CursorJSON);
  assert.deepEqual(again.toJSON(), cursor.toJSON());
});

test('a quiet container keeps RECENT_KEPT recent lines, a burst keeps its window, and the room shrinks after it', () => {
  const c = new Cursor(0);
  let sec = 1_700_000_000;
  for (let i = 0; i < 3000; i++) c.record({ sec: sec++, nsec: 0 }, i);
  assert.equal(c.recentHashes().size, RECENT_KEPT, 'one line a second: older lines than the window are forgotten');
  assert.equal(c.recentCapacity, RECENT_KEPT);
  for (let i = 0; i < 2000; i++) c.record({ sec, nsec: i }, 10_000 + i);
  assert.equal(c.recentHashes().size, RECENT_LINES, 'a burst inside the window is kept up to RECENT_LINES');
  const resume = c.resume();
  assert.equal(resume.expect?.length, RECENT_LINES);
  assert.equal(resume.expect?.at(-1), 10_000 + 1999, 'the newest lines, oldest first');
  for (let i = 0; i < 1000; i++) c.record({ sec: ++sec, nsec: 0 }, 20_000 + i);
  assert.equal(c.recentHashes().size, RECENT_KEPT);
  assert.ok(c.recentCapacity <= 2 * RECENT_KEPT, `room for ${c.recentCapacity} lines after the burst`);
  assert.deepEqual([...c.recentHashes()].slice(-3), [20_997, 20_998, 20_999]);
});

test('per-second counts stay right when seconds alternate and wrap around the ring', () => {
  const c = new Cursor(0, { windowSec: 3, marginSec: 1 });
  // Seconds 100..107 with stragglers one and two seconds back: every slot is reused and revisited.
  const secs = [100, 101, 100, 101, 102, 100, 103, 102, 104, 103, 101, 105, 104, 106, 105, 107, 105, 106];
  secs.forEach((sec, i) => c.recordAt(sec, i, i));
  const newest = 107;
  const expected = new Map<number, number>();
  for (const sec of secs) if (sec >= newest - 3) expected.set(sec, (expected.get(sec) ?? 0) + 1);
  assert.deepEqual(c.toJSON().counts, [...expected].sort((a, b) => a[0] - b[0]));
  assert.equal(c.resume().skip, secs.filter((s) => s >= newest - 1).length);
});

test('recording a block at a time leaves the cursor that recording its lines one by one does', () => {
  const random = rng(7);
  const builder = new BlockBuilder(makeTarget(), 0, undefined);
  const chunk = Buffer.alloc(1);
  const blocks: LineBlock[] = [];
  let sec = 1_700_000_000;
  // Runs of one second, seconds skipped and going backwards (stderr), blocks of 1 to 3,000 lines: the window moves
  // and the ring of recent lines grows, wraps and shrinks.
  for (let b = 0; b < 60; b++) {
    const n = b % 7 === 0 ? 3000 : 1 + Math.floor(random() * 40);
    for (let i = 0; i < n; i++) {
      const r = random();
      if (r < 0.02) sec += 1 + Math.floor(random() * 8);
      const stamped = r > 0.97 ? sec - 1 - Math.floor(random() * 3) : sec;
      builder.addBytes(chunk, 0, 1, stamped, Math.floor(random() * 1e9), Math.floor(random() * 2 ** 32));
    }
    blocks.push(builder.take()!);
  }
  for (const opts of [{}, { windowSec: 1, marginSec: 0 }, { windowSec: 30, marginSec: 5 }]) {
    const byBlock = new Cursor(0, opts);
    const byLine = new Cursor(0, opts);
    for (const block of blocks) {
      byBlock.recordBlock(block);
      for (let i = 0; i < block.length; i++) byLine.recordAt(block.sec(i), block.nsec(i), block.hash(i));
      assert.deepEqual(byBlock.toJSON(), byLine.toJSON());
      assert.deepEqual(byBlock.resume(), byLine.resume());
      assert.equal(byBlock.recentCapacity, byLine.recentCapacity);
    }
  }
});
