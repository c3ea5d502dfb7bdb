// Follows one container of one pod object: opens `follow=true&timestamps=true` streams from the cursor, drops
// the replayed lines the cursor already covers, and reopens on every kind of end until the container has
// terminated for good or its pod is gone. A clean end of body says nothing by itself (the kubelet's 4 h cut looks
// exactly like a container exit), so the decision is made from the pod's status, fetched fresh after each end.
import type { Readable } from 'node:stream';
import { Observable, type Subscriber } from 'rxjs';
import { readChunk } from './chunks.ts';
import { Cursor, ResumeFilter, arrivedLineHash, lineHash } from './cursor.ts';
import { KubeApiError, oneLine, type KubeClient } from './client.ts';
import type { Limiter } from './limiter.ts';
import { LineSplitter, logHead, readLogHead } from './lines.ts';
import type { Pod } from './types.ts';
import { containerStatus, type ContainerStatusInfo } from '../targets.ts';
import type { Credit } from '../pipeline/credit.ts';
import { BlockBuilder, type LineBlock } from '../pipeline/block.ts';
import type { TargetInfo } from '../pipeline/entry.ts';
import { backoffDelay, sleep } from '../time/backoff.ts';
import { formatSeconds, nowTimestamp } from '../time/timestamp.ts';
import type { Logger } from '../observe/log.ts';

/**
 * `replaced`: the log request was answered after another pod took the pod's name, or (a follow) after the container
 * had restarted, so the answer is another's (see #read); nothing was read.
 */
export type EndReason = 'eof' | 'error' | 'stall' | 'max_age' | 'paused' | 'replaced';

/**
 * A log request names the pod, not its UID, so once a pod is deleted and a new one of the same name exists, the
 * request reads the new pod's log; nor does it name the container instance, so a follow answered after the container
 * restarted reads the new instance. A read is checked against both when the status it was decided on said the pod
 * was being deleted, or is older than this when the request is answered (it waited its turn among the opens).
 */
const STATUS_FRESH_MS = 1000;

/**
 * Reads of a dead instance's rest in a row that get nowhere (with back-off between them) before its remaining lines
 * are given up as a gap.
 */
const MAX_PREVIOUS_TRIES = 5;

export interface FollowOptions {
  /** Reopen when a running container's stream sends nothing for this long. */
  readonly stallTimeoutMs: number;
  /** Reopen streams older than this (randomised ±10% so thousands do not reopen together). */
  readonly maxStreamAgeMs: number;
  /** With no position, start this far back (undefined: everything the kubelet still has). */
  readonly sinceMs: number | undefined;
  readonly maxLineBytes: number;
  readonly maxBackoffMs: number;
  /** How long to wait for a status change of a waiting container before looking again. */
  readonly recheckMs?: number;
  /**
   * Close a stream that backpressure has kept unread this long (default 10 s), and reopen it from the cursor when
   * the sinks catch up: an h2 stream we do not read still receives up to its flow-control window into our memory,
   * so during a long Loki outage no stream holds one.
   */
  readonly pausedCloseMs?: number;
}

/** Where a follower picks up: the container instance and the cursor of what was already delivered. */
export interface FollowStart {
  readonly containerId: string;
  readonly cursor: Cursor;
}

export interface FollowEvents {
  opened?(target: TargetInfo): void;
  closed?(target: TargetInfo, reason: EndReason): void;
  read?(lines: number, bytes: number): void;
  deduplicated?(lines: number): void;
  gap?(target: TargetInfo, reason: string): void;
  /** The instance the follower is on, and its cursor, after each delivered line (cheap: a reference). */
  position?(target: TargetInfo, containerId: string, cursor: Cursor): void;
  state?(target: TargetInfo, state: 'waiting' | 'following' | 'backoff' | 'finished'): void;
}

export interface FollowDeps {
  readonly client: KubeClient;
  readonly options: FollowOptions;
  readonly opens: Limiter;
  readonly credit: Credit;
  readonly log: Logger;
  readonly events?: FollowEvents;
  readonly start?: FollowStart;
}

