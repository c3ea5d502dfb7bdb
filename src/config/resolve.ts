// Builds the effective configuration: each option from the highest source that sets it (flags > environment >
// config file > default), then defaults that depend on other options, then checks across options.
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FieldError } from './errors.ts';
import { OPTION_NAMES, camelCase, optionSpec } from './options.ts';
import type { OptionName, OptionValues } from './options.ts';
import { parseArgv, readConfigFile, readEnv } from './sources.ts';
import type { EnvValue, FileValue } from './sources.ts';

/** Where an option's effective value came from. */
export type Origin =
  | { readonly kind: 'flag'; readonly spelt: string }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'file'; readonly path: string; readonly key: string }
  | { readonly kind: 'default' }
  | { readonly kind: 'derived'; readonly from: string };

export interface SelfPod {
  readonly pod: string;
  readonly namespace: string;
}

/**
 * The effective configuration: every option under its camel-cased name, parsed (durations in ms, sizes in bytes,
 * lists as arrays). `positionsFile` defaults to DATA_DIR/positions.json; `outputFile` to `-` (stdout) when no
 * `--loki-url` is given; with `--self`, `namespace` is [POD_NAMESPACE] and `selfPod` names this pod.
 * `httpListen` is '' when disabled; `logFormat` and `status` may be 'auto' for the caller to decide by TTY.
 */
export type Config = Omit<OptionValues, 'positionsFile'> & {
  readonly positionsFile: string;
  readonly selfPod: SelfPod | undefined;
};

export interface Resolved {
  readonly config: Config;
  readonly origins: Readonly<Record<OptionName, Origin>>;
}

/** How to name an option in a message, as the user set it. */
export function describeOrigin(name: OptionName, origin: Origin): string {
  switch (origin.kind) {
    case 'flag':
      return origin.spelt;
    case 'env':
      return origin.variable;
    case 'file':
      return `${origin.key} in ${origin.path}`;
    default:
      return `--${name}`;
  }
}

/** Where a bad value came from: the flag or variable as the user wrote it, or the file and the key path in it. */
function where(name: OptionName, origin: Origin, at: string): string {
  return origin.kind === 'file' ? `${origin.path}: ${origin.key}${at}` : describeOrigin(name, origin);
}

function parseFrom<V>(name: OptionName, origin: Origin, parse: () => V): V {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const at = err instanceof FieldError ? err.at : '';
    throw new ConfigError(`${where(name, origin, at)}: ${(err as Error).message}`);
  }
}

export interface ResolveOptions {
  /** `config check FILE`: one positional argument names the config file. */
  readonly positionalConfigFile?: boolean;
}

export function resolveConfig(argv: readonly string[], env: NodeJS.ProcessEnv, options: ResolveOptions = {}): Resolved {
  const { flags, positionals } = parseArgv(argv);
  const maxPositionals = options.positionalConfigFile === true ? 1 : 0;
  if (positionals.length > maxPositionals) {
    throw new ConfigError(`unexpected argument ${JSON.stringify(positionals[maxPositionals])}; tailer takes only flags (see tailer --help)`);
  }
  // --help and --version must work whatever the environment and config file hold.
  const bare = flags.has('help') || flags.has('version');
  const envValues = bare ? new Map<OptionName, EnvValue>() : readEnv(env);
  const configFlag = flags.get('config');
  const configFile = positionals[0] ?? configFlag?.values.at(-1) ?? envValues.get('config')?.text;
  const fileValues = bare || configFile === undefined ? new Map<OptionName, FileValue>() : readConfigFile(configFile);

  const values: Record<string, unknown> = {};
  const origins = {} as Record<OptionName, Origin>;
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    const flag = flags.get(name);
    const fromEnv = envValues.get(name);
    const fromFile = fileValues.get(name);
    let origin: Origin;
    let value: unknown;
    if (flag !== undefined) {
      origin = { kind: 'flag', spelt: flag.spelt };
      value = parseFrom(name, origin, () => spec.fromFlags(flag.values));
    } else if (fromEnv !== undefined) {
      origin = { kind: 'env', variable: fromEnv.variable };
      value = parseFrom(name, origin, () => spec.fromEnv(fromEnv.text));
    } else if (fromFile !== undefined) {
      origin = { kind: 'file', path: configFile as string, key: fromFile.key };
      value = parseFrom(name, origin, () => spec.fromYaml(fromFile.value));
    } else {
      origin = { kind: 'default' };
      value = spec.defaultValue;
    }
    values[camelCase(name)] = value;
    origins[name] = origin;
  }
  if (positionals.length > 0) origins.config = { kind: 'flag', spelt: 'config check FILE' };
  values.config = configFile;
  const parsed = values as OptionValues;
  if (bare) return { config: { ...parsed, positionsFile: positionsFileOf(parsed), selfPod: undefined }, origins };
  return derive(parsed, origins, env);
}

