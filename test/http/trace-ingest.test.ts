/**
 * The trace PATCH keeps state between requests (bench P4): a project's secrets are cached
 * for a second, trace files stay open while their jobs run. These tests pin what must not
 * change because of it: a masked variable changed through this server is masked on the very
 * next PATCH, one changed by another process (simulated by writing the database directly)
 * at once for jobs claimed afterwards and within about a second for the others; bytes
 * appended or files removed by another process are noticed at write time; open files are
 * released when jobs end and stay bounded.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { appendFileSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { TRACE_RECHECK_MS } from '../../src/core/storage';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { RUN_INFO, V4_USER_AGENT } from '../support/fake-runner-v4';

let server: TestServer;
let clock: FakeClock;
afterEach(async () => server?.stop());

const SECRET = 'sup3r-s3cret-value';
const LATER = 'an0ther-s3cret-value';

async function v4(path: string, init: { method?: string; json?: unknown; headers?: Record<string, string>; body?: string } = {}) {
  const headers: Record<string, string> = { 'User-Agent': V4_USER_AGENT, ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  return fetch(`${server.url}/api/v4${path}`, { method: init.method ?? 'POST', headers, body });
}

async function start() {
  clock = new FakeClock();
  server = await startTestServer({}, { clock });
  const project = makeProject(server.core);
  await makePipeline(server.core, project.id, Array.from({ length: 4 }, (_, i) => `job${i}:\n  script: [echo ${i}]\n`).join(''));
  const res = await v4('/runners', { json: { token: REGISTRATION_TOKEN, info: RUN_INFO } });
  expect(res.status).toBe(201);
  const runner = (await res.json()) as { token: string };
  return { project, runnerToken: runner.token };
}

async function claim(runnerToken: string): Promise<{ id: number; token: string }> {
  const res = await v4('/jobs/request', { json: { token: runnerToken, info: RUN_INFO } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: number; token: string };
}

/** A runner's PATCH of `text` at `offset`; returns the status and the Range header. */
async function patch(job: { id: number; token: string }, offset: number, text: string) {
  const n = Buffer.byteLength(text);
  const res = await v4(`/jobs/${job.id}/trace`, {
    method: 'PATCH', body: text,
    headers: { 'Content-Type': 'text/plain', 'Content-Range': `${offset}-${offset + n - 1}`, 'JOB-TOKEN': job.token },
  });
  await res.arrayBuffer();
  return { status: res.status, range: res.headers.get('range') };
}

const stored = (jobId: number) => new TextDecoder().decode(server.core.jobs.readTrace(jobId));
const traceFile = (jobId: number) => join(server.dataDir, 'traces', `${jobId}.log`);

describe('masking with cached project secrets', () => {
  test.each([
    ['created', async (projectId: number) => server.api(`/api/v4/projects/${projectId}/variables`, { method: 'POST', json: { key: 'NEW', value: LATER, masked: true } })],
    ['made masked', async (projectId: number) => server.api(`/api/v4/projects/${projectId}/variables/PLAIN`, { method: 'PUT', json: { masked: true } })],
    ['given a new value', async (projectId: number) => server.api(`/api/v4/projects/${projectId}/variables/KEY`, { method: 'PUT', json: { value: LATER } })],
  ])('a masked variable %s through the API while a job runs is masked on its next PATCH', async (_, change) => {
    const { project, runnerToken } = await start();
    server.core.projects.createVariable(project.id, { key: 'KEY', value: SECRET, masked: true });
    server.core.projects.createVariable(project.id, { key: 'PLAIN', value: LATER, masked: false });
    const job = await claim(runnerToken);
    clock.advance(1000); // the secrets read by this PATCH are newer than the claim: cached
    const first = `1 ${SECRET} ${LATER}\n`;
    expect((await patch(job, 0, first)).status).toBe(202);
    expect([200, 201]).toContain((await change(project.id)).status);
    const second = `2 ${LATER}\n`;
    expect((await patch(job, Buffer.byteLength(first), second)).status).toBe(202);
    const x = (s: string) => 'x'.repeat(s.length);
    expect(stored(job.id)).toBe(`1 ${x(SECRET)} ${LATER}\n2 ${x(LATER)}\n`);
  });

  test('a masked variable another process adds is masked at once for jobs claimed after it, within about a second for the others', async () => {
    const { project, runnerToken } = await start();
    const insert = (key: string, value: string) => // another process: straight into the database, this server is not told
      server.core.deps.db.$client.run('INSERT INTO variables (project_id, key, value, masked) VALUES (?, ?, ?, 1)', [project.id, key, value]);
    const early = await claim(runnerToken);
    clock.advance(1000);
    expect((await patch(early, 0, 'start\n')).status).toBe(202); // caches the project's secrets
    insert('OTHER', SECRET);
    const late = await claim(runnerToken); // its payload carries the new variable
    expect((await patch(late, 0, `echo ${SECRET}\n`)).status).toBe(202);
    expect(stored(late.id)).toBe(`echo ${'x'.repeat(SECRET.length)}\n`);

    insert('THIRD', LATER);
    let offset = 6;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const line = `${LATER}\n`;
      expect((await patch(early, offset, line)).status).toBe(202);
      offset += line.length;
      if (!stored(early.id).endsWith(line)) break;
      await Bun.sleep(100);
    }
    expect(stored(early.id).endsWith(`${'x'.repeat(LATER.length)}\n`)).toBe(true);
  });
});

