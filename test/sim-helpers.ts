// Small helpers shared by the simulator's integration tests.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sim } from '../src/sim/index.ts';

/** Polls `cond` every 10 ms until it is truthy; fails after `timeoutMs`. */
export async function waitFor<T>(cond: () => T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** GET with the sim's token; returns status, content type and body text. */
export async function get(sim: Sim, path: string, opts: { token?: string | null } = {}): Promise<{ status: number; type: string | null; body: string }> {
  const token = opts.token === undefined ? sim.token : opts.token;
  const res = await fetch(sim.url + path, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

/** The line texts of a log body (timestamps stripped when `timestamps`). */
export function lines(body: string, timestamps = false): string[] {
  return body.split('\n').filter((l) => l !== '').map((l) => (timestamps ? l.slice(l.indexOf(' ') + 1) : l));
}

export interface OpenStream {
  text(): string;
  /** 'end' on a clean end of body, 'error' when the connection was cut. */
  done: Promise<'end' | 'error'>;
  status: number;
  abort(): void;
}

/** Opens a streaming GET and collects its body as it arrives. */
export async function openStream(sim: Sim, path: string): Promise<OpenStream> {
  const ac = new AbortController();
  const res = await fetch(sim.url + path, { headers: { authorization: `Bearer ${sim.token}` }, signal: ac.signal });
  let text = '';
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  const done = (async (): Promise<'end' | 'error'> => {
    if (reader === undefined) return 'end';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) return 'end';
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return 'error';
    }
  })();
  return { text: () => text, done, status: res.status, abort: () => ac.abort() };
}
