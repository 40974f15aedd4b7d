/**
 * In-process wake-ups. Two kinds, both the seam where PostgreSQL LISTEN/NOTIFY would plug
 * in for several replicas:
 *   - work for long-polling runners: whoever makes work available calls notify(); held job
 *     requests wait on wait();
 *   - changes live views watch (the SSE streams of src/http/sse.ts): `traces` is signalled
 *     with a job id when its log grew or was replaced, `pipelines` with a pipeline id when
 *     the pipeline or one of its jobs changed (status, artifacts). A signal says only "look
 *     again"; the watcher reads the state itself, after the change's transaction (signals
 *     are synchronous and watchers only schedule their read).
 */
/** What became available: the tag lists of jobs that became pending (undefined: anything may have). */
export type Work = readonly (readonly string[])[] | undefined;

interface Waiter { wants?: (work: Work) => boolean; wake: (all: boolean) => void }

export class Notifier {
  private waiters = new Set<Waiter>();
  private closed = false;
  /** job id → trace changed */
  readonly traces = new Topic();
  /** pipeline id → the pipeline or one of its jobs changed */
  readonly pipelines = new Topic();

  /**
   * Resolves 'notified' (work that `wants` accepts, or a change of anything: 'changed'),
   * 'timeout', 'aborted' or 'closed' (shutdown), whichever comes first. Without `wants`
   * every notification wakes the waiter.
   */
  wait(timeoutMs: number, signal?: AbortSignal, wants?: (work: Work) => boolean): Promise<'notified' | 'changed' | 'timeout' | 'aborted' | 'closed'> {
    if (this.closed) return Promise.resolve('closed');
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: 'notified' | 'changed' | 'timeout' | 'aborted' | 'closed') => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const waiter: Waiter = { wants, wake: (all) => finish(this.closed ? 'closed' : all ? 'changed' : 'notified') };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Wakes waiters that want this work — all of them when `work` is undefined (a runner or
   * project setting changed, another process made work, shutdown). Of those that want it,
   * at most `jobs` are woken, longest waiting first: one runner per new job, not every
   * runner that fits (a woken runner that finds nothing passes the work on, dispatch.ts).
   * So a job for 100 of 1 000 held runners costs one search, not 1 000.
   */
  notify(work?: Work, jobs = Infinity) {
    if (work === undefined) {
      for (const w of [...this.waiters]) w.wake(true);
      return;
    }
    if (work.length === 0) return;
    let left = jobs;
    // Set order is insertion order: the longest-held poll first. wake() removes the waiter.
    for (const w of this.waiters) {
      if (left <= 0) break;
      if (!w.wants || w.wants(work)) { w.wake(false); left--; }
    }
  }

  get waiting() { return this.waiters.size; }

  get isClosed() { return this.closed; }

  /** Releases every held request and every watcher (shutdown) and refuses new waits. */
  close() {
    this.closed = true;
    this.notify();
    this.traces.signalAll();
    this.pipelines.signalAll();
  }
}

/**
 * Watchers by id. signal() is on the trace PATCH hot path: with nobody watching that id it
 * is one Map lookup, no allocation.
 */
export class Topic {
  private byId = new Map<number, Set<() => void>>();

  signal(id: number) {
    const set = this.byId.get(id);
    if (set !== undefined) for (const fn of set) fn();
  }

  /** Calls `fn` on every signal for `id` until the returned function is called. */
  watch(id: number, fn: () => void): () => void {
    let set = this.byId.get(id);
    if (set === undefined) this.byId.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.byId.get(id) === set) this.byId.delete(id);
    };
  }

  signalAll() {
    for (const set of [...this.byId.values()]) for (const fn of [...set]) fn();
  }

  /** How many watchers there are (tests: streams are released). */
  get watchers() {
    let n = 0;
    for (const set of this.byId.values()) n += set.size;
    return n;
  }
}