function derive(v: OptionValues, origins: Record<OptionName, Origin>, env: NodeJS.ProcessEnv): Resolved {
  const name = (option: OptionName): string => describeOrigin(option, origins[option]);
  const conflict = (a: OptionName, b: OptionName, advice: string): ConfigError =>
    new ConfigError(`${name(a)} and ${name(b)} conflict: ${advice}`);

  if (v.allNamespaces && v.namespace.length > 0) throw conflict('all-namespaces', 'namespace', 'give one of them');
  let selfPod: SelfPod | undefined;
  if (v.self) {
    if (v.allNamespaces) throw conflict('self', 'all-namespaces', '--self follows only its own pod');
    const missing = ['POD_NAME', 'POD_NAMESPACE'].filter((variable) => (env[variable] ?? '') === '');
    if (missing.length > 0) {
      throw new ConfigError(
        `${name('self')} needs ${missing.join(' and ')} in the environment: set them from the downward API (metadata.name, metadata.namespace)`,
      );
    }
    selfPod = { pod: env.POD_NAME as string, namespace: env.POD_NAMESPACE as string };
    if (v.namespace.some((ns) => ns !== selfPod?.namespace)) {
      throw conflict('self', 'namespace', `--self follows only its own pod in namespace ${selfPod.namespace}`);
    }
  }
  if (v.lokiBasicAuthUser !== undefined && v.lokiBasicAuthPasswordFile === undefined) {
    throw new ConfigError(`${name('loki-basic-auth-user')} needs --loki-basic-auth-password-file`);
  }
  if (v.lokiBasicAuthPasswordFile !== undefined && v.lokiBasicAuthUser === undefined) {
    throw new ConfigError(`${name('loki-basic-auth-password-file')} needs --loki-basic-auth-user`);
  }
  if (v.lokiBasicAuthUser !== undefined && v.lokiBearerTokenFile !== undefined) {
    throw conflict('loki-basic-auth-user', 'loki-bearer-token-file', 'Loki takes one kind of authentication, choose one');
  }
  for (const option of OPTION_NAMES) {
    const file: unknown = v[camelCase(option) as keyof OptionValues];
    if (optionSpec(option).readableFile === true && typeof file === 'string') checkReadableFile(file, name(option));
  }

  const origins2: Record<OptionName, Origin> = { ...origins };
  if (selfPod !== undefined) origins2.namespace = { kind: 'derived', from: '--self' };
  let outputFile = v.outputFile;
  if (outputFile === undefined && v.lokiUrl.length === 0) {
    outputFile = '-';
    origins2['output-file'] = { kind: 'derived', from: 'no --loki-url' };
  }
  if (v.positionsFile === undefined) origins2['positions-file'] = { kind: 'derived', from: '--data-dir' };
  const config: Config = {
    ...v,
    namespace: selfPod === undefined ? v.namespace : [selfPod.namespace],
    outputFile,
    positionsFile: positionsFileOf(v),
    selfPod,
  };
  return { config, origins: origins2 };
}

function positionsFileOf(v: OptionValues): string {
  return v.positionsFile ?? join(v.dataDir, 'positions.json');
}

/** Secret and CA files are only checked, never read here: their contents must not reach any message. */
function checkReadableFile(file: string, option: string): void {
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    accessSync(file, constants.R_OK);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`${option}: cannot read ${file}: ${reason}`);
  }
}
