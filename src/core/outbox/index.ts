/**
 * The outbox: durable work that must not be done inside the request (or transaction) that
 * causes it, in one table (`outbox`) and one background worker.
 *
 *   inbound   webhook        a verified push delivery → a pipeline (git fetch, compile)
 *             schedule       a claimed schedule slot or a `play` → a pipeline
 *   outbound  commit_status  the latest state of a pipeline → the project's forge
 *             hook           a Pipeline/Job/Push Hook body → a project hook's URL
 *
 * Flow: the change writes its row IN ITS OWN TRANSACTION (enqueue), so the row exists
 * exactly when the change does — nothing is lost by a crash, nothing is sent for a change
 * that rolled back — and the caller never waits for the network. The worker takes due rows
 * with a lease (a crashed worker's rows come back when it ends), runs the kind's handler,
 * and records the outcome:
 *
 *   pending ──handler ok──────────────▶ done
 *      │ ├──nothing to do (reason)─────▶ skipped
 *      │ └──permanent error────────────▶ failed
 *      └──temporary error (5xx, 429, timeout, unreachable): attempts+1, next try after
 *         10 s · 2^(attempts-1) (at most 10 min, later if Retry-After says so); after
 *         `giveUpMs` (6 h) since the row was enqueued ──▶ failed, with a warning in the log
 *
 * Coalescing: a row with a coalesce key (`status:<pipeline>`) that is still pending takes
 * the newer payload in place (version+1, attempts and give-up clock reset) instead of a new
 * row, so only a pipeline's latest state is sent. A send that finishes an older version
 * than the row now holds does not finish the row: the newer version goes out next.
 *
 * Two processes on one data dir share the table; the lease decides who runs a row (at
 * least once: a worker that dies after sending but before recording sends again).
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { outbox, type OutboxRow } from '../../db/schema';
import type { CoreDeps } from '../context';
import { atomically, changes } from '../tx';

export type OutboxKind = 'webhook' | 'schedule' | 'commit_status' | 'hook';
export const INBOUND: readonly OutboxKind[] = ['webhook', 'schedule'];

export type Outcome =
  | { state: 'done'; pipelineId?: number; responseStatus?: number; reason?: string }
  | { state: 'skipped'; reason: string }
  | { state: 'failed'; reason: string; responseStatus?: number }
  | { state: 'retry'; reason: string; responseStatus?: number; retryAfterMs?: number };

export type Handler = (row: OutboxRow) => Promise<Outcome>;

export interface OutboxOptions {
  /** first retry delay; doubles per attempt */
  baseDelayMs: number;
  maxDelayMs: number;
  /** a row still failing this long after it was enqueued is given up */
  giveUpMs: number;
  /** how long a worker holds a row: outbound requests, inbound work (git fetch + compile) */
  leaseMs: { outbound: number; inbound: number };
  /** rows run at once by one process */
  concurrency: number;
  /** one outbound request, headers and body */
  requestTimeoutMs: number;
  /** finished rows are kept this long (the deliveries list, and redeliveries recognised), then pruned */
  keepMs: number;
}

export const DEFAULT_OUTBOX: OutboxOptions = {
  baseDelayMs: 10_000,
  maxDelayMs: 600_000,
  giveUpMs: 6 * 3600_000,
  leaseMs: { outbound: 60_000, inbound: 300_000 },
  concurrency: 8,
  requestTimeoutMs: 10_000,
  keepMs: 14 * 24 * 3600_000,
};

export interface EnqueueInput {
  projectId: number;
  kind: OutboxKind;
  event: string;
  payload: unknown;
  hookId?: number;
  pipelineId?: number;
  coalesceKey?: string;
  /** inbound: the sender's delivery id; outbound: generated (sent as Idempotency-Key) */
  dedupeKey?: string | null;
  /** a delivery answered at once (ping, deletion, [skip ci]) is recorded as skipped */
  skipped?: string;
}

export class Outbox {
  private handlers = new Map<OutboxKind, Handler>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private pruner: ReturnType<typeof setInterval> | null = null;
  private kicked = false;
  private running = new Map<number, Promise<void>>();
  private stopped = false;

  constructor(private deps: Omit<CoreDeps, 'events'>, readonly options: OutboxOptions = DEFAULT_OUTBOX) {}

  private get db() { return this.deps.db; }

  on(kind: OutboxKind, handler: Handler) {
    this.handlers.set(kind, handler);
  }

  // ---------------------------------------------------------------- writing (in the caller's transaction)

