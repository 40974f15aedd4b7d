/**
 * A Bun macro: run at bundle time (bun test, bun run and bun build --compile alike), it reads
 * drizzle/ and inlines the migrations, so the binary needs nothing beside it.
 */
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { join } from 'node:path';

export function embeddedMigrations() {
  return readMigrationFiles({ migrationsFolder: join(import.meta.dir, '../../drizzle') });
}
