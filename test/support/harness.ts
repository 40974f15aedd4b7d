/**
 * Test harness: a real Baton server on a random port with a temp data dir and a real
 * SQLite file. Tokens are pinned so tests can use them; the clock can be a FakeClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/clock';
import { loadConfig, type Config } from '../../src/config';
import { parseCiConfig } from '../../src/core/ci-config';
import type { Core } from '../../src/core';
import type { Logger } from '../../src/log';
import { startServer } from '../../src/server';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const REGISTRATION_TOKEN = 'test-registration-token-0123';

export interface TestServer {
  url: string;
  core: Core;
  dataDir: string;
  config: Config;
  /** fetch against the server, with the admin token unless `auth: false` */
  api(path: string, init?: RequestInit & { auth?: boolean; json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<Config> = {}, opts: { clock?: Clock; reaperEveryMs?: number; log?: Logger } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-test-'));
  const config: Config = {
    ...loadConfig({}, {}),
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    adminToken: ADMIN_TOKEN,
    registrationToken: REGISTRATION_TOKEN,
    pollTimeout: 0,
    // no floor unless a test sets one: a nearly full CI disk must not turn uploads into 507s
    minFreeDisk: 0,
    ...overrides,
  };
  const server = await startServer(config, { clock: opts.clock, reaperEveryMs: opts.reaperEveryMs ?? 0, log: opts.log });
  return {
    url: server.url,
    core: server.core,
    dataDir,
    config,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.auth !== false && !headers.has('private-token')) headers.set('PRIVATE-TOKEN', ADMIN_TOKEN);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(server.url + path, { ...init, headers, body });
    },
    async stop() {
      await server.stop(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A project made through the core (tests of the runner APIs need no REST call). */
export function makeProject(core: Core, overrides: Partial<Parameters<Core['projects']['create']>[0]> = {}) {
  return core.projects.create({ name: `demo-${Math.random().toString(36).slice(2, 8)}`, repoUrl: 'https://git.example.com/group/demo.git', ...overrides });
}

/** A pipeline from YAML text through the core; throws on a configuration error. */
export function makePipeline(core: Core, projectId: number, yaml: string, opts: { ref?: string; tag?: boolean; sha?: string; variables?: { key: string; value: string }[] } = {}) {
  const ref = opts.ref ?? 'main';
  const parsed = parseCiConfig(yaml, { name: ref, tag: opts.tag ?? false });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return core.pipelines.create(projectId, { ref, tag: opts.tag ?? false, sha: opts.sha ?? 'a9738e26eea81eb998fab5ed3f808875eaec5196', variables: opts.variables }, parsed.plan);
}
