/**
 * What the health endpoints ask: does the database answer, can the data dir be written,
 * is free space above --min-free-disk. Each check is `{status: 'ok'}` or
 * `{status: 'failed', message}` — GitLab's shape for /-/readiness.
 */
import { sql } from 'drizzle-orm';
import { rmSync, writeFileSync } from 'node:fs';
import type { CoreDeps } from './context';
import { formatBytes } from './disk';

export type Check = { status: 'ok' } | { status: 'failed'; message: string };

export function databaseCheck(deps: Pick<CoreDeps, 'db'>): Check {
  try {
    deps.db.get(sql`SELECT 1`);
    return { status: 'ok' };
  } catch (e) {
    return { status: 'failed', message: `the database does not answer: ${(e as Error).message}` };
  }
}

/** A real write: a read-only remount or a full disk shows here, not only a missing permission. */
export function dataDirCheck(deps: Pick<CoreDeps, 'store'>): Check {
  const probe = deps.store.tempPath();
  try {
    writeFileSync(probe, 'readiness\n');
    return { status: 'ok' };
  } catch (e) {
    return { status: 'failed', message: `the data dir cannot be written: ${(e as { code?: string }).code ?? (e as Error).message}` };
  } finally {
    rmSync(probe, { force: true });
  }
}

export function diskCheck(deps: Pick<CoreDeps, 'disk'>): Check {
  try {
    if (deps.disk.minFree === 0 || deps.disk.free() >= deps.disk.minFree) return { status: 'ok' };
    return { status: 'failed', message: `free disk space under the data dir is ${formatBytes(Math.max(0, deps.disk.free()))}, below --min-free-disk (${deps.disk.floorText()})` };
  } catch (e) {
    return { status: 'failed', message: `free disk space cannot be read: ${(e as Error).message}` };
  }
}

export function readiness(deps: Pick<CoreDeps, 'db' | 'store' | 'disk'>) {
  const checks = { db_check: [databaseCheck(deps)], data_dir_check: [dataDirCheck(deps)], disk_check: [diskCheck(deps)] };
  const ok = Object.values(checks).every(([c]) => c.status === 'ok');
  return { ok, body: { status: ok ? 'ok' : 'failed', ...checks } };
}