  /** Adds a row, or merges it into the pending row with the same coalesce key. */
  enqueue(input: EnqueueInput): OutboxRow {
    return atomically(this.db, () => {
      const now = this.deps.clock.now();
      if (input.coalesceKey && !input.skipped) {
        const merged = this.db.update(outbox).set({
          payload: input.payload, event: input.event, version: sql`${outbox.version} + 1`,
          attempts: 0, enqueuedAt: now, nextAttemptAt: now, reason: null,
        }).where(and(eq(outbox.coalesceKey, input.coalesceKey), eq(outbox.state, 'pending'))).returning().get();
        if (merged) { this.kick(); return merged; }
      }
      const row = this.db.insert(outbox).values({
        projectId: input.projectId, kind: input.kind, event: input.event, payload: input.payload,
        hookId: input.hookId ?? null, pipelineId: input.pipelineId ?? null, coalesceKey: input.coalesceKey ?? null,
        dedupeKey: input.dedupeKey === undefined ? (INBOUND.includes(input.kind) ? null : randomUUID()) : input.dedupeKey,
        state: input.skipped ? 'skipped' : 'pending', reason: input.skipped ?? null,
        nextAttemptAt: now, createdAt: now, enqueuedAt: now, finishedAt: input.skipped ? now : null,
      }).returning().get();
      if (!input.skipped) this.kick();
      return row;
    });
  }

  /** The row a sender's delivery id was recorded under, if any. */
  findDelivery(projectId: number, dedupeKey: string): OutboxRow | null {
    return this.db.select().from(outbox).where(and(eq(outbox.projectId, projectId), eq(outbox.dedupeKey, dedupeKey))).get() ?? null;
  }

  get(id: number): OutboxRow | null {
    return this.db.select().from(outbox).where(eq(outbox.id, id)).get() ?? null;
  }

