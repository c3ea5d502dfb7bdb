import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, logHead, parseLogLine, readLogHead } from './lines.ts';
import { formatTimestamp, parseTimestamp } from '../time/timestamp.ts';
import { seededRandom as rng } from '../sim/random.ts';


interface Line {
  readonly bytes: Buffer;
  readonly truncated: boolean;
}

function take(s: LineSplitter): Line[] {
  const lines: Line[] = [];
  while (s.next()) lines.push({ bytes: s.line.subarray(s.start, s.end), truncated: s.truncated });
  return lines;
}

function splitAll(chunks: Buffer[], maxLineBytes?: number): { lines: Line[]; rest: Buffer | undefined } {
  const s = new LineSplitter({ maxLineBytes });
  const lines: Line[] = [];
  for (const c of chunks) {
    s.push(c);
    lines.push(...take(s));
  }
  return { lines, rest: s.fragment() };
}

function chop(body: Buffer, rand: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    chunks.push(body.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

test('any chunking yields the same lines as splitting the whole body', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rand = rng(seed);
    const expected: string[] = [];
    let body = '';
    const count = Math.floor(rand() * 40);
    for (let i = 0; i < count; i++) {
      const line = 'x'.repeat(Math.floor(rand() * 30)) + (rand() < 0.3 ? 'é€' : '') + String(i);
      expected.push(line);
      body += line + (rand() < 0.3 ? '\r\n' : '\n');
    }
    const tail = rand() < 0.5 ? 'partial' : '';
    const { lines, rest } = splitAll(chop(Buffer.from(body + tail), rand, 1 + seed), 1000);
    assert.deepEqual(lines.map((l) => l.bytes.toString()), expected, `seed ${seed}`);
    assert.ok(lines.every((l) => !l.truncated));
    assert.equal(rest?.toString() ?? '', tail);
  }
});

test('a line within one chunk is a range of it, not a copy', () => {
  const chunk = Buffer.from('one\ntwo\n');
  const s = new LineSplitter();
  s.push(chunk);
  assert.equal(s.next(), true);
  assert.equal(s.line, chunk);
  assert.deepEqual([s.start, s.end], [0, 3]);
  assert.equal(s.next(), true);
  assert.deepEqual([s.start, s.end], [4, 7]);
  assert.equal(s.next(), false);
});

test('CRLF is stripped, also when the CR and LF arrive in different chunks; a lone CR stays', () => {
  const { lines } = splitAll([Buffer.from('a\r'), Buffer.from('\nb\rc\n\r\n')]);
  assert.deepEqual(lines.map((l) => l.bytes.toString()), ['a', 'b\rc', '']);
});

test('empty lines are lines', () => {
  const { lines, rest } = splitAll([Buffer.from('\n\nx\n')]);
  assert.deepEqual(lines.map((l) => l.bytes.toString()), ['', '', 'x']);
  assert.equal(rest, undefined);
});

test('lines over the cap keep their first bytes, are flagged, and the rest is dropped', () => {
  for (const chunkSize of [1, 3, 7, 100]) {
    const body = Buffer.from('123456789\n12345\n1234567\r\n12345678\r\nabcdefghijkl\r\nok\n');
    const { lines, rest } = splitAll(chop(body, () => (chunkSize - 1) / chunkSize, chunkSize), 7);
    assert.deepEqual(
      lines.map((l) => [l.bytes.toString(), l.truncated]),
      [['1234567', true], ['12345', false], ['1234567', false], ['1234567', true], ['abcdefg', true], ['ok', false]],
      `chunk size ${chunkSize}`,
    );
    assert.equal(rest, undefined);
  }
});

test('memory stays bounded while an endless line streams in', () => {
  const s = new LineSplitter({ maxLineBytes: 1024 });
  const chunk = Buffer.alloc(4096, 0x61);
  for (let i = 0; i < 1000; i++) {
    s.push(chunk);
    assert.equal(s.next(), false);
  }
  const rest = s.fragment();
  assert.equal(rest?.length, 1025);
  assert.equal(s.fragment(), undefined);
});

