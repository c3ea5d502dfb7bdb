// FNV-1a, 32 bits: a tiny, fast, stable hash. Used to recognise a log line at a resume boundary and to assign
// pods to shards, so its value must be the same on every machine and in every release.

export const FNV_OFFSET_32 = 0x811c9dc5;

/**
 * FNV-1a over the UTF-16 code units of `text` (for ASCII text such as a pod UID this equals FNV-1a over its
 * bytes). `seed` chains hashes: `fnv1a32(b, fnv1a32(a))`.
 */
export function fnv1a32(text: string, seed: number = FNV_OFFSET_32): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
