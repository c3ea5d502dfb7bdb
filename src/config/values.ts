// Value types of configuration options: how one value is read from text (flags, environment) and from YAML,
// and how it is shown back in `config check`. Every parser throws a one-line Error saying what was expected.
import { parseListen } from '../observe/http.ts';
import { parseNameList, parseShard } from '../selection.ts';
import type { NameMatcher, Shard } from '../selection.ts';
import { maskString } from '../observe/log.ts';
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from '../time/duration.ts';

export interface ValueType<T> {
  /** Placeholder in help text, e.g. `DUR`. */
  readonly meta: string;
  fromText(text: string): T;
  /** A YAML scalar or node; strings go through fromText unless a type accepts other YAML kinds too. */
  fromYaml(value: unknown): T;
  /** The value as YAML for `config check`, secrets masked; reading it back gives the same value. */
  show(value: T): unknown;
}

/** Describes a YAML value of the wrong kind in errors: `got number 5`, `got a list`. */
export function describeYaml(value: unknown): string {
  if (Array.isArray(value)) return 'got a list';
  if (value === null) return 'got nothing';
  if (typeof value === 'object') return 'got a mapping';
  if (typeof value === 'string') return `got ${JSON.stringify(value)}`;
  return `got ${typeof value} ${String(value)}`;
}

function textType<T>(meta: string, expected: string, fromText: (text: string) => T, show: (value: T) => unknown): ValueType<T> {
  return {
    meta,
    fromText,
    fromYaml(value) {
      if (typeof value !== 'string') throw new Error(`expected ${expected}, ${describeYaml(value)}`);
      return fromText(value);
    },
    show,
  };
}

const identity = <T>(value: T): T => value;

function nonEmpty(text: string, what: string): string {
  if (text.trim() === '') throw new Error(`expected ${what}, got an empty string`);
  return text;
}

/** Any non-empty text: names, selectors, paths. */
export function text(meta: string, what: string): ValueType<string> {
  return textType(meta, what, (t) => nonEmpty(t, what), identity);
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  const check = (n: number, shown: string): number => {
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`expected ${expected}, got ${shown}`);
    return n;
  };
  const fromText = (t: string): number => check(/^\s*-?\d+\s*$/.test(t) ? Number(t) : NaN, JSON.stringify(t));
  return {
    meta: 'N',
    fromText,
    fromYaml(value) {
      if (typeof value === 'number') return check(value, String(value));
      if (typeof value === 'string') return fromText(value);
      throw new Error(`expected ${expected}, ${describeYaml(value)}`);
    },
    show: identity,
  };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(text)}`);
}

export const boolean: ValueType<boolean> = {
  meta: 'BOOL',
  fromText: parseBoolean,
  fromYaml(value) {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') return parseBoolean(value);
    throw new Error(`expected true or false, ${describeYaml(value)}`);
  },
  show: identity,
};

/** true, false or `auto` (decided by the caller, e.g. by whether stderr is a TTY). */
export const autoBoolean: ValueType<boolean | 'auto'> = {
  meta: 'BOOL|auto',
  fromText: parseAutoBoolean,
  fromYaml(value) {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') return parseAutoBoolean(value);
    throw new Error(`expected true, false or auto, ${describeYaml(value)}`);
  },
  show: identity,
};

function parseAutoBoolean(text: string): boolean | 'auto' {
  if (text.trim().toLowerCase() === 'auto') return 'auto';
  try {
    return parseBoolean(text);
  } catch {
    throw new Error(`expected true, false or auto, got ${JSON.stringify(text)}`);
  }
}

export function oneOf<const V extends string>(values: readonly V[]): ValueType<V> {
  const expected = `one of ${values.join(', ')}`;
  return textType(values.join('|'), expected, (t) => {
    const v = values.find((value) => value === t.trim());
    if (v === undefined) throw new Error(`expected ${expected}, got ${JSON.stringify(t)}`);
    return v;
  }, identity);
}

/** Milliseconds, at least `minMs`. */
export function duration(minMs = 0): ValueType<number> {
  return textType('DUR', 'a duration like 5s or 10m', (t) => {
    const ms = parseDuration(t);
    if (ms < minMs) throw new Error(`duration ${JSON.stringify(t)} is too short: use at least ${formatDuration(minMs)}`);
    return ms;
  }, formatDuration);
}

/** Bytes, at least `minBytes`; YAML may also give a plain integer count of bytes. */
export function byteSize(minBytes = 1): ValueType<number> {
  const check = (bytes: number, shown: string): number => {
    if (bytes < minBytes) throw new Error(`size ${shown} is too small: use at least ${formatByteSize(minBytes)}`);
    return bytes;
  };
  const fromText = (t: string): number => check(parseByteSize(t), JSON.stringify(t));
  return {
    meta: 'SIZE',
    fromText,
    fromYaml(value) {
      if (typeof value === 'number' && Number.isSafeInteger(value)) return check(value, String(value));
      if (typeof value === 'string') return fromText(value);
      throw new Error(`expected a size like 64KiB or 1MiB, ${describeYaml(value)}`);
    },
    // The short form only when it reads back exactly (formatByteSize rounds to two decimals).
    show: (bytes) => (parseByteSize(formatByteSize(bytes)) === bytes ? formatByteSize(bytes) : bytes),
  };
}

/** Loki's push path, appended to a URL given without a path so `http://loki:3100` just works. */
export const LOKI_PUSH_PATH = '/loki/api/v1/push';

