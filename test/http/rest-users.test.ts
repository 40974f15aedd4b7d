/**
 * REST API: users (forges-and-rest.md §C.2) over HTTP against a real server — GitLab's
 * fields, validation messages and statuses, what admins and others see, renaming (the
 * namespace moves), blocking (every credential stops), and the built-in root.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/harness';
import { as, makeUser, uniqueName, type TestUser } from '../support/people';
import { body } from './rest-fixtures';

let s: TestServer;
let alice: TestUser;
beforeAll(async () => {
  s = await startTestServer();
  alice = await makeUser(s);
});
afterAll(async () => s.stop());

const createUser = (json: Record<string, unknown>) => s.api('/api/v4/users', { method: 'POST', json });

describe('POST /api/v4/users (admin)', () => {
  test('creates a user → 201 with the admin view; the password is never shown', async () => {
    const username = uniqueName('new');
    const res = await createUser({ username, name: 'New Person', email: `${username}@example.com`, password: 'correct horse battery', admin: false });
    const u = await body(res, 201);
    expect(u).toMatchObject({
      username, name: 'New Person', state: 'active', locked: false, avatar_url: null, web_url: `${s.url}/${username}`,
      email: `${username}@example.com`, is_admin: false, last_sign_in_at: null, two_factor_enabled: false, external: false,
    });
    expect(u.id).toBeInteger();
    expect(JSON.stringify(u)).not.toContain('correct horse');
    expect(Object.keys(u)).not.toContain('password');
    // stored as an argon2id hash
    const db = new Database(join(s.dataDir, 'baton.db'), { readonly: true });
    const row = db.query('SELECT password_hash FROM users WHERE id = ?').get(u.id) as { password_hash: string };
    db.close();
    expect(row.password_hash).toStartWith('$argon2id$');
    expect(await Bun.password.verify('correct horse battery', row.password_hash)).toBe(true);
  });

  test('force_random_password: a user with tokens only; email is optional in Baton', async () => {
    const u = await body(await createUser({ username: uniqueName('bot'), name: 'Bot', force_random_password: true }), 201);
    expect(u.email).toBeNull();
  });

  const invalid: [string, Record<string, unknown>, number, unknown][] = [
    ['username missing', { name: 'x', password: 'password1' }, 400, { message: '400 Bad request - username is missing', error: 'username is missing' }],
    ['name missing', { username: 'nm', password: 'password1' }, 400, { message: '400 Bad request - name is missing', error: 'name is missing' }],
    ['no password nor force_random_password', { username: 'nopw', name: 'x' }, 400,
      { message: '400 Bad request - password, force_random_password are missing, at least one parameter must be provided' }],
    ['password too short', { username: 'short', name: 'x', password: 'seven77' }, 400, { message: { password: ['is too short (minimum is 8 characters)'] } }],
    ['password too long', { username: 'long', name: 'x', password: 'x'.repeat(129) }, 400, { message: { password: ['is too long (maximum is 128 characters)'] } }],
    ['username with a slash', { username: 'a/b', name: 'x', password: 'password1' }, 400,
      { message: { username: ["can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or '.', end in '.', '.git' or '.atom'"] } }],
    ['username ending in .git', { username: 'repo.git', name: 'x', password: 'password1' }, 400, { message: { username: [expect.stringContaining('.git')] } }],
    ['reserved username', { username: 'Admin', name: 'x', password: 'password1' }, 400, { message: { username: ['is a reserved name'] } }],
    ['invalid email', { username: 'mail', name: 'x', password: 'password1', email: 'not-an-email' }, 400, { message: { email: ['is invalid'] } }],
    ['admin not a boolean', { username: 'adm', name: 'x', password: 'password1', admin: 'perhaps' }, 400, expect.objectContaining({ error: expect.stringContaining('admin') })],
  ];
  test.each(invalid)('%s → %i', async (_name, json, status, expected) => {
    const before = s.core.users.list(0, 1).total;
    expect(await body(await createUser(json), status)).toEqual(expected as object);
    expect(s.core.users.list(0, 1).total).toBe(before);
  });

  test('a taken username or email → 409, case-insensitively', async () => {
    expect(await body(await createUser({ username: alice.username.toUpperCase(), name: 'x', password: 'password1' }), 409)).toEqual({ message: 'Username has already been taken' });
    expect(await body(await createUser({ username: uniqueName(), name: 'x', password: 'password1', email: `${alice.username.toUpperCase()}@EXAMPLE.com` }), 409))
      .toEqual({ message: 'Email has already been taken' });
  });

  test('a username that is a namespace other projects use → 409', async () => {
    await body(await s.api('/api/v4/projects', { method: 'POST', json: { name: 'shared', repo_url: 'https://h/x.git', namespace: 'platform-team' } }), 201);
    expect(await body(await createUser({ username: 'platform-team', name: 'x', password: 'password1' }), 409)).toEqual({ message: 'Username has already been taken' });
  });

  test('non-admins may not create users → 403', async () => {
    expect(await body(await as(s, alice.token, '/api/v4/users', { method: 'POST', json: { username: 'x', name: 'x', password: 'password1' } }), 403)).toEqual({ message: '403 Forbidden' });
  });
});

describe('GET /api/v4/users, /users/:id, /user', () => {
  test('admins see every field; others the basic ones (never is_admin or email)', async () => {
    const asAdmin = await body<Record<string, unknown>[]>(await s.api(`/api/v4/users?username=${alice.username}`), 200);
    expect(asAdmin).toEqual([expect.objectContaining({ id: alice.id, is_admin: false, email: `${alice.username}@example.com` })]);
    const asAlice = await body<Record<string, unknown>[]>(await as(s, alice.token, '/api/v4/users?per_page=100'), 200);
    expect(asAlice.length).toBeGreaterThan(1);
    for (const u of asAlice) expect(Object.keys(u).sort()).toEqual(['avatar_url', 'id', 'locked', 'name', 'state', 'username', 'web_url']);
    const root = await body(await as(s, alice.token, '/api/v4/users/1'), 200);
    expect(root).toMatchObject({ id: 1, username: 'root', bot: false });
    expect(root).not.toHaveProperty('is_admin');
    expect(root).not.toHaveProperty('email');
  });

  test('filters: search, active, blocked; unknown id → 404 User Not Found', async () => {
    const found = await body<{ id: number }[]>(await s.api(`/api/v4/users?search=${alice.username.slice(0, -2).toUpperCase()}`), 200);
    expect(found.map((u) => u.id)).toContain(alice.id);
    expect(await body(await s.api('/api/v4/users?search=%25'), 200)).toEqual([]);
    const blocked = await makeUser(s);
    await body(await s.api(`/api/v4/users/${blocked.id}/block`, { method: 'POST' }), 201);
    expect((await body<{ id: number }[]>(await s.api('/api/v4/users?blocked=true&per_page=100'), 200)).map((u) => u.id)).toEqual([blocked.id]);
    expect((await body<{ id: number }[]>(await s.api('/api/v4/users?active=true&per_page=100'), 200)).map((u) => u.id)).not.toContain(blocked.id);
    for (const id of ['999999', 'abc', '-1']) expect(await body(await s.api(`/api/v4/users/${id}`), 404)).toEqual({ message: '404 User Not Found' });
  });

  test('GET /user: the caller; is_admin only for admins', async () => {
    const me = await body(await as(s, alice.token, '/api/v4/user'), 200);
    expect(me).toMatchObject({ id: alice.id, username: alice.username, email: `${alice.username}@example.com`, can_create_project: true });
    expect(me).not.toHaveProperty('is_admin');
    expect(await body(await s.api('/api/v4/user'), 200)).toMatchObject({ id: 1, username: 'root', is_admin: true });
    expect(await body(await s.api('/api/v4/user', { auth: false }), 401)).toEqual({ message: '401 Unauthorized' });
  });
});

describe('PUT and DELETE /api/v4/users/:id (admin)', () => {
  test('edits fields; renaming moves the namespace and its projects', async () => {
    const bob = await makeUser(s);
    const project = await body(await as(s, bob.token, '/api/v4/projects', { method: 'POST', json: { name: 'Tool', repo_url: 'https://h/tool.git' } }), 201);
    expect(project.path_with_namespace).toBe(`${bob.username}/tool`);
    const renamed = uniqueName('robert');
    const edited = await body(await s.api(`/api/v4/users/${bob.id}`, { method: 'PUT', json: { username: renamed, name: 'Robert', admin: true } }), 200);
    expect(edited).toMatchObject({ id: bob.id, username: renamed, name: 'Robert', is_admin: true });
    const moved = await body(await as(s, bob.token, `/api/v4/projects/${encodeURIComponent(`${renamed}/tool`)}`), 200);
    expect(moved).toMatchObject({ id: project.id, path_with_namespace: `${renamed}/tool`, web_url: `${s.url}/${renamed}/tool` });
    expect(await body(await as(s, bob.token, `/api/v4/projects/${encodeURIComponent(`${bob.username}/tool`)}`), 404)).toEqual({ message: '404 Project Not Found' });
  });

  test('invalid edits → 400/409 naming the field; unknown user → 404', async () => {
    expect(await body(await s.api(`/api/v4/users/${alice.id}`, { method: 'PUT', json: { password: 'short' } }), 400)).toEqual({ message: { password: ['is too short (minimum is 8 characters)'] } });
    expect(await body(await s.api(`/api/v4/users/${alice.id}`, { method: 'PUT', json: { username: 'root' } }), 409)).toEqual({ message: 'Username has already been taken' });
    expect(await body(await s.api('/api/v4/users/999999', { method: 'PUT', json: { name: 'x' } }), 404)).toEqual({ message: '404 User Not Found' });
  });

  test('a new password ends the sign-in sessions; the old password no longer signs in', async () => {
    const carol = await makeUser(s);
    const signIn = (password: string) => fetch(`${s.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: carol.username, password }) });
    const first = await signIn(carol.password);
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${s.url}/api/v4/user`, { headers: { cookie } })).status).toBe(200);
    await body(await s.api(`/api/v4/users/${carol.id}`, { method: 'PUT', json: { password: 'a brand new password' } }), 200);
    expect((await fetch(`${s.url}/api/v4/user`, { headers: { cookie } })).status).toBe(401);
    expect((await signIn(carol.password)).status).toBe(401);
    expect((await signIn('a brand new password')).status).toBe(200);
    // tokens stay
    expect((await as(s, carol.token, '/api/v4/user')).status).toBe(200);
  });

  test('delete → 204: the user, their tokens and memberships are gone; their projects stay', async () => {
    const dave = await makeUser(s);
    const project = await body(await as(s, dave.token, '/api/v4/projects', { method: 'POST', json: { name: 'Left', repo_url: 'https://h/l.git' } }), 201);
    expect((await s.api(`/api/v4/users/${dave.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await body(await s.api(`/api/v4/users/${dave.id}`), 404)).toEqual({ message: '404 User Not Found' });
    expect(await body(await as(s, dave.token, '/api/v4/user'), 401)).toEqual({ message: '401 Unauthorized' });
    expect(await body(await s.api(`/api/v4/projects/${project.id}/members`), 200)).toEqual([]);
    expect((await s.api(`/api/v4/projects/${project.id}`)).status).toBe(200);
  });

  test('the built-in root cannot be deleted, blocked or lose its admin right; nobody deletes or blocks themselves', async () => {
    expect((await body(await s.api('/api/v4/users/1', { method: 'DELETE' }), 403)).message).toContain('built-in root');
    expect((await body(await s.api('/api/v4/users/1', { method: 'PUT', json: { admin: false } }), 403)).message).toContain('built-in root');
    expect(await body(await s.api('/api/v4/users/1/block', { method: 'POST' }), 403)).toEqual({ message: '403 Forbidden - The API initiating user cannot be blocked by the API' });
    const admin = await makeUser(s, { admin: true });
    expect((await body(await as(s, admin.token, `/api/v4/users/${admin.id}`, { method: 'DELETE' }), 403)).message).toContain('yourself');
    expect((await body(await as(s, admin.token, '/api/v4/users/1/block', { method: 'POST' }), 403)).message).toContain('built-in root');
  });
});

describe('block and unblock (admin)', () => {
  test('block → 201 true (again: still true); the user can do nothing; unblock → 201 true, then false', async () => {
    const eve = await makeUser(s);
    const signIn = await fetch(`${s.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: eve.username, password: eve.password }) });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
    expect(await body(await s.api(`/api/v4/users/${eve.id}/block`, { method: 'POST' }), 201)).toBe(true);
    expect(await body(await s.api(`/api/v4/users/${eve.id}/block`, { method: 'POST' }), 201)).toBe(true);
    expect(await body(await s.api(`/api/v4/users/${eve.id}`), 200)).toMatchObject({ state: 'blocked' });
    // every credential of theirs stops working
    expect(await body(await as(s, eve.token, '/api/v4/user'), 403)).toEqual({ message: '403 Forbidden - Your account has been blocked.' });
    expect(await body(await s.api('/api/v4/user', { auth: false, headers: { authorization: `Bearer ${eve.token}` } }), 403)).toEqual({ message: '403 Forbidden - Your account has been blocked.' });
    expect((await fetch(`${s.url}/api/v4/user`, { headers: { cookie } })).status).toBe(401);
    const again = await fetch(`${s.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: eve.username, password: eve.password }) });
    expect(await body(again, 403)).toEqual({ message: '403 Forbidden - Your account has been blocked.' });

    expect(await body(await s.api(`/api/v4/users/${eve.id}/unblock`, { method: 'POST' }), 201)).toBe(true);
    expect(await body(await s.api(`/api/v4/users/${eve.id}/unblock`, { method: 'POST' }), 201)).toBe(false);
    expect((await as(s, eve.token, '/api/v4/user')).status).toBe(200);
    // the session ended at the block and stays ended
    expect((await fetch(`${s.url}/api/v4/user`, { headers: { cookie } })).status).toBe(401);
  });

  test('unknown user → 404; non-admin → 403', async () => {
    expect(await body(await s.api('/api/v4/users/999999/block', { method: 'POST' }), 404)).toEqual({ message: '404 User Not Found' });
    expect(await body(await as(s, alice.token, '/api/v4/users/1/unblock', { method: 'POST' }), 403)).toEqual({ message: '403 Forbidden' });
  });
});
