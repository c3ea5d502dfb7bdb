// A small seeded PRNG so a scenario run (and its faults) can be replayed with the same --seed.

export type Random = () => number;

/** mulberry32: uniform in [0, 1). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomHex(random: Random, chars: number): string {
  let out = '';
  while (out.length < chars) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, chars);
}

export function randomUid(random: Random): string {
  const h = randomHex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}
