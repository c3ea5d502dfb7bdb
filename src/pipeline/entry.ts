// What flows from the followers to the sinks.
import type { Timestamp } from '../time/timestamp.ts';
import type { Batch } from './block.ts';

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

/** One log line of one container instance, with the kubelet's timestamp, as an object of its own (see LineBlock). */
export interface LogEntry {
  readonly target: TargetInfo;
  /** The container instance (restartCount at the time it ran). */
  readonly restart: number;
  /** The container instance's ID (`containerd://…`), what positions are keyed by within a target. */
  readonly containerId?: string;
  readonly ts: Timestamp;
  readonly line: string;
}

/**
 * An output. `write` resolves once the batch is durably accepted (Loki answered 2xx or dropped it for a reason
 * that retrying cannot fix and that was counted; the file was written). Batches are written one at a time,
 * in order; a sink retries transient failures itself and never resolves a batch it has not dealt with.
 */
export interface Sink {
  readonly name: string;
  write(batch: Batch): Promise<void>;
  close(): Promise<void>;
}
