// `tailer --help`, generated from the option table.
import { OPTION_NAMES, optionSpec } from './options.ts';
import type { OptionName } from './options.ts';
import type { Section } from './spec.ts';

const WIDTH = 100;
const SECTIONS: readonly Section[] = ['Cluster', 'Selection', 'Following', 'Output', 'Loki', 'Durability', 'Observe', 'Misc'];

function flagColumn(name: OptionName): string {
  const spec = optionSpec(name);
  const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
  if (spec.meta !== undefined) return `${short}--${name} ${spec.meta}`;
  return spec.defaultValue === false ? `${short}--${name}` : `${short}--[no-]${name}`;
}

function notes(name: OptionName): string {
  const spec = optionSpec(name);
  const parts: string[] = [];
  if (spec.aliases !== undefined) parts.push(`alias ${spec.aliases.map((a) => `--${a}`).join(', ')}`);
  if (spec.defaultText !== undefined && spec.defaultValue !== false) parts.push(`default ${spec.defaultText}`);
  if (spec.envFallback !== undefined) parts.push(`env ${spec.envFallback.join(', ')}`);
  if (spec.secretFile === true) parts.push('contents never printed');
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}

/** Words of `text` in lines of at most `width` characters, each after `indent`. */
function wrap(text: string, indent: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

function optionLines(name: OptionName, column: number): string[] {
  const left = `  ${flagColumn(name)}`;
  const [first, ...rest] = wrap(`${optionSpec(name).help}${notes(name)}`, column, WIDTH);
  const pad = ' '.repeat(column);
  const head = left.length < column ? [`${left.padEnd(column)}${first}`] : [left, `${pad}${first}`];
  return [...head, ...rest.map((l) => `${pad}${l}`)];
}

const FOOTER = [
  'Every option can also be set by the environment variable TAILER_<NAME> (e.g. TAILER_LOKI_URL; lists are ' +
    'comma-separated) or under its name in the --config YAML file (e.g. "loki-url: [http://loki:3100]", ' +
    '"namespace: [shop, web]"). Flags win over the environment, the environment over the file, the file over ' +
    'defaults. Switches take --x, --no-x or --x=true|false.',
  'DUR: 500ms, 5s, 10m, 1h30m. SIZE: bytes, 64KiB, 1MiB, 1GiB (1024-based) or 256KB, 1MB (1000-based).',
  'Secrets (passwords, tokens) are read only from files, and are never printed.',
];

export function helpText(): string {
  const column = 38;
  const out = [
    'Usage: tailer [flags]',
    '       tailer config check [FILE] [flags]   validate; print the effective config, secrets masked',
    '',
    ...wrap(
      'Follows the log of every selected container through the Kubernetes API and ships each line once, in ' +
        'order, with labels, to Grafana Loki and/or a file.',
      0,
      WIDTH,
    ),
  ];
  for (const section of SECTIONS) {
    out.push('', `${section}:`);
    for (const name of OPTION_NAMES) if (optionSpec(name).section === section) out.push(...optionLines(name, column));
  }
  out.push('', ...FOOTER.flatMap((paragraph) => wrap(paragraph, 0, WIDTH)));
  return `${out.join('\n')}\n`;
}
