/**
 * The database a data dir gets: the embedded migrations build exactly the tables and columns
 * of src/db/schema.ts on a fresh file (at once) and on an older one (replayed) alike, a second
 * start changes nothing, and every connection
 * runs with WAL, foreign keys and a busy timeout.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { is } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import * as schema from '../../src/db/schema';

const journal = JSON.parse(readFileSync(join(import.meta.dir, '../../drizzle/meta/_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
const tables = (Object.values(schema) as unknown[]).filter((v) => is(v, SQLiteTable)).map((t) => getTableConfig(t as SQLiteTable));

const dirs: string[] = [];
const opened: Db[] = [];
function freshFile() {
  const dir = mkdtempSync(join(tmpdir(), 'baton-db-'));
  dirs.push(dir);
  return join(dir, 'baton.db');
}
function open(file: string) {
  const db = openDb(file);
  opened.push(db);
  return db;
}
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const applied = (db: Db) => db.$client.query('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at').all() as { hash: string; created_at: number }[];

describe('a fresh database', () => {
  test('gets every migration of drizzle/, in order, with the hash of the file on disk', () => {
    const db = open(freshFile());
    migrate(db);
    // Same hashes as the .sql files: what the macro embedded is what drizzle/ holds now.
    expect(applied(db)).toEqual(journal.entries.map((e) => ({
      hash: createHash('sha256').update(readFileSync(join(import.meta.dir, '../../drizzle', `${e.tag}.sql`), 'utf8')).digest('hex'),
      created_at: e.when,
    })));
  });

  test('has exactly the tables and columns of src/db/schema.ts', () => {
    const db = open(freshFile());
    migrate(db);
    const inDb = (db.$client.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations'").all() as { name: string }[]).map((r) => r.name);
    expect(inDb.sort()).toEqual(tables.map((t) => t.name).sort());
    for (const t of tables) {
      const columns = (db.$client.query(`PRAGMA table_info(${JSON.stringify(t.name)})`).all() as { name: string }[]).map((c) => c.name);
      expect({ table: t.name, columns: columns.sort() }).toEqual({ table: t.name, columns: t.columns.map((c) => c.name).sort() });
    }
  });
});

describe('a database made by an older Baton', () => {
  // A new database gets all migrations' end state at once (src/db/migrate.ts); one made before
  // the newest migrations gets them replayed. Both must end with the same schema, object by object.
  const files = readMigrationFiles({ migrationsFolder: join(import.meta.dir, '../../drizzle') });
  const objects = (db: Db) => db.$client.query("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name <> '__drizzle_migrations' ORDER BY type, name").all();

  test.each([1, files.length - 1])('after the first %d migration(s): the rest are replayed, and the schema is that of a new database', (k) => {
    const fresh = open(freshFile());
    migrate(fresh);
    const old = open(freshFile());
    old.$client.exec('CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
    for (const m of files.slice(0, k)) {
      for (const stmt of m.sql) old.$client.run(stmt);
      old.$client.query('INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)').run(m.hash, m.folderMillis);
    }
    old.$client.exec("INSERT INTO settings(key, value) VALUES ('probe', 'kept')");
    migrate(old);
    expect(applied(old)).toEqual(applied(fresh));
    expect(objects(old)).toEqual(objects(fresh));
    expect(old.$client.query("SELECT value FROM settings WHERE key = 'probe'").get()).toEqual({ value: 'kept' });
  });
});

describe('a second start', () => {
  test('applies nothing and keeps the data', () => {
    const file = freshFile();
    const first = open(file);
    migrate(first);
    first.$client.exec("INSERT INTO settings(key, value) VALUES ('probe', 'kept')");
    const before = applied(first);
    first.$client.close();
    opened.splice(opened.indexOf(first), 1);

    const second = open(file);
    migrate(second);
    migrate(second);
    expect(applied(second)).toEqual(before);
    expect(second.$client.query("SELECT value FROM settings WHERE key = 'probe'").get()).toEqual({ value: 'kept' });
  });
});

describe('connection settings', () => {
  test('WAL journal, foreign keys on, busy timeout set', () => {
    const db = open(freshFile());
    expect(db.$client.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.$client.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 });
    expect((db.$client.query('PRAGMA busy_timeout').get() as { timeout: number }).timeout).toBeGreaterThanOrEqual(1000);
  });

  test('foreign keys are enforced, not just declared', () => {
    const db = open(freshFile());
    migrate(db);
    // A variable of a project that does not exist.
    expect(() => db.insert(schema.variables).values({ projectId: 987654, key: 'K', value: 'v' }).run()).toThrow(/FOREIGN KEY/);
  });

  test('opening a database another process is writing waits for it instead of failing', async () => {
    const file = freshFile();
    // Another process takes the write lock on a fresh (not yet WAL) file and holds it briefly.
    const holder = Bun.spawn([process.execPath, '-e', `
      const { Database } = require('bun:sqlite');
      const db = new Database(${JSON.stringify(file)}, { create: true });
      db.exec('CREATE TABLE probe(x)'); db.exec('BEGIN EXCLUSIVE'); db.exec('INSERT INTO probe VALUES (1)');
      console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);
    `], { stdout: 'pipe' });
    await holder.stdout.getReader().read();
    const db = open(file);
    migrate(db);
    expect(db.$client.query('SELECT x FROM probe').get()).toEqual({ x: 1 });
    expect(await holder.exited).toBe(0);
  });
});
