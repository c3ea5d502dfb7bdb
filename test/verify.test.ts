// End to end: simulator → the real `tailer` process → file or Loki-compatible receiver, compared with the
// simulator's ground-truth ledger. Every scenario must deliver every recoverable line once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatComparison, verify } from '../scripts/verify.ts';

const quiet = (): void => undefined;

for (const scenario of ['steady', 'churn', 'crashloop', 'rotation', 'burst', 'many', 'chaos']) {
  test(`${scenario}: 0 lost, 0 duplicated, order kept (file sink)`, async () => {
    const r = await verify({ scenario, durationSec: scenario === 'chaos' ? 10 : 6, sink: 'file', log: quiet });
    const summary = formatComparison(r);
    assert.ok(r.produced > 100, `the scenario produced lines: ${summary}`);
    assert.equal(r.lost, 0, `${summary} ${r.examples.lost.join(' | ')}`);
    assert.equal(r.duplicated, 0, `${summary} ${r.examples.duplicated.join(' | ')}`);
    assert.equal(r.reordered, 0, `${summary} ${r.examples.reordered.join(' | ')}`);
    assert.equal(r.unknown, 0, summary);
    assert.equal(r.mislabelled, 0, `${summary} ${r.examples.mislabelled.join(' | ')}`);
  });
}

test('chaos through Loki: 429s, 500s and the receiver going away lose and repeat nothing', async () => {
  const r = await verify({ scenario: 'chaos', durationSec: 12, sink: 'loki', lokiDownMs: 4000, log: quiet });
  const summary = formatComparison(r);
  assert.ok(r.produced > 100, summary);
  assert.equal(r.lost, 0, `${summary} ${r.examples.lost.join(' | ')}`);
  assert.equal(r.duplicated, 0, summary);
  assert.equal(r.reordered, 0, summary);
  assert.equal(r.mislabelled, 0, `${summary} ${r.examples.mislabelled.join(' | ')}`);
});
