/**
 * Bun macros: run at bundle time (bun test, bun run and bun build --compile alike), they read
 * drizzle/ and inline the migrations, so the binary needs nothing beside it.
 */
import { Database } from 'bun:sqlite';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { join } from 'node:path';

export function embeddedMigrations() {
  return readMigrationFiles({ migrationsFolder: join(import.meta.dir, '../../drizzle') });
}

/**
 * What all the migrations build, as the statements that build it at once: they are replayed
 * on an empty in-memory database and its schema is read back (in creation order, so every
 * index and trigger follows its table). A new data dir runs these ~80 statements instead of
 * the migrations' ~130 (most of them rebuilding tables a later migration changes): start-up
 * (P6) saves ~20 ms. Derived from drizzle/ at every build, it cannot drift from it; the build
 * fails if a migration ever leaves rows behind, which a schema alone would not carry.
 */
export function embeddedFinalSchema(): string[] {
  const db = new Database(':memory:');
  try {
    db.exec('PRAGMA foreign_keys = ON');
    for (const m of embeddedMigrations()) for (const stmt of m.sql) db.run(stmt);
    const objects = db.query("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid").all() as { type: string; name: string; sql: string }[];
    for (const o of objects) {
      if (o.type !== 'table') continue;
      const { n } = db.query(`SELECT count(*) AS n FROM "${o.name.replaceAll('"', '""')}"`).get() as { n: number };
      if (n > 0) throw new Error(`a migration in drizzle/ leaves ${n} row(s) in "${o.name}" of a new database; src/db/migrate.ts must apply the migrations one by one then`);
    }
    return objects.map((o) => o.sql);
  } finally {
    db.close();
  }
}
