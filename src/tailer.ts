// Pods → targets → followers: the shared pod watch is fanned out into one group per (pod UID, container), and
// each group is followed by its own follower; all followers' lines are merged into one stream.
import { EMPTY, Observable, filter, groupBy, mergeMap, takeUntil, type GroupedObservable } from 'rxjs';
import type { KubeClient } from './kube/client.ts';
import { followContainer, type FollowEvents, type FollowOptions, type FollowStart } from './kube/follow.ts';
import type { Limiter } from './kube/limiter.ts';
import { watchPods, type PodEvent, type PodWatchOptions } from './kube/pods.ts';
import type { Pod } from './kube/types.ts';
import type { Credit } from './pipeline/credit.ts';
import type { LineBlock } from './pipeline/block.ts';
import type { TargetInfo } from './pipeline/entry.ts';
import { podTargets } from './targets.ts';
import { selectTargets, type Selection } from './selection.ts';
import type { Logger } from './observe/log.ts';

export interface TailOptions {
  readonly watch: PodWatchOptions;
  readonly selection: Selection;
  readonly follow: FollowOptions;
}

export interface TailDeps {
  readonly client: KubeClient;
  readonly opens: Limiter;
  readonly credit: Credit;
  readonly log: Logger;
  readonly events?: FollowEvents;
  /** Where a target resumes after a restart of the tailer (positions file). */
  readonly startOf?: (target: TargetInfo) => FollowStart | undefined;
  readonly onTarget?: (target: TargetInfo) => void;
}

/** What the pod watch says about one target: its pod now, or that the pod is gone. */
interface TargetUpdate {
  readonly target: TargetInfo;
  readonly pod: Pod | undefined;
}

/** Every line of every selected container, each once, until `stop$` emits (then the followers stop reading). */
export function tail(opts: TailOptions, deps: TailDeps, stop$: Observable<unknown>): Observable<LineBlock> {
  // takeUntil twice: on the watch itself (groupBy keeps its source while groups live) and on the merged lines.
  return watchPods(deps.client, opts.watch).pipe(
    takeUntil(stop$),
    mergeMap(targetUpdates(opts.selection, deps.log)),
    groupBy((u) => u.target.key, { duration: (group) => group.pipe(filter((u) => u.pod === undefined)) }),
    mergeMap((group) => followGroup(group, opts.follow, deps)),
    takeUntil(stop$),
  );
}

function followGroup(group: GroupedObservable<string, TargetUpdate>, opts: FollowOptions, deps: TailDeps): Observable<LineBlock> {
  // The group's first value names the target and starts its follower; later values only wake the follower (so
  // the group itself is its wake-up source: no per-target operators, which cost ~1 KiB each with 1,000s of targets).
  return new Observable<LineBlock>((subscriber) => {
    let inner: { unsubscribe(): void } | undefined;
    const sub = group.subscribe((u) => {
      if (inner !== undefined || u.pod === undefined) return;
      const target = u.target;
      deps.onTarget?.(target);
      deps.log.info('Tailing logs for container', { target: `${target.namespace}/${target.pod}/${target.container}`, kind: target.kind });
      const { client, opens, credit, log, events } = deps;
      inner = followContainer(target, group, { client, opens, credit, log, events, options: opts, start: deps.startOf?.(target) }).subscribe(subscriber);
    });
    return () => {
      sub.unsubscribe();
      inner?.unsubscribe();
    };
  });
}

/** Turns pod events into per-target updates; a re-list ends the targets of pods that vanished meanwhile. */
function targetUpdates(selection: Selection, log: Logger): (ev: PodEvent) => Observable<TargetUpdate> {
  // Per pod, only what ending its targets takes: whole pod objects (managedFields and all) are many KiB each.
  const known = new Map<string, { targets: readonly TargetInfo[]; scope: string }>();
  const seenPods = new Set<string>();
  return (ev) => {
    const out: TargetUpdate[] = [];
    const upsert = (pod: Pod, scope: string): void => {
      const uid = pod.metadata.uid;
      if (!seenPods.has(uid)) {
        seenPods.add(uid);
        log.info('Processing new pod', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, uid });
      }
      const targets = podTargets(pod);
      known.set(uid, { targets, scope });
      for (const target of selectTargets(targets, selection)) out.push({ target, pod });
    };
    const remove = (uid: string, targets: readonly TargetInfo[]): void => {
      known.delete(uid);
      seenPods.delete(uid);
      for (const target of targets) out.push({ target, pod: undefined });
    };
    if (ev.type === 'sync') {
      const present = new Set(ev.pods.map((p) => p.metadata.uid));
      for (const [uid, entry] of known) {
        if ((ev.scope === '*' || entry.scope === ev.scope) && !present.has(uid)) remove(uid, entry.targets);
      }
      for (const pod of ev.pods) upsert(pod, ev.scope);
    } else if (ev.type === 'upsert') {
      upsert(ev.pod, known.get(ev.pod.metadata.uid)?.scope ?? ev.pod.metadata.namespace);
    } else {
      remove(ev.pod.metadata.uid, podTargets(ev.pod));
    }
    return out.length === 0 ? EMPTY : new Observable<TargetUpdate>((s) => {
      for (const u of out) s.next(u);
      s.complete();
    });
  };
}
