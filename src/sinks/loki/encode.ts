// Request bodies. Protobuf is written by hand: lengths of nested messages are computed up front, then everything
// goes straight into one buffer of the exact size. The result is byte-identical to protobufjs' reflection encoding of
// proto/push.proto (encode.test.ts) and several times faster than it (bench/encode.bench.ts); protobufjs' Writer was
// tried too and lost, its per-field operation objects dominating with short lines. Snappy is the block format Loki
// expects, not the framed one (snappy.ts).
import { toEpochNanosString } from '../../time/timestamp.ts';
import type { LabelPair } from './labels.ts';
import { plannedEntries, type PlannedStream } from './plan.ts';
import { defaultSnappy } from './snappy.ts';
import { utf8Bytes } from './utf8.ts';

export type PushFormat = 'protobuf' | 'json';

export interface EncodedBody {
  readonly body: Uint8Array;
  readonly contentType: string;
}

// Field keys: (field number << 3) | wire type; 2 = length-delimited, 0 = varint.
const KEY_STREAMS = 0x0a; // PushRequest.streams = 1
const KEY_LABELS = 0x0a; // StreamAdapter.labels = 1
const KEY_ENTRIES = 0x12; // StreamAdapter.entries = 2
const KEY_TIMESTAMP = 0x0a; // EntryAdapter.timestamp = 1
const KEY_LINE = 0x12; // EntryAdapter.line = 2
const KEY_METADATA = 0x1a; // EntryAdapter.structuredMetadata = 3
const KEY_NAME = 0x0a; // LabelPairAdapter.name = 1
const KEY_VALUE = 0x12; // LabelPairAdapter.value = 2
const KEY_SECONDS = 0x08; // Timestamp.seconds = 1
const KEY_NANOS = 0x10; // Timestamp.nanos = 2

