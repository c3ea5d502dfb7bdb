// Request bodies. Protobuf is written by hand with protobufjs' Writer: lengths of nested messages are computed
// up front (line sizes are already known from planning), so no fork/ldelim bookkeeping per entry; the result is
// byte-identical to protobufjs' reflection encoding of proto/push.proto (see encode.test.ts) and faster (see
// bench/encode.bench.ts). Snappy is the block format Loki expects, not the framed one.
import protobuf from 'protobufjs';
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

function varintSize(value: number): number {
  if (value < 0) return 10; // negative int64/int32 values are sign-extended to ten bytes
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

function writeString(writer: protobuf.Writer, key: number, text: string): void {
  if (text !== '') writer.uint32(key).string(text);
}

/** The uncompressed protobuf PushRequest. */
export function encodePushRequest(streams: readonly PlannedStream[]): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const stream of streams) {
    // Entries of a target share one metadata array (MetadataCache), so its sizes are computed once per run.
    let lastMetadata: readonly LabelPair[] | undefined;
    let metadataSizes: number[] = [];
    const entrySizes: number[] = new Array<number>(stream.entries.length);
    const pairSizes: (readonly number[])[] = new Array<readonly number[]>(stream.entries.length);
    let streamSize = stringFieldSize(utf8Bytes(stream.labels));
    for (let i = 0; i < stream.entries.length; i++) {
      const entry = stream.entries[i];
      if (entry.metadata !== lastMetadata) {
        lastMetadata = entry.metadata;
        metadataSizes = entry.metadata.map(pairSize);
      }
      const size = entrySize(entry, metadataSizes);
      entrySizes[i] = size;
      pairSizes[i] = metadataSizes;
      streamSize += 1 + varintSize(size) + size;
    }
    writer.uint32(KEY_STREAMS).uint32(streamSize);
    writeString(writer, KEY_LABELS, stream.labels);
    for (let i = 0; i < stream.entries.length; i++) {
      const entry = stream.entries[i];
      writer.uint32(KEY_ENTRIES).uint32(entrySizes[i]);
      writer.uint32(KEY_TIMESTAMP).uint32(timestampSize(entry));
      if (entry.ts.sec !== 0) writer.uint32(KEY_SECONDS).int64(entry.ts.sec);
      if (entry.ts.nsec !== 0) writer.uint32(KEY_NANOS).int32(entry.ts.nsec);
      writeString(writer, KEY_LINE, entry.line);
      for (let j = 0; j < entry.metadata.length; j++) {
        const [name, value] = entry.metadata[j];
        writer.uint32(KEY_METADATA).uint32(pairSizes[i][j]);
        writeString(writer, KEY_NAME, name);
        writeString(writer, KEY_VALUE, value);
      }
    }
  }
  return writer.finish();
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
