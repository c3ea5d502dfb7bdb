import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../kube/types.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';

function pod(labels: Record<string, string>, nodeName = 'node-1', phase: 'Running' | 'Pending' = 'Running'): Pod {
  return {
    metadata: { name: 'web-0', namespace: 'prod', uid: 'u', resourceVersion: '1', labels },
    spec: { nodeName, containers: [{ name: 'app' }] },
    status: { phase },
  };
}

test('label selectors: equality, inequality, sets, existence, AND', () => {
  const p = pod({ app: 'web', tier: 'front' });
  assert.equal(parseLabelSelector('')(p), true);
  assert.equal(parseLabelSelector('app=web')(p), true);
  assert.equal(parseLabelSelector('app==web,tier=front')(p), true);
  assert.equal(parseLabelSelector('app=web,tier=back')(p), false);
  assert.equal(parseLabelSelector('app!=db')(p), true);
  assert.equal(parseLabelSelector('app in (db, web)')(p), true);
  assert.equal(parseLabelSelector('app notin (web)')(p), false);
  assert.equal(parseLabelSelector('tier,app in (web),!missing')(p), true);
  assert.equal(parseLabelSelector('!app')(p), false);
  assert.equal(parseLabelSelector('missing!=x')(p), true);
  assert.throws(() => parseLabelSelector('a b c'), /unable to parse requirement/);
});

test('field selectors: supported pod fields only', () => {
  const p = pod({}, 'node-2', 'Pending');
  assert.equal(parseFieldSelector('spec.nodeName=node-2')(p), true);
  assert.equal(parseFieldSelector('spec.nodeName==node-1')(p), false);
  assert.equal(parseFieldSelector('status.phase!=Running,metadata.namespace=prod')(p), true);
  assert.equal(parseFieldSelector('metadata.name=web-0')(p), true);
  assert.equal(parseFieldSelector('spec.nodeName=')(pod({}, '')), true);
  assert.throws(() => parseFieldSelector('spec.foo=bar'), /^Error: field label not supported: spec.foo$|field label not supported: spec.foo/);
});
