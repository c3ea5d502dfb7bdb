// The main job: cluster access, sinks, the tailer pipeline, observability, and an orderly shutdown that
// flushes every accepted line.
import { Subject, lastValueFrom } from 'rxjs';
import { findKubeconfig, loadKubeConfig, KubeClient, type KubeconfigSource } from './kube/client.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { Limiter } from './kube/limiter.ts';
import { Credit } from './pipeline/credit.ts';
import { deliver } from './pipeline/deliver.ts';
import type { Sink } from './pipeline/entry.ts';
import { FileSink } from './sinks/file.ts';
import { LokiSink } from './sinks/loki/sink.ts';
import { readLokiCredentials } from './sinks/loki/credentials.ts';
import { loadNativeSnappy } from './sinks/loki/snappy.ts';
import { SpoolingSink } from './sinks/spool.ts';
import { tail } from './tailer.ts';
import { Positions } from './positions.ts';
import { Progress } from './observe/progress.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './observe/log.ts';
import { Metrics } from './observe/metrics.ts';
import { startHttpServer, type HttpServer } from './observe/http.ts';
import { startStatusLine } from './observe/status.ts';
import type { Selection } from './selection.ts';

export const VERSION = '0.1.0';

interface Cluster {
  readonly kc: KubeConfig;
  readonly describe: string;
  /** The built-in simulated cluster: with no namespace given, all of its namespaces are followed. */
  readonly simulated: boolean;
  close(): Promise<void>;
}

async function connect(cfg: Config, log: Logger): Promise<Cluster> {
  const source: KubeconfigSource | undefined = cfg.sim ? undefined : findKubeconfig(cfg.kubeconfig, process.env);
  if (source !== undefined) {
    const kc = loadKubeConfig(source, cfg.context);
    return { kc, describe: `${kc.getCurrentCluster()!.server} (context ${kc.getCurrentContext()})`, simulated: false, close: async () => undefined };
  }
  const { startSim } = await import('./sim/index.ts');
  const sim = await startSim({ scenario: cfg.simScenario });
  log.warn(cfg.sim ? 'Using the built-in simulated cluster (--sim)' : 'No kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster): running against the built-in simulated cluster', {
    url: sim.url,
    scenario: cfg.simScenario,
  });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  return { kc, describe: `${sim.url} (simulated, scenario ${cfg.simScenario})`, simulated: true, close: () => sim.close() };
}

async function openSinks(cfg: Config, metrics: Metrics, log: Logger, progress: Progress): Promise<Sink[]> {
  const sinks: Sink[] = [];
  if (cfg.outputFile !== undefined) sinks.push(countingSent(await FileSink.open(cfg.outputFile, cfg.outputFormat), metrics));
  if (cfg.lokiUrl.length > 0) {
    const secrets = readLokiCredentials({
      passwordFile: cfg.lokiBasicAuthPasswordFile,
      bearerTokenFile: cfg.lokiBearerTokenFile,
      caFile: cfg.lokiCaFile,
    });
    const creds = {
      basicAuth: cfg.lokiBasicAuthUser !== undefined ? { user: cfg.lokiBasicAuthUser, password: secrets.password ?? '' } : undefined,
      bearerToken: secrets.bearerToken,
      caPem: secrets.caPem,
    };
    if (cfg.lokiInsecureSkipVerify) log.warn('TLS verification of Loki is OFF (--loki-insecure-skip-verify): anyone on the path can read and alter the logs');
    if (cfg.lokiFormat === 'protobuf') {
      const native = loadNativeSnappy();
      if ('error' in native) log.warn(`The native snappy binding does not load here (${native.error}): compressing with snappyjs, which costs about five times the CPU per pushed byte`);
    }
    const spooled = new Map<string, number>();
    for (const url of cfg.lokiUrl) {
      const name = `loki:${new URL(url).host}`;
      const loki = new LokiSink({
        url,
        name,
        tenant: cfg.lokiTenant,
        ...creds,
        insecureSkipVerify: cfg.lokiInsecureSkipVerify,
        format: cfg.lokiFormat,
        batchBytes: cfg.lokiBatchBytes,
        timeoutMs: cfg.lokiTimeout,
        maxLineBytes: cfg.maxLineBytes,
        lineTooLong: cfg.lineTooLong,
        staticLabels: cfg.label,
        labelMap: cfg.labelMap,
        hooks: {
          sent: (n, bytes) => {
            metrics.sinkLinesSent.inc({ sink: name }, n);
            metrics.sinkBytesSent.inc({ sink: name }, bytes);
          },
          dropped: (n, bytes, reason) => {
            progress.error();
            metrics.droppedLines.inc({ sink: name, reason }, n);
            metrics.droppedBytes.inc({ sink: name, reason }, bytes);
          },
          request: (status, seconds) => metrics.pushDuration.observe({ sink: name, status }, seconds),
          retry: (reason) => metrics.sinkRetries.inc({ sink: name, reason }),
          log: (level, msg, fields) => log[level](msg, { sink: name, ...fields }),
        },
      });
      if (cfg.spoolDir === undefined) {
        sinks.push(loki);
        continue;
      }
      // One folder per sink; the gauge is the total over all of them.
      sinks.push(
        await SpoolingSink.open(loki, {
          dir: join(cfg.spoolDir, name.replace(/[^A-Za-z0-9._-]/g, '_')),
          maxBytes: cfg.spoolMaxBytes,
          afterMs: cfg.spoolAfter,
          hooks: {
            bytes: (bytes) => {
              spooled.set(name, bytes);
              metrics.spoolBytes.set([...spooled.values()].reduce((a, b) => a + b, 0));
            },
            log: (level, msg, fields) => log[level](msg, fields),
          },
        }),
      );
    }
  }
  return sinks;
}

