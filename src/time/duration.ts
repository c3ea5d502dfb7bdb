// Durations and byte sizes as users type them in flags and the config file.

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;
const NUMBER = /^(\d+(?:\.\d+)?|\.\d+)$/;

/**
 * `500ms`, `5s`, `10m`, `1h`, compounds like `1h30m`, fractions like `1.5s`; a bare number is seconds.
 * Returns milliseconds (rounded to a whole millisecond).
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (NUMBER.test(t)) return Math.round(Number(t) * 1000);
  let ms = 0;
  let pos = 0;
  while (pos < t.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(t);
    if (m === null) break;
    ms += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = DURATION_PART.lastIndex;
  }
  if (t.length === 0 || pos !== t.length) {
    throw new Error(`invalid duration "${text}": use a number with ms, s, m or h, like 500ms, 5s, 10m, 1h or 1h30m`);
  }
  return Math.round(ms);
}

/** Short human form for messages: `250ms`, `1.5s`, `2m`, `1h30m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round(ms % 60_000) / 1000;
  let out = '';
  if (h > 0) out += `${h}h`;
  if (m > 0) out += `${m}m`;
  if (s > 0 || out === '') out += `${Number(s.toFixed(3))}s`;
  return out;
}

// Binary units (KiB, Ki) are powers of 1024, decimal ones (KB, K) of 1000, as in Kubernetes quantities.
// Unit letters are case-insensitive, so `1m` is one megabyte (1000000 bytes), never a milli-anything.
const BYTE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1], ['b', 1],
  ['k', 1e3], ['kb', 1e3], ['m', 1e6], ['mb', 1e6], ['g', 1e9], ['gb', 1e9],
  ['ki', 1024], ['kib', 1024], ['mi', 1024 ** 2], ['mib', 1024 ** 2], ['gi', 1024 ** 3], ['gib', 1024 ** 3],
]);
const BYTE_SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)$/;

/** `1024`, `64KiB`, `1MiB`, `1GiB` (1024-based), `1KB`, `1MB`, `256k` (1000-based) → whole bytes. */
export function parseByteSize(text: string): number {
  const m = BYTE_SIZE.exec(text.trim());
  const factor = m === null ? undefined : BYTE_UNITS.get(m[2].toLowerCase());
  if (m === null || factor === undefined) {
    throw new Error(
      `invalid size "${text}": use bytes or a unit, KiB, MiB, GiB (1024-based) or KB, MB, GB (1000-based), like 64KiB or 1MiB`,
    );
  }
  return Math.floor(Number(m[1]) * factor);
}

/** Short human form for messages, 1024-based: `512B`, `64KiB`, `1.5MiB`. */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${Number(value.toFixed(i === 0 ? 0 : 2))}${units[i]}`;
}
