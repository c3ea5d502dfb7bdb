#!/usr/bin/env node
// `tailer`: the main job, plus the `sim` and `config check` subcommands. Every failure is one line on stderr.
import { ConfigError, configCheckCommand, helpText, parseConfig } from './config.ts';
import { VERSION, runTailer } from './run.ts';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'sim') {
    const { simCommand } = await import('./sim/cli.ts');
    return simCommand(argv.slice(1));
  }
  if (argv[0] === 'config' && argv[1] === 'check') return configCheckCommand(argv.slice(2), process.env);
  const cfg = parseConfig(argv, process.env);
  if (cfg.help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (cfg.version) {
    process.stdout.write(`k8s-tailer ${VERSION}\n`);
    return 0;
  }
  return runTailer(cfg);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tailer: ${message}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  },
);
