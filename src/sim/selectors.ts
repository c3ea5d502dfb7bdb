// labelSelector and fieldSelector for pods, parsed into predicates. Parse errors are thrown as SelectorError,
// answered 400 BadRequest like the real apiserver.
import type { Pod } from '../kube/types.ts';

export class SelectorError extends Error {}

export type PodPredicate = (pod: Pod) => boolean;

type LabelRequirement = (labels: Readonly<Record<string, string>>) => boolean;

const LABEL_KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const LABEL_VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function checkKey(key: string, selector: string): string {
  if (!LABEL_KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!LABEL_VALUE.test(value)) throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${selector}"`);
  return value;
}

function parseLabelRequirement(req: string, selector: string): LabelRequirement {
  let m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(req);
  if (m !== null) {
    const key = checkKey(m[1], selector);
    const values = new Set(m[3].split(',').map((v) => checkValue(v.trim(), selector)));
    return m[2] === 'in'
      ? (l) => l[key] !== undefined && values.has(l[key])
      : (l) => l[key] === undefined || !values.has(l[key]);
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
  if (m !== null) {
    const key = checkKey(m[1], selector);
    const value = checkValue(m[3], selector);
    return m[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^(!?)\s*([^=!\s()]+)$/.exec(req);
  if (m !== null) {
    const key = checkKey(m[2], selector);
    return m[1] === '!' ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
  }
  throw new SelectorError(`couldn't parse the selector string "${selector}": unable to parse requirement "${req}"`);
}

/** `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`; comma = AND. Empty = everything. */
export function parseLabelSelector(selector: string): PodPredicate {
  if (selector.trim() === '') return () => true;
  const reqs = splitTopLevel(selector).map((r) => parseLabelRequirement(r, selector));
  return (pod) => {
    const labels = pod.metadata.labels ?? {};
    return reqs.every((r) => r(labels));
  };
}

/** The fields the apiserver lets a pod fieldSelector use (k/k pkg/registry/core/pod/strategy.go ToSelectableFields). */
const POD_FIELDS: Record<string, (pod: Pod) => string> = {
  'metadata.name': (p) => p.metadata.name,
  'metadata.namespace': (p) => p.metadata.namespace,
  'spec.nodeName': (p) => p.spec.nodeName ?? '',
  'spec.restartPolicy': (p) => p.spec.restartPolicy ?? 'Always',
  'spec.schedulerName': () => 'default-scheduler',
  'spec.serviceAccountName': () => 'default',
  'spec.hostNetwork': () => 'false',
  'status.phase': (p) => p.status.phase ?? '',
  'status.podIP': () => '',
  'status.nominatedNodeName': () => '',
};

/** `field=value`, `field==value`, `field!=value`, comma = AND; only the fields pods support. */
export function parseFieldSelector(selector: string): PodPredicate {
  if (selector.trim() === '') return () => true;
  const reqs = splitTopLevel(selector).map((req): PodPredicate => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (m === null) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${req}'`);
    const get = POD_FIELDS[m[1]];
    if (get === undefined) throw new SelectorError(`field label not supported: ${m[1]}`);
    const value = m[3];
    return m[2] === '!=' ? (p) => get(p) !== value : (p) => get(p) === value;
  });
  return (pod) => reqs.every((r) => r(pod));
}
