/** Opens the one SQLite database of a data dir with the settings Baton relies on. */
import { Database } from 'bun:sqlite';
import { drizzle, type BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite';
import * as schema from './schema';

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

export function openDb(file: string): Db {
  const sqlite = new Database(file, { create: true, strict: true });
  // WAL: readers never block the writer; busy_timeout: a second process waits instead of failing.
  sqlite.exec('PRAGMA journal_mode = WAL');
  sqlite.exec('PRAGMA synchronous = NORMAL');
  sqlite.exec('PRAGMA foreign_keys = ON');
  sqlite.exec('PRAGMA busy_timeout = 5000');
  return drizzle({ client: sqlite, schema }) as Db;
}
