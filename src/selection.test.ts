import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSelected, parseNameList, parseShard, selectTargets, shardOf } from './selection.ts';
import type { TargetInfo } from './pipeline/entry.ts';

function target(pod: string, container: string, podUid = `uid-${pod}`, namespace = 'shop'): TargetInfo {
  return { key: `${podUid}/${container}`, namespace, pod, podUid, container, kind: 'app', nodeName: 'n', labels: {} };
}

test('name lists: exact names and regexes, regexes may hold commas', () => {
  const m = parseNameList('web, api ,/^worker-\\d{1,3}$/,/cache/');
  assert.equal(m.source, 'web, api ,/^worker-\\d{1,3}$/,/cache/');
  for (const yes of ['web', 'api', 'worker-1', 'worker-123', 'redis-cache-0']) assert.equal(m.test(yes), true, yes);
  for (const no of ['web-0', 'ap', 'worker-1234', 'worker-x', '']) assert.equal(m.test(no), false, no);
  assert.equal(parseNameList('/a\\/b/').test('xa/by'), true);
  assert.equal(parseNameList('/a/b/,c').test('a/b'), true);
  assert.equal(parseNameList('/a/b/,c').test('c'), true);
});

test('name lists: clear errors', () => {
  assert.throws(() => parseNameList(''), /^Error: empty item in name list "": use names and \/regex\/ items separated by commas/);
  assert.throws(() => parseNameList('a,,b'), /empty item in name list "a,,b"/);
  assert.throws(() => parseNameList('a,'), /empty item/);
  assert.throws(() => parseNameList('/(/'), /^Error: invalid regular expression \/\(\/ in name list "\/\(\/": /);
  assert.throws(() => parseNameList('/abc'), /unterminated regular expression in name list "\/abc": write it as \/regex\//);
});

test('shards: parsing and errors', () => {
  assert.deepEqual(parseShard('2/5'), { index: 2, count: 5 });
  assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
  for (const bad of ['5/5', '1/0', '-1/3', 'x', '1/', '/3', '1.5/3', '']) {
    assert.throws(() => parseShard(bad), /invalid shard ".*": use INDEX\/COUNT with 0 <= INDEX < COUNT \(0-based\), like 0\/3/, bad);
  }
});

test('shards: stable values, every pod in exactly one shard, roughly even', () => {
  assert.equal(shardOf('a', 1000), 0xe40c292c % 1000);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const uid = `3f0c${i.toString(16).padStart(4, '0')}-1b2c-4d5e-8f90-123456789abc`;
    const t = target('p', 'c', uid);
    const owners = [0, 1, 2, 3].filter((index) => isSelected(t, { shard: { index, count: 4 } }));
    assert.equal(owners.length, 1);
    counts[owners[0]]++;
  }
  for (const n of counts) assert.ok(n > 800 && n < 1200, String(counts));
});

test('selection: include and exclude by pod and container, all of a pod for one shard', () => {
  const targets = [target('web-0', 'app'), target('web-0', 'istio-proxy'), target('api-0', 'app'), target('db-0', 'app')];
  const keys = (sel: Parameters<typeof selectTargets>[1]) => selectTargets(targets, sel).map((t) => `${t.pod}/${t.container}`);
  assert.deepEqual(keys({}), ['web-0/app', 'web-0/istio-proxy', 'api-0/app', 'db-0/app']);
  assert.deepEqual(keys({ includePods: parseNameList('/^web-/,api-0') }), ['web-0/app', 'web-0/istio-proxy', 'api-0/app']);
  assert.deepEqual(keys({ excludePods: parseNameList('db-0') }), ['web-0/app', 'web-0/istio-proxy', 'api-0/app']);
  assert.deepEqual(keys({ excludeContainers: parseNameList('/proxy$/') }), ['web-0/app', 'api-0/app', 'db-0/app']);
  assert.deepEqual(keys({ includeContainers: parseNameList('istio-proxy') }), ['web-0/istio-proxy']);
  assert.deepEqual(keys({ includePods: parseNameList('/-0$/'), excludePods: parseNameList('web-0') }), ['api-0/app', 'db-0/app']);
  const shard = shardOf('uid-web-0', 3);
  assert.deepEqual(keys({ shard: { index: shard, count: 3 } }).filter((k) => k.startsWith('web-0/')), ['web-0/app', 'web-0/istio-proxy']);
});

test('selection: sidecar mode keeps only the own pod', () => {
  const targets = [target('web-0', 'app'), target('web-0', 'app', 'u2', 'other'), target('web-1', 'app')];
  assert.deepEqual(
    selectTargets(targets, { self: { namespace: 'shop', pod: 'web-0' } }).map((t) => t.key),
    ['uid-web-0/app'],
  );
});
