/**
 * Dashboard sessions over HTTP with a moved clock: sign-in (JSON and form) and its cookie,
 * the cookie as a credential, CSRF (missing or wrong token → 403, cross-origin → 403, token
 * requests need none), sign-out, idle expiry, the per-user session list, and the bounded
 * rate of failed sign-ins per account and per client address (429 with Retry-After).
 *
 * Sign-ins can be sent from several loopback addresses (127.x.y.z bound as the local
 * address of the connection), each a different client address for the limits.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { request } from 'node:http';
import { FakeClock } from '../../src/clock';
import { SESSION_IDLE_MS, SIGN_IN_WINDOW_MS } from '../../src/core/people/sessions';
import { startTestServer, type TestServer } from '../support/harness';
import { as, makeUser, type TestUser } from '../support/people';
import { body } from './rest-fixtures';

const clock = new FakeClock(Date.UTC(2026, 5, 1, 8));
let s: TestServer;
let alice: TestUser;
beforeAll(async () => {
  s = await startTestServer({}, { clock });
  alice = await makeUser(s);
});
afterAll(async () => s.stop());

/** A clean slate for the limits: past every failure window. */
const forgetFailures = () => clock.advance(SIGN_IN_WINDOW_MS + 1000);

/** POST /users/sign_in over a connection from `ip` (fetch cannot choose its local address). */
function signIn(json: Record<string, unknown>, opts: { ip?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, path: '/users/sign_in', method: 'POST', localAddress: opts.ip ?? '127.0.0.1',
      headers: { 'content-type': 'application/json', 'user-agent': 'sessions-test', ...opts.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers }));
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(json));
  });
}

interface Session { cookie: string; csrf: string; setCookie: string }
async function session(user: TestUser = alice, ip?: string): Promise<Session> {
  const res = await signIn({ login: user.username, password: user.password }, { ip });
  const b = await body<{ csrf_token: string }>(res, 200);
  const setCookie = res.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0], csrf: b.csrf_token, setCookie };
}

