/**
 * Applies the migrations embedded at bundle time; a second run is a no-op.
 *
 * drizzle's own migrator reads which migrations were applied BEFORE it begins its (deferred)
 * transaction, so two processes started together on a new data dir both decided to apply
 * everything and the second failed on `CREATE TABLE` (test/process/concurrent-start.test.ts).
 * This is the same bookkeeping (`__drizzle_migrations`: hash, created_at = the migration's
 * folder time, all pending ones in one transaction), with the decision taken inside an
 * IMMEDIATE transaction: the processes take turns, and the second finds nothing to do.
 * A new database gets what all the migrations build in one go (embeddedFinalSchema), with
 * every migration recorded as applied; one made by an older Baton gets the missing ones.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './client';
import { embeddedFinalSchema, embeddedMigrations } from './embedded-migrations' with { type: 'macro' };

const migrations = embeddedMigrations();
const finalSchema = embeddedFinalSchema();
const TABLE = '__drizzle_migrations';

export function migrate(db: Db): void {
  db.run(sql.raw(`CREATE TABLE IF NOT EXISTS "${TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`));
  db.$client.transaction(() => {
    const last = db.get<[number | string] | undefined>(sql.raw(`SELECT created_at FROM "${TABLE}" ORDER BY created_at DESC LIMIT 1`));
    const fresh = last === undefined;
    const appliedUpTo = fresh ? -Infinity : Number(last[0]);
    if (fresh) for (const stmt of finalSchema) db.$client.run(stmt);
    for (const m of migrations) {
      if (m.folderMillis <= appliedUpTo) continue;
      // (a new database has what they build already: finalSchema)
      if (!fresh) for (const stmt of m.sql) db.run(sql.raw(stmt));
      db.run(sql`INSERT INTO ${sql.identifier(TABLE)} ("hash", "created_at") VALUES (${m.hash}, ${m.folderMillis})`);
    }
  }).immediate();
}
