/** One write transaction; nested calls join the outer one (bun:sqlite is one connection). */
import type { Db } from '../db/client';

export function atomically<T>(db: Db, fn: () => T): T {
  const client = db.$client;
  if (client.inTransaction) return fn();
  // IMMEDIATE takes the write lock up front, so two processes never both pick the same job.
  return client.transaction(fn).immediate();
}

/** Rows a write touched (bun:sqlite reports it; drizzle's types say void). */
export function changes(result: unknown): number {
  return (result as { changes?: number } | undefined)?.changes ?? 0;
}