/** A request with the session cookie (and its CSRF token unless `csrf: null`). */
function withCookie(sess: Session, path: string, init: { method?: string; json?: unknown; csrf?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { cookie: sess.cookie, ...init.headers };
  if (init.csrf !== null) headers['x-csrf-token'] = init.csrf ?? sess.csrf;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(s.url + path, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
}

describe('signing in', () => {
  test('JSON: 200 {user, csrf_token, expires_at} and an HttpOnly, SameSite=Lax cookie', async () => {
    const res = await signIn({ login: alice.username, password: alice.password });
    const b = await body(res, 200);
    expect(b).toEqual({
      user: expect.objectContaining({ id: alice.id, username: alice.username }), csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expires_at: new Date(clock.now() + SESSION_IDLE_MS).toISOString(),
    });
    expect(b.user).not.toHaveProperty('is_admin');
    expect(res.headers.get('set-cookie')).toMatch(/^baton_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // the cookie value is stored only as a hash
    const token = res.headers.get('set-cookie')!.split(';')[0].split('=')[1];
    expect(JSON.stringify(s.core.deps.db.$client.query('SELECT * FROM sessions').all())).not.toContain(token);
  });

  test('by email too, case-insensitively; last_sign_in_at and current_sign_in_at move', async () => {
    const first = await body(await signIn({ login: `${alice.username.toUpperCase()}@EXAMPLE.COM`, password: alice.password }), 200);
    clock.advance(60_000);
    await body(await signIn({ login: alice.username, password: alice.password }), 200);
    const me = await body(await as(s, alice.token, '/api/v4/user'), 200);
    expect(me.current_sign_in_at).toBe(new Date(clock.now()).toISOString());
    expect(me.last_sign_in_at).toBe(new Date(clock.now() - 60_000).toISOString());
    expect(first.user.id).toBe(alice.id);
  });

  test("a form (GitLab's field names too): 303 to redirect_to, a local path only", async () => {
    const post = (fields: Record<string, string>) => fetch(`${s.url}/users/sign_in`, { method: 'POST', redirect: 'manual', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const res = await post({ 'user[login]': alice.username, 'user[password]': alice.password, redirect_to: '/root/app/-/pipelines' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/root/app/-/pipelines']);
    expect(res.headers.get('set-cookie')).toStartWith('baton_session=');
    for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
      const r = await post({ login: alice.username, password: alice.password, redirect_to: evil });
      expect(`${evil} → ${r.headers.get('location')}`).toBe(`${evil} → /`);
    }
  });

  const refused: [string, Record<string, unknown>, number, unknown][] = [
    ['wrong password', { login: 'ALICE', password: 'wrong password' }, 401, { message: '401 Unauthorized - Invalid login or password.' }],
    ['nobody of that name (the same answer)', { login: 'nobody-at-all', password: 'whatever1' }, 401, { message: '401 Unauthorized - Invalid login or password.' }],
    ['login missing', { password: 'x' }, 400, { message: '400 Bad request - login is missing' }],
    ['password missing', { login: 'ALICE' }, 400, { message: '400 Bad request - password is missing' }],
    ['an over-long password', { login: 'ALICE', password: 'p'.repeat(10_000) }, 401, { message: '401 Unauthorized - Invalid login or password.' }],
  ];
  test.each(refused)('%s → %i', async (_name, json, status, expected) => {
    forgetFailures();
    const sent = { ...json, ...(json.login === 'ALICE' ? { login: alice.username } : {}) };
    const res = await signIn(sent, { ip: '127.0.0.9' });
    expect(await body(res, status)).toEqual(expected as object);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  test('from another origin → 403 (no login CSRF)', async () => {
    const res = await signIn({ login: alice.username, password: alice.password }, { headers: { origin: 'https://evil.example' } });
    expect(await body(res, 403)).toEqual({ message: '403 Forbidden - cross-origin request refused' });
  });

  test('with an https --external-url the cookie is Secure', async () => {
    const secure = await startTestServer({ externalUrl: 'https://ci.example.com' });
    try {
      const u = await makeUser(secure);
      const res = await fetch(`${secure.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: u.username, password: u.password }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toEndWith('; Secure');
      // the external URL's origin counts as this site
      const sess = { cookie: res.headers.get('set-cookie')!.split(';')[0], csrf: ((await res.json()) as { csrf_token: string }).csrf_token };
      const ok = await fetch(`${secure.url}/api/v4/projects`, { method: 'POST', headers: { cookie: sess.cookie, 'x-csrf-token': sess.csrf, origin: 'https://ci.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'o', repo_url: 'https://h/o.git' }) });
      expect(ok.status).toBe(201);
    } finally {
      await secure.stop();
    }
  });
});

describe('the session cookie as a credential', () => {
  test('reads need only the cookie; GET /user hands the CSRF token in X-CSRF-Token', async () => {
    const sess = await session();
    const res = await withCookie(sess, '/api/v4/user', { csrf: null });
    expect((await body(res, 200)).id).toBe(alice.id);
    expect(res.headers.get('x-csrf-token')).toBe(sess.csrf);
    expect((await withCookie(sess, '/api/v4/projects', { csrf: null })).status).toBe(200);
    // token requests carry no CSRF header back
    expect((await as(s, alice.token, '/api/v4/user')).headers.get('x-csrf-token')).toBeNull();
  });

  test('state-changing requests need the CSRF token: missing or wrong → 403, right → done', async () => {
    const sess = await session();
    const create = (csrf?: string | null) => withCookie(sess, '/api/v4/projects', { method: 'POST', json: { name: `c-${Math.random()}`, repo_url: 'https://h/c.git' }, csrf });
    const csrfRefusal = { message: "403 Forbidden - CSRF token missing or invalid: send the session's token in X-CSRF-Token" };
    expect(await body(await create(null), 403)).toEqual(csrfRefusal);
    expect(await body(await create('x'.repeat(43)), 403)).toEqual(csrfRefusal);
    expect(await body(await create(''), 403)).toEqual(csrfRefusal);
    const other = await session();
    expect(await body(await create(other.csrf), 403)).toEqual(csrfRefusal);
    const p = await body(await create(), 201);
    for (const [method, path, json] of [['PUT', `/api/v4/projects/${p.id}`, { name: 'renamed' }], ['DELETE', `/api/v4/projects/${p.id}`, undefined]] as const) {
      expect((await withCookie(sess, path, { method, json, csrf: null })).status).toBe(403);
    }
    expect((await withCookie(sess, `/api/v4/projects/${p.id}`, { method: 'PUT', json: { name: 'renamed' } })).status).toBe(200);
    expect((await withCookie(sess, `/api/v4/projects/${p.id}`, { method: 'DELETE' })).status).toBe(202);
  });

  test('cross-origin requests are refused even with the CSRF token', async () => {
    const sess = await session();
    const post = (headers: Record<string, string>) => withCookie(sess, '/api/v4/user/personal_access_tokens', { method: 'POST', json: { name: 'x', scopes: ['api'] }, headers });
    for (const headers of <Record<string, string>[]>[{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: s.url.replace('127.0.0.1', 'localhost') }]) {
      expect(`${JSON.stringify(headers)} ${(await post(headers)).status}`).toBe(`${JSON.stringify(headers)} 403`);
    }
    expect((await post({ origin: s.url, 'sec-fetch-site': 'same-origin' })).status).toBe(201);
  });

  test('a token header wins over the cookie, and token requests need no CSRF token', async () => {
    const sess = await session();
    const bob = await makeUser(s);
    const res = await fetch(`${s.url}/api/v4/user/personal_access_tokens`, {
      method: 'POST', headers: { cookie: sess.cookie, 'PRIVATE-TOKEN': bob.token, 'content-type': 'application/json', origin: 'https://elsewhere.example' }, body: JSON.stringify({ name: 'x', scopes: ['api'] }),
    });
    expect((await body(res, 201)).user_id).toBe(bob.id);
    // a wrong token is 401 even with a good cookie
    expect((await fetch(`${s.url}/api/v4/user`, { headers: { cookie: sess.cookie, 'PRIVATE-TOKEN': 'nope' } })).status).toBe(401);
  });

  test('GET /personal_access_tokens/self is 404 for a session; an unknown cookie is 401', async () => {
    const sess = await session();
    expect(await body(await withCookie(sess, '/api/v4/personal_access_tokens/self'), 404)).toEqual({ message: '404 Personal Access Token Not Found' });
    expect(await body(await fetch(`${s.url}/api/v4/user`, { headers: { cookie: 'baton_session=forged' } }), 401)).toEqual({ message: '401 Unauthorized' });
    expect((await fetch(`${s.url}/api/v4/user`, { headers: { cookie: 'other=1; baton_session=' } })).status).toBe(401);
  });

  test('sessions expire after a week without use; use moves the expiry on', async () => {
    const sess = await session();
    clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await withCookie(sess, '/api/v4/user')).status).toBe(200);
    clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await withCookie(sess, '/api/v4/user')).status).toBe(200);
    clock.advance(SESSION_IDLE_MS);
    const other = await session();
    // the periodic sweep deletes sessions past their expiry (here: this one), not live ones
    expect(s.core.reaper.sweep().sessionsExpired).toBeGreaterThanOrEqual(1);
    expect(await body(await withCookie(sess, '/api/v4/user'), 401)).toEqual({ message: '401 Unauthorized' });
    expect((await withCookie(other, '/api/v4/user')).status).toBe(200);
  });
});

describe('signing out and the session list', () => {
  test('sign-out needs the CSRF token, ends the session and clears the cookie', async () => {
    const sess = await session();
    const out = (headers: Record<string, string>) => fetch(`${s.url}/users/sign_out`, { method: 'POST', headers: { cookie: sess.cookie, 'content-type': 'application/json', ...headers }, body: '{}' });
    expect((await out({})).status).toBe(403);
    expect((await out({ 'x-csrf-token': sess.csrf, origin: 'https://evil.example' })).status).toBe(403);
    const res = await out({ 'x-csrf-token': sess.csrf });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toBe('baton_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    expect((await withCookie(sess, '/api/v4/user')).status).toBe(401);
    // signing out again (or without a session) only clears the cookie
    expect((await out({})).status).toBe(204);
  });

  test('a plain HTML form signs out with authenticity_token → 303 to the sign-in page', async () => {
    const sess = await session();
    const res = await fetch(`${s.url}/users/sign_out`, {
      method: 'POST', redirect: 'manual', headers: { cookie: sess.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ authenticity_token: sess.csrf }),
    });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/users/sign_in']);
    expect((await withCookie(sess, '/api/v4/user')).status).toBe(401);
  });

  test("a user's sessions are listed (newest first, with address and User-Agent) and revocable one by one", async () => {
    const bob = await makeUser(s);
    const one = await session(bob);
    const two = await session(bob, '127.0.0.7');
    const list = s.core.sessions.list(bob.id);
    expect(list.map((x) => x.ipAddress)).toEqual(['127.0.0.7', '127.0.0.1']);
    expect(list[0].userAgent).toBeString();
    expect(s.core.sessions.revoke(bob.id, list[1].id)).toBe(true);
    expect(s.core.sessions.revoke(alice.id, list[0].id)).toBe(false);
    expect((await withCookie(one, '/api/v4/user')).status).toBe(401);
    expect((await withCookie(two, '/api/v4/user')).status).toBe(200);
    s.core.sessions.revokeAll(bob.id);
    expect((await withCookie(two, '/api/v4/user')).status).toBe(401);
  });
});

describe('failed sign-ins are bounded per account and per address', () => {
  const tooMany = expect.stringMatching(/^429 Too Many Requests - too many failed sign-ins for this account or from this address; try again in \d+ s$/);

  test('5 failures for an account → 429 with Retry-After, from any address, even with the right password', async () => {
    forgetFailures();
    const carol = await makeUser(s);
    for (let i = 0; i < 5; i++) {
      expect((await signIn({ login: carol.username, password: 'wrong-guess' }, { ip: `127.0.1.${i + 1}` })).status).toBe(401);
    }
    clock.advance(60_000);
    const limited = await signIn({ login: carol.username, password: carol.password }, { ip: '127.0.2.1' });
    expect((await body(limited, 429)).message).toEqual(tooMany);
    expect(limited.headers.get('retry-after')).toBe(String((SIGN_IN_WINDOW_MS - 60_000) / 1000));
    // other accounts from those addresses are fine (each address failed once)
    expect((await signIn({ login: alice.username, password: alice.password }, { ip: '127.0.1.1' })).status).toBe(200);
    // once the oldest failure leaves the window, one more try is allowed
    clock.advance(SIGN_IN_WINDOW_MS - 60_000);
    expect((await signIn({ login: carol.username, password: carol.password }, { ip: '127.0.2.1' })).status).toBe(200);
  });

  test('5 failures from one address → 429 for every account from there, not from elsewhere', async () => {
    forgetFailures();
    for (let i = 0; i < 5; i++) expect((await signIn({ login: `nobody-${i}`, password: 'guess-guess' }, { ip: '127.0.3.1' })).status).toBe(401);
    const limited = await signIn({ login: alice.username, password: alice.password }, { ip: '127.0.3.1' });
    expect((await body(limited, 429)).message).toEqual(tooMany);
    expect(Number(limited.headers.get('retry-after'))).toBe(SIGN_IN_WINDOW_MS / 1000);
    expect((await signIn({ login: alice.username, password: alice.password }, { ip: '127.0.3.2' })).status).toBe(200);
    // logins naming nobody are limited like real ones
    for (let i = 0; i < 5; i++) await signIn({ login: 'ghost', password: 'guess-guess' }, { ip: `127.0.4.${i + 1}` });
    expect((await signIn({ login: 'ghost', password: 'guess-guess' }, { ip: '127.0.4.9' })).status).toBe(429);
  });

  test("a successful sign-in clears the account's count", async () => {
    forgetFailures();
    const dave = await makeUser(s);
    for (let i = 0; i < 4; i++) await signIn({ login: dave.username, password: 'wrong-guess' }, { ip: `127.0.5.${i + 1}` });
    expect((await signIn({ login: dave.username, password: dave.password }, { ip: '127.0.5.9' })).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await signIn({ login: dave.username, password: 'wrong-guess' }, { ip: `127.0.6.${i + 1}` })).status).toBe(401);
    expect((await signIn({ login: dave.username, password: dave.password }, { ip: '127.0.6.9' })).status).toBe(200);
  });
});
