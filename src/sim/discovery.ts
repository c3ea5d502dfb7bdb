// Discovery documents: the core API with pods, and the kinds the deploy manifests use, which the sim has no
// objects of. kubectl resolves every kind through discovery and looks each object up before a client-side dry
// run, so these kinds are listed and a GET of one of their objects answers 404 NotFound.

export interface ResourceInfo {
  readonly name: string;
  readonly singularName: string;
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
}

const empty = (name: string, kind: string, namespaced: boolean, shortNames?: string[]): ResourceInfo => ({
  name, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['get'], ...(shortNames === undefined ? {} : { shortNames }),
});

/** Served resources by groupVersion (`v1` is the core group under /api). */
const RESOURCES: Readonly<Record<string, readonly ResourceInfo[]>> = {
  v1: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'watch'], shortNames: ['po'], categories: ['all'] },
    { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
    empty('serviceaccounts', 'ServiceAccount', true, ['sa']),
    empty('configmaps', 'ConfigMap', true, ['cm']),
    empty('services', 'Service', true, ['svc']),
    empty('persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc']),
  ],
  'apps/v1': [
    empty('deployments', 'Deployment', true, ['deploy']),
    empty('daemonsets', 'DaemonSet', true, ['ds']),
    empty('statefulsets', 'StatefulSet', true, ['sts']),
  ],
  'rbac.authorization.k8s.io/v1': [
    empty('roles', 'Role', true),
    empty('rolebindings', 'RoleBinding', true),
    empty('clusterroles', 'ClusterRole', false),
    empty('clusterrolebindings', 'ClusterRoleBinding', false),
  ],
};

/** Resources of the core group the sim keeps objects of; every other listed resource is always empty. */
const POPULATED = new Set(['v1 pods', 'v1 pods/log', 'v1 namespaces']);

export const API_VERSIONS = {
  kind: 'APIVersions', versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
};

function groupOf(name: string): object {
  const versions = Object.keys(RESOURCES)
    .filter((gv) => gv.startsWith(`${name}/`))
    .map((groupVersion) => ({ groupVersion, version: groupVersion.slice(name.length + 1) }));
  return { name, versions, preferredVersion: versions[0] };
}

const GROUP_NAMES = [...new Set(Object.keys(RESOURCES).filter((gv) => gv.includes('/')).map((gv) => gv.split('/')[0]))];

export function apiGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUP_NAMES.map(groupOf) };
}

/** The APIGroup document of /apis/NAME, or undefined for a group the sim does not serve. */
export function apiGroup(name: string): object | undefined {
  return GROUP_NAMES.includes(name) ? { kind: 'APIGroup', apiVersion: 'v1', ...groupOf(name) } : undefined;
}

/** The APIResourceList of a groupVersion, or undefined when it is not served. */
export function resourceList(groupVersion: string): object | undefined {
  const resources = RESOURCES[groupVersion];
  return resources === undefined ? undefined : { kind: 'APIResourceList', groupVersion, resources };
}

/** The always-empty resource `resource` of `groupVersion` with that scope, or undefined. */
export function emptyResource(groupVersion: string, resource: string, namespaced: boolean): ResourceInfo | undefined {
  if (POPULATED.has(`${groupVersion} ${resource}`)) return undefined;
  return RESOURCES[groupVersion]?.find((r) => r.name === resource && r.namespaced === namespaced);
}