export const lokiUrl: ValueType<string> = textType('URL', 'an http(s) URL', (t) => {
  let u: URL;
  try {
    u = new URL(t.trim());
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(maskString(t))}: use http(s)://host:port[/loki/api/v1/push]`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`URL ${JSON.stringify(maskString(t))} must start with http:// or https://`);
  }
  if (u.pathname === '/' || u.pathname === '') u.pathname = LOKI_PUSH_PATH;
  return u.toString();
}, maskString);

// RFC 1123 label, as Kubernetes requires for namespace names.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const namespaceName: ValueType<string> = textType('NS', 'a namespace name', (t) => {
  const ns = t.trim();
  if (ns.length > 63 || !DNS_LABEL.test(ns)) {
    throw new Error(`invalid namespace ${JSON.stringify(t)}: use lowercase letters, digits and '-', at most 63 characters`);
  }
  return ns;
}, identity);

/** Loki's (and Prometheus') label name grammar; names starting with `__` are reserved for internal use. */
const LOKI_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function checkLokiLabelName(name: string): string {
  if (!LOKI_LABEL_NAME.test(name)) {
    throw new Error(`invalid Loki label name ${JSON.stringify(name)}: use letters, digits and '_', not starting with a digit`);
  }
  if (name.startsWith('__')) throw new Error(`Loki label name ${JSON.stringify(name)} is reserved: names starting with __ are internal`);
  if (name.length > 1024) throw new Error(`Loki label name ${JSON.stringify(name.slice(0, 40))}… is longer than 1024 characters`);
  return name;
}

// A Kubernetes label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters.
const K8S_LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function checkPodLabelKey(key: string): string {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (!K8S_LABEL_NAME.test(name) || (prefix !== undefined && !DNS_SUBDOMAIN.test(prefix))) {
    throw new Error(`invalid pod label key ${JSON.stringify(key)}: use [prefix/]name, e.g. app.kubernetes.io/name`);
  }
  return key;
}

/** `name=value` pairs collected into a record; a name given twice is an error. */
export type Pair = readonly [string, string];

export function splitPair(textValue: string, example: string): Pair {
  const eq = textValue.indexOf('=');
  if (eq <= 0) throw new Error(`expected name=value like ${example}, got ${JSON.stringify(textValue)}`);
  return [textValue.slice(0, eq).trim(), textValue.slice(eq + 1).trim()];
}

/** A static stream label `name=value`. */
export const lokiLabel: ValueType<Pair> = textType('NAME=VALUE', 'name=value', (t) => {
  const [name, value] = splitPair(t, 'cluster=prod');
  checkLokiLabelName(name);
  if (value === '') throw new Error(`label ${name} has an empty value: Loki drops empty labels, give a value`);
  if (Buffer.byteLength(value) > 2048) throw new Error(`label ${name}: value is longer than Loki's limit of 2048 bytes`);
  return [name, value];
}, ([name, value]) => `${name}=${value}`);

/** A pod label copied into a stream label: `podLabel=streamLabel`. */
export const labelMapping: ValueType<Pair> = textType('POD_LABEL=STREAM_LABEL', 'podLabel=streamLabel', (t) => {
  const [podKey, streamName] = splitPair(t, 'app.kubernetes.io/version=version');
  return [checkPodLabelKey(podKey), checkLokiLabelName(streamName)];
}, ([podKey, streamName]) => `${podKey}=${streamName}`);

/** `host:port` for the HTTP server; the empty string disables it. */
export const listenAddress: ValueType<string> = {
  meta: 'HOST:PORT',
  fromText: parseListenAddress,
  fromYaml(value) {
    if (value === false) return '';
    if (typeof value !== 'string') throw new Error(`expected host:port like 127.0.0.1:9080, ${describeYaml(value)}`);
    return parseListenAddress(value);
  },
  show: identity,
};

function parseListenAddress(t: string): string {
  if (t.trim() === '') return '';
  try {
    parseListen(t);
  } catch {
    throw new Error(`expected host:port like 127.0.0.1:9080 or [::1]:9080 (empty to disable), got ${JSON.stringify(t)}`);
  }
  return t.trim();
}

/** Names and `/regex/` items, comma-separated; in YAML also a list of them. */
export const nameList: ValueType<NameMatcher> = {
  meta: 'LIST',
  fromText: parseNameList,
  fromYaml(value) {
    if (typeof value === 'string') return parseNameList(value);
    if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) {
      return parseNameList(value.join(','));
    }
    throw new Error(`expected names and /regex/ items, like web,/^api-/ or [web, /^api-/], ${describeYaml(value)}`);
  },
  show: (matcher) => matcher.source,
};

export const shard: ValueType<Shard> = textType('i/N', 'INDEX/COUNT like 0/3', parseShard, (s) => `${s.index}/${s.count}`);
