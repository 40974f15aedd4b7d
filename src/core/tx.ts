/** One write transaction; nested calls join the outer one (bun:sqlite is one connection). */
import { BUSY_TIMEOUT_MS, type Db } from '../db/client';

export function atomically<T>(db: Db, fn: () => T): T {
  const client = db.$client;
  if (client.inTransaction) return fn();
  // IMMEDIATE takes the write lock up front, so two processes never both pick the same job.
  return client.transaction(fn).immediate();
}

/**
 * `fn` in one IMMEDIATE transaction — or, with `orBusy`, 'busy' at once when another process
 * holds the write lock (SQLITE_BUSY at BEGIN), instead of waiting up to busy_timeout with the
 * thread asleep. A failure inside `fn` or at commit throws, with everything undone.
 */
export function writeLock(db: Db, orBusy: boolean, fn: () => void): 'done' | 'busy' {
  const client = db.$client;
  if (!orBusy) { client.transaction(fn).immediate(); return 'done'; }
  try {
    client.exec('PRAGMA busy_timeout = 0');
    client.exec('BEGIN IMMEDIATE');
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) return 'busy';
    throw e;
  } finally {
    client.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
  try {
    fn();
    client.exec('COMMIT');
    return 'done';
  } catch (e) {
    if (client.inTransaction) client.exec('ROLLBACK');
    throw e;
  }
}

/** Rows a write touched (bun:sqlite reports it; drizzle's types say void). */
export function changes(result: unknown): number {
  return (result as { changes?: number } | undefined)?.changes ?? 0;
}
