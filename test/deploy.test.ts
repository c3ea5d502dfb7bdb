// The packaging is checked by reading it: no Docker engine or cluster is needed. Kubernetes manifests, compose
// files and Grafana provisioning must parse, reference files that exist, grant exactly the RBAC k8s-tailer needs,
// run hardened, and pass flags the CLI accepts; `kubectl apply --dry-run=client` must accept every manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { OPTIONS } from '../src/config/options.ts';
import { NODE_FLAGS } from '../src/node-flags.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { startHttpServer } from '../src/observe/http.ts';
import { METRIC_NAMES, Metrics } from '../src/observe/metrics.ts';
import { startSim } from '../src/sim/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const K8S_DIR = join(ROOT, 'deploy/kubernetes');
const IMAGE = 'ghcr.io/k8s-tailer/k8s-tailer:0.1.0';
const HTTP_PORT = 9080;
const DATA_DIR = '/var/lib/tailer';

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes objects as plain data

type Obj = Record<string, unknown>;

interface K8sObject {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly body: Obj;
}

function obj(value: unknown, what: string): Obj {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what}: expected a mapping`);
  return value as Obj;
}

function arr(value: unknown): Obj[] {
  return Array.isArray(value) ? (value as Obj[]) : [];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function readYamlDocs(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, i) => {
    assert.deepEqual(doc.errors.map((e) => e.message), [], `${basename(path)} document ${i + 1} does not parse`);
    return doc.toJS() as unknown;
  });
}

function loadManifests(): K8sObject[] {
  const files = readdirSync(K8S_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
  return files.flatMap((file) =>
    readYamlDocs(join(K8S_DIR, file))
      .filter((doc) => doc !== null && doc !== undefined)
      .map((doc, i) => {
        const body = obj(doc, `${file} document ${i + 1}`);
        const metadata = obj(body.metadata, `${file} document ${i + 1} metadata`);
        const o = { file, apiVersion: str(body.apiVersion) ?? '', kind: str(body.kind) ?? '', name: str(metadata.name) ?? '', namespace: str(metadata.namespace), body };
        assert.ok(o.apiVersion && o.kind && o.name, `${file} document ${i + 1}: needs apiVersion, kind and metadata.name`);
        return o;
      }),
  );
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
const WORKLOAD_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'Pod']);

function podSpec(o: K8sObject): Obj {
  const spec = obj(o.body.spec, `${o.kind}/${o.name} spec`);
  return o.kind === 'Pod' ? spec : obj(obj(obj(spec.template, 'template').spec, 'template spec'), `${o.kind}/${o.name} pod spec`);
}

interface Container {
  readonly workload: K8sObject;
  readonly pod: Obj;
  readonly body: Obj;
  readonly name: string;
  /** A regular container or a native sidecar: runs for the pod's life (one-shot init containers do not). */
  readonly longRunning: boolean;
}

function containersOf(o: K8sObject): Container[] {
  const pod = podSpec(o);
  const regular = arr(pod.containers).map((body) => ({ body, longRunning: true }));
  const init = arr(pod.initContainers).map((body) => ({ body, longRunning: body.restartPolicy === 'Always' }));
  return [...init, ...regular].map(({ body, longRunning }) => ({ workload: o, pod, body, name: str(body.name) ?? '?', longRunning }));
}

const isTailer = (c: Container): boolean => c.body.image === IMAGE && c.longRunning;
const where = (c: Container): string => `${c.workload.file} ${c.workload.kind}/${c.workload.name} container ${c.name}`;

/** The container's port number for a probe's `port` (a number or a port name). */
function portNumber(c: Container, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  return arr(c.body.ports).find((p) => p.name === port)?.containerPort as number | undefined;
}

/** Values the kubelet would give the container's env, with fieldRefs stood in for by plausible values. */
function containerEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of arr(c.body.env)) {
    const name = str(entry.name) ?? '';
    if (typeof entry.value === 'string') env[name] = entry.value;
    const fieldPath = str(obj(obj(entry.valueFrom ?? {}, 'valueFrom').fieldRef ?? {}, 'fieldRef').fieldPath);
    if (fieldPath === undefined) continue;
    const stand: Record<string, string> = {
      'metadata.name': `${c.workload.name}-2`,
      'metadata.namespace': c.workload.namespace ?? 'default',
      'spec.nodeName': 'node-a',
      "metadata.labels['apps.kubernetes.io/pod-index']": '2',
    };
    assert.ok(fieldPath in stand, `${where(c)}: env ${name} uses fieldRef ${fieldPath}, which this test does not know`);
    env[name] = stand[fieldPath];
  }
  return env;
}

/** Expands `$(VAR)` as the kubelet does; an undefined variable would stay literal there, so it fails here. */
function expand(c: Container, env: Record<string, string>, text: string): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
    assert.ok(name in env, `${where(c)}: ${text} refers to $(${name}), which the container's env does not define`);
    return env[name];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  readonly op: string;
  readonly args: string;
}

