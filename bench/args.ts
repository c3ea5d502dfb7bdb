// The benchmark's command line: which parts to run, throughput rounds and containers, and whether to profile the tailer.

export const PARTS = ['throughput', 'fanout', 'recovery', 'micro'] as const;
export type Part = (typeof PARTS)[number];

export interface Plan {
  readonly quick: boolean;
  readonly parts: ReadonlySet<Part>;
  /** Throughput rounds per line size. */
  readonly rounds: number;
  /** Flooding containers in the throughput runs. */
  readonly pods: number;
  readonly cpuProf: boolean;
}

/**
 * Full runs take five rounds: at 100-byte lines the tailer and kubectl both run at the simulator's rate, and single
 * rounds of their ratio spread from 0.76 to 1.19 (bench/README.md); a median of three still landed on either side of 1.
 */
export const FULL_ROUNDS = 5;
export const QUICK_ROUNDS = 2;
/** The targets' container count: few enough that one simulator feeds them all as fast as a reader takes lines. */
export const DEFAULT_PODS = 4;

/** The whole number after `flag`, from 1 to `max`; `fallback` when the flag is absent. */
function count(argv: readonly string[], flag: string, max: number, fallback: number): number {
  const at = argv.indexOf(flag);
  if (at === -1) return fallback;
  const n = Number(argv[at + 1]);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`${flag} must be a whole number from 1 to ${max}, got "${argv[at + 1] ?? ''}"`);
  return n;
}

export function parseArgs(argv: readonly string[]): Plan {
  let parts = new Set<Part>(PARTS);
  const onlyAt = argv.indexOf('--only');
  if (onlyAt !== -1) {
    const names = (argv[onlyAt + 1] ?? '').split(',');
    const bad = names.filter((n) => !(PARTS as readonly string[]).includes(n));
    if (bad.length > 0) throw new Error(`unknown --only part "${bad.join(',')}": use ${PARTS.join(', ')}`);
    parts = new Set(names as Part[]);
  }
  const quick = argv.includes('--quick');
  const rounds = count(argv, '--rounds', 50, quick ? QUICK_ROUNDS : FULL_ROUNDS);
  // kubectl runs a process per container, ~48 MiB each.
  const pods = count(argv, '--pods', 100, DEFAULT_PODS);
  const valued = ['--only', '--rounds', '--pods'].flatMap((flag) => (argv.includes(flag) ? [argv[argv.indexOf(flag) + 1]] : []));
  const known = new Set(['--quick', '--only', '--rounds', '--pods', '--cpu-prof', ...valued]);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) throw new Error(`unknown argument "${unknown[0]}": use --quick, --only PARTS, --rounds N, --pods N, --cpu-prof`);
  return { quick, parts, rounds, pods, cpuProf: argv.includes('--cpu-prof') };
}
