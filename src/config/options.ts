// Every option of `tailer`, in help order. This table drives flag parsing, TAILER_* variables, config file keys,
// --help and `config check`; the typed Config is derived from it.
import { LOG_FORMATS, LOG_LEVELS } from '../observe/log.ts';
import { SCENARIOS } from '../sim/scenarios.ts';
import { flag, list, pairs, single, switchOf } from './spec.ts';
import type { OptionSpec, ValueOf } from './spec.ts';
import {
  autoBoolean, byteSize, duration, integer, labelMapping, listenAddress, lokiLabel, lokiUrl, nameList, namespaceName, oneOf, shard, text,
} from './values.ts';

const path = text('PATH', 'a path');

export const OPTIONS = {
  // Cluster
  kubeconfig: single(path, {
    section: 'Cluster',
    help: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)',
  }),
  context: single(text('NAME', 'a context name'), { section: 'Cluster', help: 'kubeconfig context (default: its current context)' }),
  sim: flag({ section: 'Cluster', help: 'use the built-in simulated cluster even when a kubeconfig is found' }),
  'sim-scenario': single(oneOf(SCENARIOS), {
    section: 'Cluster',
    help: 'scenario of the simulated cluster (used with --sim, or when no kubeconfig is found)',
    default: 'steady',
  }),

  // Selection
  namespace: list(namespaceName, {
    section: 'Selection',
    short: 'n',
    help: "namespaces to follow; repeatable and comma lists (default: the kube context's namespace)",
    commaLists: true,
  }),
  'all-namespaces': flag({ section: 'Selection', short: 'A', help: 'follow every namespace' }),
  selector: single(text('SEL', 'a label selector'), {
    section: 'Selection',
    short: 'l',
    help: 'label selector of the pods, e.g. app=web,tier!=cache',
  }),
  'field-selector': single(text('SEL', 'a field selector'), {
    section: 'Selection',
    help: 'field selector of the pods, e.g. status.phase=Running',
  }),
  'include-pods': single(nameList, {
    section: 'Selection',
    help: 'follow only pods with these names: comma-separated names and /regex/ items, e.g. web,/^api-/',
  }),
  'exclude-pods': single(nameList, { section: 'Selection', help: 'skip pods with these names (names and /regex/ items)' }),
  'include-containers': single(nameList, {
    section: 'Selection',
    help: 'follow only containers with these names (names and /regex/ items)',
  }),
  'exclude-containers': single(nameList, {
    section: 'Selection',
    help: 'skip containers with these names (names and /regex/ items), e.g. istio-proxy,/^linkerd-/',
  }),
  shard: single(shard, {
    section: 'Selection',
    help: 'follow only shard INDEX of COUNT (0-based), split by a stable hash of the pod UID, e.g. 0/3',
  }),
  'node-name': single(text('NAME', 'a node name'), {
    section: 'Selection',
    help: 'follow only pods on this node (DaemonSet mode)',
    envFallback: ['NODE_NAME'],
  }),
  self: flag({
    section: 'Selection',
    help: 'follow only the pod this process runs in (sidecar mode); needs POD_NAME and POD_NAMESPACE (downward API)',
  }),
  'self-container': single(text('NAME', 'a container name'), {
    section: 'Selection',
    help: "with --self, this process's own container, whose log is not followed (name the tailer's container k8s-tailer or set this)",
    envFallback: ['CONTAINER_NAME'],
    default: 'k8s-tailer',
  }),

  // Following
  'stall-timeout': single(duration(1), {
    section: 'Following',
    help: 'reopen a stream of a running container that sent no bytes for this long',
    default: '5m',
  }),
  'max-stream-age': single(duration(1), {
    section: 'Following',
    aliases: ['refresh-interval'],
    help: 'reopen every stream after this long (±10%), before proxies or the kubelet cut it',
    default: '1h',
  }),
  since: single(duration(0), {
    section: 'Following',
    help: "with no saved position, start this far back; keep it well below Loki's 1h out-of-order window",
    default: '30m',
  }),
  'max-concurrent-opens': single(integer(1), {
    section: 'Following',
    help: 'log streams being opened at the same time, across all containers',
    default: '16',
  }),
  'max-line-bytes': single(byteSize(64), {
    section: 'Following',
    help: "longer lines are cut or split (Loki's default max_line_size is 256KB = 256000 bytes)",
    default: '256KB',
  }),
  'line-too-long': single(oneOf(['split', 'truncate']), {
    section: 'Following',
    help: 'what to do with a line longer than --max-line-bytes: split it into several entries, or truncate it',
    default: 'split',
  }),

  // Output
  'output-file': single(path, {
    section: 'Output',
    short: 'o',
    help: 'write lines to this file, - for stdout (default: - when no --loki-url is given)',
  }),
  'output-format': single(oneOf(['text', 'json']), { section: 'Output', help: 'format of --output-file', default: 'text' }),

  // Loki
  'loki-url': list(lokiUrl, {
    section: 'Loki',
    help: 'push to this Loki, repeatable; a URL without a path gets /loki/api/v1/push',
    commaLists: false,
  }),
  'loki-tenant': single(text('ID', 'a tenant ID'), { section: 'Loki', help: 'tenant ID, sent as X-Scope-OrgID' }),
  'loki-basic-auth-user': single(text('USER', 'a user name'), {
    section: 'Loki',
    help: 'basic auth user (with --loki-basic-auth-password-file)',
  }),
  'loki-basic-auth-password-file': single(path, {
    section: 'Loki',
    help: 'file holding the basic auth password',
    secretFile: true,
    readableFile: true,
  }),
  'loki-bearer-token-file': single(path, {
    section: 'Loki',
    help: 'file holding a bearer token, read again on every push so rotated tokens work',
    secretFile: true,
    readableFile: true,
  }),
  'loki-ca-file': single(path, { section: 'Loki', help: "PEM file of CAs to trust for Loki's certificate", readableFile: true }),
  'loki-insecure-skip-verify': flag({ section: 'Loki', help: "do not verify Loki's TLS certificate (testing only)" }),
  'loki-format': single(oneOf(['protobuf', 'json']), {
    section: 'Loki',
    help: 'push body: snappy-compressed protobuf, or JSON',
    default: 'protobuf',
  }),
  'loki-batch-bytes': single(byteSize(1), { section: 'Loki', help: 'send a batch when it reaches this size', default: '1MiB' }),
  'loki-batch-wait': single(duration(1), { section: 'Loki', help: 'send a batch at the latest this long after its first line', default: '1s' }),
  'loki-timeout': single(duration(1), { section: 'Loki', help: 'timeout of one push request', default: '10s' }),
  label: pairs(lokiLabel, {
    section: 'Loki',
    help: 'static stream label added to every stream, repeatable, e.g. --label cluster=prod',
    uniqueValues: false,
  }),
  'label-map': pairs(labelMapping, {
    section: 'Loki',
    help: 'copy a pod label into a stream label, repeatable, e.g. --label-map app.kubernetes.io/version=version',
    uniqueValues: true,
  }),

  // Durability
  'data-dir': single(path, { section: 'Durability', help: 'directory for state (positions, spool)', default: './.tailer' }),
  'positions-file': single(path, { section: 'Durability', help: 'where positions are saved (default: DATA_DIR/positions.json)' }),
  'positions-interval': single(duration(1), { section: 'Durability', help: 'save positions this often (and on shutdown)', default: '5s' }),
  'positions-retention': single(duration(0), {
    section: 'Durability',
    help: 'forget the position of a container gone for this long',
    default: '24h',
  }),
  'max-buffer-bytes': single(byteSize(1), {
    section: 'Durability',
    help: 'bytes read but not yet acknowledged by every output; reading pauses above it',
    default: '64MiB',
  }),
  'spool-dir': single(path, { section: 'Durability', help: 'spool batches to disk during long Loki outages (default: off)' }),
  'spool-max-bytes': single(byteSize(1), { section: 'Durability', help: 'size limit of the spool', default: '1GiB' }),
  'spool-after': single(duration(0), { section: 'Durability', help: 'spool a batch Loki has not accepted for this long', default: '30s' }),

  // Observe
  'http-listen': single(listenAddress, {
    section: 'Observe',
    help: 'address of /metrics, /healthz, /ready; empty to disable',
    default: '127.0.0.1:9080',
  }),
  'log-level': single(oneOf(LOG_LEVELS), { section: 'Observe', help: 'least severe level logged', default: 'info' }),
  'log-format': single(oneOf([...LOG_FORMATS, 'auto']), {
    section: 'Observe',
    help: 'format of the log on stderr; auto = pretty on a terminal, logfmt otherwise',
    default: 'auto',
  }),
  status: switchOf(autoBoolean, 'auto', {
    section: 'Observe',
    help: 'live status line on stderr (--status=auto: only on a terminal)',
  }),

  // Misc
  config: single(path, { section: 'Misc', help: 'YAML file of options (keys are flag names)', noFile: true }),
  help: flag({ section: 'Misc', short: 'h', help: 'show this help', flagOnly: true }),
  version: flag({ section: 'Misc', help: 'print the version', flagOnly: true }),
} as const;

export type OptionName = keyof typeof OPTIONS;

/** `loki-batch-wait` → `lokiBatchWait`. */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

export function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Every option's parsed value, keyed by the camel-cased option name. */
export type OptionValues = { readonly [K in OptionName as CamelCase<K>]: ValueOf<(typeof OPTIONS)[K]> };

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

export function optionSpec(name: OptionName): OptionSpec<unknown> {
  return OPTIONS[name] as OptionSpec<unknown>;
}

/** `loki-url` → `TAILER_LOKI_URL`. */
export function envName(name: string): string {
  return `TAILER_${name.toUpperCase().replace(/-/g, '_')}`;
}