test('fragment returns the cut line and forgets it', () => {
  const s = new LineSplitter();
  s.push(Buffer.from('done\nhalf a li'));
  assert.deepEqual(take(s).map((l) => l.bytes.toString()), ['done']);
  s.push(Buffer.from('ne'));
  assert.deepEqual(take(s), []);
  assert.equal(s.fragment()?.toString(), 'half a line');
  s.push(Buffer.from('next\n'));
  assert.deepEqual(take(s).map((l) => l.bytes.toString()), ['next']);
});

test('UTF-8 is checked once per chunk: lines of a valid chunk are valid; cut lines and other chunks line by line', () => {
  const validity = (chunks: Buffer[], maxLineBytes?: number): [string, boolean][] => {
    const s = new LineSplitter({ maxLineBytes });
    const out: [string, boolean][] = [];
    for (const c of chunks) {
      s.push(c);
      while (s.next()) out.push([s.line.toString('latin1', s.start, s.end), s.validUtf8()]);
    }
    return out;
  };
  assert.deepEqual(validity([Buffer.from('aé\nbü\n')]), [['a\xc3\xa9', true], ['b\xc3\xbc', true]]);
  // Cut at 2 bytes, inside é: not valid, although the chunk is.
  assert.deepEqual(validity([Buffer.from('aé\n')], 2), [['a\xc3', false]]);
  const mixed = Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3]), Buffer.from('\n')]);
  assert.deepEqual(validity([mixed]), [['ok', true], ['\xc3', false]]);
  // A character split between two chunks: neither chunk is valid, the joined line is.
  const e = Buffer.from('xé\ny\n');
  assert.deepEqual(validity([e.subarray(0, 2), e.subarray(2)]), [['x\xc3\xa9', true], ['y', true]]);
});

test('a chunk must be read to its end before the next is pushed', () => {
  const s = new LineSplitter();
  s.push(Buffer.from('one\ntwo\n'));
  assert.equal(s.next(), true);
  assert.throws(() => s.push(Buffer.from('three\n')), /before the previous chunk was read to its end/);
});

test('the head of a line is read within its range of a chunk, into one reused object', () => {
  const chunk = Buffer.from('2024-01-01T00:00:02.100000000Z one\n2024-01-01T00:00:03+02:00 two\nthree four\nfive\n2024-01-01T00:00:04Z six\n');
  const s = new LineSplitter();
  s.push(chunk);
  const head = logHead();
  const seen: [string | undefined, string][] = [];
  while (s.next()) {
    assert.equal(readLogHead(s.line, s.start, s.end, head), head);
    seen.push([Number.isNaN(head.sec) ? undefined : formatTimestamp({ sec: head.sec, nsec: head.nsec }), s.line.toString('utf8', head.textStart, s.end)]);
  }
  assert.deepEqual(seen, [
    ['2024-01-01T00:00:02.100000000Z', 'one'],
    [formatTimestamp(parseTimestamp('2024-01-01T00:00:03+02:00')!), 'two'],
    [undefined, 'three four'],
    // The next line's space is not this line's.
    [undefined, 'five'],
    [formatTimestamp(parseTimestamp('2024-01-01T00:00:04Z')!), 'six'],
  ]);
});

test('rejects a nonsensical cap', () => {
  assert.throws(() => new LineSplitter({ maxLineBytes: 0 }), /maxLineBytes must be a positive integer/);
});

test('parses the fixed kubelet form', () => {
  const p = parseLogLine(Buffer.from('2024-01-01T00:00:02.100000000Z hello world'));
  assert.deepEqual(p, { ts: { sec: 1704067202, nsec: 100000000 }, line: 'hello world', textStart: 31 });
  assert.deepEqual(parseLogLine('2024-01-01T00:00:02.000000001Z '), { ts: { sec: 1704067202, nsec: 1 }, line: '', textStart: 31 });
  assert.deepEqual(parseLogLine('2024-01-01T00:00:02.000000001Z  two  spaces '), { ts: { sec: 1704067202, nsec: 1 }, line: ' two  spaces ', textStart: 31 });
});

