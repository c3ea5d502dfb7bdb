// The benchmark's command line: which parts to run, how many throughput rounds, and whether to profile the tailer.

export const PARTS = ['throughput', 'fanout', 'recovery', 'micro'] as const;
export type Part = (typeof PARTS)[number];

export interface Plan {
  readonly quick: boolean;
  readonly parts: ReadonlySet<Part>;
  /** Throughput rounds per line size. */
  readonly rounds: number;
  readonly cpuProf: boolean;
}

/**
 * Full runs take five rounds: at 100-byte lines the tailer and kubectl both run at the simulator's rate, and single
 * rounds of their ratio spread from 0.76 to 1.19 (bench/README.md); a median of three still landed on either side of 1.
 */
export const FULL_ROUNDS = 5;
export const QUICK_ROUNDS = 2;

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
  let rounds = quick ? QUICK_ROUNDS : FULL_ROUNDS;
  const roundsAt = argv.indexOf('--rounds');
  if (roundsAt !== -1) {
    rounds = Number(argv[roundsAt + 1]);
    if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 50) {
      throw new Error(`--rounds must be a whole number from 1 to 50, got "${argv[roundsAt + 1] ?? ''}"`);
    }
  }
  const known = new Set(['--quick', '--only', '--rounds', '--cpu-prof', onlyAt === -1 ? '' : argv[onlyAt + 1], roundsAt === -1 ? '' : argv[roundsAt + 1]]);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) throw new Error(`unknown argument "${unknown[0]}": use --quick, --only PARTS, --rounds N, --cpu-prof`);
  return { quick, parts, rounds, cpuProf: argv.includes('--cpu-prof') };
}
