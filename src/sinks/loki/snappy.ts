// Snappy block compression for push bodies. The native binding (npm `snappy`, Rust's snap crate) compresses
// log-like bodies about five times faster than snappyjs per CPU second (bench/README.md), and compression was the
// largest single cost of shipping a line. Its binary comes from a per-platform optional package, so where none
// fits (an unusual libc or CPU) the sink falls back to snappyjs, which produces the same format.
import { createRequire } from 'node:module';
import { compress as compressJs } from 'snappyjs';

export type SnappyImplementation = 'native' | 'snappyjs';

export interface Snappy {
  readonly implementation: SnappyImplementation;
  /** The snappy block format Loki expects (not the framed format). */
  compress(body: Uint8Array): Uint8Array;
}

interface NativeSnappy {
  compressSync(input: Uint8Array, options?: { copyOutputData?: boolean }): Buffer;
}

export const snappyjs: Snappy = { implementation: 'snappyjs', compress: compressJs };

/** The native compressor, or undefined with the reason it cannot be loaded here. */
export function loadNativeSnappy(): { snappy: Snappy } | { error: string } {
  try {
    const native = createRequire(import.meta.url)('snappy') as NativeSnappy;
    // copyOutputData: an external (zero-copy) output buffer costs V8 more than the copy, 3x slower end to end.
    const options = { copyOutputData: true };
    return { snappy: { implementation: 'native', compress: (body) => native.compressSync(body, options) } };
  } catch (err) {
    return { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

let chosen: Snappy | undefined;

/** The compressor the sink uses: native where its binary loads, snappyjs otherwise. */
export function defaultSnappy(): Snappy {
  if (chosen === undefined) {
    const native = loadNativeSnappy();
    chosen = 'snappy' in native ? native.snappy : snappyjs;
  }
  return chosen;
}