/** Varint size of a non-negative integer below 2^53. */
function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  // Seconds since 1970 take five bytes until 3058: no division for them.
  if (value < 0x800000000) return 5;
  let size = 6;
  for (let rest = Math.floor(value / 0x40000000000); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Size of a length-delimited field (key + length + payload); an empty string is left out, as proto3 does. */
function stringFieldSize(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

// Seconds and nanos are written as plain varints: kubelet timestamps are after 1970, so never negative (negative
// int64s would need ten-byte sign-extended varints).
function timestampSize(sec: number, nsec: number): number {
  return (sec === 0 ? 0 : 1 + varintSize(sec)) + (nsec === 0 ? 0 : 1 + varintSize(nsec));
}

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  // Above 2^31 bit operators would wrap: divide until the rest fits in 31 bits.
  while (value > 0x7fffffff) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[pos++] = value;
  return pos;
}

/** Short ASCII strings are copied in JS: cheaper than a call into Buffer.write for each of them. */
const JS_COPY_MAX = 64;

/** A length-delimited field holding `text` (`bytes` long in UTF-8), or the bytes `text[at, at + bytes)`. */
function writeString(out: Buffer, pos: number, key: number, text: string | Buffer, bytes: number, at = 0): number {
  if (bytes === 0) return pos;
  out[pos++] = key;
  pos = writeVarint(out, pos, bytes);
  if (typeof text !== 'string') {
    // Buffer#copy of a range is a native memcpy that makes no view of the range (TypedArray#set would need one).
    text.copy(out, pos, at, at + bytes);
    return pos + bytes;
  }
  if (bytes === text.length && bytes <= JS_COPY_MAX) {
    for (let i = 0; i < bytes; i++) out[pos + i] = text.charCodeAt(i);
    return pos + bytes;
  }
  return pos + out.write(text, pos, bytes, 'utf8');
}

/**
 * The structuredMetadata fields of an entry, encoded once per metadata array: entries of a target share one
 * (MetadataCache), so each entry only copies these bytes.
 */
const metadataCache = new WeakMap<readonly LabelPair[], Buffer>();

function encodedMetadata(metadata: readonly LabelPair[]): Buffer {
  let encoded = metadataCache.get(metadata);
  if (encoded === undefined) {
    const sizes = metadata.map(([name, value]) => stringFieldSize(utf8Bytes(name)) + stringFieldSize(utf8Bytes(value)));
    encoded = Buffer.allocUnsafe(sizes.reduce((sum, size) => sum + 1 + varintSize(size) + size, 0));
    let pos = 0;
    metadata.forEach(([name, value], i) => {
      encoded![pos++] = KEY_METADATA;
      pos = writeVarint(encoded!, pos, sizes[i]);
      pos = writeString(encoded!, pos, KEY_NAME, name, utf8Bytes(name));
      pos = writeString(encoded!, pos, KEY_VALUE, value, utf8Bytes(value));
    });
    metadataCache.set(metadata, encoded);
  }
  return encoded;
}

/** Encoded metadata of consecutive entries, which mostly share one metadata array: looked up only when it changes. */
function lastMetadataEncoder(): (metadata: readonly LabelPair[]) => Buffer {
  let last: readonly LabelPair[] | undefined;
  let encoded: Buffer = Buffer.alloc(0);
  return (metadata) => {
    if (metadata !== last) {
      last = metadata;
      encoded = encodedMetadata(metadata);
    }
    return encoded;
  };
}

/** The uncompressed protobuf PushRequest, written straight into one buffer of the exact size. */
export function encodePushRequest(streams: readonly PlannedStream[]): Uint8Array {
  const layout = layOut(streams);
  return writePushRequest(streams, layout, Buffer.allocUnsafe(layout.total));
}

interface Layout {
  readonly total: number;
  readonly streamSizes: readonly number[];
  readonly labelBytes: readonly number[];
  /** Each entry message's size and its timestamp's, in request order (shared arrays, reused by the next layOut). */
  readonly entrySizes: Int32Array;
  readonly timestampSizes: Int32Array;
}

// The size of each entry message and of its timestamp, in request order: layOut works them out, writePushRequest
// writes them. Reused from request to request, like the body buffer.
let entrySizes = new Int32Array(0);
let timestampSizes = new Int32Array(0);

/** Sizes of the request and of each stream message, which protobuf writes before their contents. */
function layOut(streams: readonly PlannedStream[]): Layout {
  const streamSizes = new Array<number>(streams.length);
  const labelBytes = new Array<number>(streams.length);
  let entries = 0;
  for (const stream of streams) for (const run of stream.runs) entries += run.to - run.from;
  if (entrySizes.length < entries) {
    entrySizes = new Int32Array(entries * 2);
    timestampSizes = new Int32Array(entries * 2);
  }
  let total = 0;
  let e = 0;
  for (let s = 0; s < streams.length; s++) {
    labelBytes[s] = utf8Bytes(streams[s].labels);
    let size = stringFieldSize(labelBytes[s]);
    const metadataOf = lastMetadataEncoder();
    for (const { block, from, to, metadata: pairs } of streams[s].runs) {
      const metadata = metadataOf(pairs);
      for (let i = from; i < to; i++) {
        const ts = timestampSize(block.sec(i), block.nsec(i));
        const entryBytes = 1 + varintSize(ts) + ts + stringFieldSize(block.utf8Bytes(i)) + metadata.length;
        timestampSizes[e] = ts;
        entrySizes[e++] = entryBytes;
        size += 1 + varintSize(entryBytes) + entryBytes;
      }
    }
    streamSizes[s] = size;
    total += 1 + varintSize(size) + size;
  }
  return { total, streamSizes, labelBytes, entrySizes, timestampSizes };
}

/** Writes the request into `out` (at least `layout.total` long) and returns the written part. */
function writePushRequest(streams: readonly PlannedStream[], layout: Layout, out: Buffer): Buffer {
  const { streamSizes, labelBytes, entrySizes, timestampSizes } = layout;
  let pos = 0;
  let e = 0;
  for (let s = 0; s < streams.length; s++) {
    out[pos++] = KEY_STREAMS;
    pos = writeVarint(out, pos, streamSizes[s]);
    pos = writeString(out, pos, KEY_LABELS, streams[s].labels, labelBytes[s]);
    const metadataOf = lastMetadataEncoder();
    for (const { block, from, to, metadata: pairs } of streams[s].runs) {
      const metadata = metadataOf(pairs);
      for (let i = from; i < to; i++) {
        out[pos++] = KEY_ENTRIES;
        pos = writeVarint(out, pos, entrySizes[e]);
        out[pos++] = KEY_TIMESTAMP;
        pos = writeVarint(out, pos, timestampSizes[e++]);
        const sec = block.sec(i);
        const nsec = block.nsec(i);
        if (sec !== 0) {
          out[pos++] = KEY_SECONDS;
          pos = writeVarint(out, pos, sec);
        }
        if (nsec !== 0) {
          out[pos++] = KEY_NANOS;
          pos = writeVarint(out, pos, nsec);
        }
        const buf = block.buffer(i);
        pos = buf === undefined
          ? writeString(out, pos, KEY_LINE, block.text(i), block.utf8Bytes(i))
          : writeString(out, pos, KEY_LINE, buf, block.end(i) - block.start(i), block.start(i));
        out.set(metadata, pos);
        pos += metadata.length;
      }
    }
  }
  return out.subarray(0, pos);
}

// The uncompressed body only lives until it is compressed (the compressors return new buffers), so one buffer is
// reused for it: a fresh megabyte per request cost more in page faults and garbage collection than the encoding.
let scratch = Buffer.allocUnsafe(0);

/** The snappy-compressed protobuf body of a request. */
export function compressedPushRequest(streams: readonly PlannedStream[]): Uint8Array {
  const layout = layOut(streams);
  if (scratch.length < layout.total) scratch = Buffer.allocUnsafe(Math.max(layout.total, scratch.length * 2));
  return defaultSnappy().compress(writePushRequest(streams, layout, scratch));
}

/** Loki's JSON push body: `values` are [epoch-ns string, line, structured metadata]. */
export function encodePushJson(streams: readonly PlannedStream[]): string {
  return JSON.stringify({
    streams: streams.map((stream) => ({
      stream: Object.fromEntries(stream.pairs),
      values: plannedEntries(stream).map((entry) => [
        toEpochNanosString(entry),
        entry.line,
        Object.fromEntries(entry.metadata),
      ]),
    })),
  });
}

export function encodeBody(streams: readonly PlannedStream[], format: PushFormat): EncodedBody {
  if (format === 'json') {
    return { body: Buffer.from(encodePushJson(streams), 'utf8'), contentType: 'application/json' };
  }
  return { body: compressedPushRequest(streams), contentType: 'application/x-protobuf' };
}
