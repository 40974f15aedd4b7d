/** Opens the one SQLite database of a data dir with the settings Baton relies on. */
import { Database } from 'bun:sqlite';
import { drizzle, type BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite';
import * as schema from './schema';
import { TurnReads } from './turn-reads';

/** Pages of WAL after which a commit checkpoints (unless a Checkpointer does it: checkpointer.ts). */
export const WAL_AUTOCHECKPOINT_PAGES = 4000;
/** How long a statement waits for another connection's lock (ms). */
export const BUSY_TIMEOUT_MS = 5000;

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database; turnReads: TurnReads };

export function openDb(file: string): Db {
  const sqlite = new Database(file, { create: true, strict: true });
  // busy_timeout first: a second process (or one recovering the WAL after a crash) waits
  // instead of failing, and switching to WAL needs a lock too. WAL: readers never block the writer.
  sqlite.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.exec('PRAGMA journal_mode = WAL');
  sqlite.exec('PRAGMA synchronous = NORMAL');
  sqlite.exec('PRAGMA foreign_keys = ON');
  // Statement journals and sort b-trees in memory: on disk, SQLite created, opened and
  // unlinked a file in /var/tmp for about one claim in three (bench P2, strace).
  sqlite.exec('PRAGMA temp_store = MEMORY');
  // A checkpoint (every 1000 WAL pages by default) fsyncs the database file on the request
  // path; a claim writes ~10 pages, so that was an fsync every ~100 claims. 4000 pages
  // (a WAL of at most ~16 MB) makes them four times rarer, and copies a page rewritten
  // many times in between only once. A server moves them off the event loop (checkpointer.ts).
  sqlite.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  // drizzle compiles every statement anew on each call; query() keeps compiled statements
  // (LRU), which makes the hot paths about twice as fast. They run synchronously, so one
  // statement is never used by two callers at once.
  Database.MAX_QUERY_CACHE_SIZE = Math.max(Database.MAX_QUERY_CACHE_SIZE, 512);
  sqlite.prepare = ((text: string) => sqlite.query(text)) as typeof sqlite.prepare;
  // Closed with the database, wherever that happens.
  const turnReads = new TurnReads(file, BUSY_TIMEOUT_MS);
  const close = sqlite.close.bind(sqlite);
  sqlite.close = ((throwOnError?: boolean) => { turnReads.close(); close(throwOnError); }) as typeof sqlite.close;
  return Object.assign(drizzle({ client: sqlite, schema }), { turnReads }) as Db;
}