/**
 * The lines of one container, once each and in file order, across reconnects and restarts.
 * `changes$` emits when the shared watch saw the pod change (and completes when the pod is gone); it only wakes up
 * a waiting follower, as each decision re-reads the pod to get a fresh status.
 */
export function followContainer(target: TargetInfo, changes$: Observable<unknown>, deps: FollowDeps): Observable<LineBlock> {
  return new Observable<LineBlock>((subscriber) => {
    const abort = new AbortController();
    const follower = new Follower(target, deps, subscriber, abort.signal);
    const sub = changes$.subscribe({ next: () => follower.wake(), complete: () => follower.wake() });
    follower.run().then(
      () => subscriber.complete(),
      (err: unknown) => {
        // A follower never takes the pipeline down: log and finish this target only.
        deps.log.error('follower failed', { target: targetName(target), error: oneLine(err) });
        subscriber.complete();
      },
    );
    return () => {
      abort.abort();
      sub.unsubscribe();
      follower.wake();
    };
  });
}

/**
 * A stream's age limit: ±10% at random, so thousands of streams do not reopen together, in steps of 1/100 of the
 * limit. Node keeps one timer list per distinct duration; arbitrary milliseconds gave every stream a list of its own.
 */
export function streamAge(maxStreamAgeMs: number): number {
  return Math.round(maxStreamAgeMs * (0.9 + Math.floor(Math.random() * 21) / 100));
}

/** The container's instance now: running, or terminated (for good, or until it restarts). */
function currentInstanceId(st: ContainerStatusInfo): string | undefined {
  return st.state === 'running' || st.state === 'terminated' ? st.containerID : undefined;
}

/**
 * The restart number of the container's last terminated instance. The status counts restarts up to its latest
 * instance: while the container waits to restart (CrashLoopBackOff) that is the dead one, otherwise the one running
 * or terminated now, and the dead one is the instance before it.
 */
function lastTerminatedRestart(st: ContainerStatusInfo): number {
  return st.state === 'running' || st.state === 'terminated' ? Math.max(0, st.restartCount - 1) : st.restartCount;
}

export function targetName(t: TargetInfo): string {
  return `${t.namespace}/${t.pod}/${t.container}`;
}

/** A container instance being read: its ID, restart number and the cursor of what was delivered from it. */
interface Instance {
  readonly id: string;
  cursor: Cursor;
  readonly restart: number;
}

class Follower {
  readonly #target: TargetInfo;
  readonly #deps: FollowDeps;
  readonly #out: Subscriber<LineBlock>;
  readonly #signal: AbortSignal;
  readonly #log: Logger;
  /** The instance being read and the cursor of what was delivered from it. */
  #current: Instance | undefined;
  /** Hashes of lines delivered under an instance that turned out not to be the one served (see catch-up). */
  #delivered: ReadonlySet<number> = new Set();
  /** Instances read to their end: never read again. */
  readonly #finished = new Set<string>();
  #failures = 0;
  /** Reads in a row of the dead instance being caught up with that failed without getting any further. */
  #previousTries = 0;
  #wake: (() => void) | undefined;
  #stopped: Promise<void> | undefined;

  constructor(target: TargetInfo, deps: FollowDeps, out: Subscriber<LineBlock>, signal: AbortSignal) {
    this.#target = target;
    this.#deps = deps;
    this.#out = out;
    this.#signal = signal;
    this.#log = deps.log.child({ target: targetName(target) });
    if (deps.start !== undefined) {
      this.#current = { id: deps.start.containerId, cursor: deps.start.cursor, restart: deps.start.cursor.instance };
    }
  }

  wake(): void {
    this.#wake?.();
  }

