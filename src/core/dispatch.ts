/**
 * How a runner's job request is answered (both protocols).
 *
 * The queue epoch (`X-GitLab-Last-Update`) changes whenever work may have become available
 * to some runner (instance.ts). A request that echoes the current epoch has already been
 * told "nothing" for this state of the queue: with long polling off it is answered so at
 * once, else it is held until work it could take arrives, the poll timeout passes, the
 * client goes away or the server stops. Without a matching epoch the queue is searched —
 * unless this same runner searched it at this same epoch and found nothing (a runner's
 * first poll, and every poll of runners that do not echo: GitLab's cached "build not
 * found" per runner), so such an answer costs no SQL and no write lock.
 *
 * Wake-ups are per runner: announcing work wakes, of the held polls whose runner's tags fit
 * a job that became pending, one per new job, longest held first (notifier.ts); one that then
 * finds nothing it may take wakes the next. So a job for 100 of 1 000 held runners costs one
 * search (or a few), not 1 000. A change of a runner or project setting wakes every held poll, which
 * then reads its runner again. Work created by another process on the same data dir is seen
 * by one watcher per process that reads the epoch every EPOCH_CHECK_MS while polls are held
 * and wakes them all when it moved for a reason this process did not announce.
 */
import { eq } from 'drizzle-orm';
import { runners, type Runner } from '../db/schema';
import type { CoreDeps } from './context';
import type { InstanceService } from './instance';
import type { ClaimResult, JobService, RunnerFeatures, Taken } from './jobs';
import type { Work } from './notifier';
import { ClaimBatch } from './claim-batch';
import { tagsFit } from './queue';
import { atomically, writeLock } from './tx';

const EPOCH_CHECK_MS = 2000;
/** Bounds the per-runner memory of empty searches (one entry per runner that polled). */
const MEMO_MAX = 100_000;

/** How long a batch waits on a timer for another process's write lock before it waits in SQLite (busy_timeout). */
const LOCK_WAIT_MS = 1000;

interface Waiting {
  runner: Runner; epoch: string; features?: RunnerFeatures;
  done: (r: ClaimResult) => void; fail: (e: unknown) => void;
  /** performance.now() when the write lock was first found taken (0: not yet) */
  since: number;
}

/** A job request's answer: the claim's outcome and the epoch to tell the runner. */
export interface Next { result: ClaimResult; epoch: string }

export class Dispatcher {
  /** runner id → the epoch at which its last search found nothing */
  private emptyAt = new Map<number, string>();
  private watcher: Timer | null = null;

  constructor(private deps: Pick<CoreDeps, 'db' | 'notifier'>, private instance: InstanceService, private jobs: JobService) {
    instance.onForeignTick = () => deps.notifier.notify();
  }

  /** `features`: what the runner says it supports (a job it cannot run fails as runner_unsupported). */
  // Not async: the answers that need no wait (most polls) are given without a promise.
  nextJob(runner: Runner, lastUpdate: string | undefined, opts: { timeoutMs: number; signal?: AbortSignal; features?: RunnerFeatures }): Next | Promise<Next> {
    const epoch = this.instance.queueEpoch();
    if (lastUpdate !== epoch) {
      if (this.emptyAt.get(runner.id) === epoch) return { result: { outcome: 'none' }, epoch };
      return this.batched(runner, epoch, opts.features).then((result) => ({ result, epoch: this.instance.queueEpoch() }));
    }
    if (opts.timeoutMs <= 0) return { result: { outcome: 'none' }, epoch };
    return this.hold(runner, opts.timeoutMs, opts.signal, opts.features);
  }

  /** The claim, skipped when this runner found nothing at this very epoch. */
  private search(runner: Runner, epoch: string, features?: RunnerFeatures): ClaimResult {
    const batch = new ClaimBatch();
    const taken = this.take(runner, epoch, features, batch);
    return taken.outcome === 'job' ? { outcome: 'job', context: this.jobs.context(taken.job, taken.token, runner, batch) } : taken;
  }

  /** search() without the payload data (the group commit assembles it after its commit). */
  private take(runner: Runner, epoch: string, features?: RunnerFeatures, batch?: ClaimBatch): Taken {
    if (this.emptyAt.get(runner.id) === epoch) return { outcome: 'none' };
    const result = this.jobs.take(runner, features, batch);
    if (result.outcome === 'none') {
      if (this.emptyAt.size >= MEMO_MAX) this.emptyAt.clear();
      this.emptyAt.set(runner.id, epoch);
    }
    return result;
  }

  private batch: Waiting[] = [];
  private flushAt: Timer | null = null;

