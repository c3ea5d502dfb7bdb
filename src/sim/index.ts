// Entry point of the simulated cluster: an in-memory cluster driven by a scenario, served over HTTP(S) on
// 127.0.0.1 as a Kubernetes API subset that kubectl and @kubernetes/client-node work against unchanged.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { FAULTS, parseFaults } from './faults.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import type { LedgerEntry } from './ledger.ts';
import { Cluster, type ClusterOptions } from './model.ts';
import { seededRandom } from './random.ts';
import { checkScenario, scenarioBackoffMs, scenarioFaults, SCENARIOS, startScenario, type ScenarioScale } from './scenarios.ts';
import { startApiServer, type ApiStats } from './server.ts';
import { generateTls } from './tls.ts';

export { FAULTS, SCENARIOS };
export type { LedgerEntry } from './ledger.ts';
export type { ClusterOptions, PodDef, WriteOptions, LogTarget } from './model.ts';
export { Cluster } from './model.ts';
export type { StreamScope } from './faults.ts';
export type { ScenarioScale } from './scenarios.ts';

export interface SimOptions {
  /** Default 'steady'; 'none' = empty cluster for tests that drive it themselves. */
  scenario?: string;
  /** Production time; undefined = until stopProducing() or close(). */
  durationSec?: number;
  /** Default 0 (ephemeral). */
  port?: number;
  tls?: boolean;
  /** With tls: serve HTTP/1.1 only, as kube-apiserver with --disable-http2-serving. */
  disableHttp2?: boolean;
  /** With tls: streams per h2 connection (kube-apiserver's --http2-max-streams-per-connection), default 100. */
  http2MaxStreamsPerConnection?: number;
  /** Same NAME=VALUE strings as --fault, validated; override the scenario's own faults. */
  faults?: Record<string, string>;
  seed?: number;
  scale?: ScenarioScale;
  /** Model timings (restart back-off, start delay, delete grace, watch history, log rotation size). */
  cluster?: ClusterOptions;
  /** Interval of BOOKMARK events on watches that allow them. Default 5 s. */
  bookmarkIntervalMs?: number;
}

export interface Sim {
  readonly url: string;
  readonly token: string;
  /** YAML text, context 'sim'. */
  readonly kubeconfig: string;
  writeKubeconfig(path: string): Promise<void>;
  readonly cluster: Cluster;
  /** Resolves when production ended (duration over or stopProducing(), containers terminated). */
  readonly produced: Promise<void>;
  stopProducing(): Promise<void>;
  ledger(): LedgerEntry[];
  writeLedger(path: string): Promise<void>;
  stats(): ApiStats;
  /** Destroys every open connection at once, as an apiserver restart does; the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  const scenario = checkScenario(opts.scenario ?? 'steady');
  const userFaults = opts.faults ?? {};
  parseFaults(userFaults);
  const seed = opts.seed ?? 1;
  const cluster = new Cluster({ seed, restartBackoffMs: scenarioBackoffMs(scenario), ...opts.cluster });
  const defaults = scenarioFaults(scenario);
  cluster.faults.set(defaults.global);
  for (const s of defaults.scoped) cluster.faults.set(s.values, s.scope);
  cluster.faults.set(userFaults);
  const tls = opts.tls === true ? await generateTls() : undefined;
  const token = randomBytes(24).toString('hex');
  const server = await startApiServer({
    cluster, token, random: seededRandom(seed + 1), port: opts.port, tls, bookmarkIntervalMs: opts.bookmarkIntervalMs,
    disableHttp2: opts.disableHttp2, http2MaxStreamsPerConnection: opts.http2MaxStreamsPerConnection,
  });
  const kubeconfig = kubeconfigYaml({ url: server.url, token, caCert: tls?.caCert });

  let markProduced!: () => void;
  const produced = new Promise<void>((resolve) => {
    markProduced = resolve;
  });
  const producer = startScenario(scenario, cluster, seededRandom(seed + 2), opts.scale);
  let producing = true;
  const stopProducing = async (): Promise<void> => {
    if (producing) {
      producing = false;
      clearTimeout(durationTimer);
      producer.stop();
      cluster.stopAll();
      markProduced();
    }
    return produced;
  };
  const durationTimer = opts.durationSec === undefined
    ? undefined
    : setTimeout(() => void stopProducing(), opts.durationSec * 1000);

  return {
    url: server.url,
    token,
    kubeconfig,
    writeKubeconfig: (path) => writeFile(path, kubeconfig, { mode: 0o600 }),
    cluster,
    produced,
    stopProducing,
    ledger: () => cluster.ledger.entries(),
    writeLedger: (path) => cluster.ledger.write(path),
    stats: () => server.stats(),
    dropConnections: () => server.dropConnections(),
    close: async () => {
      await stopProducing();
      cluster.close();
      await server.close();
    },
  };
}
