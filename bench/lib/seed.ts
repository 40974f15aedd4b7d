/**
 * Fixtures for the benchmarks, written into a data dir BEFORE its server starts.
 * Pending work goes through the real core (openCore → projects.create, pipelines.create
 * from parsed YAML); the mass of finished history for P7 is bulk-inserted with one
 * prepared statement in one transaction, since only its presence in the tables matters.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { planFor } from '../../test/support/compile';
import { openCore } from '../../src/server';
import { ADMIN_TOKEN, REGISTRATION_TOKEN } from './proc';

/** A local path: nothing in a benchmark may reach for the network (git included). */
const LOCAL_REPO = '/var/empty/bench/app.git';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `baton-bench-${prefix}-`));
}

/** YAML of one stage of `n` independent jobs, the shape of a big test matrix. */
export function matrixYaml(n: number): string {
  let y = 'stages: [test]\n';
  for (let i = 1; i <= n; i++) y += `test_${i}:\n  stage: test\n  script:\n    - make test SHARD=${i}\n`;
  return y;
}

function core(dataDir: string) {
  const config = { ...loadConfig({ 'data-dir': dataDir, 'log-level': 'silent' }, {}), adminToken: ADMIN_TOKEN, registrationToken: REGISTRATION_TOKEN };
  const c = openCore(config);
  c.instance.ensureTokens({ admin: ADMIN_TOKEN, registration: REGISTRATION_TOKEN });
  return c;
}

/**
 * A data dir with one project and `pipelines` × `jobsPerPipeline` pending jobs; returns the
 * project id. An existing dir gets another project (paths are unique per call).
 */
export async function seedPending(dataDir: string, pipelines: number, jobsPerPipeline: number): Promise<{ projectId: number }> {
  const c = core(dataDir);
  try {
    const project = c.projects.create({ name: `bench-${Math.random().toString(36).slice(2, 8)}`, repoUrl: LOCAL_REPO });
    if (pipelines > 0) {
      const plan = await planFor(matrixYaml(jobsPerPipeline));
      // One ref per pipeline: pipelines of one ref would auto-cancel the older ones (GitLab's default).
      for (let i = 0; i < pipelines; i++) {
        c.pipelines.create(project.id, { ref: `bench-${i}`, tag: false, sha: (i + 1).toString(16).padStart(40, '0') }, plan);
      }
    }
    return { projectId: project.id };
  } finally {
    close(c.deps.db.$client);
  }
}

/**
 * Adds `rows` finished jobs (90 % success, 10 % failed) in pipelines of 100, spread over 10
 * projects, all run by one runner — the history a busy instance accumulates.
 */
export async function seedFinished(dataDir: string, rows: number) {
  const c = core(dataDir);
  const db = c.deps.db.$client;
  try {
    const projectIds = Array.from({ length: 10 }, (_, i) => c.projects.create({ name: `history-${i}`, repoUrl: LOCAL_REPO }).id);
    const { runner } = c.runners.create({ description: 'history', protocol: 'v4' });
    const spec = JSON.stringify((await planFor(matrixYaml(1))).jobs[0]);
    const t0 = Date.now() - 365 * 86_400_000;
    const insertPipeline = db.prepare(`INSERT INTO pipelines (project_id, ref, tag, sha, before_sha, source, status, yaml_variables, trigger_variables,
      created_at, updated_at, started_at, finished_at) VALUES (?, 'main', 0, ?, ?, 'push', ?, '{}', '[]', ?, ?, ?, ?)`);
    const insertJob = db.prepare(`INSERT INTO jobs (pipeline_id, project_id, name, stage, stage_idx, status, "when", allow_failure, tag_list, spec,
      retries_left, retried, runner_id, token_hash, timeout, failure_reason, exit_code, created_at, queued_at, started_at, finished_at, updated_at)
      VALUES (?, ?, ?, 'test', 0, ?, 'on_success', 0, '[]', ?, 0, 0, ?, ?, 3600, ?, ?, ?, ?, ?, ?, ?)`);
    db.transaction(() => {
      let pipelineId = 0;
      for (let i = 0; i < rows; i++) {
        const t = t0 + i * 30_000;
        const failed = i % 10 === 9;
        const projectId = projectIds[Math.floor(i / 100) % projectIds.length];
        if (i % 100 === 0) {
          const sha = (i / 100).toString(16).padStart(40, 'a');
          pipelineId = Number(insertPipeline.run(projectId, sha, sha, failed ? 'failed' : 'success', t, t + 60_000, t + 1000, t + 60_000).lastInsertRowid);
        }
        insertJob.run(pipelineId, projectId, `test_${(i % 100) + 1}`, failed ? 'failed' : 'success', spec, runner.id,
          i.toString(16).padStart(64, '0'), failed ? 'script_failure' : null, failed ? 1 : 0, t, t, t + 1000, t + 60_000, t + 60_000);
      }
    }).immediate();
  } finally {
    close(db);
  }
}