/** A sink that has no hooks of its own (the file) counts what it wrote, as the Loki sinks do through theirs. */
function countingSent(sink: Sink, metrics: Metrics): Sink {
  return {
    name: sink.name,
    write: async (batch) => {
      await sink.write(batch);
      let lines = 0;
      let bytes = 0;
      for (const block of batch) {
        lines += block.length;
        for (let i = 0; i < block.length; i++) bytes += block.utf8Bytes(i);
      }
      metrics.sinkLinesSent.inc({ sink: sink.name }, lines);
      metrics.sinkBytesSent.inc({ sink: sink.name }, bytes);
    },
    close: () => sink.close(),
  };
}

function selectionOf(cfg: Config): Selection {
  return {
    includePods: cfg.includePods,
    excludePods: cfg.excludePods,
    includeContainers: cfg.includeContainers,
    excludeContainers: cfg.excludeContainers,
    shard: cfg.shard,
    self: cfg.selfPod === undefined ? undefined : { ...cfg.selfPod, container: cfg.selfContainer },
  };
}

function fieldSelectorOf(cfg: Config): string | undefined {
  const parts = [cfg.fieldSelector, cfg.nodeName !== undefined ? `spec.nodeName=${cfg.nodeName}` : undefined];
  if (cfg.selfPod !== undefined) parts.push(`metadata.name=${cfg.selfPod.pod}`);
  const joined = parts.filter((p) => p !== undefined && p !== '').join(',');
  return joined === '' ? undefined : joined;
}

