/**
 * repo_url and the server's own network: as for remote includes, forge statuses and hooks
 * (core/outbound.ts), git may not be pointed at loopback, link-local or private addresses by
 * a non-admin — refused with a 403 when the project is created or edited, and again before
 * every fetch (the name may point elsewhere since it was saved) — unless Baton runs with
 * --allow-local-requests. Admins are exempt, as for local paths. The repositories are real:
 * a bare repository served over git's "dumb" HTTP protocol by a loopback server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { loadConfig } from '../../src/config';
import { openDb } from '../../src/db/client';
import { startServer } from '../../src/server';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { remoteHost } from '../../src/core/git';
import { makeProject, startTestServer, type TestServer } from '../support/harness';
import { addMember, as, makeUser, type TestUser } from '../support/people';
import { body, git, makeRepo, type LocalRepo } from './rest-fixtures';

let strict: TestServer;
let open: TestServer;
let repo: LocalRepo;
let bareRoot: string;
let http: ReturnType<typeof Bun.serve>;
let url: string;
let dev: TestUser;
let devOpen: TestUser;

beforeAll(async () => {
  strict = await startTestServer();
  open = await startTestServer({ allowLocalRequests: true });
  repo = makeRepo({ '.gitlab-ci.yml': 'build:\n  script: [make]\n' });
  bareRoot = mkdtempSync(join(tmpdir(), 'baton-dumb-http-'));
  git(bareRoot, 'clone', '-q', '--bare', repo.dir, join(bareRoot, 'app.git'));
  git(join(bareRoot, 'app.git'), 'update-server-info');
  // git's dumb HTTP protocol: plain files of the bare repository
  http = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    fetch(req) {
      const path = normalize(join(bareRoot, decodeURIComponent(new URL(req.url).pathname)));
      if (!path.startsWith(bareRoot) || !existsSync(path) || !statSync(path).isFile()) return new Response('no', { status: 404 });
      return new Response(Bun.file(path));
    },
  });
  url = `http://127.0.0.1:${http.port}/app.git`;
  dev = await makeUser(strict);
  devOpen = await makeUser(open);
});
afterAll(async () => {
  await strict.stop();
  await open.stop();
  http.stop(true);
  repo.remove();
  rmSync(bareRoot, { recursive: true, force: true });
});

const create = (s: TestServer, user: TestUser | null, repoUrl: string, name = `p-${Math.random().toString(36).slice(2, 8)}`) => {
  const init = { method: 'POST', json: { name, repo_url: repoUrl } };
  return user ? as(s, user.token, '/api/v4/projects', init) : s.api('/api/v4/projects', init);
};
const LOCAL = '403 Forbidden - repo_url: requests to the local network are not allowed (an administrator may set such a repo_url, or start Baton with --allow-local-requests)';

describe('a non-admin cannot point git at the local network', () => {
  const REFUSED = [
    'http://127.0.0.1:9/x.git', 'https://localhost/x.git', 'http://10.1.2.3/x.git', 'http://192.168.1.10/x.git', 'http://172.16.0.1/x.git',
    'http://169.254.169.254/latest/meta-data', 'http://[::1]/x.git', 'http://0x7f000001/x.git', 'http://2130706433/x.git',
    'git://127.0.0.1/x.git', 'ssh://git@127.0.0.1:22/x.git', 'git@127.0.0.1:group/x.git', 'localhost:group/x.git', 'ssh://[fd00::1]/x.git',
  ];
  for (const u of REFUSED) {
    test(`${u} → 403`, async () => {
      expect((await body(await create(strict, dev, u), 403)).message).toBe(LOCAL);
    });
  }

  test('public-looking URLs are accepted (a name DNS does not know is left to the fetch)', async () => {
    await body(await create(strict, dev, 'https://git.example.com/g/x.git'), 201);
    await body(await create(strict, dev, 'git@github.example:org/repo.git'), 201);
  });

  test('an edit to a local-network repo_url is refused; other edits of such a project are not', async () => {
    const p = await body<{ id: number }>(await create(strict, dev, 'https://git.example.com/g/y.git'), 201);
    expect((await body(await as(strict, dev.token, `/api/v4/projects/${p.id}`, { method: 'PUT', json: { repo_url: url } }), 403)).message).toBe(LOCAL);
    // an admin's local project, maintained by the developer: renaming it keeps the admin's repo_url
    const adminOwn = await body<{ id: number }>(await create(strict, null, url), 201);
    await addMember(strict, adminOwn.id, dev.id, 40);
    await body(await as(strict, dev.token, `/api/v4/projects/${adminOwn.id}`, { method: 'PUT', json: { name: 'renamed', repo_url: url } }), 200);
    const pl = await body<{ status: string }>(await as(strict, dev.token, `/api/v4/projects/${adminOwn.id}/pipeline`, { method: 'POST', json: { ref: 'main' } }), 201);
    expect(pl.status).toBe('pending');
  });
});

describe('admins are exempt; --allow-local-requests lifts the rule', () => {
  test('an admin\'s loopback repo_url is fetched: the pipeline is created from it', async () => {
    const p = await body<{ id: number }>(await create(strict, null, url), 201);
    const pl = await body<{ sha: string }>(await strict.api(`/api/v4/projects/${p.id}/pipeline`, { method: 'POST', json: { ref: 'main' } }), 201);
    expect(pl.sha).toBe(repo.git('rev-parse', 'HEAD'));
  });

  test('with --allow-local-requests a non-admin may use it too', async () => {
    const p = await body<{ id: number }>(await create(open, devOpen, url), 201);
    const pl = await body<{ sha: string }>(await as(open, devOpen.token, `/api/v4/projects/${p.id}/pipeline`, { method: 'POST', json: { ref: 'main' } }), 201);
    expect(pl.sha).toBe(repo.git('rev-parse', 'HEAD'));
  });
});

describe('checked again before every fetch', () => {
  test('a repo_url on the local network that no administrator set is not fetched', async () => {
    // as if its name had pointed elsewhere when it was saved: set without the REST rule
    const p = makeProject(strict.core, { repoUrl: url });
    expect(strict.core.projects.get(p.id).repoUrlByAdmin).toBe(false);
    const res = await strict.api(`/api/v4/projects/${p.id}/pipeline`, { method: 'POST', json: { ref: 'main' } });
    expect(await body(res, 400)).toEqual({ message: { base: [`Repository not reachable: ${url} is on the local network: requests to the local network are not allowed (an administrator may set such a repo_url, or start Baton with --allow-local-requests)`] } });
    expect(existsSync(join(strict.dataDir, 'git-cache', `${p.id}.git`, 'FETCH_HEAD'))).toBe(false);
    // an administrator vouches for it by saving it again: fetched from then on
    await body(await strict.api(`/api/v4/projects/${p.id}`, { method: 'PUT', json: { repo_url: url } }), 200);
    expect(strict.core.projects.get(p.id).repoUrlByAdmin).toBe(true);
    await body(await strict.api(`/api/v4/projects/${p.id}/pipeline`, { method: 'POST', json: { ref: 'main' } }), 201);
  });

  test('a developer who changes an admin\'s repo_url takes over the check', async () => {
    const p = await body<{ id: number }>(await create(strict, null, url), 201);
    await addMember(strict, p.id, dev.id, 40);
    await body(await as(strict, dev.token, `/api/v4/projects/${p.id}`, { method: 'PUT', json: { repo_url: 'https://git.example.com/other.git' } }), 200);
    expect(strict.core.projects.get(p.id).repoUrlByAdmin).toBe(false);
  });
});

test('remoteHost: the host git would connect to, for each form of repo_url', () => {
  expect([
    'https://user:pw@git.example.com:8443/a.git', 'git://h/x', 'ssh://git@[::1]:22/x', 'git@github.com:org/r.git', 'host:path', '[::1]:r.git',
    '/srv/git/r.git', 'file:///srv/r.git', './r', 'C:\\repos\\r', 'ext::sh -c x', 'fd::3',
  ].map(remoteHost)).toEqual(['git.example.com', 'h', '[::1]', 'github.com', 'host', '[::1]', null, null, null, null, null, null]);
});

test('upgrading: existing projects count as an administrator\'s when an admin owns them or nobody does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-upgrade-repo-url-'));
  try {
    // the database as the release before this column left it
    const root = join(import.meta.dir, '../../drizzle');
    const folder = join(dir, 'old-migrations');
    mkdirSync(join(folder, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(root, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    const before = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === '0008_repo_url_by_admin'));
    for (const e of before) cpSync(join(root, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
    writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
    const db = openDb(join(dir, 'baton.db'));
    (db as unknown as { dialect: { migrate(m: unknown, s: unknown, c: object): void }; session: unknown })
      .dialect.migrate(readMigrationFiles({ migrationsFolder: folder }), (db as unknown as { session: unknown }).session, { migrationsFolder: folder });
    const c = db.$client;
    c.run("INSERT INTO users(id, username, name, admin, state, created_at) VALUES (2, 'boss', 'Boss', 1, 'active', 1), (3, 'dev', 'Dev', 0, 'active', 1)");
    for (const [id, path] of [[10, 'legacy'], [11, 'by-admin'], [12, 'by-dev']] as const) {
      c.run('INSERT INTO projects(id, name, path, namespace, repo_url, runners_token, created_at) VALUES (?, ?, ?, ?, ?, ?, 1)', [id, path, path, 'root', 'http://10.0.0.1/x.git', `GR1348941tok-${id}`]);
    }
    c.run('INSERT INTO members(project_id, user_id, access_level, created_at) VALUES (11, 2, 50, 1), (12, 3, 50, 1), (12, 2, 40, 1)');
    c.close();
    rmSync(folder, { recursive: true });
    const server = await startServer({ ...loadConfig({}, {}), host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', pollTimeout: 0 }, { reaperEveryMs: 0 });
    try {
      expect([10, 11, 12].map((id) => server.core.projects.get(id).repoUrlByAdmin)).toEqual([true, true, false]);
    } finally {
      await server.stop(1000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
