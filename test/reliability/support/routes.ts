/**
 * The app's own route list, with each route's body model and the permission its auth macro
 * names: what the fuzzer walks (scenarios/fuzz.ts restRouteGenerators), so a new route is
 * covered without a new list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { PERMISSION_KEY } from '../../../src/http/auth';
import { createLogger } from '../../../src/log';
import { openCore } from '../../../src/server';
import type { AppRoute } from '../scenarios/fuzz';

export function appRoutes(): AppRoute[] {
  const dir = mkdtempSync(join(tmpdir(), 'baton-routes-'));
  try {
    const core = openCore({ ...loadConfig({}, {}), dataDir: dir, logLevel: 'silent' });
    const out = createApp(core, createLogger('silent'), { pollTimeoutMs: 0 }).routes.map((r) => {
      const hooks = r.hooks as { body?: unknown; detail?: Record<string, string> };
      return { method: r.method, path: r.path, body: hooks.body, permission: hooks.detail?.[PERMISSION_KEY] };
    });
    core.deps.db.$client.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
