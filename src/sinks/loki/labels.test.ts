import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTarget } from '../../../test/loki-fixtures.ts';
import { parseLabels } from '../../../test/loki-receiver.ts';
import {
  appName,
  BUILTIN_LABEL_NAMES,
  buildStreamLabels,
  builtinLabels,
  checkStaticLabels,
  formatSelector,
  MAX_LABEL_NAMES,
  sanitizeLabelName,
  sanitizeLabelValue,
  StreamLabeler,
} from './labels.ts';

test('label names are sanitised to [a-zA-Z_][a-zA-Z0-9_]* within 1024 bytes', () => {
  assert.equal(sanitizeLabelName('app.kubernetes.io/name'), 'app_kubernetes_io_name');
  assert.equal(sanitizeLabelName('pod-template-hash'), 'pod_template_hash');
  assert.equal(sanitizeLabelName('9lives'), '_9lives');
  assert.equal(sanitizeLabelName('ünï'), '_n_');
  assert.equal(sanitizeLabelName('ok_Name1'), 'ok_Name1');
  assert.equal(sanitizeLabelName(''), undefined);
  assert.equal(sanitizeLabelName('a'.repeat(2000))?.length, 1024);
});

test('label values are valid UTF-8 within 2048 bytes, cut on a character boundary', () => {
  assert.equal(sanitizeLabelValue('bad\uD800x'), 'bad\uFFFDx');
  const cut = sanitizeLabelValue('é'.repeat(1500));
  assert.equal(Buffer.byteLength(cut), 2048);
  assert.equal(cut, 'é'.repeat(1024));
  assert.equal(Buffer.byteLength(sanitizeLabelValue(`a${'😀'.repeat(600)}`)), 2045);
});

test('app comes from app.kubernetes.io/name, then app, then k8s-app', () => {
  assert.equal(appName({ app: 'b', 'k8s-app': 'c', 'app.kubernetes.io/name': 'a' }), 'a');
  assert.equal(appName({ app: 'b', 'k8s-app': 'c' }), 'b');
  assert.equal(appName({ 'k8s-app': 'c', 'app.kubernetes.io/name': '' }), 'c');
  assert.equal(appName({}), undefined);
});

test('built-in labels: namespace, pod, container, app, node_name, job; job falls back to namespace/container', () => {
  assert.deepEqual(
    builtinLabels(makeTarget()).map(([name]) => name),
    BUILTIN_LABEL_NAMES,
  );
  const labels = buildStreamLabels(makeTarget());
  assert.equal(
    labels.selector,
    '{app="web", container="app", job="shop/web", namespace="shop", node_name="node-1", pod="web-7d4b9c-x2x9q"}',
  );
  const bare = buildStreamLabels(makeTarget({ labels: {}, nodeName: '' }));
  assert.equal(bare.selector, '{container="app", job="shop/app", namespace="shop", pod="web-7d4b9c-x2x9q"}');
});

test('static labels win over built-ins; mapped pod labels never override either', () => {
  const labels = buildStreamLabels(makeTarget({ labels: { tier: 'frontend', team: 'pay' } }), {
    staticLabels: { cluster: 'prod', job: 'custom' },
    labelMap: { tier: 'tier', team: 'namespace', 'missing.label': 'nope' },
  });
  const map = Object.fromEntries(labels.pairs);
  assert.equal(map.cluster, 'prod');
  assert.equal(map.job, 'custom');
  assert.equal(map.tier, 'frontend');
  assert.equal(map.namespace, 'shop');
  assert.equal(map.nope, undefined);
});

test('never more than 15 label names: extra mapped labels are reported as omitted', () => {
  const podLabels: Record<string, string> = {};
  const labelMap: Record<string, string> = {};
  for (let i = 0; i < 20; i++) {
    podLabels[`l${i}`] = `v${i}`;
    labelMap[`l${i}`] = `m${i}`;
  }
  const labels = buildStreamLabels(makeTarget({ labels: podLabels }), { labelMap });
  assert.equal(labels.pairs.length, MAX_LABEL_NAMES);
  assert.equal(labels.omitted.length, 20 - (MAX_LABEL_NAMES - 5)); // no app label: 5 built-ins
  const omitted: string[][] = [];
  const labeler = new StreamLabeler({ labelMap }, (_target, names) => omitted.push([...names]));
  const target = makeTarget({ labels: podLabels });
  assert.equal(labeler.labelsOf(target), labeler.labelsOf(target));
  assert.equal(omitted.length, 1, 'reported once per target');
  assert.throws(() => checkStaticLabels(Object.fromEntries(Object.entries(podLabels).slice(0, 10))), /at most 9/);
  checkStaticLabels({ a: '1' });
});

test('selector text escapes quotes, backslashes and newlines so Loki parses it back', () => {
  const pairs: [string, string][] = [['a', 'say "hi"\\ \n\t ✓']];
  const text = formatSelector(pairs);
  assert.equal(text, '{a="say \\"hi\\"\\\\ \\n\\t ✓"}');
  assert.deepEqual(parseLabels(text), pairs);
});
