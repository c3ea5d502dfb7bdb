// `tailer sim`: runs the simulated cluster until SIGINT/SIGTERM. The first stdout line is `listening on URL`;
// progress goes to stderr.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULTS, parseDuration, splitFaultArg } from './faults.ts';
import { startSim, type SimOptions } from './index.ts';
import { SCENARIOS } from './scenarios.ts';

export const SIM_USAGE = `usage: tailer sim [--port N|0] [--scenario NAME] [--duration SECONDS] [--kubeconfig-out FILE]
                  [--ledger-out FILE] [--fault NAME=VALUE ...] [--tls] [--seed N]
                  [--pods N] [--lines-per-sec N] [--line-bytes N]
                  [--disable-http2-serving] [--http2-max-streams-per-connection N]
  scenarios: ${SCENARIOS.join(', ')} (default steady)
  faults:    ${FAULTS.join(', ')}
  Production stops after --duration (default: never); the server keeps serving until SIGINT/SIGTERM.`;

export interface SimArgs {
  options: SimOptions;
  kubeconfigOut: string | undefined;
  ledgerOut: string | undefined;
  help: boolean;
}

function count(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, got "${value}"`);
  return n;
}

function positive(flag: string, value: string): number {
  const n = count(flag, value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a whole number of at least 1, got "${value}"`);
  return n;
}

/** Parses `tailer sim` arguments; throws one line on a bad flag or value. */
export function parseSimArgs(argv: readonly string[]): SimArgs {
  const options: SimOptions = { scenario: 'steady' };
  const faults: Record<string, string> = {};
  const scale: NonNullable<SimOptions['scale']> = {};
  const out: SimArgs = { options, kubeconfigOut: undefined, ledgerOut: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h': case '--help': out.help = true; break;
      case '--tls': options.tls = true; break;
      case '--disable-http2-serving': options.disableHttp2 = true; break;
      case '--http2-max-streams-per-connection': options.http2MaxStreamsPerConnection = positive(flag, value()); break;
      case '--port': options.port = count(flag, value()); break;
      case '--scenario': options.scenario = value(); break;
      case '--duration': options.durationSec = parseDuration(value()) / 1000; break;
      case '--kubeconfig-out': out.kubeconfigOut = value(); break;
      case '--ledger-out': out.ledgerOut = value(); break;
      case '--seed': options.seed = count(flag, value()); break;
      case '--pods': scale.pods = count(flag, value()); break;
      case '--lines-per-sec': scale.linesPerSec = count(flag, value()); break;
      case '--line-bytes': scale.lineBytes = count(flag, value()); break;
      case '--fault': {
        const [name, v] = splitFaultArg(value());
        faults[name] = v;
        break;
      }
      default: throw new Error(`unknown option "${arg}" for tailer sim; see tailer sim --help`);
    }
  }
  if (Object.keys(faults).length > 0) options.faults = faults;
  if (Object.keys(scale).length > 0) options.scale = scale;
  return out;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Runs the simulator; resolves with the exit code after SIGINT/SIGTERM (or at once on a usage error). */
export async function simCommand(argv: string[]): Promise<number> {
  let args: SimArgs;
  try {
    args = parseSimArgs(argv);
  } catch (err) {
    process.stderr.write(`tailer sim: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${SIM_USAGE}\n`);
    return 0;
  }
  const signal = waitForSignal();
  let sim;
  try {
    sim = await startSim(args.options);
  } catch (err) {
    process.stderr.write(`tailer sim: ${(err as Error).message}\n`);
    return 2;
  }
  const { url } = sim;
  const kubeconfigPath = args.kubeconfigOut ?? join(tmpdir(), `k8s-tailer-sim-${new URL(url).port}.kubeconfig`);
  await sim.writeKubeconfig(kubeconfigPath);
  process.stdout.write(`listening on ${url}\n`);
  const scenario = args.options.scenario ?? 'steady';
  const until = args.options.durationSec === undefined ? 'until stopped' : `for ${args.options.durationSec}s`;
  process.stderr.write(`sim: scenario ${scenario}, producing ${until}; kubeconfig: ${kubeconfigPath}\n`);
  const writeLedger = async (): Promise<void> => {
    if (args.ledgerOut === undefined) return;
    await sim.writeLedger(args.ledgerOut);
  };
  const summary = () => {
    const entries = sim.ledger();
    const lost = entries.filter((e) => e.unrecoverable === true).length;
    return `${entries.length} lines (${lost} unrecoverable)`;
  };
  void sim.produced.then(async () => {
    await writeLedger();
    const where = args.ledgerOut === undefined ? '' : `, ledger written to ${args.ledgerOut}`;
    process.stderr.write(`sim: production ended: ${summary()}${where}; still serving until SIGINT/SIGTERM\n`);
  }).catch((err: unknown) => {
    process.stderr.write(`sim: could not write the ledger: ${(err as Error).message}\n`);
  });
  const sig = await signal;
  process.stderr.write(`sim: ${sig}, shutting down\n`);
  try {
    await sim.stopProducing();
    await sim.close();
    // Lines can still become unrecoverable after production ended (a held rotated file released unsent).
    await writeLedger();
  } catch (err) {
    process.stderr.write(`sim: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}