/** Runs until SIGINT/SIGTERM (or `stop`), then flushes; resolves with the exit code. */
export async function runTailer(cfg: Config, stop?: Promise<unknown>): Promise<number> {
  const metrics = new Metrics({ version: VERSION });
  let progress: Progress | undefined;
  const status = startStatusLine({
    enabled: cfg.status === 'auto' ? undefined : cfg.status,
    snapshot: () => progress!.snapshot(),
  });
  const log = createLogger({
    level: cfg.logLevel,
    format: cfg.logFormat === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'logfmt') : cfg.logFormat,
    writeLine: (line) => status.writeAbove(line),
  });
  progress = new Progress(metrics, log);
  const positions = await Positions.load(cfg.positionsFile, { retentionMs: cfg.positionsRetention });
  const cluster = await connect(cfg, log);
  const client = new KubeClient(cluster.kc, (verb, code) => metrics.apiRequests.inc({ verb, code }), { windowBudget: cfg.maxBufferBytes });
  const namespaces = cfg.allNamespaces || (cluster.simulated && cfg.namespace.length === 0) ? [] : cfg.namespace.length > 0 ? cfg.namespace : [contextNamespace(cluster.kc)];
  await preflight(client, namespaces).catch(async (err: unknown) => {
    await client.close();
    await cluster.close();
    throw err;
  });
  const sinks = await openSinks(cfg, metrics, log, progress).catch(async (err: unknown) => {
    await client.close();
    await cluster.close();
    throw err;
  });
  const credit = new Credit(cfg.maxBufferBytes);
  credit.onPressure((full) => {
    client.holdBackStreams(full);
    progress.bufferFull(full, cfg.maxBufferBytes);
  });
  const opens = new Limiter(cfg.maxConcurrentOpens);
  let listed = false;
  let http: HttpServer | undefined;
  if (cfg.httpListen !== undefined && cfg.httpListen !== '') {
    http = await startHttpServer({ listen: cfg.httpListen, metrics, ready: () => readiness(listed, sinks) });
    log.info('Serving /metrics, /healthz and /ready', { url: http.url });
  }
  log.info('Starting', {
    cluster: cluster.describe,
    namespaces: namespaces.length === 0 ? 'all' : namespaces.join(','),
    outputs: sinks.map((s) => s.name).join(','),
    positions: `${cfg.positionsFile} (${positions.size} targets)`,
  });
  if (positions.upgraded) {
    log.warn('The positions file was written by an older release (version 1, other line hashes): each target resumes by line count without checking the boundary line once, then the file is saved in the current version');
  }

  const stop$ = new Subject<void>();
  const onSignal = (sig: string): void => {
    log.info('Stopping: flushing accepted lines', { signal: sig });
    stop$.next();
  };
  const sigint = (): void => onSignal('SIGINT');
  const sigterm = (): void => onSignal('SIGTERM');
  process.once('SIGINT', sigint);
  process.once('SIGTERM', sigterm);
  void stop?.then(() => stop$.next());
  const autosave = positions.startAutosave(cfg.positionsInterval, (err) => log.error(err.message), () => metrics.positionsWritten());
  const refresher = setInterval(() => progress.refresh(), 5000);
  refresher.unref();
  // In-flight bytes grow between acknowledgements, most while a sink is stuck: sample them, not only on acks.
  const buffered = setInterval(() => metrics.bufferedBytes.set(credit.inFlight), 500);
  buffered.unref();

  const entries$ = tail(
    {
      watch: {
        namespaces,
        labelSelector: cfg.selector,
        fieldSelector: fieldSelectorOf(cfg),
        onListed: () => {
          listed = true;
        },
        onWatchRestart: (reason) => metrics.watchRestarts.inc({ reason }),
        onError: (msg) => log.warn(msg),
      },
      selection: selectionOf(cfg),
      follow: {
        stallTimeoutMs: cfg.stallTimeout,
        maxStreamAgeMs: cfg.maxStreamAge,
        sinceMs: cfg.since,
        maxLineBytes: Math.max(cfg.maxLineBytes, 16 * 1024 * 1024),
        maxBackoffMs: 60_000,
      },
    },
    {
      client,
      opens,
      credit,
      log,
      events: progress,
      startOf: (t) => positions.startOf(t.key),
      onTarget: (t) => positions.touch(t.key),
    },
    stop$,
  );
  let code = 0;
  try {
    await lastValueFrom(
      deliver(entries$, { batchBytes: cfg.lokiBatchBytes, batchWaitMs: cfg.lokiBatchWait }, {
        sinks,
        credit,
        acknowledged: (batch) => {
          positions.acknowledge(batch);
          metrics.bufferedBytes.set(credit.inFlight);
        },
      }),
      { defaultValue: 0 },
    );
  } catch (err) {
    log.error('Output failed', { error: err instanceof Error ? err.message : String(err) });
    code = 1;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    clearInterval(refresher);
    clearInterval(buffered);
    status.stop();
    await Promise.all(sinks.map((s) => s.close()));
    await autosave.stop().catch((err: unknown) => {
      log.error('Positions not saved', { error: err instanceof Error ? err.message : String(err) });
      code = 1;
    });
    await http?.close();
    await client.close();
    await cluster.close();
  }
  log.info('Stopped', { exitCode: code });
  return code;
}

/** Ready once the first pod list is done and every Loki endpoint answers. */
async function readiness(listed: boolean, sinks: readonly Sink[]): Promise<{ ok: boolean; reasons: string[] }> {
  const reasons: string[] = [];
  if (!listed) reasons.push('first pod list not done yet');
  for (const sink of sinks) {
    const s = sink instanceof SpoolingSink ? sink.inner : sink;
    if (s instanceof LokiSink) {
      const probe = await s.probe(2000);
      if (!probe.reachable) reasons.push(`${s.name} unreachable${probe.error ? `: ${probe.error}` : ''}`);
    }
  }
  return { ok: reasons.length === 0, reasons };
}

/**
 * One cheap list per namespace scope before anything starts, so that a wrong server, expired credentials or
 * missing RBAC end the run with one line that says what to fix, instead of retrying quietly.
 */
async function preflight(client: KubeClient, namespaces: readonly string[]): Promise<void> {
  for (const ns of namespaces.length === 0 ? [undefined] : namespaces) {
    const path = ns === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
    await client.getJSON({ path, query: { limit: 1 }, headersTimeoutMs: 15_000 }, 'list');
  }
}

/** Like kubectl: the current context's namespace, else `default`. */
function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}
