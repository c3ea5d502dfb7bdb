// Structured logging: one line per event as JSON, logfmt or human text, with secrets masked.
import { inspect } from 'node:util';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'logfmt' | 'pretty';
export type Fields = Readonly<Record<string, unknown>>;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'logfmt', 'pretty'];

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every event (the event's own fields win on a clash). */
  child(fields: Fields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** Events below this level are dropped; 'silent' drops all. */
  readonly level: LogLevel | 'silent';
  readonly format: LogFormat;
  /** Default process.stderr. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Where a finished line (with its newline) goes instead of `stream.write`: e.g. a status line's
   * `writeAbove`, so log lines and the live status never share a terminal row.
   */
  readonly writeLine?: (line: string) => void;
  /** Colours in the pretty format; default: only when the stream is a TTY and NO_COLOR is unset. */
  readonly color?: boolean;
  /** Clock (default `() => new Date()`), for tests. */
  readonly now?: () => Date;
}

const RANK: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /pass(word|wd)?|token|authori[sz]ation|secret|bearer|api[-_]?key|cookie|credential|private[-_]?key/i;
// Paths to secrets are not secrets themselves and are what an operator needs to see.
const SECRET_KEY_EXEMPT = /(file|path|dir)$/i;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
const MASK = '***';
const MAX_DEPTH = 6;

export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  return new FieldLogger({
    color: options.color ?? (stream.isTTY === true && !process.env.NO_COLOR),
    now: options.now ?? (() => new Date()),
    write: options.writeLine ?? ((line: string) => void stream.write(line)),
    threshold: RANK[options.level],
    render: RENDERERS[options.format],
  }, {});
}

/** What every logger of one createLogger shares. */
interface LogOutput {
  readonly color: boolean;
  readonly now: () => Date;
  readonly write: (line: string) => void;
  readonly threshold: number;
  readonly render: (event: Event, color: boolean) => string;
}

// A class rather than an object of closures: every follower has a child logger, and six closures each cost
// ~700 bytes per followed container.
class FieldLogger implements Logger {
  readonly #out: LogOutput;
  readonly #base: Fields;

  constructor(out: LogOutput, base: Fields) {
    this.#out = out;
    this.#base = base;
  }

  debug(msg: string, fields?: Fields): void {
    this.#emit('debug', msg, fields);
  }

  info(msg: string, fields?: Fields): void {
    this.#emit('info', msg, fields);
  }

  warn(msg: string, fields?: Fields): void {
    this.#emit('warn', msg, fields);
  }

  error(msg: string, fields?: Fields): void {
    this.#emit('error', msg, fields);
  }

  child(fields: Fields): Logger {
    return new FieldLogger(this.#out, { ...this.#base, ...fields });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#out.threshold;
  }

  #emit(level: LogLevel, msg: string, fields: Fields | undefined): void {
    const out = this.#out;
    if (RANK[level] < out.threshold) return;
    let line: string;
    try {
      line = out.render({ ts: out.now(), level, msg: maskString(String(msg)), fields: sanitizeFields({ ...this.#base, ...fields }) }, out.color);
    } catch (err) {
      line = `${out.now().toISOString()} ${level} ${String(msg)} (fields could not be rendered: ${String(err)})`;
    }
    // One write per line: the stream never sees half a line, so concurrent events cannot interleave.
    out.write(line.replace(/\r?\n/g, '\\n') + '\n');
  }
}

interface Event {
  readonly ts: Date;
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

const RENDERERS: Record<LogFormat, (event: Event, color: boolean) => string> = {
  json: renderJson,
  logfmt: renderLogfmt,
  pretty: renderPretty,
};

function renderJson(event: Event): string {
  const record: Record<string, unknown> = { ts: event.ts.toISOString(), level: event.level, msg: event.msg };
  for (const [key, value] of Object.entries(event.fields)) record[key in record ? `field_${key}` : key] = value;
  return JSON.stringify(record);
}

function renderLogfmt(event: Event): string {
  const parts = [`ts=${event.ts.toISOString()}`, `level=${event.level}`, `msg=${logfmtValue(event.msg)}`];
  for (const [key, value] of Object.entries(event.fields)) {
    const name = logfmtKey(key);
    parts.push(`${['ts', 'level', 'msg'].includes(name) ? `field_${name}` : name}=${logfmtValue(value)}`);
  }
  return parts.join(' ');
}

const LEVEL_COLOURS: Record<LogLevel, string> = { debug: '\x1b[2m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

function renderPretty(event: Event, color: boolean): string {
  const t = event.ts;
  const time = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const level = event.level.toUpperCase().padEnd(5);
  const fields = Object.entries(event.fields).map(([key, value]) => `${logfmtKey(key)}=${logfmtValue(value)}`);
  if (!color) return [time, level, event.msg, ...fields].join(' ').replace(/ +$/, '');
  const dim = (s: string): string => `\x1b[2m${s}\x1b[0m`;
  return [dim(time), `${LEVEL_COLOURS[event.level]}${level}\x1b[0m`, event.msg, ...fields.map(dim)].join(' ');
}

function logfmtKey(key: string): string {
  const cleaned = key.replace(/[\s="]+/g, '_');
  return cleaned === '' ? '_' : cleaned;
}

/** A logfmt value: bare when it has no space, quote, `=` or control character, else a JSON-quoted string. */
export function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  return text === '' || /[\s"=\\\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text) : text;
}

/** Replaces `scheme://user:pass@` with `scheme://***@`. */
export function maskString(text: string): string {
  return text.replace(URL_USERINFO, `$1${MASK}@`);
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !SECRET_KEY_EXEMPT.test(key);
}

function sanitizeFields(fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new WeakSet<object>();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = isSecretKey(key) ? MASK : sanitize(value, seen, 0);
  }
  return out;
}

/** A JSON-safe copy with secrets masked; cycles, bigints, errors, functions and getters that throw are all tolerated. */
export function sanitize(value: unknown, seen: WeakSet<object> = new WeakSet(), depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return maskString(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'symbol':
    case 'function':
      return String(value);
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Error) return errorText(object);
  if (object instanceof URL) return maskString(object.href);
  if (seen.has(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item) => sanitize(item, seen, depth + 1));
    if (object instanceof Map) return sanitize(Object.fromEntries(object), seen, depth + 1);
    if (object instanceof Set) return sanitize([...object], seen, depth + 1);
    if (ArrayBuffer.isView(object)) return `[${object.constructor.name} ${object.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      let item: unknown;
      try {
        item = (object as Record<string, unknown>)[key];
      } catch {
        item = '[getter threw]';
      }
      out[key] = isSecretKey(key) ? MASK : sanitize(item, seen, depth + 1);
    }
    return out;
  } catch {
    return inspect(object, { depth: 0 });
  } finally {
    seen.delete(object);
  }
}

function errorText(err: Error): string {
  const code = (err as { code?: unknown }).code;
  const prefix = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return maskString(`${prefix}${err.message}${typeof code === 'string' && !err.message.includes(code) ? ` (${code})` : ''}`);
}
