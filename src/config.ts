// Configuration of `tailer`: flags, TAILER_* environment variables and an optional YAML file, validated into one
// typed, readonly Config. The option table is src/config/options.ts.
import { resolveConfig } from './config/resolve.ts';
import type { Config } from './config/resolve.ts';

export { ConfigError } from './config/errors.ts';
export { configCheckCommand, renderEffective } from './config/check.ts';
export type { CheckIo } from './config/check.ts';
export { helpText } from './config/help.ts';
export { resolveConfig } from './config/resolve.ts';
export type { Config, Origin, Resolved, SelfPod } from './config/resolve.ts';

/** The effective configuration of the main job; throws ConfigError (one line) on any problem. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  return resolveConfig(argv, env).config;
}
