// Fault injection settings: parsed from the same NAME=VALUE strings as `tailer sim --fault`, global or scoped
// to the log streams of some namespace/pod/container.

export const FAULTS = [
  'stream-max-age',
  'stall-after',
  'reset-after',
  'watch-drop-after',
  'watch-410-rate',
  'error-rate',
  'slow',
  'rotation',
] as const;

export type FaultName = (typeof FAULTS)[number];
export type RotationMode = 'stall' | 'continue';

export interface FaultValues {
  /** Clean end of every log stream after this age (the kubelet's 4 h cut, made short). */
  streamMaxAgeMs?: number;
  /** The log stream stops sending after this age but stays open. */
  stallAfterMs?: number;
  /** The log stream is cut off this long after it started (its connection over HTTP/1.1, its stream over h2). */
  resetAfterMs?: number;
  /** Watches are cut off after this age (like reset-after). */
  watchDropAfterMs?: number;
  /** Share of watches with a resourceVersion that are answered with a 410 ERROR event. */
  watch410Rate?: number;
  /** Share of requests answered 429/500/503. */
  errorRate?: number;
  /** Delay before answering each request. */
  slowMs?: number;
  /** What an open follow does at log rotation: pre-1.29 kubelets go silent, 1.29+ continue into the new file. */
  rotation?: RotationMode;
}

/** Which log streams scoped faults apply to; an omitted field matches anything. */
export interface StreamScope {
  namespace?: string;
  pod?: string;
  container?: string;
}

/** `500ms`, `5s`, `2m`, `1h` or bare seconds (fractions allowed) -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`invalid duration "${text}": use e.g. 500ms, 5s, 2m or a number of seconds`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return n * factor;
}

function parseFraction(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`invalid value "${text}" for fault ${name}: give a fraction between 0 and 1`);
  }
  return n;
}

export function isFaultName(name: string): name is FaultName {
  return (FAULTS as readonly string[]).includes(name);
}

/** Validates and converts NAME=VALUE fault settings; throws one line naming the valid faults on an unknown name. */
export function parseFaults(values: Readonly<Record<string, string>>): FaultValues {
  const out: FaultValues = {};
  for (const [name, value] of Object.entries(values)) {
    if (!isFaultName(name)) throw new Error(`unknown fault "${name}"; valid faults: ${FAULTS.join(', ')}`);
    switch (name) {
      case 'stream-max-age': out.streamMaxAgeMs = parseDuration(value); break;
      case 'stall-after': out.stallAfterMs = parseDuration(value); break;
      case 'reset-after': out.resetAfterMs = parseDuration(value); break;
      case 'watch-drop-after': out.watchDropAfterMs = parseDuration(value); break;
      case 'watch-410-rate': out.watch410Rate = parseFraction(name, value); break;
      case 'error-rate': out.errorRate = parseFraction(name, value); break;
      case 'slow': out.slowMs = parseDuration(value); break;
      case 'rotation':
        if (value !== 'stall' && value !== 'continue') {
          throw new Error(`invalid value "${value}" for fault rotation: use stall (before 1.29) or continue (1.29+)`);
        }
        out.rotation = value;
        break;
    }
  }
  return out;
}

/** `NAME=VALUE` (one --fault argument) -> [NAME, VALUE]. */
export function splitFaultArg(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new Error(`invalid --fault "${arg}": use NAME=VALUE with NAME one of ${FAULTS.join(', ')}`);
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

function scopeMatches(scope: StreamScope, namespace: string, pod: string, container: string): boolean {
  return (scope.namespace === undefined || scope.namespace === namespace)
    && (scope.pod === undefined || scope.pod === pod)
    && (scope.container === undefined || scope.container === container);
}

/** The fault settings in force, changeable at run time. Later settings override earlier ones field by field. */
export class Faults {
  #global: FaultValues = {};
  #scoped: { scope: StreamScope; values: FaultValues }[] = [];

  /** Sets faults globally, or for the log streams matching `scope`. Values as for `--fault`. */
  set(values: Readonly<Record<string, string>>, scope?: StreamScope): void {
    const parsed = parseFaults(values);
    if (scope === undefined) this.#global = { ...this.#global, ...parsed };
    else this.#scoped.push({ scope: { ...scope }, values: parsed });
  }

  /** Removes global faults, or the scoped settings made with exactly this scope. */
  clear(scope?: StreamScope): void {
    if (scope === undefined) {
      this.#global = {};
      return;
    }
    this.#scoped = this.#scoped.filter((s) =>
      s.scope.namespace !== scope.namespace || s.scope.pod !== scope.pod || s.scope.container !== scope.container);
  }

  get global(): FaultValues {
    return this.#global;
  }

  /** Global faults overlaid with every scoped setting that matches this stream. */
  forStream(namespace: string, pod: string, container: string): FaultValues {
    let out = this.#global;
    for (const s of this.#scoped) {
      if (scopeMatches(s.scope, namespace, pod, container)) out = { ...out, ...s.values };
    }
    return out;
  }

  /** True when a stream-level fault (stall, reset, max age, errors, slowness) is scoped to this container. */
  hasScopedStreamFault(namespace: string, pod: string, container: string): boolean {
    return this.#scoped.some((s) => scopeMatches(s.scope, namespace, pod, container));
  }
}
