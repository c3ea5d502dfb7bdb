// The PushRequest message type, built once by reflection from proto/push.proto. The sink encodes with its own
// writer (push-encode.ts, faster); this type is the reference it is tested against, and what the test receiver
// decodes with.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_PATH = fileURLToPath(new URL('../../../proto/push.proto', import.meta.url));

let cached: protobuf.Type | undefined;

export function pushRequestType(): protobuf.Type {
  cached ??= protobuf.loadSync(PROTO_PATH).lookupType('logproto.PushRequest');
  return cached;
}

/** The shape protobufjs produces when decoding a PushRequest with `toObject({ longs: Number })`. */
export interface DecodedPushRequest {
  streams?: DecodedStream[];
}
export interface DecodedStream {
  labels?: string;
  entries?: DecodedEntry[];
}
export interface DecodedEntry {
  timestamp?: { seconds?: number; nanos?: number };
  line?: string;
  structuredMetadata?: { name?: string; value?: string }[];
}

export function decodePushRequest(body: Uint8Array): DecodedPushRequest {
  const type = pushRequestType();
  return type.toObject(type.decode(body), { longs: Number, defaults: false, arrays: true }) as DecodedPushRequest;
}
