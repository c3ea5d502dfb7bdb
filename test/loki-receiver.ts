// A Loki-compatible push receiver for tests, verification and soak runs. It decodes what real Loki accepts
// (snappy-block protobuf, plain or gzipped JSON), enforces Loki's default validation limits with Loki's error
// texts, and records every entry per stream, counting duplicates and out-of-order arrivals instead of hiding them.
// Faults on demand: 429 / 5xx / 413 answers, hanging requests, or the whole listener going away and coming back.
//
// Standalone: `node test/loki-receiver.ts --port 3100 [--host 127.0.0.1] [--discard] [--no-validate]` prints its
// URL on the first line of stdout. Its control API: GET /receiver/stats, GET /receiver/streams,
// POST /receiver/mode {mode, requests?, forMs?, share?, retryAfter?}, POST /receiver/down?ms=N, POST /receiver/reset.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { uncompress } from 'snappyjs';
import { decodePushRequest } from '../src/sinks/loki/schema.ts';
import { compareTimestamps, type Timestamp } from '../src/time/timestamp.ts';

export interface ReceivedEntry {
  readonly ts: Timestamp;
  readonly line: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ValidationLimits {
  readonly maxLineBytes: number;
  readonly maxLabelNames: number;
  readonly maxLabelNameBytes: number;
  readonly maxLabelValueBytes: number;
  /** reject_old_samples_max_age */
  readonly maxAgeMs: number;
  /** creation_grace_period */
  readonly gracePeriodMs: number;
  /** Entries older than the stream's newest minus half of this are `too_far_behind`. */
  readonly maxChunkAgeMs: number;
  readonly maxMetadataBytes: number;
  readonly maxMetadataEntries: number;
}

export const LOKI_DEFAULT_LIMITS: ValidationLimits = {
  maxLineBytes: 256_000,
  maxLabelNames: 15,
  maxLabelNameBytes: 1024,
  maxLabelValueBytes: 2048,
  maxAgeMs: 168 * 3600_000,
  gracePeriodMs: 10 * 60_000,
  maxChunkAgeMs: 2 * 3600_000,
  maxMetadataBytes: 64 * 1024,
  maxMetadataEntries: 128,
};

export type FaultMode = 'ok' | 'hang' | number;

export interface FaultScope {
  /** Applies to this many requests, then back to `ok`. */
  readonly requests?: number;
  /** Applies for this long, then back to `ok`. */
  readonly forMs?: number;
  /** Chance (0–1) that a request gets the fault; the others are handled normally. */
  readonly share?: number;
  /** Retry-After header sent with a status fault. */
  readonly retryAfter?: string;
}

export interface LokiReceiverOptions {
  readonly port?: number;
  readonly host?: string;
  /** true (default): Loki's default limits; false: accept everything that decodes; or limits to override. */
  readonly validate?: boolean | Partial<ValidationLimits>;
  /** Decode and count only: no validation, nothing stored (for benchmarks). */
  readonly discard?: boolean;
  /** A body larger than this gets 413. */
  readonly maxBodyBytes?: number;
  /** Wall clock for age checks, in ms. */
  readonly now?: () => number;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface RequestRecord {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly tenant: string | undefined;
  readonly authorization: string | undefined;
  readonly entries: number;
}

export interface ReceiverStats {
  requests: number;
  statuses: Record<string, number>;
  /** Entries stored (or counted, in discard mode). */
  entries: number;
  /** UTF-8 bytes of stored lines. */
  bytes: number;
  /** Entries refused with a 400, by reason. */
  rejected: Record<string, number>;
  /** Same stream, timestamp and line as an entry stored before. */
  duplicates: number;
  /** Older than the newest entry already stored in its stream. */
  outOfOrder: number;
  streams: number;
}

export interface LokiReceiver {
  readonly url: string;
  readonly port: number;
  /** Normalised selector (labels sorted) → entries in arrival order. */
  streams(): Map<string, ReceivedEntry[]>;
  entries(): (ReceivedEntry & { readonly stream: string })[];
  stats(): ReceiverStats;
  requests(): readonly RequestRecord[];
  setMode(mode: FaultMode, scope?: FaultScope): void;
  /** Closes the listener and every connection; listens on the same port again after `ms`. */
  goDown(ms: number): Promise<void>;
  /** Resolves when the listener is up (after goDown). */
  whenUp(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

interface PushedStream {
  readonly labels: string;
  readonly entries: ReceivedEntry[];
}

type LabelPairs = [string, string][];

class Rejected extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/** Parses Prometheus selector text `{name="value", …}` (values as JSON-compatible Go string literals). */
export function parseLabels(text: string): LabelPairs {
  const pairs: LabelPairs = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Rejected('invalid_labels', `Error parsing labels '${text}' with error: ${what} at position ${i}`);
  };
  const skipSpace = (): void => {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n') i++;
  };
  skipSpace();
  if (text[i] !== '{') fail('expected {');
  i++;
  skipSpace();
  if (text[i] === '}') i++;
  else {
    for (;;) {
      LABEL_NAME.lastIndex = i;
      const name = LABEL_NAME.exec(text);
      if (name === null) fail('invalid label name');
      i += name![0].length;
      skipSpace();
      if (text[i] !== '=') fail('expected =');
      i++;
      skipSpace();
      if (text[i] !== '"') fail('expected a quoted value');
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (i >= text.length) fail('unterminated value');
      i++;
      let value = '';
      try {
        value = JSON.parse(text.slice(start, i)) as string;
      } catch {
        fail('invalid escape in value');
      }
      pairs.push([name![0], value]);
      skipSpace();
      if (text[i] === ',') {
        i++;
        skipSpace();
        continue;
      }
      if (text[i] === '}') {
        i++;
        break;
      }
      fail('expected , or }');
    }
  }
  skipSpace();
  if (i !== text.length) fail('trailing text');
  return pairs;
}

function formatLabels(pairs: LabelPairs): string {
  const sorted = [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${sorted.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}}`;
}

/** Stream-level rules (reject the whole stream): returns the normalised selector. */
function validateLabels(text: string, limits: ValidationLimits | undefined): string {
  const pairs = parseLabels(text);
  const selector = formatLabels(pairs);
  if (limits === undefined) return selector;
  if (pairs.length === 0) throw new Rejected('missing_labels', 'error at least one label pair is required per stream');
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    if (seen.has(name)) {
      throw new Rejected('duplicate_label_names', `stream '${selector}' has duplicate label name: '${name}'`);
    }
    seen.add(name);
    if (Buffer.byteLength(name) > limits.maxLabelNameBytes) {
      throw new Rejected('label_name_too_long', `stream '${selector}' has label name too long: '${name}'`);
    }
    if (Buffer.byteLength(value) > limits.maxLabelValueBytes) {
      throw new Rejected('label_value_too_long', `stream '${selector}' has label value too long: '${value}'`);
    }
  }
  if (pairs.length > limits.maxLabelNames) {
    throw new Rejected(
      'max_label_names_per_series',
      `entry for stream '${selector}' has ${pairs.length} label names; limit ${limits.maxLabelNames}`,
    );
  }
  return selector;
}

function isoOf(ts: Timestamp): string {
  return new Date(ts.sec * 1000 + Math.floor(ts.nsec / 1e6)).toISOString();
}

/** Entry-level rules (reject that entry only). */
function validateEntry(
  selector: string,
  entry: ReceivedEntry,
  newest: Timestamp | undefined,
  limits: ValidationLimits,
  nowMs: number,
): void {
  const lineBytes = Buffer.byteLength(entry.line);
  if (lineBytes > limits.maxLineBytes) {
    throw new Rejected(
      'line_too_long',
      `Max entry size '${limits.maxLineBytes}' bytes exceeded for stream '${selector}' while adding an entry with length '${lineBytes}' bytes`,
    );
  }
  const ms = entry.ts.sec * 1000 + entry.ts.nsec / 1e6;
  if (ms < nowMs - limits.maxAgeMs) {
    throw new Rejected(
      'greater_than_max_sample_age',
      `entry for stream '${selector}' has timestamp too old: ${isoOf(entry.ts)}, oldest acceptable timestamp is: ${new Date(nowMs - limits.maxAgeMs).toISOString()}`,
    );
  }
  if (ms > nowMs + limits.gracePeriodMs) {
    throw new Rejected('too_far_in_future', `entry for stream '${selector}' has timestamp too new: ${isoOf(entry.ts)}`);
  }
  if (newest !== undefined) {
    const oldestMs = newest.sec * 1000 + newest.nsec / 1e6 - limits.maxChunkAgeMs / 2;
    if (ms < oldestMs) {
      throw new Rejected(
        'too_far_behind',
        `entry with timestamp ${isoOf(entry.ts)} ignored, reason: 'entry too far behind, entry timestamp is: ${isoOf(entry.ts)}, oldest acceptable timestamp is: ${new Date(oldestMs).toISOString()}' for stream: ${selector}`,
      );
    }
  }
  const metadata = Object.entries(entry.metadata);
  if (metadata.length > limits.maxMetadataEntries) {
    throw new Rejected(
      'structured_metadata_too_many',
      `stream '${selector}' has too many structured metadata labels: '${metadata.length}', limit: '${limits.maxMetadataEntries}'`,
    );
  }
  const metadataBytes = metadata.reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
  if (metadataBytes > limits.maxMetadataBytes) {
    throw new Rejected(
      'structured_metadata_too_large',
      `stream '${selector}' has structured metadata too large: '${metadataBytes}' bytes, limit: '${limits.maxMetadataBytes}' bytes`,
    );
  }
}

function decodeProtobuf(body: Buffer): PushedStream[] {
  const request = decodePushRequest(uncompress(body));
  return (request.streams ?? []).map((stream) => ({
    labels: stream.labels ?? '',
    entries: (stream.entries ?? []).map((entry) => ({
      ts: { sec: entry.timestamp?.seconds ?? 0, nsec: entry.timestamp?.nanos ?? 0 },
      line: entry.line ?? '',
      metadata: Object.fromEntries((entry.structuredMetadata ?? []).map((pair) => [pair.name ?? '', pair.value ?? ''])),
    })),
  }));
}

interface JsonPush {
  streams?: { stream?: Record<string, string>; values?: [string, string, Record<string, string>?][] }[];
}

function decodeJson(body: Buffer): PushedStream[] {
  const request = JSON.parse(body.toString('utf8')) as JsonPush;
  return (request.streams ?? []).map((stream) => ({
    // Built as text so JSON pushes go through the same label validation as protobuf ones.
    labels: `{${Object.entries(stream.stream ?? {})
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join(', ')}}`,
    entries: (stream.values ?? []).map(([ns, line, metadata]) => {
      const total = BigInt(ns);
      return {
        ts: { sec: Number(total / 1_000_000_000n), nsec: Number(total % 1_000_000_000n) },
        line,
        metadata: metadata ?? {},
      };
    }),
  }));
}

function decodeBody(request: IncomingMessage, body: Buffer): PushedStream[] {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim();
  try {
    if (type === 'application/x-protobuf') return decodeProtobuf(body);
    if (type === 'application/json') {
      return decodeJson(request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
    }
  } catch (error) {
    throw new Rejected('invalid_request', `error decoding the push request: ${(error as Error).message}`);
  }
  throw new Rejected('invalid_request', `unsupported Content-Type ${JSON.stringify(type)}`);
}

function emptyStats(): ReceiverStats {
  return { requests: 0, statuses: {}, entries: 0, bytes: 0, rejected: {}, duplicates: 0, outOfOrder: 0, streams: 0 };
}

interface StoredStream {
  readonly entries: ReceivedEntry[];
  readonly seen: Set<string>;
  newest: Timestamp | undefined;
}

export async function startLokiReceiver(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const host = options.host ?? '127.0.0.1';
  const limits: ValidationLimits | undefined =
    options.validate === false
      ? undefined
      : { ...LOKI_DEFAULT_LIMITS, ...(typeof options.validate === 'object' ? options.validate : {}) };
  const discard = options.discard ?? false;
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? 100 * 1024 * 1024;

  let stats = emptyStats();
  let stored = new Map<string, StoredStream>();
  let arrivals: (ReceivedEntry & { stream: string })[] = [];
  let records: RequestRecord[] = [];
  let fault: { mode: FaultMode; scope: FaultScope; until: number; left: number } | undefined;
  const hanging = new Set<ServerResponse>();

  function faultFor(): FaultMode {
    if (fault === undefined) return 'ok';
    if (fault.until <= Date.now() || fault.left <= 0) {
      fault = undefined;
      return 'ok';
    }
    if (fault.scope.share !== undefined && Math.random() >= fault.scope.share) return 'ok';
    fault.left--;
    return fault.mode;
  }

  function store(selector: string, entry: ReceivedEntry): void {
    let stream = stored.get(selector);
    if (stream === undefined) {
      stream = { entries: [], seen: new Set(), newest: undefined };
      stored.set(selector, stream);
      stats.streams++;
    }
    const key = `${entry.ts.sec}.${entry.ts.nsec}\u0000${entry.line}`;
    if (stream.seen.has(key)) stats.duplicates++;
    else stream.seen.add(key);
    if (stream.newest !== undefined && compareTimestamps(entry.ts, stream.newest) < 0) stats.outOfOrder++;
    else stream.newest = entry.ts;
    stream.entries.push(entry);
    arrivals.push({ ...entry, stream: selector });
    stats.entries++;
    stats.bytes += Buffer.byteLength(entry.line);
  }

  /** Stores what passes validation; returns the errors of what did not, and how many entries they cost. */
  function ingest(streams: PushedStream[]): { errors: Rejected[]; ignored: number; total: number } {
    const errors: Rejected[] = [];
    let ignored = 0;
    let total = 0;
    if (streams.length === 0 && limits !== undefined) {
      errors.push(new Rejected('missing_labels', 'error at least one valid stream is required for ingestion'));
    }
    for (const stream of streams) {
      total += stream.entries.length;
      let selector: string;
      try {
        selector = validateLabels(stream.labels, limits);
      } catch (error) {
        if (!(error instanceof Rejected)) throw error;
        errors.push(error);
        ignored += stream.entries.length;
        stats.rejected[error.reason] = (stats.rejected[error.reason] ?? 0) + stream.entries.length;
        continue;
      }
      for (const entry of stream.entries) {
        try {
          if (limits !== undefined) validateEntry(selector, entry, stored.get(selector)?.newest, limits, now());
          store(selector, entry);
        } catch (error) {
          if (!(error instanceof Rejected)) throw error;
          errors.push(error);
          ignored++;
          stats.rejected[error.reason] = (stats.rejected[error.reason] ?? 0) + 1;
        }
      }
    }
    return { errors, ignored, total };
  }

  async function handlePush(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const record = (status: number, entries: number): void => {
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      records.push({
        status,
        contentType: request.headers['content-type'],
        contentEncoding: request.headers['content-encoding'],
        tenant: request.headers['x-scope-orgid'] as string | undefined,
        authorization: request.headers.authorization,
        entries,
      });
      if (records.length > 10_000) records = records.slice(-5_000);
    };
    const answer = (status: number, text: string, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      response.end(text === '' ? undefined : `${text}\n`);
    };
    stats.requests++;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
    }
    const mode = faultFor();
    if (mode === 'hang') {
      record(0, 0);
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return;
    }
    if (typeof mode === 'number') {
      record(mode, 0);
      const retryAfter = fault?.scope.retryAfter;
      const text = mode === 429 ? 'Ingestion rate limit exceeded (rate_limited)' : `injected fault ${mode}`;
      answer(mode, text, mode === 429 && retryAfter !== undefined ? { 'retry-after': retryAfter } : {});
      return;
    }
    if (size > maxBodyBytes) {
      record(413, 0);
      answer(413, `request body too large: ${size} bytes, limit ${maxBodyBytes}`);
      return;
    }
    let streams: PushedStream[];
    try {
      streams = decodeBody(request, Buffer.concat(chunks));
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      record(400, 0);
      answer(400, error.message);
      return;
    }
    if (discard) {
      for (const stream of streams) {
        for (const entry of stream.entries) {
          stats.entries++;
          stats.bytes += Buffer.byteLength(entry.line);
        }
      }
      record(204, stats.entries);
      answer(204, '');
      return;
    }
    const { errors, ignored, total } = ingest(streams);
    record(errors.length === 0 ? 204 : 400, total);
    if (errors.length === 0) {
      answer(204, '');
      return;
    }
    const shown = errors.slice(0, 10).map((error) => error.message);
    answer(400, `${shown.join('\n')}\ntotal ignored: ${ignored} out of ${total}`);
  }

  async function handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const json = (value: unknown): void => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    let text = '';
    for await (const chunk of request as AsyncIterable<Buffer>) text += chunk.toString('utf8');
    if (url.pathname === '/receiver/stats') return json(stats);
    if (url.pathname === '/receiver/streams') {
      return json(Object.fromEntries([...stored].map(([selector, stream]) => [selector, stream.entries])));
    }
    if (url.pathname === '/receiver/mode' && request.method === 'POST') {
      const body = JSON.parse(text === '' ? '{}' : text) as FaultScope & { mode?: FaultMode };
      receiver.setMode(body.mode ?? 'ok', body);
      return json({ ok: true });
    }
    if (url.pathname === '/receiver/down' && request.method === 'POST') {
      json({ ok: true });
      response.on('finish', () => void receiver.goDown(Number(url.searchParams.get('ms') ?? '1000')));
      return;
    }
    if (url.pathname === '/receiver/reset' && request.method === 'POST') {
      receiver.reset();
      return json({ ok: true });
    }
    response.writeHead(404).end('not found\n');
  }

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://receiver');
    let handled: Promise<void>;
    if (url.pathname === '/loki/api/v1/push' && request.method === 'POST') handled = handlePush(request, response);
    else if (url.pathname === '/ready') handled = Promise.resolve(void response.writeHead(200).end('ready\n'));
    else if (url.pathname.startsWith('/receiver/')) handled = handleControl(request, response, url);
    else handled = Promise.resolve(void response.writeHead(404).end('not found\n'));
    handled.catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(`receiver error: ${String(error)}\n`);
    });
  };
  const server: Server | TlsServer =
    options.tls === undefined ? createServer(handler) : createTlsServer({ key: options.tls.key, cert: options.tls.cert }, handler);
  server.keepAliveTimeout = 60_000;

  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let up: Promise<void> = Promise.resolve();
  let reopen: NodeJS.Timeout | undefined;
  let closed = false;

  function dropHanging(): void {
    for (const response of hanging) response.destroy();
    hanging.clear();
  }

  const receiver: LokiReceiver = {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${port}`,
    port,
    streams: () => new Map([...stored].map(([selector, stream]) => [selector, [...stream.entries]])),
    entries: () => [...arrivals],
    stats: () => structuredClone(stats),
    requests: () => [...records],
    setMode(mode, scope = {}) {
      if (mode !== 'hang') dropHanging();
      fault =
        mode === 'ok'
          ? undefined
          : {
              mode,
              scope,
              until: scope.forMs === undefined ? Infinity : Date.now() + scope.forMs,
              left: scope.requests ?? Infinity,
            };
    },
    async goDown(ms) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      dropHanging();
      server.closeAllConnections();
      await stopped;
      up = new Promise<void>((resolve, reject) => {
        reopen = setTimeout(() => {
          reopen = undefined;
          if (closed) return resolve();
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        }, ms);
      });
    },
    whenUp: () => up,
    reset() {
      stats = emptyStats();
      stored = new Map();
      arrivals = [];
      records = [];
      fault = undefined;
    },
    async close() {
      closed = true;
      if (reopen !== undefined) clearTimeout(reopen);
      reopen = undefined;
      dropHanging();
      if (server.listening) {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
      }
    },
  };
  return receiver;
}

function argValue(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const receiver = await startLokiReceiver({
    port: Number(argValue(args, '--port') ?? '3100'),
    host: argValue(args, '--host') ?? '127.0.0.1',
    validate: !args.includes('--no-validate'),
    discard: args.includes('--discard'),
  });
  process.stdout.write(`${receiver.url}\n`);
  const stop = (): void => void receiver.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
