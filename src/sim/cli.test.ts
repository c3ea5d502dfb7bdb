import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSimArgs } from './cli.ts';

test('tailer sim arguments', () => {
  const a = parseSimArgs(['--port', '0', '--scenario=chaos', '--duration', '20', '--kubeconfig-out', 'k.yaml', '--ledger-out=l.jsonl',
    '--fault', 'stall-after=2s', '--fault=error-rate=0.1', '--tls', '--pods', '50', '--seed', '7']);
  assert.deepEqual(a.options, {
    scenario: 'chaos', port: 0, durationSec: 20, tls: true, seed: 7,
    faults: { 'stall-after': '2s', 'error-rate': '0.1' }, scale: { pods: 50 },
  });
  assert.equal(a.kubeconfigOut, 'k.yaml');
  assert.equal(a.ledgerOut, 'l.jsonl');
  assert.equal(parseSimArgs(['--duration', '500ms']).options.durationSec, 0.5);
  assert.equal(parseSimArgs(['-h']).help, true);
  assert.deepEqual(parseSimArgs(['--tls', '--http2-max-streams-per-connection=3', '--disable-http2-serving']).options,
    { scenario: 'steady', tls: true, http2MaxStreamsPerConnection: 3, disableHttp2: true });
  assert.throws(() => parseSimArgs(['--http2-max-streams-per-connection', '0']), /at least 1/);
  assert.throws(() => parseSimArgs(['--bogus']), /unknown option "--bogus" for tailer sim/);
  assert.throws(() => parseSimArgs(['--port']), /--port needs a value/);
  assert.throws(() => parseSimArgs(['--fault', 'nothing']), /NAME=VALUE/);
});
