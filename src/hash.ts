// FNV-1a, 32 bits: a tiny, fast, stable hash. Used to recognise a log line at a resume boundary and to assign
// pods to shards, so its value must be the same on every machine and in every release.

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

/**
 * FNV-1a over `bytes[start, end)`. On Buffers this runs about three times faster than over a string's code units
 * (charCodeAt), which is why shipped lines are hashed from the bytes they arrived in.
 */
export function fnv1a32Bytes(bytes: Uint8Array, start: number, end: number, seed: number = FNV_OFFSET_32): number {
  let h = seed | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** fnv1a32Bytes when every byte is ASCII, otherwise -1 (then the caller must look at the text's encoding). */
export function fnv1a32Ascii(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  let any = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    any |= b;
    h = Math.imul(h ^ b, 0x01000193);
  }
  return any < 0x80 ? h >>> 0 : -1;
}

/** The three decimal digits of 0..999, as character codes: digits are looked up three at a time. */
const DIGITS = Uint8Array.from({ length: 3000 }, (_, i) => String(Math.floor(i / 3)).padStart(3, '0').charCodeAt(i % 3));

/** FNV-1a over the digits of `v` (0..999), all three or, for the leading group, without its leading zeros. */
function digitGroup(h: number, v: number, leading: boolean): number {
  const at = v * 3;
  if (!leading || v >= 100) h = Math.imul(h ^ DIGITS[at], 0x01000193);
  if (!leading || v >= 10) h = Math.imul(h ^ DIGITS[at + 1], 0x01000193);
  return Math.imul(h ^ DIGITS[at + 2], 0x01000193);
}

/**
 * fnv1a32 of `String(n)` for an integer `n`, without building the string. Every shipped line hashes its
 * timestamp's nanoseconds with it, so below 10^9 the digits come three at a time from a table: two divisions in
 * all (a division per digit took twice as long).
 */
export function fnv1a32Integer(n: number, seed: number = FNV_OFFSET_32): number {
  let h = seed | 0;
  if (n < 0) {
    h = Math.imul(h ^ 45, 0x01000193); // '-'
    n = -n;
  }
  if (n < 1e9) {
    const high = Math.floor(n / 1e6);
    const rest = n - high * 1e6;
    const mid = Math.floor(rest / 1e3);
    const low = rest - mid * 1e3;
    if (high > 0) h = digitGroup(digitGroup(digitGroup(h, high, true), mid, false), low, false);
    else if (mid > 0) h = digitGroup(digitGroup(h, mid, true), low, false);
    else h = digitGroup(h, low, true);
    return h >>> 0;
  }
  let scale = 1;
  while (scale * 10 <= n) scale *= 10;
  for (; scale >= 1; scale /= 10) {
    const digit = Math.floor(n / scale) % 10;
    h = Math.imul(h ^ (48 + digit), 0x01000193);
  }
  return h >>> 0;
}
