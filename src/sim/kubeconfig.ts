// The kubeconfig that points kubectl and client-node at the simulator (context `sim`).

export interface KubeconfigOptions {
  url: string;
  token: string;
  /** PEM of the CA for an https URL; plain http gets insecure-skip-tls-verify, which client-node requires for http. */
  caCert?: string;
  namespace?: string;
}

export function kubeconfigYaml(opts: KubeconfigOptions): string {
  const trust = opts.caCert === undefined
    ? '    insecure-skip-tls-verify: true'
    : `    certificate-authority-data: ${Buffer.from(opts.caCert).toString('base64')}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sim',
    '  cluster:',
    `    server: ${opts.url}`,
    trust,
    'contexts:',
    '- name: sim',
    '  context:',
    '    cluster: sim',
    '    user: sim',
    `    namespace: ${opts.namespace ?? 'default'}`,
    'current-context: sim',
    'users:',
    '- name: sim',
    '  user:',
    `    token: ${opts.token}`,
    '',
  ].join('\n');
}
