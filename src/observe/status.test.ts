import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatStatus, startStatusLine } from './status.ts';
import type { StatusSnapshot } from './status.ts';

const base: StatusSnapshot = { targetsFollowing: 3, targetsTotal: 4, linesRead: 0, bytesRead: 0, maxLagSeconds: 0.4, errors: 0 };

function fakeTty(isTTY: boolean): { stream: NodeJS.WritableStream & { isTTY: boolean; columns: number }; out: string[] } {
  const out: string[] = [];
  const stream = { isTTY, columns: 200, write: (s: string) => out.push(s) > 0 } as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number };
  return { stream, out };
}

test('formatStatus shows targets, rates over the interval, lag and errors', () => {
  const after = { ...base, linesRead: 20_000, bytesRead: 3_000_000, maxLagSeconds: 75, errors: 2 };
  assert.equal(formatStatus(base, after, 2), 'targets 3/4 | 10.0k lines/s | 1.50 MB/s | max lag 75s | errors 2');
  assert.equal(formatStatus(base, base, 0), 'targets 3/4 | 0 lines/s | 0.00 MB/s | max lag 0.4s | errors 0');
});

test('formatDuration', () => {
  assert.equal(formatDuration(3.21), '3.2s');
  assert.equal(formatDuration(600), '10m');
  assert.equal(formatDuration(3 * 3600), '3.0h');
  assert.equal(formatDuration(NaN), '-');
});

test('off when the stream is not a TTY or when disabled: writeAbove is a plain write', () => {
  for (const [isTTY, enabled] of [[false, true], [true, false]] as const) {
    const { stream, out } = fakeTty(isTTY);
    const status = startStatusLine({ stream, enabled, snapshot: () => base, intervalMs: 1 });
    assert.equal(status.active, false);
    status.writeAbove('log line\n');
    status.stop();
    assert.deepEqual(out, ['log line\n']);
  }
});

test('on a TTY: redraws in place, keeps log lines above it, pauses, and clears on stop', async () => {
  const { stream, out } = fakeTty(true);
  let snapshot = base;
  let clock = 0;
  const status = startStatusLine({ stream, snapshot: () => snapshot, intervalMs: 5, now: () => clock });
  assert.equal(status.active, true);
  snapshot = { ...base, linesRead: 500 };
  clock = 1000;
  await new Promise((resolve) => setTimeout(resolve, 30));
  const drawn = out.find((s) => s.includes('500 lines/s'));
  assert.equal(drawn, '\r\x1b[Ktargets 3/4 | 500 lines/s | 0.00 MB/s | max lag 0.4s | errors 0');

  out.length = 0;
  status.writeAbove('hello\n');
  assert.equal(out.length, 1);
  assert.match(out[0], /^\r\x1b\[Khello\ntargets 3\/4/);

  status.pause();
  out.length = 0;
  await new Promise((resolve) => setTimeout(resolve, 20));
  status.writeAbove('quiet\n');
  assert.deepEqual(out, ['\r\x1b[Kquiet\n']);
  status.resume();
  assert.match(out[1], /^\r\x1b\[Ktargets/);

  status.stop();
  assert.equal(out.at(-1), '\r\x1b[K');
  const count = out.length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(out.length, count);
});

test('the line is cut to the terminal width', () => {
  const { stream, out } = fakeTty(true);
  stream.columns = 20;
  const status = startStatusLine({ stream, snapshot: () => base, intervalMs: 60_000 });
  status.writeAbove('x\n');
  status.stop();
  assert.equal(out[0], '\r\x1b[Kx\ntargets 3/4 | 0 li…');
});
