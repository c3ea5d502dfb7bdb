import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compress, uncompress } from 'snappyjs';
import type { LabelPair } from './labels.ts';
import { encodeBody, encodePushJson, encodePushRequest } from './encode.ts';
import { plannedEntries, type PlannedStream } from './plan.ts';
import { plannedStream } from '../../../test/loki-fixtures.ts';
import { decodePushRequest, pushRequestType } from './schema.ts';

function stream(labels: string, pairs: LabelPair[], entries: [number, number, string, LabelPair[]][]): PlannedStream {
  return plannedStream(labels, pairs, entries.map(([sec, nsec, line, metadata]) => ({ sec, nsec, line, metadata })));
}

/** What protobufjs' reflection encoder writes for the same streams (fields left out when proto3-default). */
function reflectionEncode(streams: readonly PlannedStream[]): Uint8Array {
  const type = pushRequestType();
  const message = type.fromObject({
    streams: streams.map((s) => ({
      ...(s.labels === '' ? {} : { labels: s.labels }),
      entries: plannedEntries(s).map((e) => ({
        timestamp: { ...(e.sec === 0 ? {} : { seconds: e.sec }), ...(e.nsec === 0 ? {} : { nanos: e.nsec }) },
        ...(e.line === '' ? {} : { line: e.line }),
        structuredMetadata: e.metadata.map(([name, value]) => ({ ...(name === '' ? {} : { name }), ...(value === '' ? {} : { value }) })),
      })),
    })),
  });
  return type.encode(message).finish();
}

const KNOWN = [stream('{app="a"}', [['app', 'a']], [[1700000000, 123456789, 'hi', [['restart', '2']]]])];
// Worked out by hand from the field numbers in proto/push.proto:
const KNOWN_HEX = [
  '0a2c', //                 streams (1, LEN) 44 bytes
  '0a09', '7b6170703d2261227d', // labels (1, LEN) 9: {app="a"}
  '121f', //                 entries (2, LEN) 31 bytes
  '0a0b', //                 timestamp (1, LEN) 11 bytes
  '0880e2cfaa06', //         seconds (1, varint) 1700000000
  '10959aef3a', //           nanos (2, varint) 123456789
  '12026869', //             line (2, LEN) "hi"
  '1a0c', //                 structuredMetadata (3, LEN) 12 bytes
  '0a0772657374617274', //   name "restart"
  '120132', //               value "2"
].join('');

test('a known PushRequest encodes to the exact bytes and decodes back field by field', () => {
  const bytes = encodePushRequest(KNOWN);
  assert.equal(Buffer.from(bytes).toString('hex'), KNOWN_HEX);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(reflectionEncode(KNOWN)));
  const decoded = decodePushRequest(bytes);
  assert.equal(decoded.streams?.length, 1);
  const [s] = decoded.streams ?? [];
  assert.equal(s.labels, '{app="a"}');
  assert.equal(s.entries?.length, 1);
  const [e] = s.entries ?? [];
  assert.deepEqual(e.timestamp, { seconds: 1700000000, nanos: 123456789 });
  assert.equal(e.line, 'hi');
  assert.deepEqual(e.structuredMetadata, [{ name: 'restart', value: '2' }]);
});

test('the hand-rolled encoder matches reflection on varied input (unicode, empty, zero and large values)', () => {
  const long = 'x'.repeat(70_000);
  const streams = [
    stream('{a="1", b="two"}', [], [
      [0, 0, '', []],
      [1, 999_999_999, 'ünïcödé ✓ 😀', [['pod_uid', 'abc'], ['restart', '0']]],
      [4_102_444_800, 1, long, [['k', '']]],
      // Varints of 5, 6, 7 and 8 bytes at their edges.
      ...[2 ** 35 - 1, 2 ** 35, 2 ** 42 - 1, 2 ** 42, 2 ** 49].map((sec) => [sec, 0, 'far', []] as [number, number, string, LabelPair[]]),
    ]),
    stream('', [], [[1_700_000_000, 5, 'no labels', []]]),
    stream('{c="3"}', [], Array.from({ length: 200 }, (_, i) => [1_700_000_000 + i, i * 7919, `l${i}`.repeat(i % 17), [['pod_uid', 'u']]] as [number, number, string, LabelPair[]])),
  ];
  assert.deepEqual(Buffer.from(encodePushRequest(streams)), Buffer.from(reflectionEncode(streams)));
  const decoded = decodePushRequest(encodePushRequest(streams));
  assert.equal(decoded.streams?.[0].entries?.[2].line, long);
  assert.equal(decoded.streams?.[0].entries?.[1].line, 'ünïcödé ✓ 😀');
  assert.equal(decoded.streams?.[2].entries?.length, 200);
});

test('lines given as their UTF-8 bytes (a range of a buffer) encode exactly as the same lines given as text', () => {
  const texts = ['', 'short', 'ünïcödé ✓ 😀', 'y'.repeat(64), 'z'.repeat(65), 'w'.repeat(5000)];
  const asText = [stream('{a="1"}', [], texts.map((t, i) => [1_700_000_000, i, t, [['pod_uid', 'u']]] as [number, number, string, LabelPair[]]))];
  // The bytes are a range of a larger buffer, as lines are of the chunk they arrived in.
  const asBytes = [plannedStream('{a="1"}', [], texts.map((t, i) => ({
    sec: 1_700_000_000, nsec: i, line: { buf: Buffer.from(`<<${t}>>`), at: 2, bytes: Buffer.byteLength(t) }, metadata: [['pod_uid', 'u']],
  })))];
  assert.deepEqual(Buffer.from(encodePushRequest(asBytes)), Buffer.from(encodePushRequest(asText)));
  assert.deepEqual(JSON.parse(encodePushJson(asBytes)), JSON.parse(encodePushJson(asText)));
});

test('protobuf bodies are snappy block format and round-trip', () => {
  const { body, contentType } = encodeBody(KNOWN, 'protobuf');
  assert.equal(contentType, 'application/x-protobuf');
  assert.deepEqual(Buffer.from(uncompress(body)), Buffer.from(encodePushRequest(KNOWN)));
  // Block format starts with the uncompressed length as a varint (the framed format starts with 0xff "sNaPpY").
  assert.equal(body[0], KNOWN_HEX.length / 2);
  const text = Buffer.from('the same line again and again\n'.repeat(10_000));
  const packed = compress(text);
  assert.ok(packed.length < text.length / 10);
  assert.deepEqual(Buffer.from(uncompress(packed)), text);
});

test('JSON bodies carry epoch nanoseconds as strings and metadata as the third value', () => {
  const streams = [stream('{app="a", ns="x"}', [['app', 'a'], ['ns', 'x']], [[1700000000, 5, 'hi', [['restart', '2']]]])];
  assert.deepEqual(JSON.parse(encodePushJson(streams)), {
    streams: [{ stream: { app: 'a', ns: 'x' }, values: [['1700000000000000005', 'hi', { restart: '2' }]] }],
  });
  assert.equal(encodeBody(streams, 'json').contentType, 'application/json');
});
