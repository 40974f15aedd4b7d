/**
 * Long polling: a job request that echoes the current queue epoch (`last_update`) has
 * already been told "nothing" for this state of the queue, so it is held until the notifier
 * says work arrived, the poll timeout passes, the client goes away or the server stops.
 * Without a matching epoch, or with holding off (timeout 0), the request is answered at once.
 * While held, the epoch is also re-read every EPOCH_CHECK_MS so work created by another
 * process on the same data dir is not missed.
 */
import { eq } from 'drizzle-orm';
import { runners, type Runner } from '../db/schema';
import type { Core } from './index';
import type { ClaimResult, RunnerFeatures } from './jobs';

const EPOCH_CHECK_MS = 2000;

export async function nextJob(
  core: Core,
  runner: Runner,
  lastUpdate: string | undefined,
  opts: { timeoutMs: number; signal?: AbortSignal; features?: RunnerFeatures },
): Promise<{ result: ClaimResult; epoch: string }> {
  let epoch = core.instance.queueEpoch();
  // Nothing changed since this runner was told "nothing": answer so without searching the
  // queue (GitLab's cached "build not found"), the path every idle runner's poll takes.
  if (lastUpdate === epoch && opts.timeoutMs <= 0) return { result: { outcome: 'none' }, epoch };
  if (!lastUpdate || lastUpdate !== epoch || opts.timeoutMs <= 0) {
    return { result: core.jobs.claim(runner, opts.features), epoch: core.instance.queueEpoch() };
  }
  const deadline = performance.now() + opts.timeoutMs;
  let current = runner;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return { result: { outcome: 'none' }, epoch };
    const woke = await core.deps.notifier.wait(Math.min(left, EPOCH_CHECK_MS), opts.signal);
    if (woke === 'aborted' || woke === 'closed') return { result: { outcome: 'none' }, epoch };
    const now = core.instance.queueEpoch();
    if (now === epoch) continue;
    epoch = now;
    // Settings may have changed while held (paused, tags): look at the runner again.
    const fresh = core.deps.db.select().from(runners).where(eq(runners.id, current.id)).get();
    if (!fresh || !fresh.active) return { result: { outcome: 'none' }, epoch };
    current = fresh;
    const result = core.jobs.claim(current, opts.features);
    if (result.outcome !== 'none') return { result, epoch: core.instance.queueEpoch() };
  }
}
