#!/usr/bin/env bun
/**
 * What one GET /metrics costs on a big instance: a data dir seeded with a million finished
 * jobs (bench/lib/seed.ts) plus 1 000 pending ones, Baton in its own process, N scrapes
 * timed from here; for comparison, the count over `jobs` that job_counts replaces.
 *
 *   bun run bench/metrics.ts [--rows 1000000] [--scrapes 200]
 */
import { Database } from 'bun:sqlite';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBaton } from './lib/proc';
import { seedFinished, seedPending, tempDir } from './lib/seed';
import { fmt, median, percentile } from './lib/stats';

const { values } = parseArgs({ args: process.argv.slice(2), options: { rows: { type: 'string', default: '1000000' }, scrapes: { type: 'string', default: '200' } } });
const rows = Number(values.rows);
const scrapes = Number(values.scrapes);

const dir = tempDir('metrics');
try {
  let t = performance.now();
  seedFinished(dir, rows);
  await seedPending(dir, 100, 10);
  console.log(`seeded ${fmt(rows)} finished + 1000 pending jobs in ${fmt((performance.now() - t) / 1000)} s`);

  const server = await startBaton(dir);
  try {
    const times: number[] = [];
    let body = '';
    for (let i = 0; i < scrapes + 5; i++) {
      t = performance.now();
      const res = await fetch(`${server.url}/metrics`);
      body = await res.text();
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
      if (i >= 5) times.push(performance.now() - t); // the first ones warm up (and walk the data dir)
    }
    const line = (name: string) => body.split('\n').filter((l) => l.startsWith(name)).join('; ');
    console.log(line('baton_jobs{status="success"}'), '|', line('baton_queue_pending_jobs'));
    console.log(`GET /metrics over ${scrapes} scrapes: p50 ${fmt(median(times))} ms, p95 ${fmt(percentile(times, 95))} ms, max ${fmt(Math.max(...times))} ms, ${body.length} bytes`);
  } finally {
    await server.stop();
  }

  const db = new Database(join(dir, 'baton.db'), { readonly: true });
  const scan: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    db.query('SELECT status, count(*) FROM jobs GROUP BY status').all();
    scan.push(performance.now() - t);
  }
  const kept: number[] = [];
  for (let i = 0; i < 50; i++) {
    t = performance.now();
    db.query('SELECT status, n FROM job_counts').all();
    db.query(`SELECT min(queued_at) FROM jobs WHERE status = 'pending'`).all();
    kept.push(performance.now() - t);
  }
  db.close();
  console.log(`for comparison: counting jobs by status p50 ${fmt(median(scan))} ms; job_counts + oldest pending p50 ${fmt(median(kept))} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
