import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  autoBoolean, boolean, byteSize, checkPodLabelKey, duration, integer, labelMapping, listenAddress, lokiLabel, lokiUrl,
  namespaceName, oneOf,
} from './values.ts';

test('booleans from text and YAML', () => {
  for (const t of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(boolean.fromText(t), true, t);
  for (const t of ['false', '0', 'no', 'off']) assert.equal(boolean.fromText(t), false, t);
  assert.equal(boolean.fromYaml(true), true);
  assert.throws(() => boolean.fromYaml(1), /expected true or false, got number 1/);
  assert.equal(autoBoolean.fromText('auto'), 'auto');
  assert.throws(() => autoBoolean.fromText('sometimes'), /expected true, false or auto, got "sometimes"/);
});

test('integers: range checked, YAML numbers or digit strings', () => {
  const n = integer(1, 10);
  assert.equal(n.fromText(' 7 '), 7);
  assert.equal(n.fromYaml(3), 3);
  assert.equal(n.fromYaml('4'), 4);
  assert.throws(() => n.fromText('11'), /expected an integer from 1 to 10, got "11"/);
  assert.throws(() => n.fromYaml(2.5), /got 2.5/);
  assert.throws(() => n.fromText('1e3'), /got "1e3"/);
});

test('durations and sizes: minimums, and shown forms that read back', () => {
  assert.equal(duration(1000).fromText('1s'), 1000);
  assert.throws(() => duration(1000).fromText('500ms'), /duration "500ms" is too short: use at least 1s/);
  assert.equal(duration().show(90_000), '1m30s');
  assert.equal(byteSize(64).fromYaml(128), 128);
  assert.throws(() => byteSize(64).fromText('10'), /size "10" is too small: use at least 64B/);
  const size = byteSize();
  for (const bytes of [1, 1000, 1024, 256_000, 1_000_000, 1024 ** 3, 123_456_789]) {
    const shown = size.show(bytes);
    assert.equal(typeof shown === 'number' ? shown : size.fromText(String(shown)), bytes, String(shown));
  }
  assert.equal(size.show(1024 * 1024), '1MiB');
});

test('enums list their values', () => {
  assert.equal(oneOf(['a', 'b']).fromText('b'), 'b');
  assert.throws(() => oneOf(['a', 'b']).fromText('c'), /^Error: expected one of a, b, got "c"$/);
});

test('Loki URLs: http(s) only, push path added when missing, credentials masked when shown', () => {
  assert.equal(lokiUrl.fromText('http://loki:3100'), 'http://loki:3100/loki/api/v1/push');
  assert.equal(lokiUrl.fromText('https://x/custom'), 'https://x/custom');
  assert.throws(() => lokiUrl.fromText('loki:3100'), /must start with http:\/\/ or https:\/\//);
  assert.throws(() => lokiUrl.fromText('not a url'), /invalid URL/);
  assert.equal(lokiUrl.show('https://u:p@x/loki/api/v1/push'), 'https://***@x/loki/api/v1/push');
});

test('namespace names follow RFC 1123', () => {
  assert.equal(namespaceName.fromText('kube-system'), 'kube-system');
  for (const bad of ['Kube', '-a', 'a-', 'a_b', 'x'.repeat(64)]) assert.throws(() => namespaceName.fromText(bad), /invalid namespace/, bad);
});

test('static labels: Loki grammar, non-empty values within limits', () => {
  assert.deepEqual(lokiLabel.fromText('cluster=prod=eu'), ['cluster', 'prod=eu']);
  assert.throws(() => lokiLabel.fromText('=x'), /expected name=value/);
  assert.throws(() => lokiLabel.fromText('a-b=x'), /invalid Loki label name "a-b"/);
  assert.throws(() => lokiLabel.fromText('a='), /empty value/);
  assert.throws(() => lokiLabel.fromText(`a=${'v'.repeat(2049)}`), /2048 bytes/);
});

test('label mapping: Kubernetes label key onto a Loki label name', () => {
  assert.deepEqual(labelMapping.fromText('app.kubernetes.io/name=app'), ['app.kubernetes.io/name', 'app']);
  assert.equal(checkPodLabelKey('team'), 'team');
  assert.throws(() => checkPodLabelKey('Bad_Prefix/x'), /invalid pod label key/);
  assert.throws(() => labelMapping.fromText('app=app.name'), /invalid Loki label name "app.name"/);
});

test('listen addresses: host:port, IPv6 in brackets, empty disables', () => {
  assert.equal(listenAddress.fromText('0.0.0.0:9080'), '0.0.0.0:9080');
  assert.equal(listenAddress.fromText('[::1]:0'), '[::1]:0');
  assert.equal(listenAddress.fromText(':9080'), ':9080');
  assert.equal(listenAddress.fromText(''), '');
  assert.equal(listenAddress.fromYaml(false), '');
  assert.throws(() => listenAddress.fromText('localhost'), /expected host:port/);
  assert.throws(() => listenAddress.fromText('h:70000'), /expected host:port/);
});
