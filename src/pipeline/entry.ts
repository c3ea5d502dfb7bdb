// What flows from the followers to the sinks.
import type { Timestamp } from '../time/timestamp.ts';

export type ContainerKind = 'init' | 'sidecar' | 'app' | 'ephemeral';

/** One followed container of one pod object (a pod re-created under the same name is another target). */
export interface TargetInfo {
  /** `${podUid}/${container}`: stable for the life of the pod object. */
  readonly key: string;
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly kind: ContainerKind;
  readonly nodeName: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One log line of one container instance, with the kubelet's timestamp. */
export interface LogEntry {
  readonly target: TargetInfo;
  /** The container instance (restartCount at the time it ran). */
  readonly restart: number;
  /** The container instance's ID (`containerd://…`), what positions are keyed by within a target. */
  readonly containerId?: string;
  readonly ts: Timestamp;
  readonly line: string;
  /**
   * The line's UTF-8 bytes as they were read, `utf8[utf8Start, utf8End)`, when the entry still has them: sinks that
   * write bytes copy these rather than encode `line` again (which then may never be decoded at all). They are a
   * range of the chunk the line arrived in, not a view of it: a view is an object per line, and it would live as
   * long as the entry, waiting in a batch.
   */
  readonly utf8?: Buffer;
  readonly utf8Start?: number;
  readonly utf8End?: number;
}

/** An entry that has its bytes as read. */
export interface BytesEntry extends LogEntry {
  readonly utf8: Buffer;
  readonly utf8Start: number;
  readonly utf8End: number;
}

export function hasBytes(entry: LogEntry): entry is BytesEntry {
  return entry.utf8 !== undefined;
}

/**
 * An output. `write` resolves once the batch is durably accepted (Loki answered 2xx or dropped it for a reason
 * that retrying cannot fix and that was counted; the file was written). Batches are written one at a time,
 * in order; a sink retries transient failures itself and never resolves a batch it has not dealt with.
 */
export interface Sink {
  readonly name: string;
  write(batch: readonly LogEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** What an entry counts for in the in-flight bound: cheap (no UTF-8 encoding), the same on take and give. */
export function entrySize(entry: LogEntry): number {
  return (hasBytes(entry) ? entry.utf8End - entry.utf8Start : entry.line.length) + 64;
}
