// Nanosecond timestamps as the kubelet writes them. A JS number cannot hold epoch nanoseconds and Date keeps
// only milliseconds, so a timestamp is whole seconds plus nanoseconds, parsed and compared numerically
// (string comparison breaks on old kubelets that trim trailing zeros, and on non-UTC offsets).

export interface Timestamp {
  readonly sec: number;
  readonly nsec: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses RFC3339 / RFC3339Nano (fraction of 0-9 digits, `Z` or `±hh:mm`). Returns undefined when it is not one. */
export function parseTimestamp(text: string): Timestamp | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let sec = Date.UTC(Number(y), month - 1, day, hour, minute, second) / 1000;
  if (z === undefined) {
    const offset = (Number(oh) * 60 + Number(om)) * 60;
    sec += sign === '+' ? -offset : offset;
  }
  const nsec = frac === undefined ? 0 : Number(frac.padEnd(9, '0'));
  return { sec, nsec };
}

/** RFC3339Nano with nine fraction digits in UTC, as current kubelets print it (RFC3339NanoFixed). */
export function formatTimestamp(ts: Timestamp): string {
  // Lines come many to a second: the date and time part is formatted once per second. Date's ISO formatting per
  // line cost the file output a fifth of its CPU, and the simulator's log writer as much.
  if (ts.sec !== formatted.sec) formatted = { sec: ts.sec, prefix: `${new Date(ts.sec * 1000).toISOString().slice(0, 19)}.` };
  return `${formatted.prefix}${String(ts.nsec).padStart(9, '0')}Z`;
}

let formatted = { sec: Number.NaN, prefix: '' };

/** RFC3339 with whole seconds, the precision `sinceTime` has on the wire. */
export function formatSeconds(sec: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}Z`;
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

export function timestampFromMillis(ms: number): Timestamp {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

export function nowTimestamp(): Timestamp {
  // hrtime gives sub-millisecond resolution; anchor it to the wall clock once. Seconds and nanoseconds are kept
  // apart, in plain numbers: BigInt arithmetic allocated on every call.
  const [s, ns] = process.hrtime();
  const sec = wallAnchor.sec + (s - hrAnchor[0]);
  const nsec = wallAnchor.nsec + (ns - hrAnchor[1]);
  if (nsec >= 1e9) return { sec: sec + 1, nsec: nsec - 1e9 };
  return nsec < 0 ? { sec: sec - 1, nsec: nsec + 1e9 } : { sec, nsec };
}

const wallAnchor = timestampFromMillis(Date.now());
const hrAnchor = process.hrtime();

/** Epoch nanoseconds as a decimal string (Loki's JSON push format). */
export function toEpochNanosString(ts: Timestamp): string {
  return (BigInt(ts.sec) * 1_000_000_000n + BigInt(ts.nsec)).toString();
}
