import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeApiError, KubeClient, findKubeconfig, loadKubeConfig } from './client.ts';

const config = (server: string): string => [
  'apiVersion: v1',
  'kind: Config',
  `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
  'users: [{name: u, user: {token: t}}]',
  'contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u, namespace: x}}]',
  'current-context: one',
].join('\n');

test('kubeconfig resolution follows kubectl: flag, KUBECONFIG, ~/.kube/config, in-cluster, else none', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-kc-'));
  const file = path.join(dir, 'kc');
  await writeFile(file, config('http://127.0.0.1:1'));
  assert.deepEqual(findKubeconfig('/explicit', {}), { kind: 'file', path: '/explicit' });
  assert.deepEqual(findKubeconfig(undefined, { KUBECONFIG: `/missing:${file}`, HOME: dir }), { kind: 'file', path: file });
  assert.equal(findKubeconfig(undefined, { KUBECONFIG: '/missing', HOME: dir }), undefined);
  const kc = loadKubeConfig({ kind: 'file', path: file }, 'two');
  assert.equal(kc.getCurrentContext(), 'two');
  assert.throws(() => loadKubeConfig({ kind: 'file', path: file }, 'three'), /context "three" is not in the kubeconfig \(known: one, two\)/);
});

test('error answers become one-line errors with the Status message; 429 carries Retry-After', async () => {
  let answer = { code: 404, body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"x\\" not found","reason":"NotFound","code":404}', headers: {} as Record<string, string> };
  const server = createServer((_req, res) => {
    res.writeHead(answer.code, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await mkdtemp(path.join(tmpdir(), 'tailer-kc-'));
  const file = path.join(dir, 'kc');
  await writeFile(file, config(`http://127.0.0.1:${(server.address() as { port: number }).port}`));
  const client = new KubeClient(loadKubeConfig({ kind: 'file', path: file }, undefined));
  try {
    const notFound = await client.getJSON({ path: '/api/v1/namespaces/a/pods/x' }).catch((e: unknown) => e);
    assert.ok(notFound instanceof KubeApiError);
    assert.equal(notFound.status, 404);
    assert.match(notFound.message, /404 NotFound: pods "x" not found/);
    assert.equal(notFound.transient, false);
    answer = { code: 429, body: 'slow down', headers: { 'retry-after': '3' } };
    const busy = await client.getJSON({ path: '/api/v1/pods' }).catch((e: unknown) => e);
    assert.ok(busy instanceof KubeApiError);
    assert.equal(busy.retryAfterMs, 3000);
    assert.equal(busy.transient, true);
    answer = { code: 200, body: '{not json', headers: {} };
    await assert.rejects(client.getJSON({ path: '/api/v1/pods' }), /malformed JSON from \/api\/v1\/pods/);
  } finally {
    await client.close();
    server.close();
  }
});
