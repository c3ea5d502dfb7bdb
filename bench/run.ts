// `npm run bench [-- --quick] [--only throughput,fanout,recovery,micro] [--rounds N] [--pods N] [--cpu-prof]`: runs
// the benchmarks, prints their tables and PASS/FAIL per target, and writes bench/results.json. Readers are compared
// with baselines run in the same process tree (the simulator's raw output, kubectl), since absolute figures drift on
// shared machines.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.ts';
import { KubectlGroup } from './children.ts';
import { fanoutKubectl, fanoutTailer, recovery, tailerBaselineRss, type FanoutResult, type RecoveryResult } from './fanout.ts';
import { runMicro, type MicroResult } from './micro.ts';
import { render, verdicts, type ThroughputRound, type ThroughputRun } from './report.ts';
import { measureCeiling, measureKubectl, measureTailer, type RateResult } from './throughput.ts';

const say = (text: string): void => void process.stderr.write(`bench: ${text}\n`);

async function main(): Promise<void> {
  const plan = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'k8s-tailer-bench-'));
  const profDir = fileURLToPath(new URL('./profiles/', import.meta.url));
  const kubectl = KubectlGroup.available();
  const q = plan.quick;
  const throughput: ThroughputRun[] = [];
  const fanout: FanoutResult[] = [];
  let rec: RecoveryResult | undefined;
  const micro: MicroResult[] = [];
  const started = Date.now();
  try {
    if (plan.parts.has('throughput')) {
      if (!kubectl) say('kubectl not found: no kubectl baseline');
      const rounds = plan.rounds;
      const pods = plan.pods;
      for (const lineBytes of [100, 1024]) {
        const done: ThroughputRound[] = [];
        for (let round = 1; round <= rounds; round++) {
          const cfg = {
            pods, lineBytes, warmSec: q ? 2 : 3, measureSec: q ? 3 : 5, dir,
            tailerNodeArgs: plan.cpuProf
              ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=tailer-${lineBytes}B-round${round}.cpuprofile`]
              : undefined,
          };
          const measured: Partial<Record<'ceiling' | 'tailer' | 'kubectl', RateResult>> = {};
          // The order turns round by round, so that the machine drifting during the run favours no reader.
          const order = (round % 2 === 1 ? ['ceiling', 'tailer', 'kubectl'] as const : ['kubectl', 'tailer', 'ceiling'] as const)
            .filter((reader) => reader !== 'kubectl' || kubectl);
          for (const reader of order) {
            say(`throughput ${lineBytes} B, round ${round} of ${rounds}: ${reader}`);
            measured[reader] = await (reader === 'ceiling' ? measureCeiling : reader === 'tailer' ? measureTailer : measureKubectl)(cfg);
          }
          done.push({ ceiling: measured.ceiling!, tailer: measured.tailer!, kubectl: measured.kubectl });
        }
        throughput.push({ lineBytes, pods, rounds: done });
      }
    }
    const fan = { dir, steadySec: q ? 5 : 10, openTimeoutSec: 120 };
    if (plan.parts.has('fanout')) {
      say('fan-out: tailer following nothing');
      const base = await tailerBaselineRss(fan);
      for (const n of q ? [100, 1000] : [100, 1000, 3000]) {
        say(`fan-out: tailer, ${n} containers`);
        fanout.push(await fanoutTailer(fan, n, base));
      }
      if (kubectl) {
        say('fan-out: kubectl, 100 containers');
        fanout.push(await fanoutKubectl(fan, 100));
      }
    }
    if (plan.parts.has('recovery')) {
      say('API load and recovery: 1,000 targets, every connection dropped');
      rec = await recovery(fan, 1000, 16, 60);
    }
    if (plan.parts.has('micro')) {
      for (const lineBytes of [100, 1024]) {
        say(`micro-benchmarks, ${lineBytes} B lines`);
        micro.push(...(await runMicro({ lineBytes, lines: lineBytes === 100 ? 60_000 : 12_000, seconds: q ? 0.5 : 2 })));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const results = { throughput, fanout, recovery: rec, micro };
  const text = render(results);
  process.stdout.write(`${text}\n`);
  const out = fileURLToPath(new URL('./results.json', import.meta.url));
  await writeFile(out, `${JSON.stringify({
    date: new Date().toISOString(), quick: q, node: process.version, cpus: cpus().length, loadavg: loadavg(),
    seconds: Math.round((Date.now() - started) / 1000), kubectl, ...results, targets: verdicts(results),
  }, null, 2)}\n`);
  say(`results in ${out}${plan.cpuProf ? `, CPU profiles in ${profDir}` : ''} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
