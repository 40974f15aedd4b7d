/**
 * Processes started together on one data dir (two replicas, a restart racing a leftover):
 * each must come up, and they must agree on one root user and one admin token — whether the
 * data dir is brand new (migrations race too) or migrated but never started (root not yet
 * made). Both ways once failed with `UNIQUE constraint failed: index 'users_username'`.
 */
import { Database } from 'bun:sqlite';
import { describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { openCore } from '../../src/server';
import { ADMIN_TOKEN, spawnBaton, tempDataDir } from '../reliability/support/process';

const cases: { name: string; prepare(dir: string): void; processes: number }[] = [
  { name: 'a brand-new data dir, four processes at once', prepare: () => {}, processes: 4 },
  {
    name: 'a migrated data dir never started, three processes at once',
    prepare: (dir) => { openCore({ ...loadConfig({}, {}), dataDir: dir, logLevel: 'silent' }).deps.db.$client.close(); },
    processes: 3,
  },
];

describe('processes started together on one data dir', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const dir = tempDataDir('together');
      c.prepare(dir);
      const started = await Promise.allSettled(Array.from({ length: c.processes }, () => spawnBaton(dir)));
      const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      try {
        expect(started.map((s) => (s.status === 'fulfilled' ? 'up' : String((s as PromiseRejectedResult).reason).slice(0, 300)))).toEqual(Array(c.processes).fill('up'));
        for (const p of up) {
          const res = await fetch(`${p.url}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN } });
          expect(res.status).toBe(200);
          expect(((await res.json()) as { username: string }).username).toBe('root');
        }
        const db = new Database(join(dir, 'baton.db'), { readonly: true });
        try {
          expect((db.query("SELECT count(*) AS n FROM users WHERE username = 'root'").get() as { n: number }).n).toBe(1);
        } finally { db.close(); }
      } finally {
        await Promise.all(up.map((p) => p.stop()));
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
