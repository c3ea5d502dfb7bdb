// Stream labels for a target. Labels choose the stream (and so Loki's index size): only low-cardinality facts go
// here; the pod UID and restart count travel as structured metadata instead.
import type { TargetInfo } from '../../pipeline/entry.ts';
import { repairUtf8, utf8Prefix } from './utf8.ts';

/** Loki's limits_config defaults. */
export const MAX_LABEL_NAMES = 15;
export const MAX_LABEL_NAME_BYTES = 1024;
export const MAX_LABEL_VALUE_BYTES = 2048;

/** Pod labels that name the application, in order of preference. */
export const APP_LABEL_KEYS: readonly string[] = ['app.kubernetes.io/name', 'app', 'k8s-app'];

export type LabelPair = readonly [name: string, value: string];

export interface StreamLabelOptions {
  /** Added to every stream; they win over the built-in labels of the same name. */
  readonly staticLabels?: Readonly<Record<string, string>>;
  /** Pod label key → stream label name. Never overrides a built-in or static label. */
  readonly labelMap?: Readonly<Record<string, string>>;
}

export interface StreamLabels {
  /** Sorted by name, sanitised, within Loki's limits. */
  readonly pairs: readonly LabelPair[];
  /** The Prometheus selector text sent as `labels`, e.g. `{container="app", namespace="shop"}`. */
  readonly selector: string;
  /** Mapped pod labels left out because the stream already had MAX_LABEL_NAMES labels. */
  readonly omitted: readonly string[];
}

const VALID_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label name in Loki's grammar `[a-zA-Z_][a-zA-Z0-9_]*`, within its length limit; undefined if empty. */
export function sanitizeLabelName(name: string): string | undefined {
  if (name === '') return undefined;
  let clean = VALID_NAME.test(name) ? name : name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(clean)) clean = `_${clean}`;
  return clean.slice(0, MAX_LABEL_NAME_BYTES);
}

/** A label value as valid UTF-8 within Loki's length limit. */
export function sanitizeLabelValue(value: string): string {
  return utf8Prefix(repairUtf8(value), MAX_LABEL_VALUE_BYTES);
}

/** The application name from the pod's standard labels, or undefined. */
export function appName(podLabels: Readonly<Record<string, string>>): string | undefined {
  for (const key of APP_LABEL_KEYS) {
    const value = podLabels[key];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** Names of the built-in labels, in the order builtinLabels gives them. */
export const BUILTIN_LABEL_NAMES: readonly string[] = ['namespace', 'pod', 'container', 'app', 'node_name', 'job'];

/** Static labels take room every stream needs for the built-in ones: refuse more than fits. */
export function checkStaticLabels(staticLabels: Readonly<Record<string, string>>): void {
  const room = MAX_LABEL_NAMES - BUILTIN_LABEL_NAMES.length;
  const count = Object.keys(staticLabels).length;
  if (count > room) {
    throw new Error(
      `too many static Loki labels (${count}): Loki allows ${MAX_LABEL_NAMES} per stream, ` +
        `so at most ${room} besides the built-in ones`,
    );
  }
}

/**
 * The built-in labels. `job` is `namespace/app`; a pod without an app label falls back to
 * `namespace/container`, which (unlike the pod name) stays the same across a workload's rollouts and replicas.
 */
export function builtinLabels(target: TargetInfo): LabelPair[] {
  const app = appName(target.labels);
  return [
    ['namespace', target.namespace],
    ['pod', target.pod],
    ['container', target.container],
    ['app', app ?? ''],
    ['node_name', target.nodeName],
    ['job', `${target.namespace}/${app ?? target.container}`],
  ];
}

/** Label pairs with sanitised names; the first pair of a name wins; empty values are left out (as in Loki). */
function addPairs(into: Map<string, string>, pairs: Iterable<LabelPair>, limit: number, omitted: string[]): void {
  for (const [rawName, rawValue] of pairs) {
    const name = sanitizeLabelName(rawName);
    if (name === undefined || into.has(name) || rawValue === '') continue;
    if (into.size >= limit) {
      omitted.push(name);
      continue;
    }
    into.set(name, sanitizeLabelValue(rawValue));
  }
}

export function buildStreamLabels(target: TargetInfo, options: StreamLabelOptions = {}): StreamLabels {
  const labels = new Map<string, string>();
  const omitted: string[] = [];
  addPairs(labels, Object.entries(options.staticLabels ?? {}), MAX_LABEL_NAMES, omitted);
  addPairs(labels, builtinLabels(target), MAX_LABEL_NAMES, omitted);
  const mapped: LabelPair[] = [];
  for (const [podLabel, streamLabel] of Object.entries(options.labelMap ?? {})) {
    const value = target.labels[podLabel];
    if (value !== undefined) mapped.push([streamLabel, value]);
  }
  addPairs(labels, mapped, MAX_LABEL_NAMES, omitted);
  const pairs = [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { pairs, selector: formatSelector(pairs), omitted };
}

/**
 * Selector text Loki parses with Prometheus' parser: values are Go string literals. JSON string escaping is a
 * subset of Go's for well-formed text (values are repaired, so no `\uD800`-style escapes appear).
 */
export function formatSelector(pairs: readonly LabelPair[]): string {
  return `{${pairs.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}}`;
}

/**
 * Memoises stream labels per target object: followers hand the same TargetInfo with every entry, and a WeakMap
 * lets labels of finished targets go with them.
 */
export class StreamLabeler {
  readonly #options: StreamLabelOptions;
  readonly #cache = new WeakMap<TargetInfo, StreamLabels>();
  readonly #onOmitted: (target: TargetInfo, names: readonly string[]) => void;

  constructor(options: StreamLabelOptions, onOmitted: (target: TargetInfo, names: readonly string[]) => void) {
    this.#options = options;
    this.#onOmitted = onOmitted;
  }

  labelsOf(target: TargetInfo): StreamLabels {
    let labels = this.#cache.get(target);
    if (labels === undefined) {
      labels = buildStreamLabels(target, this.#options);
      this.#cache.set(target, labels);
      if (labels.omitted.length > 0) this.#onOmitted(target, labels.omitted);
    }
    return labels;
  }
}
