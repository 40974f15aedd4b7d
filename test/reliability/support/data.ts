/**
 * Direct access to a data dir for reliability tests: seeding projects and pipelines through
 * the core (before a server process starts, or beside it), and reading the SQLite file to
 * check what the server promised — integrity, final states, a dump of every table.
 */
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config';
import { parseCiConfig } from '../../../src/core/ci-config';
import { openCore } from '../../../src/server';

export interface Seeded { projects: number[]; pipelines: number[]; jobs: number; runnersTokens: string[] }

/** A `.gitlab-ci.yml` with `n` jobs spread over two stages (so finishing a job releases others). */
export function twoStageYaml(n: number, extraJob = ''): string {
  const first = Math.ceil(n / 2);
  const lines = ['stages: [build, test]'];
  for (let i = 0; i < n; i++) {
    lines.push(`job_${i}:`, `  stage: ${i < first ? 'build' : 'test'}`, `  script: ["echo ${i}"]`, '  artifacts: { paths: [out] }');
  }
  return lines.join('\n') + '\n' + extraJob;
}

/**
 * Creates `projects` projects with `pipelines` pipelines each of `jobsPerPipeline` jobs,
 * through a core opened on the data dir (closed again before returning).
 */
export function seed(dataDir: string, opts: { projects: number; pipelines: number; jobsPerPipeline: number; variables?: { key: string; value: string; masked: boolean }[] }): Seeded {
  const core = openCore({ ...loadConfig({}, {}), dataDir, logLevel: 'silent' });
  try {
    const out: Seeded = { projects: [], pipelines: [], jobs: 0, runnersTokens: [] };
    const plan = parseCiConfig(twoStageYaml(opts.jobsPerPipeline), { name: 'main', tag: false });
    if (!plan.ok) throw new Error(plan.errors.join('; '));
    for (let p = 0; p < opts.projects; p++) {
      const project = core.projects.create({ name: `load-${p}-${Math.random().toString(36).slice(2, 8)}`, repoUrl: '/nonexistent/baton-reliability.git' });
      for (const v of opts.variables ?? []) core.projects.createVariable(project.id, v);
      out.projects.push(project.id);
      out.runnersTokens.push(project.runnersToken);
      for (let i = 0; i < opts.pipelines; i++) {
        const pl = core.pipelines.create(project.id, { ref: 'main', tag: false, sha: 'a9738e26eea81eb998fab5ed3f808875eaec5196' }, plan.plan);
        out.pipelines.push(pl.id);
        out.jobs += opts.jobsPerPipeline;
      }
    }
    return out;
  } finally {
    core.deps.db.$client.close();
  }
}

/** Opens the data dir's database (never writes), runs `fn`, closes it. */
export function withDb<T>(dataDir: string, fn: (db: Database) => T): T {
  const db = new Database(join(dataDir, 'baton.db'));
  db.exec('PRAGMA busy_timeout = 10000');
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function integrityCheck(dataDir: string): string {
  return withDb(dataDir, (db) => (db.query('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check).join('; '));
}

export interface JobRow { id: number; status: string; failure_reason: string | null; pipeline_id: number; artifacts_file: string | null; artifacts_size: number | null; runner_id: number | null }

export function jobRows(dataDir: string): JobRow[] {
  return withDb(dataDir, (db) => db.query('SELECT id, status, failure_reason, pipeline_id, artifacts_file, artifacts_size, runner_id FROM jobs ORDER BY id').all() as JobRow[]);
}

export function statusCounts(dataDir: string, table: 'jobs' | 'pipelines'): Record<string, number> {
  return withDb(dataDir, (db) => Object.fromEntries((db.query(`SELECT status, count(*) AS n FROM ${table} GROUP BY status`).all() as { status: string; n: number }[]).map((r) => [r.status, r.n])));
}

export const FINAL = new Set(['success', 'failed', 'canceled', 'skipped']);

/**
 * Every row of every table as text, minus the columns a refused request may still touch
 * legitimately (a runner's liveness and self-description, the queue epoch).
 */
export function dumpTables(dataDir: string, ignore: Record<string, string[]> = DUMP_IGNORE): string {
  return withDb(dataDir, (db) => {
    const tables = (db.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    const out: string[] = [];
    for (const t of tables) {
      const rows = db.query(`SELECT * FROM "${t}" ORDER BY rowid`).all() as Record<string, unknown>[];
      for (const r of rows) {
        for (const c of ignore[t] ?? []) delete r[c];
        if (t === 'settings' && r.key === 'queue_epoch') continue;
        out.push(`${t} ${JSON.stringify(r)}`);
      }
    }
    return out.join('\n');
  });
}

export const DUMP_IGNORE: Record<string, string[]> = {
  runners: ['contacted_at', 'protocol', 'name', 'version', 'revision', 'platform', 'architecture', 'executor'],
  // reads with the admin token (a personal access token) note its use, at most once a minute
  personal_access_tokens: ['last_used_at'],
};
