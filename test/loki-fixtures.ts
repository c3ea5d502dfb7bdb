// Targets and entries for the Loki sink's tests and benchmark.
import type { LogEntry, TargetInfo } from '../src/pipeline/entry.ts';
import type { Timestamp } from '../src/time/timestamp.ts';

export function makeTarget(overrides: Partial<TargetInfo> = {}): TargetInfo {
  const podUid = overrides.podUid ?? '0f4c6d2e-8a41-4c55-9b7e-3f1d2a6b9c10';
  const container = overrides.container ?? 'app';
  return {
    key: `${podUid}/${container}`,
    namespace: 'shop',
    pod: 'web-7d4b9c-x2x9q',
    podUid,
    container,
    kind: 'app',
    nodeName: 'node-1',
    labels: { 'app.kubernetes.io/name': 'web', tier: 'frontend' },
    ...overrides,
  };
}

/** `count` entries one microsecond apart from `start` (default: now), lines `line-<i>` unless given. */
export function makeEntries(
  target: TargetInfo,
  count: number,
  options: { start?: Timestamp; line?: (i: number) => string; restart?: number } = {},
): LogEntry[] {
  const start = options.start ?? { sec: Math.floor(Date.now() / 1000) - 1, nsec: 0 };
  const entries: LogEntry[] = [];
  for (let i = 0; i < count; i++) {
    const nanos = start.nsec + i * 1000;
    entries.push({
      target,
      restart: options.restart ?? 0,
      ts: { sec: start.sec + Math.floor(nanos / 1e9), nsec: nanos % 1e9 },
      line: options.line?.(i) ?? `line-${i}`,
    });
  }
  return entries;
}
