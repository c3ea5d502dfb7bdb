// The subset of the Kubernetes Pod JSON (core/v1) that k8s-tailer reads, as it appears on the wire
// (timestamps are RFC3339 strings). The simulated API server produces exactly these shapes.

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  /** Only on init containers: `Always` makes it a sidecar. */
  restartPolicy?: 'Always';
}

export interface EphemeralContainerSpec extends ContainerSpec {
  targetContainerName?: string;
}

export interface PodSpec {
  nodeName?: string;
  restartPolicy?: RestartPolicy;
  initContainers?: ContainerSpec[];
  containers: ContainerSpec[];
  ephemeralContainers?: EphemeralContainerSpec[];
}

export interface ContainerStateWaiting { reason?: string; message?: string }
export interface ContainerStateRunning { startedAt?: string }
export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  started?: boolean;
  image?: string;
  imageID?: string;
  containerID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface PodStatus {
  phase?: PodPhase;
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
  ephemeralContainerStatuses?: ContainerStatus[];
}

export interface Pod {
  kind?: 'Pod';
  apiVersion?: 'v1';
  metadata: ObjectMeta;
  spec: PodSpec;
  status: PodStatus;
}

export interface PodList {
  kind: 'PodList';
  apiVersion: 'v1';
  metadata: { resourceVersion: string; continue?: string };
  items: Pod[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
  code: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: Pod | Status;
}
