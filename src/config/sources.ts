// The three places options come from, read into raw values per option: command-line flags, TAILER_* environment
// variables and the YAML config file. Parsing the values themselves is left to the option specs.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';
import { OPTION_NAMES, envName, optionSpec } from './options.ts';
import type { OptionName } from './options.ts';
import { closest } from './suggest.ts';

export interface FlagValues {
  /** The flag as the user spelt it (`-n`, `--refresh-interval`), for messages. */
  readonly spelt: string;
  readonly values: readonly string[];
}

export interface ParsedArgv {
  readonly flags: ReadonlyMap<OptionName, FlagValues>;
  readonly positionals: readonly string[];
}

const LONG = new Map<string, OptionName>();
const SHORT = new Map<string, OptionName>();
for (const name of OPTION_NAMES) {
  const spec = optionSpec(name);
  LONG.set(name, name);
  for (const alias of spec.aliases ?? []) LONG.set(alias, name);
  if (spec.short !== undefined) SHORT.set(spec.short, name);
}

function isSwitch(name: OptionName): boolean {
  return optionSpec(name).meta === undefined;
}

/** Every way to spell a long flag, for suggestions. */
function longFlags(): string[] {
  const out: string[] = [];
  for (const [spelling, name] of LONG) {
    out.push(`--${spelling}`);
    if (isSwitch(name)) out.push(`--no-${spelling}`);
  }
  return out;
}

function unknownFlag(arg: string): ConfigError {
  const spelt = arg.split('=')[0];
  const suggestion = spelt.startsWith('--') ? closest(spelt, longFlags()) : undefined;
  return new ConfigError(
    `unknown flag ${spelt}; ${suggestion === undefined ? 'see tailer --help' : `did you mean ${suggestion}?`}`,
  );
}

/**
 * Flags and positional arguments. Accepts `--x value`, `--x=value`, `-n value`, `-n=value`, `-nvalue`; switches
 * take `--x`, `--no-x` and `--x=true|false`; `--` ends the flags.
 */
export function parseArgv(argv: readonly string[]): ParsedArgv {
  const flags = new Map<OptionName, { spelt: string; values: string[] }>();
  const positionals: string[] = [];
  const add = (name: OptionName, spelt: string, value: string): void => {
    const entry = flags.get(name);
    if (entry === undefined) flags.set(name, { spelt, values: [value] });
    else {
      entry.spelt = spelt;
      entry.values.push(value);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let spelt: string;
    let name: OptionName | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      spelt = eq < 0 ? arg : arg.slice(0, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      name = LONG.get(spelt.slice(2));
      if (name === undefined && spelt.startsWith('--no-')) {
        const negated = LONG.get(spelt.slice(5));
        if (negated !== undefined && isSwitch(negated)) {
          if (inline !== undefined) throw new ConfigError(`${spelt} takes no value; use --${spelt.slice(5)}=${inline}`);
          add(negated, spelt, 'false');
          continue;
        }
        if (negated !== undefined) {
          const meta = optionSpec(negated).meta;
          throw new ConfigError(`unknown flag ${spelt}; --${spelt.slice(5)} is not a switch, give it a value: --${spelt.slice(5)} ${meta}`);
        }
      }
    } else {
      spelt = arg.slice(0, 2);
      name = SHORT.get(arg[1]);
      const rest = arg.slice(2);
      inline = rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest;
    }
    if (name === undefined) throw unknownFlag(arg);
    if (isSwitch(name)) {
      add(name, spelt, inline ?? 'true');
      continue;
    }
    if (inline !== undefined) {
      add(name, spelt, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('-') && next !== '-')) {
      const meta = optionSpec(name).meta;
      throw new ConfigError(`${spelt} needs a value; use ${spelt} ${meta}`);
    }
    add(name, spelt, next);
    i++;
  }
  return { flags, positionals };
}

export interface EnvValue {
  readonly variable: string;
  readonly text: string;
}

/**
 * Values from TAILER_<NAME> (then aliases, then fallbacks like NODE_NAME). Empty variables count as unset.
 * Unknown TAILER_* variables are ignored: Kubernetes itself injects some (TAILER_PORT for a Service named tailer).
 */
export function readEnv(env: NodeJS.ProcessEnv): Map<OptionName, EnvValue> {
  const out = new Map<OptionName, EnvValue>();
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    if (spec.flagOnly === true) continue;
    const variables = [envName(name), ...(spec.aliases ?? []).map(envName), ...(spec.envFallback ?? [])];
    for (const variable of variables) {
      const text = env[variable];
      if (text !== undefined && text !== '') {
        out.set(name, { variable, text });
        break;
      }
    }
  }
  return out;
}

export interface FileValue {
  /** The key as written in the file (an alias or the option name). */
  readonly key: string;
  readonly value: unknown;
}

/** The first line of a YAML parser message, which names line and column but not the text around them. */
function firstLine(message: string): string {
  return message.split('\n')[0].replace(/:$/, '');
}

/** Options from a YAML file whose top level maps option names (as in the flags, without dashes) to values. */
export function readConfigFile(path: string): Map<OptionName, FileValue> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read the config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const doc = parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(`${path}: invalid YAML: ${firstLine(doc.errors[0].message)}`);
  const top: unknown = doc.toJS({ maxAliasCount: 100 });
  if (top === null || top === undefined) return new Map();
  if (typeof top !== 'object' || Array.isArray(top)) {
    throw new ConfigError(`${path}: expected a mapping of option: value at the top level, like "loki-url: [http://loki:3100]"`);
  }
  const out = new Map<OptionName, FileValue>();
  for (const [key, value] of Object.entries(top)) {
    const name = LONG.get(key);
    const spec = name === undefined ? undefined : optionSpec(name);
    if (name === undefined || spec === undefined || spec.flagOnly === true) {
      const suggestion = closest(key, [...LONG].filter(([, n]) => optionSpec(n).flagOnly !== true).map(([k]) => k));
      throw new ConfigError(`${path}: ${key}: unknown key; ${suggestion === undefined ? 'see tailer --help for the option names' : `did you mean ${suggestion}?`}`);
    }
    if (spec.noFile === true) throw new ConfigError(`${path}: ${key}: not allowed in the config file; give --${name} as a flag`);
    const earlier = out.get(name);
    if (earlier !== undefined) throw new ConfigError(`${path}: ${key}: same option as ${earlier.key}; keep one of them`);
    if (value !== null) out.set(name, { key, value });
  }
  return out;
}