function dockerfile(): Instruction[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of dockerfile().filter((i) => i.op === 'ENV')) {
    for (const [, key, value] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) env[key] = value;
  }
  return env;
}

function finalStage(): Instruction[] {
  const all = dockerfile();
  const lastFrom = all.map((i) => i.op).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

// ---------------------------------------------------------------------------------------------------------------
// CLI flags: every command line in the packaging must be one `tailer` accepts

function checkArgv(argv: readonly string[], env: Record<string, string>, what: string): void {
  try {
    resolveConfig(argv, { ...imageEnv(), ...env });
  } catch (err) {
    assert.fail(`${what}: tailer ${argv.join(' ')} is rejected: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes manifests

test('every manifest parses, with apiVersion, kind, metadata.name and a namespace where one is needed', () => {
  const objects = loadManifests();
  const files = new Set(objects.map((o) => o.file));
  for (const file of ['rbac.yaml', 'rbac-namespaced.yaml', 'deployment.yaml', 'daemonset.yaml', 'statefulset.yaml', 'sidecar.yaml', 'configmap.yaml']) {
    assert.ok(files.has(file), `deploy/kubernetes/${file} is missing`);
  }
  for (const o of objects) {
    if (CLUSTER_SCOPED.has(o.kind)) assert.equal(o.namespace, undefined, `${o.file} ${o.kind}/${o.name} is cluster-scoped`);
    else assert.ok(o.namespace, `${o.file} ${o.kind}/${o.name} needs metadata.namespace`);
  }
  const namespaces = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.name));
  for (const o of objects.filter((x) => x.namespace !== undefined && x.file !== 'rbac-namespaced.yaml')) {
    assert.ok(namespaces.has(o.namespace as string), `${o.file} ${o.kind}/${o.name}: namespace ${o.namespace} is not created by any manifest`);
  }
});

test('RBAC grants exactly get/list/watch on pods and get on pods/log, and nothing else', () => {
  const objects = loadManifests();
  const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  assert.ok(roles.some((o) => o.kind === 'ClusterRole' && o.file === 'rbac.yaml'), 'rbac.yaml needs a ClusterRole');
  assert.ok(roles.some((o) => o.kind === 'Role' && o.file === 'rbac-namespaced.yaml'), 'rbac-namespaced.yaml needs a Role');
  for (const role of roles) {
    const grants = new Set<string>();
    for (const rule of arr(role.body.rules)) {
      assert.deepEqual(rule.apiGroups, [''], `${role.file} ${role.kind}/${role.name}: only the core API group`);
      assert.equal(rule.resourceNames, undefined);
      assert.equal(rule.nonResourceURLs, undefined);
      for (const resource of rule.resources as string[]) for (const verb of rule.verbs as string[]) grants.add(`${verb} ${resource}`);
    }
    assert.deepEqual([...grants].sort(), ['get pods', 'get pods/log', 'list pods', 'watch pods'], `${role.file} ${role.kind}/${role.name}`);
  }

  // Every binding points at one of these roles, and every workload's service account is bound in its namespace.
  const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
  const granted = new Set<string>();
  for (const binding of bindings) {
    const ref = obj(binding.body.roleRef, 'roleRef');
    const role = roles.find((r) => r.kind === ref.kind && r.name === ref.name && (r.kind === 'ClusterRole' || r.namespace === binding.namespace));
    assert.ok(role, `${binding.file} ${binding.kind}/${binding.name}: roleRef ${String(ref.kind)}/${String(ref.name)} is not defined`);
    for (const subject of arr(binding.body.subjects)) {
      assert.equal(subject.kind, 'ServiceAccount');
      const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.name === subject.name && o.namespace === subject.namespace);
      assert.ok(sa, `${binding.file}: subject ${String(subject.namespace)}/${String(subject.name)} is not a ServiceAccount defined here`);
      if (binding.kind === 'ClusterRoleBinding') granted.add(`${String(subject.namespace)}/${String(subject.name)} *`);
      else granted.add(`${String(subject.namespace)}/${String(subject.name)} ${binding.namespace}`);
    }
  }
  for (const o of objects.filter((x) => WORKLOAD_KINDS.has(x.kind))) {
    const sa = `${o.namespace}/${str(podSpec(o).serviceAccountName) ?? 'default'}`;
    assert.ok(granted.has(`${sa} *`) || granted.has(`${sa} ${o.namespace}`), `${o.file} ${o.kind}/${o.name}: service account ${sa} has no binding`);
  }
});

test('every container has resources, a hardened non-root securityContext, and the tailer has probes and a data volume', () => {
  const workloads = loadManifests().filter((o) => WORKLOAD_KINDS.has(o.kind));
  assert.deepEqual(new Set(workloads.map((o) => o.kind)), new Set(['Deployment', 'DaemonSet', 'StatefulSet']));
  let tailers = 0;
  for (const o of workloads) {
    const pod = podSpec(o);
    const podSecurity = obj(pod.securityContext ?? {}, 'pod securityContext');
    for (const c of containersOf(o)) {
      const resources = obj(c.body.resources, `${where(c)} resources`);
      for (const kind of ['requests', 'limits']) {
        const r = obj(resources[kind], `${where(c)} resources.${kind}`);
        assert.ok(r.cpu !== undefined && r.memory !== undefined, `${where(c)}: resources.${kind} needs cpu and memory`);
      }
      const sc = obj(c.body.securityContext, `${where(c)} securityContext`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${where(c)}: allowPrivilegeEscalation: false`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${where(c)}: readOnlyRootFilesystem: true`);
      const caps = obj(sc.capabilities, `${where(c)} capabilities`);
      assert.deepEqual(caps.drop, ['ALL'], `${where(c)}: drop ALL capabilities`);
      assert.equal(sc.privileged ?? false, false);
      const runAsNonRoot = sc.runAsNonRoot ?? podSecurity.runAsNonRoot;
      const uid = sc.runAsUser ?? podSecurity.runAsUser;
      if (c.longRunning) {
        assert.equal(runAsNonRoot, true, `${where(c)}: runAsNonRoot`);
        assert.notEqual(uid, 0, `${where(c)}: runs as root`);
        assert.equal(caps.add, undefined, `${where(c)}: adds capabilities`);
      } else if (uid === 0) {
        // One-shot root init containers may only fix ownership of a volume.
        assert.deepEqual(caps.add, ['CHOWN'], `${where(c)}: a root init container may add CHOWN only`);
      }
      if (!isTailer(c)) continue;
      tailers++;
      // The idle tailer is ~150 MiB RSS (client-node's code alone ~85 MiB): a lower limit gets it OOM-killed.
      const limit = obj(resources.limits, `${where(c)} resources.limits`).memory;
      assert.ok(mebibytes(String(limit)) >= 256, `${where(c)}: memory limit ${String(limit)} is below 256Mi`);
      const probes = ['livenessProbe', '/healthz', 'readinessProbe', '/ready'] as const;
      for (let i = 0; i < probes.length; i += 2) {
        const get = obj(obj(c.body[probes[i]], `${where(c)} ${probes[i]}`).httpGet, `${where(c)} ${probes[i]}.httpGet`);
        assert.equal(get.path, probes[i + 1], `${where(c)}: ${probes[i]} path`);
        assert.equal(portNumber(c, get.port), HTTP_PORT, `${where(c)}: ${probes[i]} port`);
      }
      const mount = arr(c.body.volumeMounts).find((m) => m.mountPath === DATA_DIR);
      assert.ok(mount, `${where(c)}: mount a volume at ${DATA_DIR}`);
      assert.ok(arr(c.body.volumeMounts).some((m) => m.mountPath === '/tmp'), `${where(c)}: a writable /tmp next to the read-only root`);
      const volume = arr(pod.volumes).find((v) => v.name === mount.name);
      const claim = arr(obj(o.body.spec, 'spec').volumeClaimTemplates).find((t) => obj(t.metadata, 'claim metadata').name === mount.name);
      assert.ok(volume?.emptyDir !== undefined || volume?.hostPath !== undefined || claim !== undefined, `${where(c)}: ${DATA_DIR} needs a volume`);
      if (o.kind === 'DaemonSet') assert.ok(volume?.hostPath, `${where(c)}: the DaemonSet keeps positions on the node (hostPath)`);
    }
  }
  assert.equal(tailers, 4, 'the Deployment, DaemonSet, StatefulSet and sidecar each run one k8s-tailer container');
});

test('each mode passes the right identity and a command line tailer accepts', (t) => {
  const objects = loadManifests();
  const tmp = mkdtempSync(join(tmpdir(), 'tailer-deploy-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const modes: Record<string, string> = {};
  for (const o of objects.filter((x) => WORKLOAD_KINDS.has(x.kind))) {
    for (const c of containersOf(o).filter(isTailer)) {
      const env = containerEnv(c);
      const args = arr(c.body.args).map((a) => expand(c, env, String(a)));
      assert.equal(c.body.command, undefined, `${where(c)}: keep the image's entrypoint`);
      // The config file comes from a mounted ConfigMap: check the file the pod would see.
      const argv = args.map((arg) => {
        const m = /^--config=(.+)$/.exec(arg);
        if (!m) return arg;
        const mount = arr(c.body.volumeMounts).find((v) => m[1].startsWith(`${String(v.mountPath)}/`));
        assert.ok(mount, `${where(c)}: ${m[1]} is not under a volume mount`);
        const volume = arr(podSpec(o).volumes).find((v) => v.name === mount.name);
        const cmName = str(obj(volume?.configMap, `${where(c)} configMap volume`).name);
        const cm = objects.find((x) => x.kind === 'ConfigMap' && x.name === cmName && x.namespace === o.namespace);
        assert.ok(cm, `${where(c)}: ConfigMap ${cmName} is not defined in namespace ${o.namespace}`);
        const key = posix.relative(String(mount.mountPath), m[1]);
        const content = str(obj(cm.body.data, 'data')[key]);
        assert.ok(content, `${where(c)}: ConfigMap ${cmName} has no key ${key}`);
        const file = join(tmp, `${o.name}-${key}`);
        writeFileSync(file, content);
        return `--config=${file}`;
      });
      checkArgv(argv, env, where(c));
      modes[o.file] = args.join(' ');
    }
  }
  assert.match(modes['daemonset.yaml'], /--node-name=node-a/);
  assert.match(modes['statefulset.yaml'], /--shard=2\/3/);
  assert.match(modes['sidecar.yaml'], /--self/);
  assert.doesNotMatch(modes['deployment.yaml'], /--shard|--node-name|--self/);

  const sts = objects.find((o) => o.kind === 'StatefulSet') as K8sObject;
  const shardCount = containerEnv(containersOf(sts).find(isTailer) as Container).SHARD_COUNT;
  assert.equal(Number(shardCount), obj(sts.body.spec, 'spec').replicas, 'SHARD_COUNT must equal the StatefulSet replicas');
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.file === 'deployment.yaml') as K8sObject;
  assert.equal(obj(deployment.body.spec, 'spec').replicas, 1, 'the cluster-wide Deployment must not ship every line twice');
  const sidecar = objects.find((o) => o.file === 'sidecar.yaml' && o.kind === 'Deployment') as K8sObject;
  const sidecarTailer = containersOf(sidecar).find(isTailer) as Container;
  const sidecarEnv = containerEnv(sidecarTailer);
  assert.deepEqual([sidecarEnv.POD_NAME, sidecarEnv.POD_NAMESPACE], [`${sidecar.name}-2`, sidecar.namespace]);
  const sidecarArgs = arr(sidecarTailer.body.args).map((a) => expand(sidecarTailer, sidecarEnv, String(a)));
  const sidecarConfig = resolveConfig(sidecarArgs, { ...imageEnv(), ...sidecarEnv }).config;
  assert.equal(sidecarConfig.selfContainer, sidecarTailer.name, "--self must leave out the tailer's own container (--self-container)");
  const sidecarBinding = objects.find((o) => o.file === 'sidecar.yaml' && o.kind === 'RoleBinding');
  assert.ok(sidecarBinding, 'the sidecar example is bound to a namespaced Role');
});

