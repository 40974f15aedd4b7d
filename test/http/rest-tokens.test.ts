/**
 * REST API: personal access tokens (forges-and-rest.md §C.3) over HTTP with a moved clock —
 * creation (admin and self), scopes, `read_api` (reads only, GitLab's insufficient_scope
 * answer), expiry and revocation (401 with GitLab's invalid_token answer), who sees which
 * tokens, `self`, `last_used_at` at most once a minute, and the admin token as root's
 * bootstrap token.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { as, dayFrom, makeToken, makeUser, type TestUser } from '../support/people';
import { body } from './rest-fixtures';

const clock = new FakeClock(Date.UTC(2026, 2, 10, 12));
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer({}, { clock });
  alice = await makeUser(s);
  bob = await makeUser(s);
});
afterAll(async () => s.stop());

const selfToken = (token: string, json: Record<string, unknown>) => as(s, token, '/api/v4/user/personal_access_tokens', { method: 'POST', json });

describe('creating tokens', () => {
  test('an admin makes one for a user → 201 with the token, shown this once', async () => {
    const res = await s.api(`/api/v4/users/${alice.id}/personal_access_tokens`, { method: 'POST', json: { name: 'ci', scopes: ['api', 'read_api'], expires_at: '2026-04-01' } });
    const t = await body(res, 201);
    expect(t).toEqual({
      id: expect.any(Number), name: 'ci', description: null, revoked: false, created_at: '2026-03-10T12:00:00.000Z', scopes: ['api', 'read_api'],
      user_id: alice.id, last_used_at: null, active: true, expires_at: '2026-04-01', expired: false, token: expect.stringMatching(/^glpat-[A-Za-z0-9_-]{27}$/),
    });
    const listed = await body<Record<string, unknown>[]>(await s.api(`/api/v4/personal_access_tokens?user_id=${alice.id}`), 200);
    expect(listed.find((x) => x.id === t.id)).not.toHaveProperty('token');
    // kept as sha256 only
    const db = new Database(join(s.dataDir, 'baton.db'), { readonly: true });
    const dump = JSON.stringify(db.query('SELECT * FROM personal_access_tokens').all());
    db.close();
    expect(dump).not.toContain(t.token);
    expect(dump).toContain(new Bun.CryptoHasher('sha256').update(t.token).digest('hex'));
  });

  test('a user makes one for themselves (scopes as a form list or comma-separated)', async () => {
    const form = new URLSearchParams([['name', 'mine'], ['scopes[]', 'read_api']]);
    const t = await body(await as(s, alice.token, '/api/v4/user/personal_access_tokens', { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 201);
    expect([t.user_id, t.scopes, t.expires_at]).toEqual([alice.id, ['read_api'], null]);
    const c = await body(await selfToken(alice.token, { name: 'c', scopes: 'api, read_api' }), 201);
    expect(c.scopes).toEqual(['api', 'read_api']);
  });

  const invalid: [string, Record<string, unknown>, unknown][] = [
    ['name missing', { scopes: ['api'] }, { message: '400 Bad request - name is missing', error: 'name is missing' }],
    ['scopes missing', { name: 'x' }, { message: '400 Bad request - scopes is missing', error: 'scopes is missing' }],
    ['scopes empty', { name: 'x', scopes: [] }, { message: '400 Bad request - scopes is missing' }],
    ['an unknown scope, named', { name: 'x', scopes: ['api', 'sudo', 'write_repository'] },
      { message: '400 Bad request - scopes does not have a valid value: "sudo", "write_repository" (Baton knows api, read_api)' }],
    ['expires_at not a date', { name: 'x', scopes: ['api'], expires_at: 'tomorrow' }, { message: 'expires_at is invalid: expected a date such as 2030-01-31' }],
    ['expires_at impossible', { name: 'x', scopes: ['api'], expires_at: '2026-02-30' }, { message: 'expires_at is invalid: expected a date such as 2030-01-31' }],
    ['expires_at today', { name: 'x', scopes: ['api'], expires_at: '2026-03-10' }, { message: { expires_at: ['must be a date after today'] } }],
  ];
  test.each(invalid)('%s → 400', async (_name, json, expected) => {
    expect(await body(await selfToken(alice.token, json), 400)).toEqual(expected as object);
  });

  test('only admins make tokens for others; an unknown user → 404', async () => {
    expect(await body(await as(s, alice.token, `/api/v4/users/${bob.id}/personal_access_tokens`, { method: 'POST', json: { name: 'x', scopes: ['api'] } }), 403)).toEqual({ message: '403 Forbidden' });
    expect(await body(await s.api('/api/v4/users/999999/personal_access_tokens', { method: 'POST', json: { name: 'x', scopes: ['api'] } }), 404)).toEqual({ message: '404 User Not Found' });
  });
});

describe('using tokens', () => {
  test('PRIVATE-TOKEN and Authorization: Bearer both work', async () => {
    expect((await body(await as(s, alice.token, '/api/v4/user'), 200)).id).toBe(alice.id);
    expect((await body(await s.api('/api/v4/user', { auth: false, headers: { authorization: `Bearer ${alice.token}` } }), 200)).id).toBe(alice.id);
  });

  test('read_api reads but cannot write: 403 insufficient_scope, as GitLab answers', async () => {
    const reader = await makeToken(s, alice.id, ['read_api']);
    expect((await as(s, reader, '/api/v4/projects')).status).toBe(200);
    const res = await as(s, reader, '/api/v4/projects', { method: 'POST', json: { name: 'nope', repo_url: 'https://h/x.git' } });
    expect(await body(res, 403)).toEqual({
      error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api',
    });
    expect(res.headers.get('www-authenticate')).toStartWith('Bearer realm="The API", error="insufficient_scope"');
    for (const [method, path] of [['DELETE', `/api/v4/personal_access_tokens/self`], ['PUT', `/api/v4/users/${alice.id}`], ['POST', '/api/v4/user/personal_access_tokens']]) {
      expect((await as(s, reader, path, { method, json: {} })).status).toBe(403);
    }
    expect((await as(s, reader, '/api/v4/personal_access_tokens/self')).status).toBe(200);
  });

  test('an expired token → 401 invalid_token; it stops at midnight UTC of its date', async () => {
    const t = await makeToken(s, bob.id, ['api'], dayFrom(clock.now(), 2)); // 2026-03-12
    expect((await as(s, t, '/api/v4/user')).status).toBe(200);
    clock.set(Date.UTC(2026, 2, 11, 23, 59, 59));
    expect((await as(s, t, '/api/v4/user')).status).toBe(200);
    clock.set(Date.UTC(2026, 2, 12, 0, 0, 0));
    const res = await as(s, t, '/api/v4/user');
    expect(await body(res, 401)).toEqual({ error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' });
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const [listed] = await body<Record<string, unknown>[]>(await s.api(`/api/v4/personal_access_tokens?user_id=${bob.id}&state=inactive`), 200);
    expect(listed).toMatchObject({ active: false, expired: true, revoked: false, expires_at: '2026-03-12' });
    clock.set(Date.UTC(2026, 2, 10, 12));
  });

  test('a revoked token → 401 invalid_token at once; revoking twice is fine', async () => {
    const t = await makeToken(s, bob.id);
    const { id } = await body(await as(s, t, '/api/v4/personal_access_tokens/self'), 200);
    expect((await as(s, bob.token, `/api/v4/personal_access_tokens/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await body(await as(s, t, '/api/v4/user'), 401)).toEqual({ error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize from the user.' });
    expect((await s.api(`/api/v4/personal_access_tokens/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await body(await s.api(`/api/v4/personal_access_tokens/${id}`), 200)).toMatchObject({ id, revoked: true, active: false });
  });

  test('DELETE /personal_access_tokens/self revokes the token in use', async () => {
    const t = await makeToken(s, bob.id);
    expect((await as(s, t, '/api/v4/personal_access_tokens/self', { method: 'DELETE' })).status).toBe(204);
    expect((await as(s, t, '/api/v4/user')).status).toBe(401);
  });

  test('unknown or garbled tokens → 401 {"message":"401 Unauthorized"}', async () => {
    for (const t of ['glpat-' + 'x'.repeat(27), '', 'x', alice.token + 'x', alice.token.slice(0, -1), ADMIN_TOKEN.toUpperCase()]) {
      expect(await body(await as(s, t, '/api/v4/user'), 401)).toEqual({ message: '401 Unauthorized' });
    }
  });

  test('last_used_at is written at most once a minute', async () => {
    const t = await makeToken(s, bob.id);
    const show = async () => (await body(await as(s, t, '/api/v4/personal_access_tokens/self'), 200)).last_used_at;
    expect(await show()).toBe(new Date(clock.now()).toISOString());
    const first = clock.now();
    clock.advance(59_000);
    expect(await show()).toBe(new Date(first).toISOString());
    clock.advance(1_000);
    expect(await show()).toBe(new Date(clock.now()).toISOString());
  });
});

describe('who sees which tokens', () => {
  test('own tokens only; another user_id → 401; admins see all and filter', async () => {
    const mine = await body<{ user_id: number }[]>(await as(s, alice.token, '/api/v4/personal_access_tokens?per_page=100'), 200);
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((t) => t.user_id))).toEqual(new Set([alice.id]));
    expect(await body(await as(s, alice.token, `/api/v4/personal_access_tokens?user_id=${bob.id}`), 401)).toEqual({ message: '401 Unauthorized' });
    expect((await body<unknown[]>(await as(s, alice.token, `/api/v4/personal_access_tokens?user_id=${alice.id}&per_page=100`), 200)).length).toBe(mine.length);
    const all = await body<{ user_id: number }[]>(await s.api('/api/v4/personal_access_tokens?per_page=100'), 200);
    expect(new Set(all.map((t) => t.user_id))).toEqual(new Set([1, alice.id, bob.id]));
    expect((await body<{ revoked: boolean }[]>(await s.api('/api/v4/personal_access_tokens?revoked=true&per_page=100'), 200)).every((t) => t.revoked)).toBe(true);
    expect((await body<{ name: string }[]>(await s.api('/api/v4/personal_access_tokens?search=BOOTSTRAP'), 200)).map((t) => t.name)).toEqual(['bootstrap admin token']);
  });

  test("another user's token → 401 for a user (GitLab), visible to admins; a missing one → 404 for admins", async () => {
    const bobs = await body<{ id: number }[]>(await as(s, bob.token, '/api/v4/personal_access_tokens'), 200);
    expect(await body(await as(s, alice.token, `/api/v4/personal_access_tokens/${bobs[0].id}`), 401)).toEqual({ message: '401 Unauthorized' });
    expect(await body(await as(s, alice.token, `/api/v4/personal_access_tokens/${bobs[0].id}`, { method: 'DELETE' }), 401)).toEqual({ message: '401 Unauthorized' });
    expect((await as(s, bob.token, `/api/v4/personal_access_tokens/${bobs[0].id}`)).status).toBe(200);
    expect((await s.api(`/api/v4/personal_access_tokens/${bobs[0].id}`)).status).toBe(200);
    expect(await body(await s.api('/api/v4/personal_access_tokens/999999'), 404)).toEqual({ message: '404 Personal Access Token Not Found' });
    expect(await body(await as(s, alice.token, '/api/v4/personal_access_tokens/999999'), 401)).toEqual({ message: '401 Unauthorized' });
  });
});

describe('the admin token is root\'s bootstrap token', () => {
  test('it is listed as root\'s, and `self` shows it', async () => {
    const self = await body(await s.api('/api/v4/personal_access_tokens/self'), 200);
    expect(self).toMatchObject({ name: 'bootstrap admin token', user_id: 1, scopes: ['api'], active: true, expires_at: null });
  });

  test('rotating it (baton tokens --rotate-admin) makes the old one stop at once', async () => {
    const fresh = s.core.instance.rotateAdminToken();
    expect(fresh).toMatch(/^glpat-/);
    expect((await s.api('/api/v4/user')).status).toBe(401);
    expect(await body(await as(s, fresh, '/api/v4/user'), 200)).toMatchObject({ id: 1, username: 'root', is_admin: true });
    // pinning it again (a restart with --admin-token) brings the pinned one back
    s.core.instance.ensureTokens({ admin: ADMIN_TOKEN });
    expect((await s.api('/api/v4/user')).status).toBe(200);
    expect((await as(s, fresh, '/api/v4/user')).status).toBe(401);
  });
});
