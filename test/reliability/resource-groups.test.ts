/**
 * Resource groups with two Baton processes on one data dir: 12 pipelines each deploy through
 * one `resource_group`, 8 runners poll both processes at random. The resource is granted in
 * the transaction that ends its holder, with a conditional write, so the deploy jobs never
 * overlap, none is lost and none runs twice.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config';
import { openCore } from '../../src/server';
import { createPipeline, job, plan } from '../support/plan';
import { withDb } from './support/data';
import { REGISTRATION_TOKEN, spawnBaton, tempDataDir, type BatonProcess } from './support/process';
import { V1Client } from './support/v1';

const procs: BatonProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('two processes grant one resource to one job at a time: no overlap, none lost, none twice', async () => {
  const dataDir = tempDataDir('rg');
  dirs.push(dataDir);
  const PIPELINES = 12;
  const core = openCore({ ...loadConfig({}, {}), dataDir, logLevel: 'silent' });
  try {
    const project = core.projects.create({ name: 'rg', repoUrl: '/nonexistent/rg.git' });
    for (let i = 0; i < PIPELINES; i++) {
      createPipeline(core, project.id, plan([
        job('build', { stage: 'build' }),
        job('deploy', { stage: 'deploy', resourceGroup: 'production' }),
      ], { workflow: { autoCancel: { onNewCommit: 'none', onJobFailure: 'none' } } }), { ref: `branch-${i}` });
    }
  } finally {
    core.deps.db.$client.close();
  }
  const a = await spawnBaton(dataDir);
  const b = await spawnBaton(dataDir);
  procs.push(a, b);
  const clients = [new V1Client(() => a.url), new V1Client(() => b.url)];
  const handed = new Map<number, number>();
  const runner = async (n: number) => {
    const reg = await clients[n % 2].register(REGISTRATION_TOKEN);
    for (let idle = 0; idle < 40;) {
      const client = clients[Math.floor(Math.random() * 2)];
      const { job: j } = await client.requestJob(reg.token!);
      if (!j) { idle++; await Bun.sleep(25); continue; }
      idle = 0;
      handed.set(j.id, (handed.get(j.id) ?? 0) + 1);
      await Bun.sleep(5 + Math.random() * 15);
      expect(await clients[Math.floor(Math.random() * 2)].update(j.id, reg.token!, 'success')).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, n) => runner(n)));
  const rows = withDb(dataDir, (db) => db.query(`SELECT j.id, j.name, j.status, j.started_at AS s, j.finished_at AS f FROM jobs j ORDER BY j.started_at`).all() as
    { id: number; name: string; status: string; s: number; f: number }[]);
  expect(rows.length).toBe(PIPELINES * 2);
  expect(rows.every((r) => r.status === 'success')).toBe(true);
  expect([...handed.values()].every((n) => n === 1)).toBe(true);
  expect(handed.size).toBe(PIPELINES * 2);
  const deploys = rows.filter((r) => r.name === 'deploy');
  for (let i = 1; i < deploys.length; i++) expect(deploys[i].s).toBeGreaterThanOrEqual(deploys[i - 1].f);
  const holder = withDb(dataDir, (db) => db.query('SELECT holder_job_id AS h FROM resource_groups').get() as { h: number | null });
  expect(holder.h === null || deploys.some((d) => d.id === holder.h)).toBe(true);
}, 120_000);