  list(projectId: number, opts: { kinds?: OutboxKind[]; offset: number; limit: number }): { rows: OutboxRow[]; total: number } {
    const where = and(eq(outbox.projectId, projectId), opts.kinds?.length ? inArray(outbox.kind, opts.kinds) : undefined);
    return {
      rows: this.db.select().from(outbox).where(where).orderBy(desc(outbox.id)).limit(opts.limit).offset(opts.offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(outbox).where(where).get()!.n,
    };
  }

  /** Rows still waiting (or retrying): the `baton_outbox_pending` gauge. One indexed count. */
  pendingCount(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(outbox).where(eq(outbox.state, 'pending')).get()!.n;
  }

  /**
   * Records a final outcome of the version that was run. Used by the worker, and by inbound
   * handlers inside the transaction that creates the pipeline. False when the row moved on
   * (already final, or coalesced to a newer version, which is then due at once).
   */
  finish(row: Pick<OutboxRow, 'id' | 'version'>, outcome: Exclude<Outcome, { state: 'retry' }>): boolean {
    return atomically(this.db, () => {
      const now = this.deps.clock.now();
      const res = this.db.update(outbox).set({
        state: outcome.state, reason: outcome.reason ?? null, finishedAt: now, leaseUntil: null,
        ...('responseStatus' in outcome && outcome.responseStatus !== undefined ? { responseStatus: outcome.responseStatus } : {}),
        ...('pipelineId' in outcome && outcome.pipelineId !== undefined ? { pipelineId: outcome.pipelineId } : {}),
      }).where(and(eq(outbox.id, row.id), eq(outbox.version, row.version), eq(outbox.state, 'pending'))).run();
      if (changes(res) === 1) return true;
      this.db.update(outbox).set({ leaseUntil: null, nextAttemptAt: now }).where(and(eq(outbox.id, row.id), eq(outbox.state, 'pending'))).run();
      return false;
    });
  }

  private retryLater(row: OutboxRow, outcome: Extract<Outcome, { state: 'retry' }>) {
    atomically(this.db, () => {
      const now = this.deps.clock.now();
      const current = this.get(row.id);
      if (!current || current.state !== 'pending') return;
      if (current.version !== row.version) {
        // coalesced while we tried: the newer version goes out now, with a fresh count
        this.db.update(outbox).set({ leaseUntil: null, nextAttemptAt: now }).where(eq(outbox.id, row.id)).run();
        return;
      }
      if (now - current.enqueuedAt >= this.options.giveUpMs) {
        this.finish(current, { state: 'failed', reason: `gave up after ${current.attempts} attempts: ${outcome.reason}`, responseStatus: outcome.responseStatus });
        this.deps.log.warn({ outbox: row.id, kind: row.kind, projectId: row.projectId, attempts: current.attempts, reason: outcome.reason }, 'outbox: giving up on a delivery');
        return;
      }
      const delay = Math.max(this.backoff(current.attempts), outcome.retryAfterMs ?? 0);
      this.db.update(outbox).set({
        leaseUntil: null, nextAttemptAt: now + Math.min(delay, this.options.maxDelayMs * 6), reason: outcome.reason,
        ...(outcome.responseStatus !== undefined ? { responseStatus: outcome.responseStatus } : {}),
      }).where(eq(outbox.id, row.id)).run();
    });
  }

  /** 10 s, 20 s, 40 s … at most maxDelayMs (attempts counts the one that just failed). */
  backoff(attempts: number): number {
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
  }

  // ---------------------------------------------------------------- the worker

  /** Takes the due rows this process may run now (leased in one transaction). */
  private claim(max: number): OutboxRow[] {
    if (max <= 0) return [];
    return atomically(this.db, () => {
      const now = this.deps.clock.now();
      const due = this.db.select().from(outbox)
        .where(and(eq(outbox.state, 'pending'), lte(outbox.nextAttemptAt, now), or(isNull(outbox.leaseUntil), lte(outbox.leaseUntil, now))))
        .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id)).limit(max).all();
      const won: OutboxRow[] = [];
      for (const r of due) {
        if (this.running.has(r.id)) continue;
        const lease = now + (INBOUND.includes(r.kind as OutboxKind) ? this.options.leaseMs.inbound : this.options.leaseMs.outbound);
        const taken = this.db.update(outbox).set({ leaseUntil: lease, attempts: sql`${outbox.attempts} + 1` })
          .where(and(eq(outbox.id, r.id), eq(outbox.version, r.version), or(isNull(outbox.leaseUntil), lte(outbox.leaseUntil, now)))).returning().get();
        if (taken) won.push(taken);
      }
      return won;
    });
  }

  private async run(row: OutboxRow): Promise<void> {
    const handler = this.handlers.get(row.kind as OutboxKind);
    let outcome: Outcome;
    try {
      outcome = handler ? await handler(row) : { state: 'failed', reason: `no handler for ${row.kind}` };
    } catch (e) {
      this.deps.log.error({ err: e, outbox: row.id, kind: row.kind }, 'outbox: handler failed');
      outcome = { state: 'retry', reason: `internal error: ${(e as Error).message}` };
    }
    if (this.stopped) return;
    try {
      if (outcome.state === 'retry') this.retryLater(row, outcome);
      else this.finish(row, outcome);
    } catch (e) {
      // the database went away (shutdown, disk): the lease ends and the row comes back
      this.deps.log.error({ err: e, outbox: row.id }, 'outbox: could not record an outcome');
    }
  }

  /** Starts what is due, up to the concurrency limit, without waiting for it. */
  pump(): Promise<void>[] {
    if (this.stopped) return [];
    let rows: OutboxRow[];
    try {
      rows = this.claim(this.options.concurrency - this.running.size);
    } catch (e) {
      this.deps.log.error({ err: e }, 'outbox: could not read due deliveries');
      return [];
    }
    return rows.map((row) => {
      const p = this.run(row).finally(() => {
        this.running.delete(row.id);
        this.kick();
      });
      this.running.set(row.id, p);
      return p;
    });
  }

  /** Deletes finished rows older than keepMs; pending ones stay whatever their age. */
  prune(): number {
    const before = this.deps.clock.now() - this.options.keepMs;
    return changes(this.db.delete(outbox).where(and(inArray(outbox.state, ['done', 'skipped', 'failed']), lte(outbox.finishedAt, before))).run());
  }

  /** Runs until nothing is due right now (tests drive the worker with this and a FakeClock). */
  async drain(): Promise<void> {
    for (let rounds = 0; rounds < 1000; rounds++) {
      const started = this.pump();
      if (started.length === 0 && this.running.size === 0) return;
      await Promise.all([...started, ...this.running.values()]);
    }
  }

  /** Asks for a pump soon (after the current transaction has committed). */
  kick() {
    if (!this.timer || this.kicked) return;
    this.kicked = true;
    setTimeout(() => { this.kicked = false; this.pump(); }, 0).unref?.();
  }

  start(everyMs = 1000) {
    this.stop();
    this.stopped = false;
    this.timer = setInterval(() => this.pump(), everyMs);
    this.timer.unref?.();
    const prune = () => { try { this.prune(); } catch (e) { this.deps.log.error({ err: e }, 'outbox: prune failed'); } };
    this.pruner = setInterval(prune, 3600_000);
    this.pruner.unref?.();
    prune();
    this.pump();
  }

  /** Stops taking rows; rows in flight get up to `graceMs`, the rest are handed back at once. */
  async stop(graceMs = 0) {
    if (this.timer) clearInterval(this.timer);
    if (this.pruner) clearInterval(this.pruner);
    this.timer = this.pruner = null;
    if (this.running.size && graceMs > 0) {
      await Promise.race([Promise.all(this.running.values()), Bun.sleep(graceMs)]);
    }
    this.stopped = true;
    const held = [...this.running.keys()];
    if (held.length) {
      try {
        this.db.update(outbox).set({ leaseUntil: null }).where(and(inArray(outbox.id, held), eq(outbox.state, 'pending'))).run();
      } catch { /* closing anyway: the leases run out */ }
    }
  }
}
