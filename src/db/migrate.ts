/** Applies the migrations embedded at bundle time; a second run is a no-op. */
import type { Db } from './client';
import { embeddedMigrations } from './embedded-migrations' with { type: 'macro' };

const migrations = embeddedMigrations();

export function migrate(db: Db): void {
  // drizzle's own migrator reads files at run time; hand it the embedded list instead.
  (db as unknown as { dialect: { migrate(m: unknown, s: unknown, c: object): void }; session: unknown })
    .dialect.migrate(migrations, (db as unknown as { session: unknown }).session, { migrationsFolder: '' });
}
