/**
 * One processing pass over a pipeline — GitLab's atomic processing (spec ci-yaml.md §6.2),
 * the rule every job follows (see the lifecycle in jobs.ts):
 *
 *   for each `created` job, by stage, and inside a stage in the order of its needs:
 *     prior = DAG job (has `needs`) → composite of its needs (DAG mode)
 *             stage job             → composite of every job of the lower stages
 *             nothing to look at    → success
 *     prior not final (success/failed/canceled/skipped) → stay `created`
 *     `when` accepts prior → manual | scheduled (delayed) | enqueued; else → skipped
 *
 * A decision is visible to the jobs decided after it in the same pass (a skipped job skips
 * its dependants at once). The pass is set-based: a few grouped queries over the pipeline,
 * whatever its size — not one query per job (a 500-job DAG costs the same handful per job end).
 * The queries are SQL text with the pipeline as a parameter, so bun:sqlite compiles each once
 * (drizzle rendered and SQLite compiled them anew on every pass: bench P3).
 */
import type { Db } from '../db/client';
import { accepts, composite, isFinal, type StatusCount } from './status';

export interface CreatedJob {
  id: number;
  name: string;
  stageIdx: number;
  when: string;
  dag: boolean;
  allowFailure: boolean;
  bridge: boolean;
}

export interface Decision { id: number; name: string; status: 'pending' | 'manual' | 'scheduled' | 'skipped' }

/** What the pass decided; the caller writes it (pipelines.ts). */
export function decide(db: Db, pipelineId: number): Decision[] {
  const created = db.$client.query<{ id: number; name: string; stage_idx: number; when: string; dag: number; allow_failure: number; kind: string }, { id: number }>(`
    SELECT id, name, stage_idx, "when", dag, allow_failure, kind FROM jobs
    WHERE pipeline_id = $id AND retried = 0 AND status = 'created' ORDER BY stage_idx, id`).all({ id: pipelineId })
    .map((r): CreatedJob => ({ id: r.id, name: r.name, stageIdx: r.stage_idx, when: r.when, dag: !!r.dag, allowFailure: !!r.allow_failure, bridge: r.kind === 'bridge' }));
  if (created.length === 0) return [];

  // Status counts of every stage (for stage jobs) …
  const stages = new Map<number, Map<string, StatusCount>>();
  const bump = (stage: number, status: string, allowFailure: boolean, n: number) => {
    let m = stages.get(stage);
    if (!m) stages.set(stage, (m = new Map()));
    const key = `${status}|${allowFailure ? 1 : 0}`;
    const c = m.get(key) ?? { status, allowFailure, n: 0 };
    c.n += n;
    m.set(key, c);
  };
  for (const r of db.$client.query<{ stage_idx: number; status: string; allow_failure: number; n: number }, { id: number }>(`
    SELECT stage_idx, status, allow_failure, count(*) AS n FROM jobs
    WHERE pipeline_id = $id AND retried = 0 GROUP BY stage_idx, status, allow_failure`).all({ id: pipelineId })) bump(r.stage_idx, r.status, !!r.allow_failure, r.n);

  // … and, for DAG jobs still to decide, the current attempt of each job they need. Two
  // plain scans of the pipeline (its jobs by name, its edges): linear, with no join order
  // for the planner to get wrong on tables without statistics.
  const needsOf = new Map<string, string[]>();
  const byName = new Map<string, { status: string; allowFailure: boolean }>();
  const dagNames = new Set(created.filter((j) => j.dag).map((j) => j.name));
  if (dagNames.size) {
    for (const e of db.$client.query<{ job_name: string; need_name: string }, { id: number }>(`
      SELECT job_name, need_name FROM job_needs WHERE pipeline_id = $id`).all({ id: pipelineId })) {
      if (!dagNames.has(e.job_name)) continue;
      const list = needsOf.get(e.job_name) ?? [];
      list.push(e.need_name);
      needsOf.set(e.job_name, list);
    }
    for (const r of db.$client.query<{ name: string; status: string; allow_failure: number }, { id: number }>(`
      SELECT name, status, allow_failure FROM jobs WHERE pipeline_id = $id AND retried = 0`).all({ id: pipelineId })) {
      byName.set(r.name, { status: r.status, allowFailure: !!r.allow_failure });
    }
    // Needs of jobs that are not in the pipeline (optional ones the compiler kept) do not count.
    for (const [name, list] of needsOf) needsOf.set(name, list.filter((n) => byName.has(n)));
  }

  const decisions: Decision[] = [];
  for (const job of orderByNeeds(created, needsOf)) {
    let prior: string | null;
    if (job.dag) {
      prior = composite((needsOf.get(job.name) ?? []).map((n) => ({ ...byName.get(n)!, n: 1 })), true);
    } else {
      const lower: StatusCount[] = [];
      for (const [idx, m] of stages) if (idx < job.stageIdx) lower.push(...m.values());
      prior = composite(lower);
    }
    prior ??= 'success';
    if (!isFinal(prior)) continue;
    const status: Decision['status'] = !accepts(job.when, prior, job.dag) ? 'skipped'
      : job.when === 'manual' ? 'manual'
      // a bridge is never scheduled (GitLab's Ci::Bridge#schedulable? is false): `rules: when: delayed` starts it at once
      : job.when === 'delayed' && !job.bridge ? 'scheduled' : 'pending';
    decisions.push({ id: job.id, name: job.name, status });
    // Visible to the rest of the pass.
    bump(job.stageIdx, 'created', job.allowFailure, -1);
    bump(job.stageIdx, status, job.allowFailure, 1);
    const known = byName.get(job.name);
    if (known) known.status = status;
  }
  return decisions;
}

/**
 * Created jobs by stage; inside a stage, a job after the jobs of that stage it needs
 * (Kahn's order, linear; a cycle cannot come from the compiler and would keep file order).
 */
function orderByNeeds(created: CreatedJob[], needsOf: Map<string, string[]>): CreatedJob[] {
  const out: CreatedJob[] = [];
  for (let i = 0; i < created.length;) {
    let j = i;
    while (j < created.length && created[j].stageIdx === created[i].stageIdx) j++;
    const stage = created.slice(i, j);
    i = j;
    if (stage.length === 1 || !stage.some((s) => s.dag)) { out.push(...stage); continue; }
    const index = new Map(stage.map((s, k) => [s.name, k]));
    const indegree = new Array<number>(stage.length).fill(0);
    const dependants: number[][] = stage.map(() => []);
    stage.forEach((s, k) => {
      for (const n of needsOf.get(s.name) ?? []) {
        const from = index.get(n);
        if (from !== undefined && from !== k) { indegree[k]++; dependants[from].push(k); }
      }
    });
    const queue = stage.map((_, k) => k).filter((k) => indegree[k] === 0);
    const done = new Array<boolean>(stage.length).fill(false);
    for (let q = 0; q < queue.length; q++) {
      const k = queue[q];
      done[k] = true;
      out.push(stage[k]);
      for (const d of dependants[k]) if (--indegree[d] === 0) queue.push(d);
    }
    for (let k = 0; k < stage.length; k++) if (!done[k]) out.push(stage[k]);
  }
  return out;
}
