// Which targets this process follows: pod and container name filters, the shard of a multi-replica setup,
// and sidecar mode (only the pod the process runs in).
import type { TargetInfo } from './pipeline/entry.ts';
import { fnv1a32 } from './hash.ts';

export interface NameMatcher {
  /** The list as the user wrote it, for messages. */
  readonly source: string;
  test(name: string): boolean;
}

export interface Shard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

export interface Selection {
  readonly includePods?: NameMatcher;
  readonly excludePods?: NameMatcher;
  readonly includeContainers?: NameMatcher;
  readonly excludeContainers?: NameMatcher;
  readonly shard?: Shard;
  /** Sidecar mode: only the containers of this pod, except `container`, the tailer's own. */
  readonly self?: { readonly namespace: string; readonly pod: string; readonly container?: string };
}

/**
 * A comma list of exact names and `/regex/` items, e.g. `web,api,/^worker-\d+$/`. A regex matches anywhere in
 * the name unless anchored; it may contain commas. Throws a one-line error for an empty item or a bad regex.
 */
export function parseNameList(text: string): NameMatcher {
  const names = new Set<string>();
  const patterns: RegExp[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    let end: number;
    if (text[i] === '/') {
      end = regexEnd(text, i);
      const body = text.slice(i + 1, end);
      try {
        patterns.push(new RegExp(body));
      } catch (e) {
        throw new Error(`invalid regular expression /${body}/ in name list "${text}": ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
      }
      end = text.indexOf(',', end + 1);
      if (end === -1) end = text.length;
    } else {
      end = text.indexOf(',', i);
      if (end === -1) end = text.length;
      const name = text.slice(i, end).trim();
      if (name === '') throw new Error(`empty item in name list "${text}": use names and /regex/ items separated by commas, like web,/^api-/`);
      names.add(name);
    }
    if (end === text.length) break;
    i = end + 1;
  }
  return {
    source: text,
    test: (name) => names.has(name) || patterns.some((p) => p.test(name)),
  };
}

/** Index of the `/` closing the regex opened at `start`: the first unescaped `/` followed by a comma or the end. */
function regexEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text[j] === '/' && /^ *(,|$)/.test(text.slice(j + 1))) return j;
  }
  throw new Error(`unterminated regular expression in name list "${text}": write it as /regex/`);
}

/** `INDEX/COUNT`, 0-based: `0/3`, `1/3`, `2/3` split the pods between three replicas. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!(count >= 1 && index < count && Number.isSafeInteger(count))) {
    throw new Error(`invalid shard "${text}": use INDEX/COUNT with 0 <= INDEX < COUNT (0-based), like 0/3`);
  }
  return { index, count };
}

/** The shard a pod belongs to: FNV-1a 32 of its UID modulo the shard count, the same on every machine. */
export function shardOf(podUid: string, count: number): number {
  return fnv1a32(podUid) % count;
}

export function isSelected(target: TargetInfo, sel: Selection): boolean {
  if (sel.self !== undefined) {
    if (target.namespace !== sel.self.namespace || target.pod !== sel.self.pod || target.container === sel.self.container) return false;
  }
  if (sel.shard !== undefined && shardOf(target.podUid, sel.shard.count) !== sel.shard.index) return false;
  if (sel.includePods !== undefined && !sel.includePods.test(target.pod)) return false;
  if (sel.excludePods?.test(target.pod) === true) return false;
  if (sel.includeContainers !== undefined && !sel.includeContainers.test(target.container)) return false;
  if (sel.excludeContainers?.test(target.container) === true) return false;
  return true;
}

export function selectTargets(targets: readonly TargetInfo[], sel: Selection): TargetInfo[] {
  return targets.filter((t) => isSelected(t, sel));
}
