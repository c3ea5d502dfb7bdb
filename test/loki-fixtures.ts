// Targets and entries for the Loki sink's tests and benchmark.
import { BlockBuilder } from '../src/pipeline/block.ts';
import type { LogEntry, TargetInfo } from '../src/pipeline/entry.ts';
import type { LabelPair } from '../src/sinks/loki/labels.ts';
import type { PlannedRun, PlannedStream } from '../src/sinks/loki/plan.ts';
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

/** One planned entry for plannedStream: its text, or its bytes as `buf[at, at + bytes)`. */
export interface FixtureEntry {
  readonly sec: number;
  readonly nsec: number;
  readonly line: string | { readonly buf: Buffer; readonly at: number; readonly bytes: number };
  readonly metadata: readonly LabelPair[];
}

/** A planned stream of the given entries, as planRequests would refer to them: runs of blocks. */
export function plannedStream(labels: string, pairs: readonly LabelPair[], entries: readonly FixtureEntry[]): PlannedStream {
  const target = makeTarget();
  const runs: PlannedRun[] = [];
  for (const e of entries) {
    const builder = new BlockBuilder(target, 0, undefined);
    if (typeof e.line === 'string') builder.addText(e.line, e.sec, e.nsec, 0);
    else builder.addBytes(e.line.buf, e.line.at, e.line.at + e.line.bytes, e.sec, e.nsec, 0);
    runs.push({ block: builder.take()!, from: 0, to: 1, metadata: e.metadata });
  }
  return { labels, pairs, runs };
}