  /**
   * Group commit: the searches of every job request that arrived in one turn of the event
   * loop run in ONE write transaction, so N claims share one commit instead of paying one
   * each, and share what they read (the candidate search, a pipeline's rows: claim-batch.ts)
   * (bench P2). No savepoint per claim: should one fail, the whole transaction is undone and
   * each request of the batch is answered by a claim of its own.
   */
  private batched(runner: Runner, epoch: string, features?: RunnerFeatures): Promise<ClaimResult> {
    return new Promise((done, fail) => {
      if (this.batch.push({ runner, epoch, features, done, fail, since: 0 }) === 1 && !this.flushAt) setImmediate(() => this.flush());
    });
  }

  private flush() {
    this.flushAt = null;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    if (batch.length === 1 && batch[0].since === 0) {
      const [b] = batch;
      try { b.done(this.search(b.runner, b.epoch, b.features)); } catch (error) { b.fail(error); }
      return;
    }
    const shared = new ClaimBatch(batch.length);
    const outcomes: Taken[] = [];
    let taken: 'done' | 'busy';
    try {
      // Another process holding the write lock must not stop this one's event loop (SQLite's
      // busy wait sleeps in the thread): the batch waits on a timer instead, and grows meanwhile.
      const patient = batch.some((b) => b.since !== 0 && performance.now() - b.since > LOCK_WAIT_MS);
      taken = writeLock(this.deps.db, !patient, () => { for (const b of batch) outcomes.push(this.take(b.runner, b.epoch, b.features, shared)); });
    } catch {
      // nothing of the batch was kept (a claim or the commit failed): each is tried alone
      for (const b of batch) this.emptyAt.delete(b.runner.id);
      for (const b of batch) {
        // its own transaction around the whole search: a failure after the take undoes the take
        try { b.done(atomically(this.deps.db, () => this.search(b.runner, b.epoch, b.features))); } catch (error) { b.fail(error); }
      }
      return;
    }
    if (taken === 'busy') {
      const now = performance.now();
      for (const b of batch) if (b.since === 0) b.since = now;
      this.batch = [...batch, ...this.batch];
      this.flushAt ??= setTimeout(() => this.flush(), 1);
      return;
    }
    // After the commit: the payload data is read while another process may take the write lock.
    // What the batch read is still true (nothing ran in between in this process).
    batch.forEach((b, i) => {
      const t = outcomes[i];
      if (t.outcome !== 'job') { b.done(t); return; }
      try { b.done({ outcome: 'job', context: this.jobs.context(t.job, t.token, b.runner, shared) }); } catch (error) { b.fail(error); }
    });
  }

  private async hold(runner: Runner, timeoutMs: number, signal: AbortSignal | undefined, features: RunnerFeatures | undefined): Promise<Next> {
    const heldAt = this.instance.queueEpoch();
    const deadline = performance.now() + timeoutMs;
    let current = runner;
    let wokeFor: Work;
    const wants = (work: Work) => {
      const fits = work === undefined || work.some((tags) => tagsFit(current, tags));
      if (fits) wokeFor = work;
      return fits;
    };
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      this.watch();
      const woke = await this.deps.notifier.wait(left, signal, wants);
      if (woke === 'timeout' || woke === 'aborted' || woke === 'closed') break;
      if (woke === 'changed') {
        // Settings may have changed while held (paused, tags, projects): look at the runner again.
        const fresh = this.deps.db.select().from(runners).where(eq(runners.id, current.id)).get();
        if (!fresh || !fresh.active) break;
        current = fresh;
      }
      const result = this.jobs.claim(current, features);
      if (result.outcome !== 'none') return { result, epoch: this.instance.queueEpoch() };
      // Woken for work this runner could not take after all (another project's, or taken):
      // the next runner that fits tries, so the work is not left to the poll timeout.
      if (woke === 'notified') this.deps.notifier.notify(wokeFor, 1);
    }
    // The queue moved while held, for other runners' work as far as this one was told: one
    // search (at most one per runner per epoch) makes sure, before the runner adopts the new epoch.
    const now = this.instance.queueEpoch();
    if (now !== heldAt && !signal?.aborted && !this.deps.notifier.isClosed) {
      const result = this.search(current, now, features);
      if (result.outcome === 'job') return { result, epoch: this.instance.queueEpoch() };
    }
    return { result: { outcome: 'none' }, epoch: now };
  }

  /** One timer per process, while polls are held: another process's work wakes them. */
  private watch() {
    if (this.watcher) return;
    this.watcher = setInterval(() => {
      if (this.deps.notifier.waiting === 0 || this.deps.notifier.isClosed) {
        clearInterval(this.watcher!);
        this.watcher = null;
        return;
      }
      this.instance.readEpoch();
    }, EPOCH_CHECK_MS);
    this.watcher.unref?.();
  }
}
