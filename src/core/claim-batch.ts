/**
 * What the claims of ONE write transaction share (dispatch.ts's group commit). Inside an
 * IMMEDIATE transaction nobody else writes, so what one claim read is still true for the
 * next, except what the claims themselves change — which this records:
 *
 * - the candidate search: runners of one scope (instance runners with the same tags) see
 *   the same queue, so it is read once, `size - 1` rows longer than a search's window, and
 *   each claim takes the window from what is left (jobs taken or failed in this batch
 *   removed). That is exactly what a fresh search would return; when too few are left of a
 *   truncated list, the next claim searches again;
 * - rows the job payload repeats for every job of a pipeline (project, pipeline, the
 *   pipeline's predefined variables, user, project variables), dropped when a claim changes
 *   them (the pipeline's status on its first claim).
 *
 * A batch must not outlive its transaction: it is made per flush (or per single claim).
 */
import type { Candidate } from './queue';

export class ClaimBatch {
  /** jobs this batch took or failed: no longer in the queue */
  readonly gone = new Set<number>();
  private lists = new Map<string, { rows: Candidate[]; truncated: boolean }>();
  private memo = new Map<string, unknown>();

  /** `size`: how many claims this batch will make at most. */
  constructor(readonly size = 1) {}

  /**
   * The first `window` candidates of a scope not gone yet. `search(limit)` reads the queue,
   * oldest first, at most `limit` rows.
   */
  candidates(scope: string, window: number, search: (limit: number) => Candidate[]): Candidate[] {
    let list = this.lists.get(scope);
    let left = list ? list.rows.filter((c) => !this.gone.has(c.id)) : [];
    if (!list || (list.truncated && left.length < window)) {
      const limit = window + this.size - 1;
      const rows = search(limit);
      list = { rows, truncated: rows.length === limit };
      this.lists.set(scope, list);
      left = rows.filter((c) => !this.gone.has(c.id));
    } else list.rows = left;
    // a copy: the caller may sort it (fairness)
    return left.slice(0, window);
  }

  /** A value read once per batch (`key` names the row or list). */
  get<T>(key: string, load: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = load();
    this.memo.set(key, v);
    return v;
  }

  /** What a claim changed must be read again. */
  forget(key: string) {
    this.memo.delete(key);
  }

  /** After a claim failed (its savepoint rolled back), nothing it read or changed is trusted. */
  forgetAll() {
    this.memo.clear();
    this.lists.clear();
  }
}
