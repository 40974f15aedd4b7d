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

/** What a batch reads once: a kind of row, by id. */
export type BatchRow = 'project' | 'pipeline' | 'pipeline variables' | 'user' | 'secrets';

interface List { rows: Candidate[]; truncated: boolean; projects: number }

export class ClaimBatch {
  private lists = new Map<string, List>();
  private memo = new Map<BatchRow, Map<number, unknown>>();

  /** `size`: how many claims this batch will make at most. */
  constructor(readonly size = 1) {}

  /**
   * The first `window` candidates of a scope not taken yet, and how many projects the scope's
   * list holds (one: no fairness to decide). `search(limit)` reads the queue, oldest first,
   * at most `limit` rows.
   */
  candidates(scope: string, window: number, search: (limit: number) => Candidate[]): { rows: Candidate[]; projects: number } {
    let list = this.lists.get(scope);
    if (!list || (list.truncated && list.rows.length < window)) {
      const limit = window + this.size - 1;
      const rows = search(limit);
      let projects = 0;
      if (rows.length > 0) projects = rows.every((c) => c.projectId === rows[0].projectId) ? 1 : new Set(rows.map((c) => c.projectId)).size;
      list = { rows, truncated: rows.length === limit, projects };
      this.lists.set(scope, list);
    }
    // a copy: the caller may sort it (fairness), and taking one changes the list
    return { rows: list.rows.slice(0, window), projects: list.projects };
  }

  /** A job this batch took or failed: it leaves every list (claims take from the front, so this is cheap). */
  gone(id: number) {
    for (const list of this.lists.values()) {
      const i = list.rows.findIndex((c) => c.id === id);
      if (i !== -1) list.rows.splice(i, 1);
    }
  }

  /** A row read once per batch. */
  get<T>(kind: BatchRow, id: number, load: () => T): T {
    let rows = this.memo.get(kind);
    if (!rows) this.memo.set(kind, (rows = new Map()));
    if (rows.has(id)) return rows.get(id) as T;
    const v = load();
    rows.set(id, v);
    return v;
  }

  /** What a claim changed must be read again. */
  forget(kind: BatchRow, id: number) {
    this.memo.get(kind)?.delete(id);
  }
}
