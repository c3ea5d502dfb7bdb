import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLokiCredentials } from './credentials.ts';
import { parseLokiUrl } from './endpoint.ts';

test('a base URL, a gateway prefix or the full push URL all lead to the push endpoint', () => {
  assert.equal(parseLokiUrl('http://loki:3100').pushPath, '/loki/api/v1/push');
  assert.equal(parseLokiUrl('http://loki:3100/').readyPath, '/ready');
  assert.equal(parseLokiUrl('https://gw.example/loki/').pushPath, '/loki/loki/api/v1/push');
  const full = parseLokiUrl('http://loki:3100/loki/api/v1/push');
  assert.equal(full.pushPath, '/loki/api/v1/push');
  assert.equal(full.readyPath, '/ready');
  assert.equal(full.origin, 'http://loki:3100');
});

test('credentials in the URL become basic auth and stay out of the displayed URL', () => {
  const endpoint = parseLokiUrl('https://user%40x:p%3Ass@loki.example:443/');
  assert.deepEqual(endpoint.basicAuth, { user: 'user@x', password: 'p:ss' });
  assert.equal(endpoint.display, 'https://loki.example/loki/api/v1/push');
  assert.ok(!endpoint.display.includes('p:ss'));
});

test('bad URLs fail with one line that says what to give', () => {
  assert.throws(() => parseLokiUrl('loki:3100x'), /must start with http/);
  assert.throws(() => parseLokiUrl('not a url'), /is not a URL: give e\.g\. http:\/\/loki:3100/);
});

test('credential files are read and trimmed; failures name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loki-cred-'));
  try {
    writeFileSync(join(dir, 'password'), 's3cret \n');
    writeFileSync(join(dir, 'token'), '\ttok\n');
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'empty'), '\n');
    const read = readLokiCredentials({
      passwordFile: join(dir, 'password'),
      bearerTokenFile: join(dir, 'token'),
      caFile: join(dir, 'ca.pem'),
    });
    assert.equal(read.password, 's3cret ');
    assert.equal(read.bearerToken, 'tok');
    assert.match(read.caPem ?? '', /BEGIN CERTIFICATE/);
    const missing = join(dir, 'missing');
    assert.throws(() => readLokiCredentials({ passwordFile: missing }), (error: Error) =>
      error.message.includes(missing) && error.message.includes('ENOENT') && !error.message.includes('\n'));
    assert.throws(() => readLokiCredentials({ bearerTokenFile: join(dir, 'empty') }), /token file .*empty/);
    assert.throws(() => readLokiCredentials({ caFile: join(dir, 'password') }), /holds no PEM certificate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
