// Request bodies. Protobuf is written by hand: lengths of nested messages are computed up front (line sizes are
// already known from planning), then everything goes straight into one buffer of the exact size. The result is
// byte-identical to protobufjs' reflection encoding of proto/push.proto (encode.test.ts) and faster than both
// reflection and protobufjs' Writer, whose per-field operation objects dominate with short lines
// (bench/encode.bench.ts). Snappy is the block format Loki expects, not the framed one.
import { compress } from 'snappyjs';
import { toEpochNanosString } from '../../time/timestamp.ts';
import type { LabelPair } from './labels.ts';
import type { PlannedEntry, PlannedStream } from './plan.ts';
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
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Size of a length-delimited field (key + length + payload); an empty string is left out, as proto3 does. */
function stringFieldSize(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

// Seconds and nanos are written as plain varints: kubelet timestamps are after 1970, so never negative (negative
// int64s would need ten-byte sign-extended varints).
function timestampSize(entry: PlannedEntry): number {
  const { sec, nsec } = entry.ts;
  return (sec === 0 ? 0 : 1 + varintSize(sec)) + (nsec === 0 ? 0 : 1 + varintSize(nsec));
}

function pairSize(pair: LabelPair): number {
  return stringFieldSize(utf8Bytes(pair[0])) + stringFieldSize(utf8Bytes(pair[1]));
}

function entrySize(entry: PlannedEntry, metadataSizes: readonly number[]): number {
  const ts = timestampSize(entry);
  let size = 1 + varintSize(ts) + ts + stringFieldSize(entry.bytes);
  for (const pair of metadataSizes) size += 1 + varintSize(pair) + pair;
  return size;
}

/** Sizes of an entry's metadata pairs; entries of a target share one array (MetadataCache), so this is cached. */
const pairSizeCache = new WeakMap<readonly LabelPair[], number[]>();

function pairSizesOf(metadata: readonly LabelPair[]): number[] {
  let sizes = pairSizeCache.get(metadata);
  if (sizes === undefined) {
    sizes = metadata.map(pairSize);
    pairSizeCache.set(metadata, sizes);
  }
  return sizes;
}

function entrySizeOf(entry: PlannedEntry): number {
  return entrySize(entry, pairSizesOf(entry.metadata));
}

function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

function writeString(out: Buffer, pos: number, key: number, text: string, bytes: number): number {
  if (bytes === 0) return pos;
  out[pos++] = key;
  pos = writeVarint(out, pos, bytes);
  return pos + out.write(text, pos, bytes, 'utf8');
}

/** The uncompressed protobuf PushRequest, written straight into one buffer of the exact size. */
export function encodePushRequest(streams: readonly PlannedStream[]): Uint8Array {
  const streamSizes = new Array<number>(streams.length);
  const labelBytes = new Array<number>(streams.length);
  let total = 0;
  for (let s = 0; s < streams.length; s++) {
    labelBytes[s] = utf8Bytes(streams[s].labels);
    let size = stringFieldSize(labelBytes[s]);
    for (const entry of streams[s].entries) {
      const entryBytes = entrySizeOf(entry);
      size += 1 + varintSize(entryBytes) + entryBytes;
    }
    streamSizes[s] = size;
    total += 1 + varintSize(size) + size;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let s = 0; s < streams.length; s++) {
    out[pos++] = KEY_STREAMS;
    pos = writeVarint(out, pos, streamSizes[s]);
    pos = writeString(out, pos, KEY_LABELS, streams[s].labels, labelBytes[s]);
    for (const entry of streams[s].entries) {
      out[pos++] = KEY_ENTRIES;
      pos = writeVarint(out, pos, entrySizeOf(entry));
      out[pos++] = KEY_TIMESTAMP;
      pos = writeVarint(out, pos, timestampSize(entry));
      if (entry.ts.sec !== 0) {
        out[pos++] = KEY_SECONDS;
        pos = writeVarint(out, pos, entry.ts.sec);
      }
      if (entry.ts.nsec !== 0) {
        out[pos++] = KEY_NANOS;
        pos = writeVarint(out, pos, entry.ts.nsec);
      }
      pos = writeString(out, pos, KEY_LINE, entry.line, entry.bytes);
      const sizes = pairSizesOf(entry.metadata);
      for (let j = 0; j < sizes.length; j++) {
        const [name, value] = entry.metadata[j];
        out[pos++] = KEY_METADATA;
        pos = writeVarint(out, pos, sizes[j]);
        pos = writeString(out, pos, KEY_NAME, name, utf8Bytes(name));
        pos = writeString(out, pos, KEY_VALUE, value, utf8Bytes(value));
      }
    }
  }
  return out;
}

/** Loki's JSON push body: `values` are [epoch-ns string, line, structured metadata]. */
export function encodePushJson(streams: readonly PlannedStream[]): string {
  return JSON.stringify({
    streams: streams.map((stream) => ({
      stream: Object.fromEntries(stream.pairs),
      values: stream.entries.map((entry) => [
        toEpochNanosString(entry.ts),
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
  return { body: compress(encodePushRequest(streams)), contentType: 'application/x-protobuf' };
}