/**
 * One project with `count` finished pipelines of `jobsPerPipeline` jobs each (statuses
 * mixed, commit titles set), bulk-inserted like seedFinished — the history the dashboard's
 * lists page through (P8, P9). Returns the project's web path and a pipeline in the middle.
 */
export async function seedPipelines(dataDir: string, count: number, jobsPerPipeline: number): Promise<{ projectId: number; path: string; pipelineId: number }> {
  const c = core(dataDir);
  const db = c.deps.db.$client;
  try {
    const project = c.projects.create({ name: `dash-${Math.random().toString(36).slice(2, 8)}`, repoUrl: LOCAL_REPO });
    const { runner } = c.runners.create({ description: 'history', protocol: 'v4' });
    const spec = JSON.stringify((await planFor(matrixYaml(1))).jobs[0]);
    const t0 = Date.now() - 30 * 86_400_000;
    const insertPipeline = db.prepare(`INSERT INTO pipelines (project_id, ref, tag, sha, before_sha, source, status, yaml_variables, trigger_variables,
      commit_message, created_at, updated_at, started_at, finished_at) VALUES (?, ?, 0, ?, ?, 'push', ?, '{}', '[]', ?, ?, ?, ?, ?)`);
    const insertJob = db.prepare(`INSERT INTO jobs (pipeline_id, project_id, name, stage, stage_idx, status, "when", allow_failure, tag_list, spec,
      retries_left, retried, runner_id, token_hash, timeout, failure_reason, exit_code, created_at, queued_at, started_at, finished_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, 'on_success', 0, '[]', ?, 0, 0, ?, NULL, 3600, ?, ?, ?, ?, ?, ?, ?)`);
    let middle = 0;
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const t = t0 + i * 60_000;
        const failed = i % 7 === 3;
        const sha = i.toString(16).padStart(40, 'b');
        const id = Number(insertPipeline.run(project.id, i % 5 === 0 ? `feature-${i % 50}` : 'main', sha, sha, failed ? 'failed' : 'success',
          `Change number ${i}: make the build faster`, t, t + 120_000, t + 2000, t + 120_000).lastInsertRowid);
        if (i === Math.floor(count / 2)) middle = id;
        for (let k = 0; k < jobsPerPipeline; k++) {
          const jobFailed = failed && k === jobsPerPipeline - 1;
          insertJob.run(id, project.id, `job_${k + 1}`, `stage_${Math.floor(k / 2)}`, Math.floor(k / 2), jobFailed ? 'failed' : 'success', spec, runner.id,
            jobFailed ? 'script_failure' : null, jobFailed ? 1 : 0, t, t, t + 2000, t + 100_000, t + 100_000);
        }
      }
    }).immediate();
    return { projectId: project.id, path: `${project.namespace}/${project.path}`, pipelineId: middle };
  } finally {
    close(db);
  }
}

/** Folds the WAL into the database file, so the file alone is the whole database. */
function close(db: { exec(sql: string): void; close(): void }) {
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

/** A copy of a seeded data dir's database in a fresh data dir (the seed is made once). */
export function cloneDataDir(template: string, prefix: string): string {
  const dir = tempDir(prefix);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(template, 'baton.db'), join(dir, 'baton.db'));
  return dir;
}
