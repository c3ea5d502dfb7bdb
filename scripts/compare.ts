// Compares what a tailer delivered with the simulator's ground-truth ledger: every line's text carries its
// container instance and sequence number, so a line is identified by (pod UID, container, text). Where a delivered
// line says which instance (restart) it came from, that is checked too.

import { readFile } from 'node:fs/promises';
import { parseLabels, type ReceivedEntry } from '../test/loki-receiver.ts';

export interface LedgerLine {
  readonly namespace: string;
  readonly pod: string;
  readonly pod_uid: string;
  readonly container: string;
  readonly line: string;
  readonly ts: string;
  /** The container instance that wrote it. */
  readonly restart?: number;
  readonly unrecoverable?: boolean;
}

export interface DeliveredLine {
  readonly pod_uid: string;
  readonly container: string;
  readonly line: string;
  /** The restart number the line was delivered with, where the output carries one. */
  readonly restart?: number;
}

export interface Comparison {
  readonly produced: number;
  readonly unrecoverable: number;
  readonly delivered: number;
  /** Recoverable ledger lines never delivered. */
  readonly lost: number;
  /** Deliveries beyond the first of a line. */
  readonly duplicated: number;
  /** Deliveries that came before a line produced earlier in the same container stream. */
  readonly reordered: number;
  /** Delivered lines that the ledger does not know. */
  readonly unknown: number;
  /** First deliveries that carry another restart number than the instance that wrote them. */
  readonly mislabelled: number;
  readonly examples: { readonly lost: string[]; readonly duplicated: string[]; readonly reordered: string[]; readonly mislabelled: string[] };
}

/** The restart number a Loki entry carries in its structured metadata. */
export function restartOf(metadata: Readonly<Record<string, string>>): number | undefined {
  return metadata.restart === undefined ? undefined : Number(metadata.restart);
}

/**
 * A received Loki entry as the ledger identifies lines: pod UID (structured metadata), container (stream label),
 * text; and the restart number it came with (structured metadata).
 */
export function deliveredOf(entry: ReceivedEntry & { readonly stream: string }): DeliveredLine {
  const container = parseLabels(entry.stream).find(([name]) => name === 'container')?.[1] ?? '';
  return { pod_uid: entry.metadata.pod_uid ?? '', container, line: entry.line, restart: restartOf(entry.metadata) };
}

/**
 * Drops entries with the same stream, timestamp and line as an earlier one. Loki's ingester does the same, so a push
 * resent because its answer was lost (the receiver went away after storing it) is not a duplicate there.
 */
export function dedupe<E extends ReceivedEntry & { readonly stream: string }>(entries: readonly E[]): E[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = `${e.stream}\u0000${e.ts.sec}.${e.ts.nsec}\u0000${e.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The lines of the tailer's JSON file output (`--output-format json`); `damaged`: lines that are not JSON. */
export async function readJsonOutput(file: string): Promise<{ delivered: DeliveredLine[]; damaged: number }> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const delivered: DeliveredLine[] = [];
  let damaged = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as DeliveredLine;
      delivered.push({ pod_uid: e.pod_uid, container: e.container, line: e.line, restart: e.restart });
    } catch {
      damaged++;
    }
  }
  return { delivered, damaged };
}

const key = (uid: string, container: string, line: string): string => `${uid}\u0000${container}\u0000${line}`;

export function compareWithLedger(ledger: readonly LedgerLine[], delivered: readonly DeliveredLine[]): Comparison {
  // Position of each line within its container stream (ledger order is production order).
  const index = new Map<string, number>();
  const writtenBy = new Map<string, number | undefined>();
  const unrecoverableKeys = new Set<string>();
  const perStream = new Map<string, number>();
  for (const l of ledger) {
    const stream = `${l.pod_uid}/${l.container}`;
    const n = perStream.get(stream) ?? 0;
    perStream.set(stream, n + 1);
    const k = key(l.pod_uid, l.container, l.line);
    index.set(k, n);
    writtenBy.set(k, l.restart);
    if (l.unrecoverable) unrecoverableKeys.add(k);
  }
  const seen = new Map<string, number>();
  const lastIndex = new Map<string, number>();
  let duplicated = 0;
  let reordered = 0;
  let unknown = 0;
  let mislabelled = 0;
  const examples = { lost: [] as string[], duplicated: [] as string[], reordered: [] as string[], mislabelled: [] as string[] };
  for (const d of delivered) {
    const k = key(d.pod_uid, d.container, d.line);
    const i = index.get(k);
    if (i === undefined) {
      unknown++;
      continue;
    }
    const count = (seen.get(k) ?? 0) + 1;
    seen.set(k, count);
    if (count > 1) {
      duplicated++;
      if (examples.duplicated.length < 5) examples.duplicated.push(d.line);
      continue;
    }
    const written = writtenBy.get(k);
    if (d.restart !== undefined && written !== undefined && d.restart !== written) {
      mislabelled++;
      if (examples.mislabelled.length < 5) examples.mislabelled.push(`${d.line} (restart ${d.restart}, written by ${written})`);
    }
    const stream = `${d.pod_uid}/${d.container}`;
    const last = lastIndex.get(stream) ?? -1;
    if (i < last) {
      reordered++;
      if (examples.reordered.length < 5) examples.reordered.push(d.line);
    } else {
      lastIndex.set(stream, i);
    }
  }
  let lost = 0;
  for (const l of ledger) {
    const k = key(l.pod_uid, l.container, l.line);
    if (!unrecoverableKeys.has(k) && !seen.has(k)) {
      lost++;
      if (examples.lost.length < 5) examples.lost.push(`${l.namespace}/${l.pod}/${l.container} ${l.line}`);
    }
  }
  return { produced: ledger.length, unrecoverable: unrecoverableKeys.size, delivered: delivered.length, lost, duplicated, reordered, unknown, mislabelled, examples };
}