  async run(): Promise<void> {
    const events = this.#deps.events;
    events?.state?.(this.#target, 'waiting');
    while (!this.#signal.aborted) {
      // Only the container's status is kept: a pod object held across the read costs KiBs per followed container.
      const st = await this.#status();
      if (this.#signal.aborted) break;
      if (st === 'retry') continue;
      if (st === null) {
        this.#log.info('Pod is gone, container finished', { reason: 'pod deleted' });
        break;
      }
      if (st === undefined) {
        await this.#waitForChange(this.#deps.options.recheckMs ?? 30_000);
        continue;
      }
      if (!(await this.#catchUpDeadInstances(st))) {
        // The dead instance's rest could not be read (the request failed or was cut): try again before following
        // the new instance, which would take the dead one's place and leave its lines behind.
        if (this.#signal.aborted) break;
        await this.#backOff(500);
        continue;
      }
      if (this.#signal.aborted) break;

      const id = currentInstanceId(st);
      if (id === undefined || this.#finished.has(id)) {
        if (st.finished) {
          this.#log.info('Container finished', { restarts: st.restartCount });
          break;
        }
        events?.state?.(this.#target, 'waiting');
        await this.#waitForChange(this.#deps.options.recheckMs ?? 30_000);
        continue;
      }
      if (this.#current?.id !== id) {
        this.#current = { id, cursor: new Cursor(st.restartCount), restart: st.restartCount };
      }
      const terminatedAtOpen = st.state === 'terminated';
      const { reason, delivered } = await this.#read(this.#current, { follow: true, podDeleting: st.podDeleting });
      if (this.#signal.aborted) break;
      // The next status read finds the other pod under the name and ends this follower.
      if (reason === 'replaced') continue;
      if (reason === 'eof' && terminatedAtOpen) this.#finished.add(id);
      events?.closed?.(this.#target, reason);
      if (reason === 'paused') {
        events?.state?.(this.#target, 'backoff');
        await Promise.race([this.#deps.credit.available(), this.#aborted()]);
      }
      if (reason === 'error' || (reason === 'eof' && delivered === 0 && !terminatedAtOpen)) {
        // An end with nothing read may mean the status lags behind the kubelet: do not spin.
        await this.#backOff(reason === 'error' ? 500 : 100);
      }
    }
    events?.state?.(this.#target, 'finished');
  }

  /**
   * A restart we did not see happen: read the dead instance's remainder with `previous=true` from the cursor
   * before following the new one. `previous` serves only the last dead instance; older ones are a counted gap.
   * False when the dead instance still has to be read (its read failed or was cut short).
   */
  async #catchUpDeadInstances(st: ContainerStatusInfo): Promise<boolean> {
    const cur = this.#current;
    const lastId = st.lastTerminatedID;
    const currentId = currentInstanceId(st);
    if (cur !== undefined && cur.id !== currentId && !this.#finished.has(cur.id)) {
      if (cur.id === lastId) {
        this.#log.info('Container restarted; reading the rest of the previous instance', { restart: cur.restart });
        if (!(await this.#readPrevious(cur, st.podDeleting)) && !this.#giveUpOnPrevious(cur)) return false;
      } else {
        this.#deps.events?.gap?.(this.#target, 'restart');
        this.#log.warn('Container restarted more than once while we were away: lines of the lost instances cannot be fetched', { restart: cur.restart });
        this.#finished.add(cur.id);
        // A stream opened for an instance that died just before the request is served by its successor: what we
        // delivered under this cursor may belong to the instance read next, and must not be delivered twice.
        this.#delivered = cur.cursor.recentHashes();
      }
      this.#current = undefined;
    }
    if (lastId !== undefined && !this.#finished.has(lastId) && this.#current === undefined && lastId !== currentId) {
      // Crash loop faster than we attached: the whole previous instance is still to be read.
      const restart = lastTerminatedRestart(st);
      const prev = { id: lastId, cursor: new Cursor(restart), restart };
      if (!(await this.#readPrevious(prev, st.podDeleting)) && !this.#giveUpOnPrevious(prev)) {
        // Tried again as the instance being read, from where this read stopped.
        this.#current = prev;
        return false;
      }
    }
    this.#previousTries = 0;
    return true;
  }

  /**
   * After a failed read of a dead instance: whether to stop trying (a counted gap) rather than read it again. A
   * kubelet that keeps refusing it would otherwise keep the follower from the instance that runs now.
   */
  #giveUpOnPrevious(inst: Instance): boolean {
    if (this.#previousTries < MAX_PREVIOUS_TRIES) return false;
    this.#deps.events?.gap?.(this.#target, 'restart');
    this.#log.warn(`The rest of the previous instance could not be read (${MAX_PREVIOUS_TRIES} tries in a row got nothing): its remaining lines are counted as a gap`, { restart: inst.restart });
    this.#finished.add(inst.id);
    return true;
  }

  /**
   * `previous=true` serves whichever instance is the last dead one when the kubelet answers, and in a fast crash
   * loop that can change between our status read and the request. So the reply is held back and the status read
   * again: if the last dead instance is still the one asked for, the lines are delivered. If it moved on, the newer
   * one is read too, and the lines of both replies are delivered once each. Where even that cannot be told, the
   * lines are delivered rather than dropped. Returns false when it should be tried again.
   */
  async #readPrevious(inst: Instance, podDeleting: boolean): Promise<boolean> {
    const first = await this.#hold(inst, podDeleting);
    if (!first.complete) {
      // Cut short: deliver what arrived (the instance may be gone by the next try) and resume from there. A read that
      // got further is not a failed try: only reads that get nowhere lead to giving the instance up.
      this.#commit(inst, first);
      this.#previousTries = first.held.length > 0 ? 0 : this.#previousTries + 1;
      return false;
    }
    // If the status cannot be read now, deliver: waiting could let the kubelet drop the instance for good.
    const st = await this.#status();
    if (st !== 'retry' && st !== undefined && st !== null && st.state === 'terminated' && st.containerID === inst.id) {
      // The pod stopped while the instance waited to restart: it is the container's terminated state now, and
      // previous=true serves the instance before it, already read. The reply may be from either, so the instance is
      // read again as the current one; only if that fails is the reply delivered (rather than dropped).
      const again = await this.#hold(inst, st.podDeleting, false);
      this.#commit(inst, again.complete ? again : first);
      this.#finished.add(inst.id);
      return true;
    }
    const movedTo = st === 'retry' ? undefined : st?.lastTerminatedID;
    if (st !== 'retry' && st !== undefined && st !== null && movedTo !== undefined && movedTo !== inst.id) {
      const restart = lastTerminatedRestart(st);
      const next: Instance = { id: movedTo, cursor: new Cursor(restart), restart };
      const second = await this.#hold(next, st.podDeleting);
      const confirm = second.complete ? await this.#status() : 'retry';
      if (second.complete && confirm !== 'retry' && confirm?.lastTerminatedID === movedTo) {
        // Every line that arrived is delivered once. If the replies share lines, the first was the newer instance
        // already and what was left of the one asked for is gone (a counted gap): the newer instance's lines go out
        // from the second reply, under its own restart number. Otherwise the second reply's lines that the first
        // already had are not delivered again.
        const firstHashes = hashesOf(first.held);
        const later = new Set(hashesOf(second.held));
        if (firstHashes.some((h) => later.has(h))) {
          this.#deps.events?.gap?.(this.#target, 'restart');
          this.#log.warn('The previous instance was replaced while it was being read: its remaining lines cannot be fetched', { restart: inst.restart });
          this.#commit(inst, { cursor: first.cursor, held: first.held.map((b) => b.filter((h) => !later.has(h))) });
          this.#commit(next, second);
        } else {
          const earlier = new Set(firstHashes);
          this.#commit(inst, first);
          this.#commit(next, { cursor: second.cursor, held: second.held.map((b) => b.filter((h) => !earlier.has(h))) });
        }
        this.#finished.add(movedTo);
        this.#finished.add(inst.id);
        return true;
      }
    }
    this.#commit(inst, first);
    this.#finished.add(inst.id);
    return true;
  }

  /**
   * Reads an instance into memory (a dead one with previous=true, else the container's current one) from a copy of
   * its cursor; `complete` unless cut short.
   */
  async #hold(inst: Instance, podDeleting: boolean, previous = true): Promise<{ cursor: Cursor; held: LineBlock[]; complete: boolean }> {
    const trial: Instance = { id: inst.id, cursor: inst.cursor.clone(), restart: inst.restart };
    const held: LineBlock[] = [];
    const { reason } = await this.#read(trial, { follow: false, previous, hold: held, podDeleting });
    return { cursor: trial.cursor, held, complete: reason === 'eof' };
  }

  /** Delivers held lines (taking their credit now) and advances the instance's cursor past them. */
  #commit(inst: Instance, read: { cursor: Cursor; held: readonly LineBlock[] }): void {
    inst.cursor = read.cursor;
    let skipped = 0;
    for (const held of read.held) {
      const block = held.filter((h) => !this.#delivered.has(h));
      skipped += held.length - block.length;
      if (block.length === 0) continue;
      this.#deps.credit.take(block.size);
      this.#out.next(block);
    }
    if (skipped > 0) this.#deps.events?.deduplicated?.(skipped);
    if (read.held.length > 0) this.#deps.events?.position?.(this.#target, inst.id, inst.cursor);
  }

  /** The container's status now: null when the pod is gone, undefined when it has no status for the container yet. */
  async #status(): Promise<ContainerStatusInfo | undefined | null | 'retry'> {
    const pod = await this.#fetchPod();
    if (pod === 'retry') return pod;
    return pod === undefined ? null : containerStatus(pod, this.#target.container);
  }

  /** Another failure in a row: waits the next back-off (from `baseMs`, doubling, up to maxBackoffMs). */
  async #backOff(baseMs: number): Promise<void> {
    this.#deps.events?.state?.(this.#target, 'backoff');
    await sleep(backoffDelay(++this.#failures, baseMs, this.#deps.options.maxBackoffMs), this.#signal);
  }

  /** The pod of this name as the API server has it now, whatever its UID. */
  #getPod(): Promise<Pod> {
    const t = this.#target;
    return this.#deps.client.getJSON<Pod>({ path: `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}`, signal: this.#signal });
  }

  /**
   * Whose log a request for `inst` may have been answered with, when not that instance's: another pod's (one with
   * another UID holds the name now), or, for a follow of the current instance, another instance's (the container
   * runs or ran a newer one). Not when the pod is simply gone: no other pod could have answered then. When the API
   * cannot tell (an error), the read goes ahead: the status it was decided on holds.
   */
  async #answeredByAnother(inst: Instance, current: boolean): Promise<'pod' | 'instance' | undefined> {
    try {
      const pod = await this.#getPod();
      const uid = pod?.metadata?.uid;
      if (uid !== undefined && uid !== this.#target.podUid) return 'pod';
      if (!current || pod === undefined) return undefined;
      const st = containerStatus(pod, this.#target.container);
      const id = st === undefined ? undefined : currentInstanceId(st);
      return id !== undefined && id !== inst.id ? 'instance' : undefined;
    } catch {
      return undefined;
    }
  }

  async #fetchPod(): Promise<Pod | undefined | 'retry'> {
    try {
      const pod = await this.#getPod();
      return pod?.metadata?.uid === this.#target.podUid ? pod : undefined;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      if (this.#signal.aborted) return 'retry';
      this.#log.warn('Cannot read pod status, retrying', { error: oneLine(err) });
      await this.#backOff(500);
      return 'retry';
    }
  }

  /** True once the sinks have room again, false if they have none after `ms` (or the follower is stopped). */
  async #roomWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.#deps.credit.available().then(() => true), expired, this.#aborted().then(() => false)]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when the follower is stopped (one listener per follower, however often it is awaited). */
  #aborted(): Promise<void> {
    this.#stopped ??= this.#signal.aborted
      ? Promise.resolve()
      : new Promise((resolve) => this.#signal.addEventListener('abort', () => resolve(), { once: true }));
    return this.#stopped;
  }

  async #waitForChange(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
      if (this.#signal.aborted) done();
    });
    this.#wake = undefined;
  }

  /** One request: reads its body to the end (or a stall, the age limit, an error), delivering new lines. */
  async #read(
    inst: Instance,
    mode: { follow: boolean; previous?: boolean; hold?: LineBlock[]; podDeleting: boolean },
  ): Promise<{ reason: EndReason; delivered: number }> {
    const { client, options, opens, credit, events } = this.#deps;
    const t = this.#target;
    // Every caller read the pod's status just before: the decision to read is as old as this.
    const decidedAt = Date.now();
    const point = inst.cursor.resume();
    const sinceSec = point.sinceSec ?? (options.sinceMs !== undefined ? Math.floor((Date.now() - options.sinceMs) / 1000) : undefined);
    const filter = new ResumeFilter(point);
    let why: EndReason | undefined;
    let body: Readable | undefined;
    // Ending a read destroys its body, which fails the pending read. No AbortController per read: with thousands of
    // streams open, a controller, its signal and a listener on the follower's signal each are memory that counts.
    const end = (r: EndReason): void => {
      why ??= r;
      body?.destroy();
    };
    let stallTimer: NodeJS.Timeout | undefined;
    // Re-armed for every chunk: refresh() moves the one timer instead of allocating a new one each time.
    const armStall = (): void => {
      if (!mode.follow) return;
      if (stallTimer === undefined) stallTimer = setTimeout(() => end('stall'), options.stallTimeoutMs);
      else stallTimer.refresh();
    };
    const ageTimer = mode.follow ? setTimeout(() => end('max_age'), streamAge(options.maxStreamAgeMs)) : undefined;
    let delivered = 0;
    let reportedGap = false;
    // The lines of each chunk become one block, emitted when the chunk is done.
    const blocks = new BlockBuilder(t, inst.restart, inst.id);
    const emit = (block: LineBlock): void => {
      if (mode.hold !== undefined) {
        mode.hold.push(block);
      } else {
        credit.take(block.size);
        this.#out.next(block);
      }
    };
    // Stamped lines enter the cursor a block at a time, as they are emitted: recording them line by line cost
    // twice as much (Cursor.recordBlock).
    const flush = (): void => {
      const block = blocks.take();
      if (block === undefined) return;
      inst.cursor.recordBlock(block);
      emit(block);
    };
    try {
      const res = await opens.run(() =>
        client.open(
          {
            path: `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/log`,
            query: {
              container: t.container,
              follow: mode.follow || undefined,
              previous: mode.previous || undefined,
              timestamps: true,
              sinceTime: sinceSec !== undefined ? formatSeconds(sinceSec) : undefined,
            },
            signal: this.#signal,
          },
          'log',
        ),
      );
      body = res.body;
      // The age limit may have passed while the open waited its turn.
      if (why !== undefined) return { reason: why, delivered };
      const other = mode.podDeleting || Date.now() - decidedAt > STATUS_FRESH_MS ? await this.#answeredByAnother(inst, mode.follow) : undefined;
      if (other === 'pod') {
        events?.gap?.(t, 'pod_replaced');
        this.#log.warn('Pod was replaced by a new pod of the same name before its log was read: the answer is the new pod\'s log and is not read as this one\'s; lines of the old pod not read before are gone: gap counted');
        return { reason: 'replaced', delivered };
      }
      if (other === 'instance') {
        this.#log.info('Container restarted before its log was read: reading the rest of the previous instance first', { restart: inst.restart });
        return { reason: 'replaced', delivered };
      }
      if (mode.follow) {
        events?.opened?.(t);
        events?.state?.(t, 'following');
        this.#log.info('Tailing logs for container', { since: sinceSec !== undefined ? formatSeconds(sinceSec) : 'start', skip: point.skip });
      }
      armStall();
      const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes });
      const head = logHead();
      // The timestamp a line without one borrows: its predecessor's (NaN seconds: none yet).
      let prevSec = Number.NaN;
      let prevNsec = 0;
      while (splitter.push(await readChunk(body))) {
        armStall();
        let lines = 0;
        let bytes = 0;
        let skipped = 0;
        // The line is splitter.line[start, end): no view or object is made for a line until it becomes an entry.
        while (splitter.next()) {
          const buf = splitter.line;
          const end = splitter.end;
          lines++;
          bytes += end - splitter.start + 1;
          readLogHead(buf, splitter.start, end, head);
          const { sec, nsec, textStart } = head;
          let hash = arrivedLineHash(buf, textStart, end, sec, nsec, splitter);
          const repaired = hash === -1 ? buf.toString('utf8', textStart, end) : undefined;
          const stamped = !Number.isNaN(sec);
          if (repaired !== undefined) hash = lineHash(stamped ? { sec, nsec } : undefined, repaired);
          // Replayed lines count too: a line without a timestamp is stamped like the line before it in the answer.
          if (stamped) {
            prevSec = sec;
            prevNsec = nsec;
          }
          if (!filter.acceptAt(sec, nsec, hash)) {
            skipped++;
            continue;
          }
          if (filter.gap && !reportedGap) {
            reportedGap = true;
            events?.gap?.(t, 'rotation');
            this.#log.warn('Lines between two reads are gone from the kubelet (rotated away while disconnected): gap counted');
          }
          if (!stamped) {
            // A line without a timestamp (not one the kubelet writes) keeps its place, stamped like its predecessor
            // (the first line of an answer: with the time it was read). It goes in a block of its own, after the lines
            // before, and keeps its own hash there: the acknowledged cursor must recognise it in a replay after a
            // restart, where it arrives without a timestamp again.
            flush();
            if (Number.isNaN(prevSec)) ({ sec: prevSec, nsec: prevNsec } = nowTimestamp());
            inst.cursor.record(undefined, hash);
          }
          if (repaired === undefined) blocks.addBytes(buf, textStart, end, prevSec, prevNsec, hash);
          else blocks.addText(repaired, prevSec, prevNsec, hash);
          if (!stamped) emit(blocks.take()!);
          delivered++;
        }
        flush();
        if (lines > 0) {
          events?.read?.(lines, bytes);
          if (skipped > 0) events?.deduplicated?.(skipped);
          if (delivered > 0) {
            this.#failures = 0;
            events?.position?.(t, inst.id, inst.cursor);
          }
        }
        if (credit.exhausted) {
          // Backpressure: stop reading this body (the transport pushes back) until sinks catch up; not a stall.
          clearTimeout(stallTimer);
          stallTimer = undefined;
          if (!(await this.#roomWithin(options.pausedCloseMs ?? 10_000))) {
            end('paused');
            break;
          }
          armStall();
        }
      }
      return { reason: why ?? 'eof', delivered };
    } catch (err) {
      if (why !== undefined || this.#signal.aborted) return { reason: why ?? 'eof', delivered };
      if (err instanceof KubeApiError && err.status === 400) {
        // Waiting container, no previous instance, …: the status will tell what to do next.
        this.#log.debug('Log request refused', { error: err.message });
      } else {
        this.#log.warn('Log stream failed, reconnecting', { error: oneLine(err) });
      }
      return { reason: 'error', delivered };
    } finally {
      blocks.discard();
      clearTimeout(stallTimer);
      clearTimeout(ageTimer);
      body?.destroy();
    }
  }
}

function hashesOf(blocks: readonly LineBlock[]): number[] {
  const out: number[] = [];
  for (const b of blocks) for (let i = 0; i < b.length; i++) out.push(b.hash(i));
  return out;
}
