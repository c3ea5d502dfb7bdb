// `tailer config check [FILE] [flags]`: validate the configuration and print the effective one as YAML, each value
// that is not a default annotated with where it came from. The output is itself a valid config file.
import { Document, isScalar, isPair } from 'yaml';
import { ConfigError } from './errors.ts';
import { helpText } from './help.ts';
import { OPTION_NAMES, camelCase, optionSpec } from './options.ts';
import type { OptionName } from './options.ts';
import { describeOrigin, resolveConfig } from './resolve.ts';
import type { Origin, Resolved } from './resolve.ts';

function originComment(name: OptionName, origin: Origin): string | undefined {
  switch (origin.kind) {
    case 'default':
      return undefined;
    case 'derived':
      return ` from ${origin.from}`;
    case 'file':
      return ' from the file';
    default:
      return ` from ${describeOrigin(name, origin)}`;
  }
}

/** The effective configuration as a YAML config file; URL credentials are masked, secret files are only named. */
export function renderEffective({ config, origins }: Resolved): string {
  const values: Record<string, unknown> = {};
  const shown: OptionName[] = [];
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    if (spec.flagOnly === true || spec.noFile === true) continue;
    values[name] = spec.show((config as Record<string, unknown>)[camelCase(name)]);
    shown.push(name);
  }
  const doc = new Document(values);
  doc.commentBefore = config.config === undefined
    ? ' effective configuration of tailer (no config file)'
    : ` effective configuration of tailer, config file ${config.config}`;
  const pairs = (doc.contents as { items: unknown[] }).items;
  pairs.forEach((pair, i) => {
    const comment = originComment(shown[i], origins[shown[i]]);
    if (comment === undefined || !isPair(pair)) return;
    if (isScalar(pair.value)) pair.value.comment = comment;
    else if (isScalar(pair.key)) pair.key.commentBefore = comment;
  });
  return doc.toString({ lineWidth: 0 });
}

export interface CheckIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** Exit 0 with the effective configuration on stdout, or 2 with one error line on stderr. */
export async function configCheckCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CheckIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let resolved: Resolved;
  try {
    resolved = resolveConfig(argv, env, { positionalConfigFile: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`tailer: ${err.message}\n`);
    return 2;
  }
  io.stdout.write(resolved.config.help ? helpText() : renderEffective(resolved));
  return 0;
}