test('the fixed form agrees with the general parser on either side of 2038 (seconds past 31 bits) and before 1970', () => {
  for (const t of ['2038-01-19T03:14:07.000000001Z', '2038-01-19T03:14:08.999999999Z', '2106-02-07T06:28:16.5Z', '1969-12-31T23:59:59.25Z']) {
    const fixed = t.replace(/\.(\d+)Z$/, (_m, f: string) => `.${f.padEnd(9, '0')}Z`);
    assert.deepEqual(parseLogLine(`${fixed} x`).ts, parseTimestamp(t), t);
  }
  assert.equal(parseLogLine('2038-01-19T03:14:08.000000000Z x').ts?.sec, 2 ** 31);
});

test('parses trimmed fractions, no fraction and offsets (old kubelets, non-UTC nodes)', () => {
  assert.deepEqual(parseLogLine('2024-01-01T00:00:00.61732014Z a'), { ts: { sec: 1704067200, nsec: 617320140 }, line: 'a', textStart: 30 });
  assert.deepEqual(parseLogLine('2024-01-01T00:00:00Z b'), { ts: { sec: 1704067200, nsec: 0 }, line: 'b', textStart: 21 });
  assert.deepEqual(parseLogLine(Buffer.from('2024-01-01T02:00:00.123456789+02:00 c')), { ts: { sec: 1704067200, nsec: 123456789 }, line: 'c', textStart: 36 });
  assert.deepEqual(parseLogLine('2024-01-01T00:00:00.1Z'), { ts: undefined, line: '2024-01-01T00:00:00.1Z', textStart: 0 });
});

test('a line without a timestamp is kept whole', () => {
  for (const text of ['plain text', '', ' leading space', 'not-a-time rest', '2024-13-01T00:00:00.000000000Z bad month', '2024-01-01T00:00:00.00000000xZ x']) {
    assert.deepEqual(parseLogLine(text), { ts: undefined, line: text, textStart: 0 });
    assert.deepEqual(parseLogLine(Buffer.from(text)), { ts: undefined, line: text, textStart: 0 });
  }
});

test('invalid UTF-8 is kept with U+FFFD in place of the bad bytes', () => {
  const raw = Buffer.concat([Buffer.from('2024-01-01T00:00:00.000000000Z a'), Buffer.from([0xff, 0xc3]), Buffer.from('b')]);
  assert.equal(parseLogLine(raw).line, 'a\ufffd\ufffdb');
});

test('the fast path agrees with the general parser on random and odd dates', () => {
  const rand = rng(7);
  const samples = ['2024-02-31T23:59:60.999999999Z', '2024-02-29T00:00:00.000000000Z', '1970-01-01T00:00:00.000000000Z', '0099-01-01T00:00:00.000000000Z', '2024-00-10T00:00:00.000000000Z', '2024-01-01T24:00:00.000000000Z'];
  for (let i = 0; i < 2000; i++) {
    samples.push(formatTimestamp({ sec: Math.floor(rand() * 4e9), nsec: Math.floor(rand() * 1e9) }));
  }
  // The bytes on either side of the digits ('/' and ':') in each digit's place: not a timestamp.
  const valid = '2024-05-17T13:45:21.123456789Z';
  for (let at = 0; at < valid.length; at++) {
    if (!/\d/.test(valid[at])) continue;
    for (const c of ['/', ':']) samples.push(valid.slice(0, at) + c + valid.slice(at + 1));
  }
  for (const text of samples) {
    const p = parseLogLine(Buffer.from(`${text} x`));
    const expected = parseTimestamp(text);
    assert.deepEqual(p.ts, expected, text);
    assert.equal(p.line, expected === undefined ? `${text} x` : 'x');
  }
});