describe('trace files kept open', () => {
  // Another Baton on the same data dir appends what the same runner sent it: the runner's
  // bytes at an offset are the same whoever writes them. appendFileSync plays that process.
  test('chunks another process appended: the next offset is checked with the file (202), a chunk sent again lands on the same bytes', async () => {
    const { runnerToken } = await start();
    const job = await claim(runnerToken);
    expect(await patch(job, 0, 'one\n')).toEqual({ status: 202, range: '0-4' });
    appendFileSync(traceFile(job.id), 'two\n'); // the other process took the chunk at 4; its answer was lost
    expect(await patch(job, 4, 'two\n')).toEqual({ status: 202, range: '0-8' }); // sent again here
    appendFileSync(traceFile(job.id), 'three\n'); // the next chunk went there too
    expect(await patch(job, 14, 'four\n')).toEqual({ status: 202, range: '0-19' });
    expect(await patch(job, 30, 'five\n')).toEqual({ status: 416, range: '0-19' });
    expect(readFileSync(traceFile(job.id), 'utf8')).toBe('one\ntwo\nthree\nfour\n');
  });

  test(`bytes written behind the server at the offset it knows are noticed within ${TRACE_RECHECK_MS} ms: 416 with the true length`, async () => {
    const { runnerToken } = await start();
    const job = await claim(runnerToken);
    expect(await patch(job, 0, 'one\n')).toEqual({ status: 202, range: '0-4' });
    appendFileSync(traceFile(job.id), 'other\n');
    clock.advance(TRACE_RECHECK_MS);
    expect(await patch(job, 4, 'two\n')).toEqual({ status: 416, range: '0-10' });
    expect(await patch(job, 10, 'two\n')).toEqual({ status: 202, range: '0-14' });
    expect(readFileSync(traceFile(job.id), 'utf8')).toBe('one\nother\ntwo\n');
  });

  test(`a trace file removed behind the server is noticed within ${TRACE_RECHECK_MS} ms: the runner is told the stored length (0) and starts over`, async () => {
    const { runnerToken } = await start();
    const job = await claim(runnerToken);
    expect((await patch(job, 0, 'one\n')).status).toBe(202);
    rmSync(traceFile(job.id));
    clock.advance(TRACE_RECHECK_MS);
    expect(await patch(job, 4, 'two\n')).toEqual({ status: 416, range: '0-0' });
    expect(await patch(job, 0, 'one\ntwo\n')).toEqual({ status: 202, range: '0-8' });
    expect(readFileSync(traceFile(job.id), 'utf8')).toBe('one\ntwo\n');
  });

  /** Descriptors of this (test and server) process open on a job's trace file. */
  const openOn = (jobId: number) => {
    const target = traceFile(jobId);
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try { if (readlinkSync(`/proc/self/fd/${fd}`) === target) n++; } catch { /* closed meanwhile */ }
    }
    return n;
  };

  test.skipIf(!existsSync('/proc/self/fd'))('the file of a job is closed when the job ends (success, cancel)', async () => {
    const { runnerToken } = await start();
    const done = await claim(runnerToken);
    const canceled = await claim(runnerToken);
    for (const job of [done, canceled]) expect((await patch(job, 0, 'log\n')).status).toBe(202);
    expect([openOn(done.id), openOn(canceled.id)]).toEqual([1, 1]);
    expect((await v4(`/jobs/${done.id}`, { method: 'PUT', json: { token: done.token, state: 'success' } })).status).toBe(200);
    server.core.jobs.cancel(canceled.id);
    expect([openOn(done.id), openOn(canceled.id)]).toEqual([0, 0]);
  });

  test.skipIf(!existsSync('/proc/self/fd'))('at most 256 trace files are open at once; the oldest are closed and still appended to correctly', async () => {
    clock = new FakeClock();
    server = await startTestServer({}, { clock });
    const project = makeProject(server.core);
    await makePipeline(server.core, project.id, Array.from({ length: 300 }, (_, i) => `j${i}:\n  script: [echo ${i}]\n`).join(''));
    const runner = (await (await v4('/runners', { json: { token: REGISTRATION_TOKEN, info: RUN_INFO } })).json()) as { token: string };
    const jobs = [];
    for (let i = 0; i < 300; i++) jobs.push(await claim(runner.token));
    for (const job of jobs) expect((await patch(job, 0, 'a\n')).status).toBe(202);
    const open = jobs.filter((j) => openOn(j.id) > 0);
    expect(open.length).toBe(256);
    expect(openOn(jobs[0].id)).toBe(0); // least recently used
    for (const job of jobs.slice(0, 3)) expect(await patch(job, 2, 'b\n')).toEqual({ status: 202, range: '0-4' });
    expect(stored(jobs[0].id)).toBe('a\nb\n');
  });
});
