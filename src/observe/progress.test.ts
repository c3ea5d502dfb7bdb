import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import { PAUSE_LOG_AFTER_MS, Progress } from './progress.ts';

function progressWithLog(): { progress: Progress; logged: () => { level: string; msg: string; pausedSeconds?: number }[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', format: 'json', writeLine: (line) => lines.push(line) });
  return { progress: new Progress(new Metrics({ defaultMetrics: false }), log), logged: () => lines.map((l) => JSON.parse(l)) };
}

test('a full buffer is logged once reading has stayed paused a while, and its end then; a moment full is not', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { progress, logged } = progressWithLog();
  progress.bufferFull(true, 1024);
  t.mock.timers.tick(PAUSE_LOG_AFTER_MS - 1);
  progress.bufferFull(false, 1024);
  t.mock.timers.tick(PAUSE_LOG_AFTER_MS);
  assert.deepEqual(logged(), [], 'full for a moment: nothing to tell');

  progress.bufferFull(true, 1024);
  t.mock.timers.tick(PAUSE_LOG_AFTER_MS);
  assert.deepEqual(logged().map((e) => [e.level, e.msg.split(':')[0]]), [['warn', 'Reading paused']]);
  t.mock.timers.tick(7_000);
  progress.bufferFull(false, 1024);
  assert.deepEqual(logged().slice(1).map((e) => [e.level, e.msg, e.pausedSeconds]), [['info', 'Reading resumed: the outputs caught up', 12]]);
  progress.bufferFull(true, 1024);
  progress.bufferFull(false, 1024);
  assert.equal(logged().length, 2, 'the next short pause is not told');
});
