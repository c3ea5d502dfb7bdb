// Hashes whose values must be the same on every machine and in every release: FNV-1a assigns pods to shards, and
// hashBytes recognises log lines at a resume boundary (saved in positions files).

export const FNV_OFFSET_32 = 0x811c9dc5;

/**
 * FNV-1a over the UTF-16 code units of `text` (for ASCII text such as a pod UID this equals FNV-1a over its
 * bytes). `seed` chains hashes: `fnv1a32(b, fnv1a32(a))`.
 */
export function fnv1a32(text: string, seed: number = FNV_OFFSET_32): number {
  // Kept in int32 arithmetic throughout (`| 0`, one imul per unit): a uint32 start value would make V8 run the
  // loop on doubles, several times slower.
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const P1 = 0x01000193;
const P2 = 0x85ebca6b;
const P3 = 0xc2b2ae35;

// The DataView of the last bytes hashed: lines come in runs from one chunk, and a view per line would be an object
// per line.
let viewed: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

function viewOf(bytes: Uint8Array): DataView {
  if (bytes !== viewed) {
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    viewed = bytes;
  }
  return view;
}

/** Murmur3's finaliser: every input bit reaches every output bit. */
export function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * hashBytes of `bytes[start, end)` when every byte is ASCII; otherwise `-1 - hashBytes` (negative). One pass does
 * both, since a shipped line must be checked for UTF-8 and ASCII settles that.
 */
function hashRange(bytes: Uint8Array, start: number, end: number, seed: number): number {
  // Two lanes of multiply–xor over 32-bit words, 8 bytes a step: byte-wise FNV-1a took ~0.8 ns a byte, a chain of
  // dependent multiplications, and was the largest cost of reading a line. The rotation lets high bits reach low ones.
  const v = viewOf(bytes);
  let a = seed | 0;
  let b = (seed ^ 0x9e3779b9) | 0;
  let any = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const x = v.getInt32(i, true);
    const y = v.getInt32(i + 4, true);
    any |= x | y;
    a = Math.imul(((a << 5) | (a >>> 27)) ^ x, P1);
    b = Math.imul(((b << 5) | (b >>> 27)) ^ y, P2);
  }
  for (; i < end; i++) {
    const x = bytes[i];
    any |= x;
    a = Math.imul(a ^ x, P1);
  }
  const h = mix32(a ^ Math.imul((b << 13) | (b >>> 19), P3) ^ (end - start));
  return (any & 0x80808080) === 0 ? h : -1 - h;
}

/** A 32-bit hash of `bytes[start, end)`, chained from `seed` (an unsigned 32-bit value, such as another hash). */
export function hashBytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  const h = hashRange(bytes, start, end, seed);
  return h < 0 ? -1 - h : h;
}

/** hashBytes when every byte is ASCII, otherwise -1 (then the caller must look at the bytes' encoding). */
export function hashAscii(bytes: Uint8Array, start: number, end: number, seed: number): number {
  const h = hashRange(bytes, start, end, seed);
  return h < 0 ? -1 : h;
}

/** A 32-bit hash of two integers (each used modulo 2^32), chained from `seed`. */
export function hashIntegers(seed: number, x: number, y: number): number {
  let h = Math.imul((seed | 0) ^ (x | 0), P1);
  h = Math.imul(((h << 5) | (h >>> 27)) ^ ((x / 4294967296) | 0), P2);
  h = Math.imul(((h << 5) | (h >>> 27)) ^ (y | 0), P3);
  return mix32(h);
}
