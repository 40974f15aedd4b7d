/**
 * Which pending job a runner may take, in which order (runner-api-v1.md §4.2):
 * - a project runner sees the jobs of its projects, oldest first (FIFO);
 * - an instance (shared) runner sees the jobs of projects with shared runners enabled,
 *   ordered fairly: projects with the fewest jobs running on shared runners first, then
 *   oldest job first. Fairness is decided among the oldest CANDIDATE_WINDOW eligible jobs,
 *   so a claim costs the same with ten or ten thousand jobs waiting;
 * - tags: every job tag must be among the runner's tags; an untagged job needs run_untagged;
 * - `locked` only stops a project runner from being enabled for other projects — an
 *   instance runner registered with runner 11.x defaults (locked: true) still takes work;
 * - a paused runner takes nothing; bridge jobs (`trigger:`) are never handed out.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Runner } from '../db/schema';
import { ClaimBatch } from './claim-batch';

export const CANDIDATE_WINDOW = 64;

export interface Candidate {
  id: number;
  projectId: number;
}

/**
 * The candidate search, as SQL text run through bun:sqlite's statement cache: drizzle's sql``
 * rendered it anew on every claim, which cost twice what SQLite spends running it (bench P2).
 * One text per scope; the runner's tags, run_untagged and id are parameters.
 */
const tagRule = `(CASE WHEN j.tag_list = '[]' THEN $untagged
      ELSE NOT EXISTS (SELECT 1 FROM json_each(j.tag_list) jt WHERE jt.value NOT IN (SELECT value FROM json_each($tags))) END)`;
export const SEARCH = {
  shared: `SELECT j.id, j.project_id FROM jobs j INDEXED BY jobs_queue
    WHERE j.status = 'pending' AND j.kind = 'build'
      AND j.project_id IN (SELECT id FROM projects WHERE shared_runners_enabled = 1) AND ${tagRule}
    ORDER BY j.id LIMIT $limit`,
  project: `SELECT j.id, j.project_id FROM jobs j INDEXED BY jobs_queue
    WHERE j.status = 'pending' AND j.kind = 'build'
      AND j.project_id IN (SELECT project_id FROM runner_projects WHERE runner_id = $runner) AND ${tagRule}
    ORDER BY j.id LIMIT $limit`,
  // the running jobs only (INDEXED BY): by project, SQLite read every job a project ever had
  running: `SELECT j.project_id, count(*) AS n FROM jobs j INDEXED BY jobs_running JOIN runners r ON r.id = j.runner_id
    WHERE j.status = 'running' AND r.is_shared = 1 AND j.project_id IN (SELECT value FROM json_each($projects))
    GROUP BY j.project_id`,
};

/**
 * `batch`: the claims of one write transaction share one search per scope (claim-batch.ts);
 * a project runner's scope is its own projects, an instance runner's its tags.
 */
export function eligibleJobs(db: Db, runner: Runner, batch = new ClaimBatch()): Candidate[] {
  if (!runner.active) return [];
  const client = db.$client;
  const tags = JSON.stringify(runner.tagList);
  const untagged = runner.runUntagged ? 1 : 0;
  const scope = runner.isShared ? `shared ${untagged} ${tags}` : `runner ${runner.id}`;
  const { rows: candidates, projects } = batch.candidates(scope, CANDIDATE_WINDOW, (limit) => (runner.isShared
    ? client.query<[number, number], { tags: string; untagged: number; limit: number }>(SEARCH.shared).values({ tags, untagged, limit })
    : client.query<[number, number], { tags: string; untagged: number; runner: number; limit: number }>(SEARCH.project)
      .values({ tags, untagged, runner: runner.id, limit })
  ).map((r) => ({ id: r[0] as number, projectId: r[1] as number })));
  if (!runner.isShared || candidates.length < 2 || projects < 2) return candidates;

  const projectIds = [...new Set(candidates.map((c) => c.projectId))];
  if (projectIds.length < 2) return candidates;
  const running = new Map(client.query<{ project_id: number; n: number }, { projects: string }>(SEARCH.running)
    .all({ projects: JSON.stringify(projectIds) }).map((r) => [r.project_id, r.n]));
  return candidates.sort((a, b) => (running.get(a.projectId) ?? 0) - (running.get(b.projectId) ?? 0) || a.id - b.id);
}

/** The tag rule above, in memory: could this runner take a job with these tags? (Scopes are the claim's.) */
export function tagsFit(runner: Pick<Runner, 'tagList' | 'runUntagged'>, tags: readonly string[]): boolean {
  if (tags.length === 0) return runner.runUntagged;
  for (const t of tags) if (!runner.tagList.includes(t)) return false;
  return true;
}

/** Why a pending job has not been taken yet (people ask; runners never see this). */
export function pendingReason(db: Db, job: { projectId: number; tagList: string[] }, now: number, onlineWindowMs: number): string {
  const runners = db.all<{ id: number; tag_list: string; run_untagged: number; active: number; is_shared: number; contacted_at: number | null }>(sql`
    SELECT r.id, r.tag_list, r.run_untagged, r.active, r.is_shared, r.contacted_at FROM runners r
    WHERE (r.is_shared = 1 AND (SELECT shared_runners_enabled FROM projects WHERE id = ${job.projectId}) = 1)
       OR r.id IN (SELECT runner_id FROM runner_projects WHERE project_id = ${job.projectId})`);
  const online = runners.filter((r) => r.active && r.contacted_at !== null && now - r.contacted_at < onlineWindowMs);
  if (online.length === 0) return 'no runner is online for this project';
  const fits = online.filter((r) => tagsFit({ tagList: JSON.parse(r.tag_list) as string[], runUntagged: !!r.run_untagged }, job.tagList));
  if (fits.length === 0) {
    return job.tagList.length === 0
      ? 'no online runner allows untagged jobs'
      : `no online runner has the tags ${job.tagList.join(', ')}`;
  }
  return 'all matching runners are busy';
}
