// Option specifications: one declarative entry per option says how it is spelled, documented, defaulted and read
// from each source (flags, environment, YAML file). Builders below turn a value type into such an entry.
import { FieldError } from './errors.ts';
import { boolean, describeYaml } from './values.ts';
import type { Pair, ValueType } from './values.ts';

export type Section = 'Cluster' | 'Selection' | 'Following' | 'Output' | 'Loki' | 'Durability' | 'Observe' | 'Misc';

export interface OptionInfo {
  readonly section: Section;
  readonly help: string;
  /** One-letter form, e.g. `n` for `-n`. */
  readonly short?: string;
  /** Other long names, accepted as flags, file keys and TAILER_ variables. */
  readonly aliases?: readonly string[];
  /** Variables read when TAILER_<NAME> is unset, e.g. NODE_NAME from the downward API. */
  readonly envFallback?: readonly string[];
  /** Set only by a flag (no TAILER_ variable, no file key). */
  readonly flagOnly?: boolean;
  /** Not allowed in the config file. */
  readonly noFile?: boolean;
  /** Names a file that must be readable at startup; its contents are never read into a message. */
  readonly readableFile?: boolean;
  /** The file's contents are a secret (a password, a token): said so in help. */
  readonly secretFile?: boolean;
}

export interface OptionSpec<V> extends OptionInfo {
  /** Placeholder in help; undefined for a switch (`--x`, `--no-x`, `--x=true|false`). */
  readonly meta: string | undefined;
  readonly repeatable: boolean;
  /** A flag's value is also split on commas (`-n a,b`); TAILER_ variables of repeatable options always are. */
  readonly commaLists: boolean;
  readonly defaultValue: V;
  /** The default as the user would type it, for help; undefined when there is none. */
  readonly defaultText: string | undefined;
  /** All occurrences of the flag, in order. */
  fromFlags(values: readonly string[]): V;
  fromEnv(text: string): V;
  fromYaml(value: unknown): V;
  show(value: V): unknown;
}

export type ValueOf<S> = S extends OptionSpec<infer V> ? V : never;

function splitCommas(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** One value; the last flag wins. */
export function single<T>(type: ValueType<T>, info: OptionInfo & { readonly default: string }): OptionSpec<T>;
export function single<T>(type: ValueType<T>, info: OptionInfo): OptionSpec<T | undefined>;
export function single<T>(type: ValueType<T>, info: OptionInfo & { readonly default?: string }): OptionSpec<T | undefined> {
  const fromText = (text: string): T => type.fromText(text);
  return {
    ...info,
    meta: type.meta,
    repeatable: false,
    commaLists: false,
    defaultValue: info.default === undefined ? undefined : type.fromText(info.default),
    defaultText: info.default,
    fromFlags: (values) => fromText(values[values.length - 1]),
    fromEnv: fromText,
    fromYaml: (value) => type.fromYaml(value),
    show: (value) => (value === undefined ? null : type.show(value)),
  };
}

/** A boolean switch, false unless given. */
export function flag(info: OptionInfo): OptionSpec<boolean> {
  return switchOf(boolean, false, info);
}

/** A switch over a type that may hold more than true/false (e.g. `auto`), which `--x=VALUE` can set. */
export function switchOf<T>(type: ValueType<T>, defaultValue: T, info: OptionInfo): OptionSpec<T> {
  return {
    ...info,
    meta: undefined,
    repeatable: false,
    commaLists: false,
    defaultValue,
    defaultText: String(type.show(defaultValue)),
    fromFlags: (values) => type.fromText(values[values.length - 1]),
    fromEnv: (text) => type.fromText(text),
    fromYaml: (value) => type.fromYaml(value),
    show: (value) => type.show(value),
  };
}

function listItems<T>(type: ValueType<T>, value: unknown, commaLists: boolean): T[] {
  if (Array.isArray(value)) {
    return value.map((item: unknown, i) => {
      try {
        return type.fromYaml(item);
      } catch (err) {
        throw new FieldError(`[${i}]`, (err as Error).message);
      }
    });
  }
  if (typeof value === 'string') return (commaLists ? splitCommas(value) : [value]).map((s) => type.fromText(s));
  throw new Error(`expected a list, ${describeYaml(value)}`);
}

/** Repeatable; flags add up, and any source replaces the whole list of a lower one. */
export function list<T>(type: ValueType<T>, info: OptionInfo & { readonly commaLists: boolean }): OptionSpec<readonly T[]> {
  const commaLists = info.commaLists;
  return {
    ...info,
    meta: type.meta,
    repeatable: true,
    defaultValue: [],
    defaultText: undefined,
    fromFlags: (values) => values.flatMap((v) => (commaLists ? splitCommas(v) : [v])).map((s) => type.fromText(s)),
    fromEnv: (text) => splitCommas(text).map((s) => type.fromText(s)),
    fromYaml: (value) => listItems(type, value, commaLists),
    show: (values) => values.map((v) => type.show(v)),
  };
}

function collectPairs(
  list: readonly Pair[],
  uniqueValues: boolean,
  at: (i: number) => string,
): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  list.forEach(([name, value], i) => {
    if (Object.hasOwn(out, name)) throw new FieldError(at(i), `${name} is given twice`);
    const other = names.get(value);
    if (uniqueValues && other !== undefined) throw new FieldError(at(i), `${other} and ${name} both map to ${value}`);
    names.set(value, name);
    out[name] = value;
  });
  return out;
}

/**
 * Repeatable `name=value` pairs collected into a record. `uniqueValues` also rejects two names with the same value
 * (two pod labels mapped onto one stream label). In YAML: a mapping, or a list of `name=value` strings.
 */
export function pairs(
  type: ValueType<Pair>,
  info: OptionInfo & { readonly uniqueValues: boolean },
): OptionSpec<Readonly<Record<string, string>>> {
  const collect = (list: readonly Pair[], at: (i: number) => string): Readonly<Record<string, string>> =>
    collectPairs(list, info.uniqueValues, at);
  const fromList = (texts: readonly string[]): Readonly<Record<string, string>> =>
    collect(texts.map((t) => type.fromText(t)), () => '');
  return {
    ...info,
    meta: type.meta,
    repeatable: true,
    commaLists: false,
    defaultValue: {},
    defaultText: undefined,
    fromFlags: fromList,
    fromEnv: (text) => fromList(splitCommas(text)),
    fromYaml(value) {
      if (Array.isArray(value)) return collect(listItems(type, value, false), (i) => `[${i}]`);
      if (typeof value === 'object' && value !== null) {
        const entries = Object.entries(value);
        const parsed = entries.map(([name, v]) => {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
            throw new FieldError(`.${name}`, `expected a string, ${describeYaml(v)}`);
          }
          try {
            return type.fromText(`${name}=${String(v)}`);
          } catch (err) {
            throw new FieldError(`.${name}`, (err as Error).message);
          }
        });
        return collect(parsed, (i) => `.${entries[i][0]}`);
      }
      throw new Error(`expected a mapping of name: value, ${describeYaml(value)}`);
    },
    show: (record) => ({ ...record }),
  };
}
