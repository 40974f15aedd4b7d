/**
 * Another process holding the write lock (a second Baton on the same data dir) must not
 * freeze this one: a batch of job requests that finds the lock taken waits on a timer, the
 * event loop goes on (other requests are answered meanwhile), and once the lock is free every
 * request gets its own job. A lock held longer than the timer's patience (1 s) is waited for
 * in SQLite (busy_timeout), as before, and still answered.
 */
import { Database } from 'bun:sqlite';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Runner } from '../../src/db/schema';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

const matrix = (n: number) => Array.from({ length: n }, (_, i) => `job_${i}:\n  script: [x]\n`).join('');

/** Holds BEGIN IMMEDIATE on the data dir's database from another process for `ms`. */
async function holdLockElsewhere(file: string, ms: number): Promise<{ released: Promise<void> }> {
  const script = `const { Database } = require('bun:sqlite'); const db = new Database(${JSON.stringify(file)}); db.exec('BEGIN IMMEDIATE');
    console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`;
  const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'inherit' });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain('locked');
  return { released: proc.exited.then(() => undefined) };
}

describe('job requests while another process holds the write lock', () => {
  let s: TestServer;
  let runners: Runner[];
  let file: string;

  beforeAll(async () => {
    s = await startTestServer();
    file = join(s.dataDir, 'baton.db');
    const p = makeProject(s.core);
    await makePipeline(s.core, p.id, matrix(40));
    runners = Array.from({ length: 8 }, (_, i) => s.core.runners.register({ token: REGISTRATION_TOKEN, description: `r${i}`, protocol: 'v4' }).runner);
  });
  afterAll(() => s.stop());

  const requestAll = (rs: Runner[]) => Promise.all(rs.map((r) => s.core.dispatch.nextJob(r, undefined, { timeoutMs: 0 })));

  test('a short hold: the event loop keeps running, and each request then gets its own job', async () => {
    const lock = await holdLockElsewhere(file, 300);
    const t0 = performance.now();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const answers = await requestAll(runners);
    clearInterval(ticker);
    await lock.released;
    const waited = performance.now() - t0;
    // they waited for the lock, and timers fired meanwhile (a sleeping busy wait would have frozen them)
    expect(waited).toBeGreaterThan(150);
    expect(ticks).toBeGreaterThan(5);
    const ids = answers.map((a) => (a.result.outcome === 'job' ? a.result.context.job.id : a.result.outcome));
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(runners.length);
  });

  test('a hold longer than the timer waits (1 s) is waited for in SQLite and still answered', async () => {
    const lock = await holdLockElsewhere(file, 1600);
    const t0 = performance.now();
    const answers = await requestAll(runners.slice(0, 4));
    await lock.released;
    expect(performance.now() - t0).toBeGreaterThan(1400);
    expect(answers.every((a) => a.result.outcome === 'job')).toBe(true);
    const running = s.core.deps.db.$client.query<{ n: number }, []>(`SELECT count(*) AS n FROM jobs WHERE status = 'running'`).get()!.n;
    expect(running).toBe(runners.length + 4);
  });
});
