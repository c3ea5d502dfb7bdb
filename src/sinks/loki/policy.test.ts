import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, MAX_RETRY_AFTER_MS, parseRejection, parseRetryAfter, retryDelay, verdictOf } from './policy.ts';

test('verdicts: 2xx sent, 429/5xx retried, 413 split, other 4xx dropped', () => {
  assert.equal(verdictOf(204), 'sent');
  assert.equal(verdictOf(200), 'sent');
  assert.equal(verdictOf(429), 'retry');
  assert.equal(verdictOf(500), 'retry');
  assert.equal(verdictOf(503), 'retry');
  assert.equal(verdictOf(413), 'split');
  assert.equal(verdictOf(400), 'drop');
  assert.equal(verdictOf(401), 'drop');
});

test('Retry-After: delta seconds or HTTP date', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now), 7000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0, 'a date in the past means now');
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
  assert.equal(parseRetryAfter('1.5', now), undefined);
});

test('back-off grows exponentially within [min, max] with jitter in the upper half', () => {
  for (const random of [() => 0, () => 0.5, () => 0.999999]) {
    for (let attempt = 0; attempt < 80; attempt++) {
      const delay = backoffDelay(attempt, 500, 30_000, random);
      assert.ok(delay >= 500 && delay <= 30_000, `attempt ${attempt}: ${delay}`);
    }
  }
  assert.equal(backoffDelay(0, 500, 30_000, () => 0), 500);
  assert.equal(backoffDelay(3, 500, 30_000, () => 0), 2000);
  assert.equal(backoffDelay(3, 500, 30_000, () => 1), 4000);
  assert.equal(backoffDelay(100, 500, 30_000, () => 1), 30_000);
  assert.equal(backoffDelay(100, 500, 30_000, () => 0), 15_000);
});

test('a Retry-After overrides the back-off, within a cap', () => {
  assert.equal(retryDelay(5, 1000, 500, 30_000), 1000);
  assert.equal(retryDelay(0, 3_600_000, 500, 30_000), MAX_RETRY_AFTER_MS);
  assert.equal(retryDelay(0, undefined, 500, 30_000, () => 0), 500);
});

test("Loki's 400 texts give the reason, the ignored count and the stream", () => {
  const tooOld = parseRejection(
    400,
    "entry for stream '{app=\"web\", namespace=\"shop\"}' has timestamp too old: 2020-01-01T00:00:00Z, oldest acceptable timestamp is: 2025-01-01T00:00:00Z\ntotal ignored: 3 out of 10",
  );
  assert.deepEqual(tooOld, { reason: 'greater_than_max_sample_age', ignored: 3, total: 10, stream: '{app="web", namespace="shop"}' });
  const cases: [string, string][] = [
    ["Max entry size '256000' bytes exceeded for stream '{a=\"b\"}' while adding an entry with length '300000' bytes", 'line_too_long'],
    ["entry with timestamp 2025-01-01 ignored, reason: 'entry too far behind, entry timestamp is: x' for stream: {a=\"b\"}", 'too_far_behind'],
    ["entry for stream '{a=\"b\"}' has timestamp too new: 2030-01-01", 'too_far_in_future'],
    ["entry for stream '{a=\"b\"}' has 16 label names; limit 15", 'max_label_names_per_series'],
    ["stream '{a=\"b\"}' has label value too long: 'xxx'", 'label_value_too_long'],
    ["stream '{a=\"b\"}' has label name too long: 'xxx'", 'label_name_too_long'],
    ["stream '{a=\"b\"}' has duplicate label name: 'a'", 'duplicate_label_names'],
    ['error at least one label pair is required per stream', 'missing_labels'],
    ["Error parsing labels '{a=b}' with error: 1:4: parse error", 'invalid_labels'],
    ["stream '{a=\"b\"}' has structured metadata too large: '70000' bytes, limit: '65536' bytes", 'structured_metadata_too_large'],
    ["stream '{a=\"b\"}' has too many structured metadata labels: '200', limit: '128'", 'structured_metadata_too_many'],
    ['entry out of order', 'out_of_order'],
    ['something else entirely', 'http_400'],
  ];
  for (const [text, reason] of cases) assert.equal(parseRejection(400, text).reason, reason, text);
  assert.equal(parseRejection(403, 'forbidden').reason, 'http_403');
  assert.equal(parseRejection(400, `stream '{a="x\\"y", b="2"}' has label value too long`).stream, '{a="x\\"y", b="2"}');
  assert.equal(parseRejection(400, 'nothing').ignored, undefined);
});