test('the config file in the ConfigMap uses option names as keys', () => {
  const cm = loadManifests().find((o) => o.kind === 'ConfigMap') as K8sObject;
  const config = obj(parse(String(obj(cm.body.data, 'data')['config.yaml'])), 'config.yaml');
  for (const key of Object.keys(config)) assert.ok(key in OPTIONS, `config.yaml: ${key} is not an option name`);
  for (const key of ['loki-url', 'positions-interval']) assert.ok(key in config, `config.yaml should show ${key}`);
});

function kubectlAvailable(): boolean {
  return ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].some((p) => existsSync(p)) || (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, 'kubectl')));
}

function runKubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('kubectl', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      ok({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

// kubectl's client-side dry run still resolves every kind through discovery and looks each object up. The
// simulated cluster lists the kinds of the manifests, finds none of their objects, and answers any write with
// 405, so a dry run that tried to write would fail here.
test('kubectl apply --dry-run=client accepts every manifest (against the simulated cluster)', { skip: !kubectlAvailable() && 'kubectl is not installed' }, async (t) => {
  const sim = await startSim({ scenario: 'none', tls: true });
  const dir = mkdtempSync(join(tmpdir(), 'tailer-kubectl-'));
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  const result = await runKubectl([
    '--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '--request-timeout', '20s',
    'apply', '--dry-run=client', '--validate=false', '-f', K8S_DIR,
  ]);
  assert.equal(result.code, 0, `kubectl failed:\n${result.stderr}`);
  const lines = new Set(result.stdout.trim().split('\n'));
  const objects = loadManifests();
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
    assert.ok(lines.has(`${o.kind.toLowerCase()}${group}/${o.name} created (dry run)`), `kubectl did not accept ${o.file} ${o.kind}/${o.name}:\n${result.stdout}`);
  }
  // Each object was looked up (and not found), which is what makes kubectl print "created".
  const lookups = sim.stats().requests;
  for (const resource of new Set(objects.map((o) => `${o.kind.toLowerCase()}s`))) {
    assert.ok((lookups[`get ${resource}`] ?? 0) > 0, `kubectl did not look up any ${resource}: ${JSON.stringify(lookups)}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

test('Dockerfile: multi-stage node:24-slim, non-root, data volume, env, entrypoint; every copied path exists', () => {
  const all = dockerfile();
  const froms = all.filter((i) => i.op === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const from of froms) assert.match(from.args, /^node:24-slim\b/);
  assert.ok(all.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)), 'npm ci --omit=dev in the build stage');
  const final = finalStage();
  const last = (op: string): string | undefined => final.filter((i) => i.op === op).at(-1)?.args;
  assert.equal(last('USER'), '10001:10001');
  assert.equal(last('WORKDIR'), '/app');
  assert.deepEqual(JSON.parse(last('VOLUME') ?? 'null'), [DATA_DIR]);
  assert.equal(last('EXPOSE'), String(HTTP_PORT));
  assert.deepEqual(JSON.parse(last('ENTRYPOINT') ?? 'null'), ['node', ...NODE_FLAGS, '/app/src/cli.ts']);
  assert.deepEqual({ ...imageEnv() }, { NODE_ENV: 'production', TAILER_DATA_DIR: DATA_DIR, TAILER_HTTP_LISTEN: `0.0.0.0:${HTTP_PORT}` });
  assert.ok(existsSync(join(ROOT, 'src/cli.ts')), 'the entrypoint src/cli.ts exists');

  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const copied = final.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  assert.deepEqual(new Set(copied), new Set(['package.json', 'package-lock.json', 'src', 'proto', 'bin', 'scripts']));
  for (const path of copied) {
    assert.ok(existsSync(join(ROOT, path)), `COPY ${path}: missing from the build context`);
    assert.ok(!ignored.includes(path), `COPY ${path}: excluded by .dockerignore`);
  }
  for (const heavy of ['node_modules', '.git', '**/*.test.ts']) assert.ok(ignored.includes(heavy), `.dockerignore should exclude ${heavy}`);
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

test('the image has what src/ imports: no test files, no dev dependencies', () => {
  const pkg = obj(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')), 'package.json');
  const deps = new Set(Object.keys(obj(pkg.dependencies, 'dependencies')));
  const files = sourceFiles(join(ROOT, 'src'));
  assert.ok(files.length > 0);
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const specs = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
    for (const spec of specs) {
      const at = `${file.slice(ROOT.length + 1)} imports ${spec}`;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        assert.ok(target.startsWith(join(ROOT, 'src') + '/') || target.startsWith(join(ROOT, 'proto') + '/'), `${at}: outside the copied src/ and proto/`);
        assert.ok(!target.endsWith('.test.ts'), `${at}: test files are not in the image`);
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        assert.ok(deps.has(name), `${at}: not a production dependency (the image runs npm ci --omit=dev)`);
      }
    }
  }
});

test('Dockerfile HEALTHCHECK probes /healthz on the port of TAILER_HTTP_LISTEN, and fails when nothing answers', async () => {
  const check = finalStage().find((i) => i.op === 'HEALTHCHECK');
  assert.ok(check, 'HEALTHCHECK is missing');
  const cmd = JSON.parse(check.args.slice(check.args.indexOf('CMD') + 3).trim()) as string[];
  assert.equal(cmd[0], 'node', 'the slim image has no curl: probe with node');

  const server = await startHttpServer({ listen: '127.0.0.1:0', metrics: new Metrics({ defaultMetrics: false }), ready: () => false });
  const port = new URL(server.url).port;
  const run = (listen: string): Promise<number> =>
    new Promise((ok) => {
      execFile(process.execPath, cmd.slice(1), { env: { ...process.env, TAILER_HTTP_LISTEN: listen }, timeout: 10_000 }, (err) =>
        ok(err ? (typeof err.code === 'number' ? err.code : 1) : 0),
      );
    });
  try {
    assert.equal(await run(`0.0.0.0:${port}`), 0, 'healthy server');
  } finally {
    await server.close();
  }
  assert.equal(await run(`0.0.0.0:${port}`), 1, 'closed port');
});

// ---------------------------------------------------------------------------------------------------------------
// docker compose, Prometheus, Loki, Grafana

interface Compose {
  services: Record<string, Obj>;
}

function readCompose(file: string): Compose {
  const compose = obj(readYamlDocs(join(ROOT, file))[0], file) as unknown as Compose;
  obj(compose.services, `${file} services`);
  return compose;
}

/** Bind mounts `./host:/container[:ro]` of a service as [host path (absolute), container path]. */
function bindMounts(service: Obj): [string, string][] {
  return (service.volumes as string[] | undefined ?? [])
    .map((v) => v.split(':'))
    .filter(([source]) => source.startsWith('.') || source.startsWith('/') || source.startsWith('$'))
    .map(([source, target]) => [source.startsWith('.') ? join(ROOT, source) : source, target]);
}

test('docker-compose.yml: services, build context, and every mounted file exists', () => {
  const { services } = readCompose('docker-compose.yml');
  assert.deepEqual(Object.keys(services).sort(), ['grafana', 'loki', 'prometheus', 'tailer']);
  assert.match(String(services.loki.image), /^grafana\/loki:3\./);
  const build = services.tailer.build;
  const context = typeof build === 'string' ? build : str(obj(build, 'build').context) ?? '.';
  assert.ok(statSync(join(ROOT, context, 'Dockerfile')).isFile(), 'the build context holds the Dockerfile');
  for (const [name, service] of Object.entries(services)) {
    for (const [host] of bindMounts(service)) assert.ok(existsSync(host), `${name} mounts ${host}, which does not exist`);
  }
  const command = services.tailer.command as string[];
  assert.deepEqual(command, ['--sim', '--sim-scenario', 'steady', '-A', '--loki-url', 'http://loki:3100']);
  checkArgv(command, {}, 'docker-compose.yml tailer');
  assert.ok((services.tailer.ports as string[]).includes(`${HTTP_PORT}:${HTTP_PORT}`));
  assert.equal(services.tailer.read_only, true);
  assert.ok((services.tailer.volumes as string[]).some((v) => v.endsWith(`:${DATA_DIR}`)), 'a volume for the data dir');
});

test('docker-compose.kubeconfig.yml mounts the kubeconfig read-only and points --kubeconfig at it', () => {
  const { services } = readCompose('docker-compose.kubeconfig.yml');
  const tailer = services.tailer;
  const mount = (tailer.volumes as string[]).find((v) => v.startsWith('${HOME}/.kube/config:'));
  assert.ok(mount, 'mounts ${HOME}/.kube/config');
  const [, target, mode] = mount.split(':');
  assert.equal(mode, 'ro');
  const command = tailer.command as string[];
  assert.equal(command[command.indexOf('--kubeconfig') + 1], target);
  assert.ok(!command.includes('--sim'));
  checkArgv(command, {}, 'docker-compose.kubeconfig.yml tailer');
});

test('Prometheus scrapes the tailer service on its HTTP port; Loki runs schema v13 with structured metadata', () => {
  const prometheus = obj(parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')), 'prometheus.yml');
  const targets = arr(prometheus.scrape_configs).flatMap((s) => arr(s.static_configs).flatMap((c) => c.targets as string[]));
  assert.ok(targets.includes(`tailer:${HTTP_PORT}`));
  const loki = obj(parse(readFileSync(join(ROOT, 'deploy/loki/local-config.yaml'), 'utf8')), 'loki config');
  assert.equal(obj(loki.limits_config, 'limits_config').allow_structured_metadata, true);
  const schemas = arr(obj(loki.schema_config, 'schema_config').configs);
  assert.equal(schemas.at(-1)?.schema, 'v13');
  assert.equal(schemas.at(-1)?.store, 'tsdb');
});

function grafanaPaths(): { datasources: Obj[]; dashboardDirs: string[] } {
  const { services } = readCompose('docker-compose.yml');
  const mounts = bindMounts(services.grafana);
  // Maps a path inside the Grafana container back to the repository through the compose bind mounts.
  const local = (inside: string): string => {
    const mount = mounts.find(([, target]) => inside === target || inside.startsWith(`${target}/`));
    assert.ok(mount, `${inside} is not mounted into the grafana service`);
    return join(mount[0], inside.slice(mount[1].length));
  };
  const provisioning = local('/etc/grafana/provisioning');
  const ds = obj(parse(readFileSync(join(provisioning, 'datasources/datasources.yaml'), 'utf8')), 'datasources.yaml');
  const db = obj(parse(readFileSync(join(provisioning, 'dashboards/dashboards.yaml'), 'utf8')), 'dashboards.yaml');
  const dashboardDirs = arr(db.providers).map((p) => local(String(obj(p.options, 'provider options').path)));
  return { datasources: arr(ds.datasources), dashboardDirs };
}

test('Grafana provisioning: Loki and Prometheus with fixed uids; the dashboards path holds the dashboard', () => {
  const { datasources, dashboardDirs } = grafanaPaths();
  const byUid = new Map(datasources.map((d) => [d.uid, d]));
  assert.equal(byUid.get('loki')?.type, 'loki');
  assert.equal(byUid.get('loki')?.url, 'http://loki:3100');
  assert.equal(byUid.get('prometheus')?.type, 'prometheus');
  assert.equal(byUid.get('prometheus')?.url, 'http://prometheus:9090');
  assert.ok(dashboardDirs.length > 0);
  for (const dir of dashboardDirs) assert.ok(existsSync(join(dir, 'k8s-tailer.json')), `${dir} lacks k8s-tailer.json`);
});

/** Metric names in a PromQL expression: what is left after strings, label matchers, ranges and groupings go. */
function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
  return [...stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !keywords.has(m[1].toLowerCase()))
    .map((m) => m[1]);
}

test('promqlMetricNames', () => {
  assert.deepEqual(promqlMetricNames('sum by (le, sink) (rate(tailer_push_duration_seconds_bucket{job=~"$job",a="b(c)"}[$__rate_interval]))'), ['tailer_push_duration_seconds_bucket']);
  assert.deepEqual(promqlMetricNames('sum(increase(tailer_gaps_total[$__range])) or vector(0)'), ['tailer_gaps_total']);
  assert.deepEqual(promqlMetricNames('a_total / on(instance) b_bytes > 0'), ['a_total', 'b_bytes']);
});

test('the dashboard: every query uses a provisioned data source, and PromQL only metrics k8s-tailer exports', async () => {
  const { datasources, dashboardDirs } = grafanaPaths();
  const uids = new Set(datasources.map((d) => d.uid));
  const dashboard = obj(JSON.parse(readFileSync(join(dashboardDirs[0], 'k8s-tailer.json'), 'utf8')), 'dashboard');
  const exported = new Set(new Metrics().registry.getMetricsAsArray().map((m) => m.name));
  assert.ok(METRIC_NAMES.every((n) => exported.has(n)));
  const known = (name: string): boolean => exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ''));

  const exprs: string[] = [];
  const lokiExprs: string[] = [];
  const panels = arr(dashboard.panels).flatMap((p) => [p, ...arr(p.panels)]);
  for (const panel of panels.filter((p) => p.type !== 'row')) {
    const targets = arr(panel.targets);
    assert.ok(targets.length > 0, `panel ${String(panel.title)} has no queries`);
    for (const target of targets) {
      const ds = obj(target.datasource ?? panel.datasource, `panel ${String(panel.title)} datasource`);
      assert.ok(uids.has(ds.uid), `panel ${String(panel.title)}: data source uid ${String(ds.uid)} is not provisioned`);
      (ds.type === 'loki' ? lokiExprs : exprs).push(String(target.expr));
    }
  }
  for (const variable of arr(obj(dashboard.templating, 'templating').list)) {
    const query = obj(variable.query, 'variable query');
    const m = /^label_values\((\w+),\s*\w+\)$/.exec(String(query.query));
    assert.ok(m, `variable ${String(variable.name)}: expected label_values(metric, label)`);
    exprs.push(m[1]);
  }
  const used = new Set(exprs.flatMap(promqlMetricNames));
  for (const name of used) assert.ok(known(name), `the dashboard queries ${name}, which k8s-tailer does not export`);
  const core = [
    'tailer_lines_read_total', 'tailer_bytes_read_total', 'tailer_sink_lines_sent_total', 'tailer_sink_bytes_sent_total',
    'tailer_max_lag_seconds', 'tailer_target_lag_seconds_bucket', 'tailer_reconnects_total', 'tailer_dropped_lines_total',
    'tailer_buffered_bytes', 'tailer_spool_bytes', 'tailer_open_streams', 'tailer_targets', 'tailer_push_duration_seconds_bucket',
  ];
  for (const name of core) assert.ok(used.has(name), `the dashboard should chart ${name}`);
  assert.ok(lokiExprs.includes('{namespace=~".+"}'), 'a logs panel of every namespace');
  assert.ok(panels.some((p) => p.type === 'logs'));
});

test('every launcher runs node with the same flags (src/node-flags.ts)', () => {
  const flags = NODE_FLAGS.join(' ');
  assert.match(readFileSync(join(ROOT, 'bin/tailer'), 'utf8'), new RegExp(`scripts/node" ${flags} "\\$root/src/cli.ts"`));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `scripts/node ${flags} src/cli.ts`);
  for (const script of ['bench/children.ts', 'scripts/soak.ts', 'scripts/verify.ts']) {
    assert.match(readFileSync(join(ROOT, script), 'utf8'), /\.\.\.NODE_FLAGS, /, `${script} starts the tailer with NODE_FLAGS`);
  }
});

/** A Kubernetes memory quantity (Ki, Mi, Gi or plain bytes) in MiB. */
function mebibytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  assert.ok(m, `memory quantity ${q}`);
  const scale = { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[m[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1 / (1024 * 1024);
  return Number(m[1]) * scale;
}
