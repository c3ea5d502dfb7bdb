import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, configCheckCommand, helpText, parseConfig } from './config.ts';
import { OPTION_NAMES, OPTIONS } from './config/options.ts';

const dir = mkdtempSync(join(tmpdir(), 'tailer-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function yamlFile(text: string): string {
  const path = join(dir, `config-${files++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `more than one line: ${err.message}`);
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(argv)}`);
}

async function check(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await configCheckCommand(argv, env, {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
  });
  return { code, out, err };
}

test('defaults: parsed values, stdout as the output when no Loki is given', () => {
  const c = parseConfig([], {});
  assert.equal(c.stallTimeout, 300_000);
  assert.equal(c.maxStreamAge, 3_600_000);
  assert.ok(c.since > 0 && c.since < 3_600_000, 'since stays inside Loki’s 1h window');
  assert.equal(c.maxLineBytes, 256_000);
  assert.equal(c.lokiBatchBytes, 1024 * 1024);
  assert.equal(c.lokiBatchWait, 1000);
  assert.equal(c.lokiTimeout, 10_000);
  assert.equal(c.maxBufferBytes, 64 * 1024 * 1024);
  assert.equal(c.spoolMaxBytes, 1024 ** 3);
  assert.equal(c.spoolDir, undefined);
  assert.equal(c.httpListen, '127.0.0.1:9080');
  assert.equal(c.logFormat, 'auto');
  assert.equal(c.status, 'auto');
  assert.equal(c.simScenario, 'steady');
  assert.deepEqual(c.namespace, []);
  assert.deepEqual(c.lokiUrl, []);
  assert.deepEqual(c.label, {});
  assert.equal(c.outputFile, '-');
  assert.equal(c.positionsFile, join('.tailer', 'positions.json'));
  assert.equal(c.help, false);
});

test('precedence per type: flag over env over file over default', () => {
  const file = yamlFile(
    ['since: 20m', 'max-concurrent-opens: 4', 'max-buffer-bytes: 8MiB', 'namespace: [file-a, file-b]',
      'sim: true', 'log-level: debug', 'label: {team: file}', 'context: file-ctx'].join('\n'),
  );
  const env = {
    TAILER_CONFIG: file,
    TAILER_SINCE: '10m',
    TAILER_MAX_CONCURRENT_OPENS: '8',
    TAILER_NAMESPACE: 'env-a,env-b',
    TAILER_SIM: 'false',
    TAILER_LABEL: 'team=env',
  };
  const fromFile = parseConfig([], { TAILER_CONFIG: file });
  assert.equal(fromFile.since, 1_200_000);
  assert.equal(fromFile.maxConcurrentOpens, 4);
  assert.deepEqual(fromFile.namespace, ['file-a', 'file-b']);
  assert.equal(fromFile.sim, true);
  assert.deepEqual(fromFile.label, { team: 'file' });

  const fromEnv = parseConfig([], env);
  assert.equal(fromEnv.since, 600_000);
  assert.equal(fromEnv.maxConcurrentOpens, 8);
  assert.deepEqual(fromEnv.namespace, ['env-a', 'env-b']);
  assert.equal(fromEnv.sim, false);
  assert.deepEqual(fromEnv.label, { team: 'env' });
  assert.equal(fromEnv.maxBufferBytes, 8 * 1024 * 1024, 'the file still counts where env says nothing');
  assert.equal(fromEnv.logLevel, 'debug');
  assert.equal(fromEnv.context, 'file-ctx');

  const fromFlags = parseConfig(
    ['--since', '5m', '--max-concurrent-opens=2', '-n', 'flag-a', '--sim', '--label', 'team=flag', '--log-level', 'warn'],
    env,
  );
  assert.equal(fromFlags.since, 300_000);
  assert.equal(fromFlags.maxConcurrentOpens, 2);
  assert.deepEqual(fromFlags.namespace, ['flag-a'], 'a list from a higher source replaces, not extends');
  assert.equal(fromFlags.sim, true);
  assert.deepEqual(fromFlags.label, { team: 'flag' });
  assert.equal(fromFlags.logLevel, 'warn');
  assert.equal(fromFlags.stallTimeout, 300_000, 'untouched options keep their defaults');
});

test('--config flag wins over TAILER_CONFIG', () => {
  const a = yamlFile('since: 1m');
  const b = yamlFile('since: 2m');
  assert.equal(parseConfig(['--config', b], { TAILER_CONFIG: a }).since, 120_000);
  assert.equal(parseConfig([], { TAILER_CONFIG: a }).config, a);
});

test('empty environment variables count as unset', () => {
  assert.equal(parseConfig([], { TAILER_SINCE: '' }).since, parseConfig([], {}).since);
});

test('repeatable options and comma lists', () => {
  const c = parseConfig(
    ['-n', 'a,b', '--namespace', 'c', '--namespace=d', '--loki-url', 'http://l1:3100', '--loki-url=https://l2/custom/push',
      '--label', 'cluster=prod', '--label', 'env=dev', '--label-map', 'app.kubernetes.io/version=version'],
    {},
  );
  assert.deepEqual(c.namespace, ['a', 'b', 'c', 'd']);
  assert.deepEqual(c.lokiUrl, ['http://l1:3100/loki/api/v1/push', 'https://l2/custom/push']);
  assert.deepEqual(c.label, { cluster: 'prod', env: 'dev' });
  assert.deepEqual(c.labelMap, { 'app.kubernetes.io/version': 'version' });
  assert.equal(c.outputFile, undefined, 'with Loki there is no default file output');

  const env = parseConfig([], { TAILER_LOKI_URL: 'http://a:3100,http://b:3100', TAILER_LABEL: 'x=1,y=2' });
  assert.deepEqual(env.lokiUrl, ['http://a:3100/loki/api/v1/push', 'http://b:3100/loki/api/v1/push']);
  assert.deepEqual(env.label, { x: '1', y: '2' });

  const file = yamlFile('namespace: shop\nloki-url: [http://a:3100]\nlabel: [k=v]\nlabel-map: {app: application}\n');
  const f = parseConfig(['--config', file], {});
  assert.deepEqual(f.namespace, ['shop']);
  assert.deepEqual(f.label, { k: 'v' });
  assert.deepEqual(f.labelMap, { app: 'application' });
});

test('single-valued flags: the last one wins', () => {
  assert.equal(parseConfig(['--since', '1m', '--since', '2m'], {}).since, 120_000);
});

test('alias --refresh-interval sets --max-stream-age, from flags, env and file', () => {
  assert.equal(parseConfig(['--refresh-interval', '30m'], {}).maxStreamAge, 1_800_000);
  assert.equal(parseConfig([], { TAILER_REFRESH_INTERVAL: '20m' }).maxStreamAge, 1_200_000);
  assert.equal(parseConfig([], { TAILER_CONFIG: yamlFile('refresh-interval: 10m') }).maxStreamAge, 600_000);
  assert.match(
    configError([], { TAILER_CONFIG: yamlFile('refresh-interval: 10m\nmax-stream-age: 20m') }),
    /max-stream-age: same option as refresh-interval/,
  );
});

test('booleans: --x, --x=true|false, --no-x, env and file', () => {
  assert.equal(parseConfig(['--sim'], {}).sim, true);
  assert.equal(parseConfig(['--sim=false'], {}).sim, false);
  assert.equal(parseConfig(['--sim=true'], {}).sim, true);
  assert.equal(parseConfig(['--no-sim'], { TAILER_SIM: 'true' }).sim, false);
  assert.equal(parseConfig([], { TAILER_SIM: 'true' }).sim, true);
  assert.equal(parseConfig(['-A'], {}).allNamespaces, true);
  assert.equal(parseConfig([], { TAILER_CONFIG: yamlFile('loki-insecure-skip-verify: true') }).lokiInsecureSkipVerify, true);
  assert.equal(parseConfig(['--status'], {}).status, true);
  assert.equal(parseConfig(['--no-status'], {}).status, false);
  assert.equal(parseConfig(['--status=auto'], {}).status, 'auto');
  assert.equal(configError(['--sim=maybe']), 'config error: --sim: expected true or false, got "maybe"');
  assert.equal(configError(['--no-sim=true']), 'config error: --no-sim takes no value; use --sim=true');
  assert.match(configError(['--sim', 'yes']), /unexpected argument "yes"/, 'a switch never eats the next argument');
});

test('unknown flags name the flag and suggest the closest one', () => {
  assert.equal(configError(['--loki-ur', 'http://x']), 'config error: unknown flag --loki-ur; did you mean --loki-url?');
  assert.equal(configError(['--namepsace=a']), 'config error: unknown flag --namepsace; did you mean --namespace?');
  assert.equal(configError(['--nostatus']), 'config error: unknown flag --nostatus; did you mean --no-status?');
  assert.equal(configError(['--refresh-intervl=1h']), 'config error: unknown flag --refresh-intervl; did you mean --refresh-interval?');
  assert.equal(
    configError(['--no-since']),
    'config error: unknown flag --no-since; --since is not a switch, give it a value: --since DUR',
  );
  assert.equal(configError(['--completely-different']), 'config error: unknown flag --completely-different; see tailer --help');
  assert.equal(configError(['-x']), 'config error: unknown flag -x; see tailer --help');
  assert.match(configError(['stray']), /^config error: unexpected argument "stray"/);
});

test('flags that need a value say so', () => {
  assert.equal(configError(['--since']), 'config error: --since needs a value; use --since DUR');
  assert.equal(configError(['-n', '--sim']), 'config error: -n needs a value; use -n NS');
  assert.equal(parseConfig(['-o', '-'], {}).outputFile, '-', 'a lone dash is a value');
  assert.deepEqual(parseConfig(['-nshop'], {}).namespace, ['shop']);
  assert.deepEqual(parseConfig(['-n=shop'], {}).namespace, ['shop']);
});

test('wrong types name the source, the key and the expected type', () => {
  assert.equal(
    configError(['--loki-batch-wait', 'fast']),
    'config error: --loki-batch-wait: invalid duration "fast": use a number with ms, s, m or h, like 500ms, 5s, 10m, 1h or 1h30m',
  );
  assert.match(configError([], { TAILER_MAX_BUFFER_BYTES: 'lots' }), /^config error: TAILER_MAX_BUFFER_BYTES: invalid size "lots": use/);
  assert.equal(
    configError(['--max-concurrent-opens', 'many']),
    'config error: --max-concurrent-opens: expected an integer of at least 1, got "many"',
  );
  assert.equal(configError(['--max-concurrent-opens', '0']), 'config error: --max-concurrent-opens: expected an integer of at least 1, got "0"');
  assert.equal(configError(['--output-format', 'xml']), 'config error: --output-format: expected one of text, json, got "xml"');
  assert.equal(configError(['--stall-timeout', '0s']), 'config error: --stall-timeout: duration "0s" is too short: use at least 1ms');
  assert.match(configError(['--loki-url', 'ftp://x']), /^config error: --loki-url: URL "ftp:\/\/x" must start with http:\/\/ or https:\/\//);
  assert.match(configError(['--loki-url', 'http://user:hunter2@[bad']), /^config error: --loki-url: invalid URL "http:\/\/\*\*\*@\[bad"/);
  assert.match(configError(['-n', 'Shop']), /^config error: -n: invalid namespace "Shop"/);
  assert.match(configError(['--http-listen', 'nope']), /^config error: --http-listen: expected host:port/);
  assert.match(configError(['--label', 'noequals']), /^config error: --label: expected name=value like cluster=prod/);
  assert.match(configError(['--label', '__x=1']), /reserved/);
  assert.match(configError(['--label', 'a=1', '--label', 'a=2']), /^config error: --label: a is given twice$/);
  assert.match(configError(['--label-map', 'a=x', '--label-map', 'b=x']), /^config error: --label-map: a and b both map to x$/);
  assert.match(configError(['--label-map', 'bad key=x']), /invalid pod label key "bad key"/);
});

test('config file errors: path, key (with sub-path) and expected type, one line each', () => {
  const bad = yamlFile('loki-batch-wait: fast\n');
  assert.equal(
    configError(['--config', bad]),
    `config error: ${bad}: loki-batch-wait: invalid duration "fast": use a number with ms, s, m or h, like 500ms, 5s, 10m, 1h or 1h30m`,
  );
  const unknown = yamlFile('loki-ur: [http://x]\n');
  assert.equal(configError(['--config', unknown]), `config error: ${unknown}: loki-ur: unknown key; did you mean loki-url?`);
  const nested = yamlFile('namespace: [a, 5]\n');
  assert.equal(configError(['--config', nested]), `config error: ${nested}: namespace[1]: expected a namespace name, got number 5`);
  const mapValue = yamlFile('label:\n  team: {x: 1}\n');
  assert.equal(configError(['--config', mapValue]), `config error: ${mapValue}: label.team: expected a string, got a mapping`);
  const badLabel = yamlFile('label:\n  9lives: x\n');
  assert.match(configError(['--config', badLabel]), new RegExp(`^config error: ${bad.replace(/[^/]+$/, '')}.*: label\\.9lives: invalid Loki label name`));
  const wrongKind = yamlFile('sim: "maybe"\nsince: 5\n');
  assert.equal(configError(['--config', wrongKind]), `config error: ${wrongKind}: sim: expected true or false, got "maybe"`);
  const number = yamlFile('since: 5\n');
  assert.equal(configError(['--config', number]), `config error: ${number}: since: expected a duration like 5s or 10m, got number 5`);
  const list = yamlFile('context: [a]\n');
  assert.equal(configError(['--config', list]), `config error: ${list}: context: expected a context name, got a list`);
  const notMapping = yamlFile('- a\n- b\n');
  assert.match(configError(['--config', notMapping]), /: expected a mapping of option: value at the top level/);
  const broken = yamlFile('since: [1m\n');
  assert.match(configError(['--config', broken]), new RegExp(`^config error: ${broken}: invalid YAML: .*line`));
  const duplicate = yamlFile('since: 1m\nsince: 2m\n');
  assert.match(configError(['--config', duplicate]), /invalid YAML: Map keys must be unique/);
  const flagOnly = yamlFile('help: true\n');
  assert.match(configError(['--config', flagOnly]), /help: unknown key/);
  const configKey = yamlFile(`config: ${bad}\n`);
  assert.equal(configError(['--config', configKey]), `config error: ${configKey}: config: not allowed in the config file; give --config as a flag`);
  assert.match(configError(['--config', join(dir, 'missing.yaml')]), /missing\.yaml: cannot read the config file: ENOENT$/);
});

test('config file: sizes may be plain byte counts, null means unset, an empty file is fine', () => {
  const c = parseConfig(['--config', yamlFile('max-buffer-bytes: 1048576\nkubeconfig:\nspool-dir: null\n')], {});
  assert.equal(c.maxBufferBytes, 1_048_576);
  assert.equal(c.kubeconfig, undefined);
  assert.equal(parseConfig(['--config', yamlFile('')], {}).since, parseConfig([], {}).since);
});

test('namespace selection conflicts', () => {
  assert.equal(configError(['-A', '-n', 'shop']), 'config error: -A and -n conflict: give one of them');
  assert.equal(
    configError(['--all-namespaces'], { TAILER_NAMESPACE: 'shop' }),
    'config error: --all-namespaces and TAILER_NAMESPACE conflict: give one of them',
  );
});

test('--self needs POD_NAME and POD_NAMESPACE, and follows only its own namespace', () => {
  assert.equal(
    configError(['--self']),
    'config error: --self needs POD_NAME and POD_NAMESPACE in the environment: set them from the downward API (metadata.name, metadata.namespace)',
  );
  assert.match(configError(['--self'], { POD_NAME: 'p' }), /--self needs POD_NAMESPACE in the environment/);
  assert.match(configError(['--self', '-A'], { POD_NAME: 'p', POD_NAMESPACE: 'shop' }), /--self and -A conflict/);
  assert.match(configError(['--self', '-n', 'other'], { POD_NAME: 'p', POD_NAMESPACE: 'shop' }), /--self and -n conflict/);
  const c = parseConfig(['--self'], { POD_NAME: 'web-1', POD_NAMESPACE: 'shop' });
  assert.equal(c.self, true);
  assert.deepEqual(c.selfPod, { pod: 'web-1', namespace: 'shop' });
  assert.deepEqual(c.namespace, ['shop']);
});

test('--node-name defaults to NODE_NAME; TAILER_NODE_NAME and the flag win', () => {
  assert.equal(parseConfig([], { NODE_NAME: 'n1' }).nodeName, 'n1');
  assert.equal(parseConfig([], { NODE_NAME: 'n1', TAILER_NODE_NAME: 'n2' }).nodeName, 'n2');
  assert.equal(parseConfig(['--node-name', 'n3'], { NODE_NAME: 'n1' }).nodeName, 'n3');
  assert.equal(parseConfig([], {}).nodeName, undefined);
});

test('derived defaults: positions file under the data dir, http listener can be disabled', () => {
  assert.equal(parseConfig(['--data-dir', '/var/lib/tailer'], {}).positionsFile, '/var/lib/tailer/positions.json');
  assert.equal(parseConfig(['--data-dir', '/d', '--positions-file', '/p.json'], {}).positionsFile, '/p.json');
  assert.equal(parseConfig(['--http-listen='], {}).httpListen, '');
  assert.equal(parseConfig([], { TAILER_CONFIG: yamlFile('http-listen: ""') }).httpListen, '');
  assert.equal(parseConfig(['--http-listen', '[::1]:0'], {}).httpListen, '[::1]:0');
});

test('secret files must be readable, in pairs, and are never read into messages', () => {
  const token = join(dir, 'token');
  writeFileSync(token, 's3cr3t-token');
  assert.equal(parseConfig(['--loki-url', 'http://l', '--loki-bearer-token-file', token], {}).lokiBearerTokenFile, token);
  const missing = configError(['--loki-url', 'http://l', '--loki-bearer-token-file', join(dir, 'nope')]);
  assert.match(missing, /^config error: --loki-bearer-token-file: cannot read .*nope: ENOENT$/);
  assert.match(configError(['--loki-ca-file', dir]), /--loki-ca-file: cannot read .*: not a regular file$/);
  assert.match(configError(['--loki-basic-auth-user', 'u']), /--loki-basic-auth-user needs --loki-basic-auth-password-file/);
  assert.match(configError(['--loki-basic-auth-password-file', token]), /needs --loki-basic-auth-user/);
  assert.match(
    configError(['--loki-basic-auth-user', 'u', '--loki-basic-auth-password-file', token, '--loki-bearer-token-file', token]),
    /--loki-basic-auth-user and --loki-bearer-token-file conflict/,
  );
  assert.doesNotMatch(configError(['--config', token]), /s3cr3t/, 'a secret passed as the config file stays unprinted');
});

test('--help and --version work whatever the environment holds', () => {
  const c = parseConfig(['--help'], { TAILER_SINCE: 'garbage', TAILER_CONFIG: join(dir, 'missing.yaml') });
  assert.equal(c.help, true);
  assert.equal(parseConfig(['--version'], { TAILER_SINCE: 'garbage' }).version, true);
  assert.equal(parseConfig(['-h'], {}).help, true);
});

test('help text lists every option, its short form, aliases and defaults', () => {
  const help = helpText();
  for (const name of OPTION_NAMES) assert.match(help, new RegExp(`--(\\[no-\\])?${name}\\b`), name);
  for (const short of ['-n, --namespace', '-A, --all-namespaces', '-l, --selector', '-o, --output-file', '-h, --help']) {
    assert.ok(help.includes(short), short);
  }
  assert.ok(help.includes('alias --refresh-interval'));
  assert.ok(help.includes('default 5m'));
  assert.ok(help.includes('TAILER_'));
  for (const line of help.split('\n')) assert.ok(line.length <= 100, `too long: ${line}`);
});

test('config check: effective config as YAML with origins, secrets masked, exit 0', async () => {
  const token = join(dir, 'password');
  writeFileSync(token, 'hunter2-secret');
  const file = yamlFile('loki-url: [https://user:pa55word@loki.example:3100]\nloki-basic-auth-user: bob\nsince: 20m\n');
  const { code, out, err } = await check(
    [file, '-n', 'shop', '--loki-basic-auth-password-file', token],
    { TAILER_LOKI_BATCH_WAIT: '2s' },
  );
  assert.equal(err, '');
  assert.equal(code, 0);
  assert.doesNotMatch(out, /pa55word|hunter2/);
  assert.match(out, /https:\/\/\*\*\*@loki\.example:3100\/loki\/api\/v1\/push/);
  assert.match(out, /loki-batch-wait: 2s # from TAILER_LOKI_BATCH_WAIT/);
  assert.match(out, /since: 20m # from the file/);
  assert.match(out, /# from -n\nnamespace:\n {2}- shop/);
  assert.ok(out.includes(`loki-basic-auth-password-file: ${token}`), 'the secret file is named, not read');
  const shown = parseYaml(out) as Record<string, unknown>;
  for (const name of OPTION_NAMES) {
    const spec = OPTIONS[name];
    if (spec.flagOnly !== true && spec.noFile !== true) assert.ok(name in shown, `${name} missing from the output`);
  }
});

test('config check output reads back as the same configuration', async () => {
  const file = yamlFile('namespace: [a, b]\nmax-line-bytes: 1000\nlabel: {cluster: prod}\nspool-dir: /spool\nstatus: false\n');
  const { out } = await check([file, '--since', '90s', '--label-map', 'app=application', '--max-buffer-bytes', '1MB']);
  const again = yamlFile(out);
  assert.deepEqual(parseConfig(['--config', again], {}), { ...parseConfig(['--config', file, '--since', '90s', '--label-map', 'app=application', '--max-buffer-bytes', '1MB'], {}), config: again });
});

test('config check: errors are one line on stderr, exit 2', async () => {
  const bad = yamlFile('since: soon\n');
  const { code, out, err } = await check([bad]);
  assert.equal(code, 2);
  assert.equal(out, '');
  assert.match(err, new RegExp(`^tailer: config error: ${bad}: since: invalid duration "soon".*\n$`));
  assert.equal((await check([bad, 'extra'])).code, 2);
});

test('name lists and shards, from flags, env and file', () => {
  const c = parseConfig(['--include-pods', 'web,/^api-\\d+$/', '--exclude-containers=istio-proxy', '--shard', '1/3'], {});
  assert.ok(c.includePods?.test('web') && c.includePods.test('api-12'));
  assert.equal(c.includePods?.test('db'), false);
  assert.equal(c.excludeContainers?.test('istio-proxy'), true);
  assert.equal(c.excludePods, undefined);
  assert.deepEqual(c.shard, { index: 1, count: 3 });
  assert.equal(parseConfig([], { TAILER_INCLUDE_CONTAINERS: 'app,/side/' }).includeContainers?.test('sidecar'), true);
  const f = parseConfig(['--config', yamlFile('exclude-pods: [debug, "/^tmp-/"]\nshard: 0/2\n')], {});
  assert.equal(f.excludePods?.test('tmp-1'), true);
  assert.equal(f.excludePods?.source, 'debug,/^tmp-/');
  assert.deepEqual(f.shard, { index: 0, count: 2 });
  assert.match(configError(['--shard', '3/3']), /^config error: --shard: invalid shard "3\/3": use INDEX\/COUNT/);
  assert.match(configError(['--include-pods', '/(/']), /^config error: --include-pods: invalid regular expression/);
  const bad = yamlFile('include-pods: {a: 1}\n');
  assert.match(configError(['--config', bad]), /include-pods: expected names and \/regex\/ items.*got a mapping$/);
});

test('config check shows name lists and shards as written', async () => {
  const { code, out } = await check(['--include-pods', 'web,/^api-/', '--shard', '2/4']);
  assert.equal(code, 0);
  assert.match(out, /include-pods: web,\/\^api-\/ # from --include-pods/);
  assert.match(out, /shard: 2\/4 # from --shard/);
  const again = parseConfig(['--config', yamlFile(out)], {});
  assert.equal(again.includePods?.source, 'web,/^api-/');
  assert.deepEqual(again.shard, { index: 2, count: 4 });
});

test('--sim-scenario takes only known scenarios', () => {
  assert.equal(parseConfig(['--sim-scenario', 'churn'], {}).simScenario, 'churn');
  assert.match(configError(['--sim-scenario', 'nope']), /^config error: --sim-scenario: expected one of none, steady, .*got "nope"$/);
});

test('config check --help prints the help', async () => {
  const { code, out } = await check(['--help']);
  assert.equal(code, 0);
  assert.equal(out, helpText());
});
