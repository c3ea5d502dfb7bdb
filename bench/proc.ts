// What a child process costs, read from /proc while it runs: CPU seconds, current and peak RSS.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ProcSample {
  /** user + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  /** VmRSS. */
  readonly rssBytes: number;
  /** VmHWM: the highest RSS so far. */
  readonly peakRssBytes: number;
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** The `/proc/PID/stat` line and `status` text → a sample (pure, for tests). */
export function parseProc(stat: string, status: string): ProcSample {
  // Fields after the command name (which may hold spaces) start at the state, field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const kib = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m === null ? 0 : Number(m[1]) * 1024;
  };
  return { cpuSeconds: ticks / ticksPerSecond(), rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** Undefined once the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    return parseProc(readFileSync(`/proc/${pid}/stat`, 'utf8'), readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Sums samples of several processes (a kubectl per container). */
export function sumSamples(samples: readonly (ProcSample | undefined)[]): ProcSample {
  let cpuSeconds = 0;
  let rssBytes = 0;
  let peakRssBytes = 0;
  for (const s of samples) {
    if (s === undefined) continue;
    cpuSeconds += s.cpuSeconds;
    rssBytes += s.rssBytes;
    peakRssBytes += s.peakRssBytes;
  }
  return { cpuSeconds, rssBytes, peakRssBytes };
}

/** A TCP port free right now on 127.0.0.1 (for a child that must be told its port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
