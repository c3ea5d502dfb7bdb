import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, logfmtValue, sanitize } from './log.ts';
import type { LoggerOptions } from './log.ts';

const AT = new Date('2025-03-01T12:00:01.5Z');

function capture(options: Omit<LoggerOptions, 'writeLine' | 'now'>): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({ ...options, now: () => AT, writeLine: (line) => lines.push(line) });
  return { lines, logger };
}

test('json: one parseable object per line with ts, level, msg and fields', () => {
  const { lines, logger } = capture({ level: 'info', format: 'json' });
  logger.info('Tailing logs for container', { target: 'ns/pod/c', restart: 2n, ok: true });
  assert.equal(lines.length, 1);
  assert.ok(lines[0].endsWith('\n'));
  assert.deepEqual(JSON.parse(lines[0]), {
    ts: '2025-03-01T12:00:01.500Z',
    level: 'info',
    msg: 'Tailing logs for container',
    target: 'ns/pod/c',
    restart: '2',
    ok: true,
  });
});

test('levels below the threshold are dropped; silent drops all', () => {
  const { lines, logger } = capture({ level: 'warn', format: 'json' });
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e');
  assert.deepEqual(lines.map((l) => JSON.parse(l).level), ['warn', 'error']);
  assert.equal(logger.enabled('debug'), false);
  const silent = capture({ level: 'silent', format: 'json' });
  silent.logger.error('x');
  assert.deepEqual(silent.lines, []);
});

test('logfmt quotes values with spaces, quotes, equals signs and empty strings only', () => {
  const { lines, logger } = capture({ level: 'debug', format: 'logfmt' });
  logger.info('stream opened', { target: 'ns/pod/c', reason: 'said "hi"', expr: 'a=b', empty: '', n: 3, obj: { a: 1 } });
  assert.equal(
    lines[0],
    'ts=2025-03-01T12:00:01.500Z level=info msg="stream opened" target=ns/pod/c reason="said \\"hi\\"" expr="a=b" empty="" n=3 obj="{\\"a\\":1}"\n',
  );
  assert.equal(logfmtValue('plain'), 'plain');
  assert.equal(logfmtValue('tab\there'), '"tab\\there"');
});

test('pretty: time, level, message, fields; colours only when asked', () => {
  const plain = capture({ level: 'info', format: 'pretty', color: false });
  plain.logger.info('Tailing logs for container ns/pod/c');
  const time = [AT.getHours(), AT.getMinutes(), AT.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  assert.equal(plain.lines[0], `${time} INFO  Tailing logs for container ns/pod/c\n`);
  assert.doesNotMatch(plain.lines[0], /\x1b/);
  const coloured = capture({ level: 'info', format: 'pretty', color: true });
  coloured.logger.warn('slow', { ms: 3 });
  assert.match(coloured.lines[0], /\x1b\[33mWARN/);
});

test('pretty colours follow the stream being a TTY', () => {
  const written: string[] = [];
  const stream = { isTTY: false, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WritableStream;
  createLogger({ level: 'info', format: 'pretty', stream }).info('x');
  assert.equal(written.length, 1);
  assert.doesNotMatch(written[0], /\x1b/);
});

test('secret-looking keys and URL userinfo are masked, at any depth and in the message', () => {
  const { lines, logger } = capture({ level: 'info', format: 'json' });
  logger.child({ password: 'p1' }).info('pushing to https://user:pw@loki.example/api', {
    token: 't',
    Authorization: 'Bearer abc',
    'bearer-token-file': '/var/run/token',
    sink: { url: 'https://u:p@loki:3100/loki/api/v1/push', basicAuth: { username: 'u', password: 'p' }, clientSecret: 's' },
  });
  const record = JSON.parse(lines[0]);
  assert.equal(record.msg, 'pushing to https://***@loki.example/api');
  assert.equal(record.password, '***');
  assert.equal(record.token, '***');
  assert.equal(record.Authorization, '***');
  assert.equal(record['bearer-token-file'], '/var/run/token');
  assert.deepEqual(record.sink, { url: 'https://***@loki:3100/loki/api/v1/push', basicAuth: { username: 'u', password: '***' }, clientSecret: '***' });
  assert.doesNotMatch(lines[0], /pw@|"p1"|"t"|abc/);
});

test('cyclic, throwing and odd values never throw', () => {
  const { lines, logger } = capture({ level: 'info', format: 'json' });
  const cyclic: Record<string, unknown> = { name: 'a' };
  cyclic.self = cyclic;
  const shared = { x: 1 };
  const throwing = Object.defineProperty({}, 'bad', {
    enumerable: true,
    get() {
      throw new Error('no');
    },
  });
  const err = Object.assign(new TypeError('fetch failed'), { code: 'ECONNREFUSED' });
  logger.error('odd', { cyclic, pair: [shared, shared], throwing, err, nan: NaN, sym: Symbol('s'), fn: () => 1, when: new Date(0), none: undefined, nul: null });
  const record = JSON.parse(lines[0]);
  assert.deepEqual(record.cyclic, { name: 'a', self: '[Circular]' });
  assert.deepEqual(record.pair, [{ x: 1 }, { x: 1 }]);
  assert.deepEqual(record.throwing, { bad: '[getter threw]' });
  assert.equal(record.err, 'TypeError: fetch failed (ECONNREFUSED)');
  assert.equal(record.nan, 'NaN');
  assert.equal(record.sym, 'Symbol(s)');
  assert.equal(record.when, '1970-01-01T00:00:00.000Z');
  assert.equal('none' in record, false);
  assert.equal(record.nul, null);
  assert.equal(sanitize(new Map([['k', 1]])) instanceof Object, true);
});

test('a multi-line message stays on one line; fields named like the envelope do not replace it', () => {
  const { lines, logger } = capture({ level: 'info', format: 'json' });
  logger.info('first\nsecond', { level: 'custom', msg: 'm' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0].split('\n').length, 2);
  const record = JSON.parse(lines[0]);
  assert.equal(record.level, 'info');
  assert.equal(record.msg, 'first\nsecond');
  assert.equal(record.field_level, 'custom');
  assert.equal(record.field_msg, 'm');
});

test('child loggers add fields; the event wins on a clash', () => {
  const { lines, logger } = capture({ level: 'info', format: 'logfmt' });
  logger.child({ component: 'follow', target: 'a' }).child({ target: 'b' }).info('x', { target: 'c' });
  assert.match(lines[0], / component=follow target=c\n$/);
});
