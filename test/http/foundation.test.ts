/**
 * The foundation every route stands on, against a real server: health and version, the one
 * error mapping (404 JSON for unknown routes, 400 naming the field, generic 500 logged with
 * stack and request id), the request log and `X-Request-Id`, the offline Swagger page and an
 * OpenAPI document that lists every route, and the bounded graceful stop.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { DomainError } from '../../src/core/errors';
import { createLogger } from '../../src/log';
import { startServer, type RunningServer } from '../../src/server';
import { requireGit } from '../support/git';
import { REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

const pkg = JSON.parse(readFileSync(join(import.meta.dir, '../../package.json'), 'utf8')) as { version: string };

/** A real server whose pino output is kept in memory, one parsed object per line. */
async function startLoggedServer(over: Partial<Config> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-foundation-'));
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
  const config: Config = { ...loadConfig({}, {}), host: '127.0.0.1', port: 0, dataDir, registrationToken: REGISTRATION_TOKEN, adminToken: 'admin-token-foundation', pollTimeout: 0, ...over };
  const server = await startServer(config, { log, reaperEveryMs: 0 });
  return {
    server,
    lines,
    async stop(graceMs = 1000) {
      await server.stop(graceMs);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const register = (url: string, body: unknown, contentType = 'application/json') =>
  fetch(`${url}/ci/api/v1/runners/register`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => { await s.stop(); });

describe('instance endpoints', () => {
  test('GET /-/health → 200 {"status":"ok"} as exactly application/json, no auth', async () => {
    const res = await s.api('/-/health', { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('GET /-/health → 503 when the database does not answer', async () => {
    const t = await startTestServer();
    try {
      t.core.deps.db.$client.close();
      const res = await t.api('/-/health', { auth: false });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { status: string }).status).toBe('error');
    } finally {
      await t.stop();
    }
  });

  test('GET /api/v4/version → the package version and a revision, no auth', async () => {
    const res = await s.api('/api/v4/version', { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { version: string; revision: string };
    expect(body.version).toBe(pkg.version);
    // built from a git checkout: the commit, fixed at bundle time
    requireGit();
    const head = Bun.spawnSync(['git', 'rev-parse', '--short=8', 'HEAD']).stdout.toString().trim();
    expect(body.revision).toBe(head);
  });
});

describe('unknown routes → 404 JSON', () => {
  test.each([
    ['GET', '/nope'],
    ['GET', '/api/v4/does-not-exist'],
    ['POST', '/api/v4/nothing/here'],
    ['GET', '/ci/api/v1/unknown'],
    ['DELETE', '/-/health'],
    ['GET', '/swagger/assets/missing.js'],
  ])('%s %s', async (method, path) => {
    const res = await s.api(path, { method, auth: false });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ message: '404 Not Found' });
  });
});

describe('validation failures → 400 naming the field', () => {
  test.each([
    ['JSON boolean field', { token: REGISTRATION_TOKEN, run_untagged: 'maybe' }, 'application/json', 'run_untagged'],
    ['JSON nested field', { token: REGISTRATION_TOKEN, info: { name: { not: 'a string' } } }, 'application/json', 'info.name'],
    ['JSON union field', { token: REGISTRATION_TOKEN, tag_list: { a: 1 } }, 'application/json', 'tag_list'],
    ['form boolean field', `token=${REGISTRATION_TOKEN}&locked=perhaps`, 'application/x-www-form-urlencoded', 'locked'],
  ] as [string, unknown, string, string][])('%s', async (_name, body, contentType, field) => {
    const res = await register(s.url, body, contentType);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    const { message } = (await res.json()) as { message: string };
    expect(message).toStartWith('400 Bad request');
    expect(message).toContain(field);
  });

  test('a body that is not JSON → 400, not 500', async () => {
    const res = await register(s.url, '{"token": ', 'application/json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toStartWith('400 Bad request');
  });

  test('the same request with valid values passes validation (201)', async () => {
    const res = await register(s.url, { token: REGISTRATION_TOKEN, run_untagged: true, locked: 'false' });
    expect(res.status).toBe(201);
  });
});

describe('unexpected errors and the request log', () => {
  let logged: Awaited<ReturnType<typeof startLoggedServer>>;
  let original: RunningServer['core']['runners']['register'];
  beforeAll(async () => {
    logged = await startLoggedServer();
    original = logged.server.core.runners.register.bind(logged.server.core.runners);
  });
  afterAll(async () => { await logged.stop(); });

  /** Makes the real core's registration throw `error` for the next requests. */
  function failWith(error: Error) {
    logged.server.core.runners.register = () => { throw error; };
  }

  test('a thrown Error → 500 with a generic body, logged with its stack and the request id', async () => {
    failWith(new Error('boom: /secret/path/in/message'));
    const res = await register(logged.server.url, { token: REGISTRATION_TOKEN });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ message: '500 Internal Server Error' });
    expect(text).not.toContain('secret');
    const reqId = res.headers.get('x-request-id');
    expect(reqId).toBeTruthy();
    const entry = logged.lines.find((l) => l.level === 50 && l.reqId === reqId) as { err: { message: string; stack: string } } | undefined;
    expect(entry).toBeDefined();
    expect(entry!.err.message).toBe('boom: /secret/path/in/message');
    expect(entry!.err.stack).toContain('foundation.test.ts');
  });

  test.each([
    ['a DomainError keeps its status', new DomainError('conflict', '409 Conflict'), 409, { message: '409 Conflict' }],
    ['a full disk → 507', Object.assign(new Error('no space'), { code: 'ENOSPC' }), 507, { message: 'Insufficient storage: the data directory is full' }],
    ['an unwritable data dir → 503', Object.assign(new Error('denied'), { code: 'EACCES' }), 503, { message: 'Storage unavailable: the data directory is not writable' }],
  ] as [string, Error, number, unknown][])('%s', async (_name, error, status, body) => {
    failWith(error);
    const res = await register(logged.server.url, { token: REGISTRATION_TOKEN });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  test('one JSON log line per request: id, method, path without query, status, duration', async () => {
    logged.server.core.runners.register = original;
    const res = await fetch(`${logged.server.url}/-/health?private_token=should-not-be-logged`);
    const reqId = res.headers.get('x-request-id');
    const entries = logged.lines.filter((l) => l.msg === 'request' && l.reqId === reqId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 30, method: 'GET', path: '/-/health', status: 200 });
    expect(typeof entries[0].ms).toBe('number');
    expect(typeof entries[0].time).toBe('string');
    expect(JSON.stringify(logged.lines)).not.toContain('should-not-be-logged');
  });

  test('404s and 400s are logged with their status too', async () => {
    const a = await fetch(`${logged.server.url}/nope`);
    const b = await register(logged.server.url, { token: REGISTRATION_TOKEN, run_untagged: 'maybe' });
    for (const [res, status] of [[a, 404], [b, 400]] as const) {
      expect(res.status).toBe(status);
      expect(logged.lines.find((l) => l.msg === 'request' && l.reqId === res.headers.get('x-request-id'))?.status).toBe(status);
    }
  });

  test('every response carries a distinct X-Request-Id; a sane client id is kept, a bad one replaced', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await fetch(`${logged.server.url}/-/health`)).headers.get('x-request-id')));
    expect(new Set(ids).size).toBe(3);
    const kept = await fetch(`${logged.server.url}/api/v4/version`, { headers: { 'X-Request-Id': '01HZX-client.id:7' } });
    expect(kept.headers.get('x-request-id')).toBe('01HZX-client.id:7');
    const replaced = await fetch(`${logged.server.url}/api/v4/version`, { headers: { 'X-Request-Id': 'bad id\twith "quotes"' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[\w.:-]+$/);
    expect(logged.lines.some((l) => l.reqId === '01HZX-client.id:7' && l.path === '/api/v4/version')).toBe(true);
  });
});

describe('API documentation', () => {
  test('GET /swagger is an HTML page that loads only its own assets', async () => {
    const res = await s.api('/swagger', { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('text/html');
    const html = await res.text();
    expect(html).toContain('/swagger/assets/swagger-ui-bundle.js');
    expect(html).toContain('/swagger/assets/swagger-ui.css');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test("the swagger plugin's own CDN page is not served", async () => {
    // The plugin's page is never mounted: the path is a project page's like any other, which wants a sign-in.
    const res = await fetch(`${s.url}/swagger/_plugin`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/users/sign_in?redirect_to=%2Fswagger%2F_plugin');
  });

  test.each([
    ['/swagger/assets/swagger-ui-bundle.js', 'text/javascript', 'swagger-ui-dist/swagger-ui-bundle.js'],
    ['/swagger/assets/swagger-ui.css', 'text/css', 'swagger-ui-dist/swagger-ui.css'],
  ])('%s is served from the bundled swagger-ui-dist', async (path, type, file) => {
    const res = await s.api(path, { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith(type);
    expect(await res.text()).toBe(readFileSync(Bun.resolveSync(file, import.meta.dir), 'utf8'));
  });

  test('GET /swagger/json lists every route of the app with its schemas', async () => {
    const res = await s.api('/swagger/json', { auth: false });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { tags?: string[]; requestBody?: unknown; parameters?: { in: string; name: string }[] }>> };
    expect(doc.openapi).toStartWith('3.');
    expect(doc.info.version).toBe(pkg.version);

    // The routes as Elysia knows them (a second app over the same core lists the same ones).
    const routes = createApp(s.core, createLogger('silent'), { pollTimeoutMs: 0 }).routes
      .filter((r) => (r.hooks as { detail?: { hide?: boolean } } | undefined)?.detail?.hide !== true)
      .filter((r) => !r.path.endsWith('.json') && r.path !== '/swagger/json');
    expect(routes.length).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      if (!op) { missing.push(`${r.method} ${r.path}`); continue; }
      expect({ route: `${r.method} ${r.path}`, tagged: (op.tags ?? []).length > 0 }).toEqual({ route: `${r.method} ${r.path}`, tagged: true });
      const hooks = r.hooks as { body?: unknown; params?: unknown } | undefined;
      if (hooks?.body) expect({ route: `${r.method} ${r.path}`, requestBody: !!op.requestBody }).toEqual({ route: `${r.method} ${r.path}`, requestBody: true });
      for (const name of [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1])) {
        expect(op.parameters?.some((p) => p.in === 'path' && p.name === name)).toBe(true);
      }
    }
    expect(missing).toEqual([]);
    // the runner API v1 trace endpoint has a dot in its path and must still be listed
    expect(doc.paths['/ci/api/v1/builds/{id}/trace.txt']?.patch).toBeDefined();
  });
});

describe('graceful stop', () => {
  test('stop() refuses new connections, waits a bounded time for a stuck request, then closes the database', async () => {
    const t = await startLoggedServer();
    // A request whose body never completes: the server cannot finish it.
    const stuck = fetch(`${t.server.url}/ci/api/v1/runners/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{"token":')); } }),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    await Bun.sleep(100);
    const started = performance.now();
    const stopping = t.stop(400);
    await Bun.sleep(50);
    const refused = await fetch(`${t.server.url}/-/health`).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    await stopping;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(5000);
    await stuck;
    expect(() => t.server.core.deps.db.$client.query('SELECT 1').get()).toThrow();
  });
});
