/**
 * A data dir from before users existed (only the migrations up to 0001, the admin token's
 * hash in `settings`, projects without a namespace) keeps working after the upgrade: the
 * same admin token is now root's bootstrap token, existing projects live in `root/…`, and
 * everything can be reached by id and by path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { loadConfig } from '../../src/config';
import { openDb } from '../../src/db/client';
import { hashToken } from '../../src/core/tokens';
import { startServer, type RunningServer } from '../../src/server';
import { body } from './rest-fixtures';

const OLD_ADMIN_TOKEN = 'glpat-from-before-users-existed-01';
const root = join(import.meta.dir, '../../drizzle');
let dataDir: string;
let server: RunningServer;

/** The database as the release before people left it. */
function oldDataDir(dir: string) {
  const folder = join(dir, 'old-migrations');
  mkdirSync(join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(join(root, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  const before = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === '0002_people'));
  for (const e of before) cpSync(join(root, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
  const db = openDb(join(dir, 'baton.db'));
  (db as unknown as { dialect: { migrate(m: unknown, s: unknown, c: object): void }; session: unknown })
    .dialect.migrate(readMigrationFiles({ migrationsFolder: folder }), (db as unknown as { session: unknown }).session, { migrationsFolder: folder });
  const c = db.$client;
  c.run("INSERT INTO settings(key, value) VALUES ('admin_token_hash', ?), ('registration_token', 'GR1348941old-registration')", [hashToken(OLD_ADMIN_TOKEN)]);
  c.run("INSERT INTO projects(name, path, repo_url, runners_token, created_at) VALUES ('Legacy', 'legacy', 'https://git.example.com/legacy.git', 'GR1348941legacy-project-token', 1)");
  c.close();
  rmSync(folder, { recursive: true });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'baton-upgrade-'));
  oldDataDir(dataDir);
  server = await startServer({ ...loadConfig({}, {}), host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', pollTimeout: 0 }, { reaperEveryMs: 0 });
});
afterAll(async () => {
  await server.stop(1000);
  rmSync(dataDir, { recursive: true, force: true });
});

const api = (path: string, token = OLD_ADMIN_TOKEN) => fetch(server.url + path, { headers: { 'PRIVATE-TOKEN': token } });

describe('upgrading a data dir from before users', () => {
  test('no new token is generated: the old admin token is root\'s bootstrap token', async () => {
    expect(server.generated).toEqual({});
    expect(await body(await api('/api/v4/user'), 200)).toMatchObject({ id: 1, username: 'root', is_admin: true });
    expect(await body(await api('/api/v4/personal_access_tokens/self'), 200)).toMatchObject({ name: 'bootstrap admin token', user_id: 1, scopes: ['api'] });
    // its hash now lives in one place only
    const settings = server.core.deps.db.$client.query('SELECT key FROM settings ORDER BY key').all() as { key: string }[];
    expect(settings.map((s) => s.key)).not.toContain('admin_token_hash');
  });

  test('existing projects live in root\'s namespace, reachable by id and by path', async () => {
    const byId = await body(await api('/api/v4/projects/1'), 200);
    expect(byId).toMatchObject({ path_with_namespace: 'root/legacy', web_url: `${server.url}/root/legacy`, runners_token: 'GR1348941legacy-project-token' });
    expect((await body(await api('/api/v4/projects/root%2Flegacy'), 200)).id).toBe(1);
    expect((await body<{ id: number }[]>(await api('/api/v4/projects'), 200)).map((p) => p.id)).toEqual([1]);
  });
});
