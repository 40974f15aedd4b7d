/**
 * A stored trace is never longer than what its runner sent — if it were, the runner would
 * resynchronise past its own end after a 416 (gitlab-runner 11.x panics there: "slice bounds
 * out of range", as the simulated runner does). Stress, against a real server process:
 * 14 simulated runners (12 v4, 2 v1) drain 96 jobs with many small PATCHes each while
 * jobs are canceled mid-log, canceled jobs are retried, and `baton backup` runs three times;
 * then the first and the last backups are restored and their pending jobs run there with
 * fresh runners. Checked: no runner failed, every stored trace is what its runner produced
 * (whole for ended jobs, a prefix for canceled ones), on the live and on the restored
 * instances.
 *
 * (The flake this chases: a job still pending at the snapshot had its trace copied anyway —
 * a live runner took it between the database copy and the trace copy — so the restored job
 * was pending with bytes its next runner never sent.)
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRunnerV1 } from '../support/fake-runner-v1';
import { FakeRunnerV4, type JobBehaviour, type RunResult } from '../support/fake-runner-v4';
import { ADMIN_TOKEN, REGISTRATION_TOKEN, spawnBaton, tempDataDir, type BatonProcess } from './support/process';

const ROOT = join(import.meta.dir, '../..');
const temps: string[] = [];
const processes: BatonProcess[] = [];
afterAll(async () => {
  for (const p of processes) await p.stop().catch(() => {});
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
const temp = (tag: string) => { const d = tempDataDir(tag); temps.push(d); return d; };

async function baton(args: string[]) {
  const proc = Bun.spawn([process.execPath, 'run', join(ROOT, 'src/main.ts'), ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const api = (b: BatonProcess, path: string, init: RequestInit = {}) =>
  fetch(b.url + path, { ...init, headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json', ...(init.headers as Record<string, string> ?? {}) } });

interface JobRow { id: number; name: string; status: string; pipeline: { id: number } }

async function allJobs(b: BatonProcess, projectId: number): Promise<JobRow[]> {
  const out: JobRow[] = [];
  for (let page = 1; ; page++) {
    const rows = await (await api(b, `/api/v4/projects/${projectId}/jobs?per_page=100&page=${page}`)).json() as JobRow[];
    out.push(...rows);
    if (rows.length < 100) return out;
  }
}

/** Every job of the project: its stored log against what its runner produced. */
async function checkTraces(b: BatonProcess, projectId: number, ran: Map<number, RunResult>, where: string): Promise<{ whole: number; prefixes: number }> {
  let whole = 0;
  let prefixes = 0;
  const problems: string[] = [];
  for (const j of await allJobs(b, projectId)) {
    const stored = await (await api(b, `/api/v4/projects/${projectId}/jobs/${j.id}/trace`)).text();
    const sent = ran.get(j.id)?.trace;
    if (sent === undefined) {
      // no runner of this instance finished it (pending, or running at a snapshot): never more than a runner sent
      continue;
    }
    if (j.status === 'success' || j.status === 'failed') {
      if (stored !== sent) problems.push(`${where} #${j.id} ${j.status}: the stored ${stored.length} bytes are not the ${sent.length} its runner sent`);
      else whole++;
    } else if (j.status === 'canceled') {
      if (!sent.startsWith(stored)) problems.push(`${where} #${j.id} canceled: stored ${stored.length} bytes are not a prefix of the runner's ${sent.length}`);
      else prefixes++;
    }
  }
  expect(problems).toEqual([]);
  return { whole, prefixes };
}

/** Runners that drain what they may take until `done()`; a runner failure (a panic) is recorded, not swallowed. */
function drain(b: BatonProcess, runners: { runOne(bh: Record<string, JobBehaviour>): Promise<RunResult | null> }[],
  behaviours: Record<string, JobBehaviour>, ran: Map<number, RunResult>, failures: string[], done: () => boolean) {
  return Promise.all(runners.map(async (r, k) => {
    while (!done()) {
      try {
        const res = await r.runOne(behaviours);
        if (res) ran.set(res.jobId, res);
        else await Bun.sleep(10);
      } catch (e) {
        failures.push(`runner ${k} on ${b.url}: ${(e as Error).message}`);
        await Bun.sleep(10);
      }
    }
  }));
}

test('no stored trace outgrows its runner: PATCHes racing cancels, retries and backups, then restores', async () => {
  const live = await spawnBaton(temp('ti-live'), { 'poll-timeout': '1' });
  processes.push(live);
  const project = await (await api(live, '/api/v4/projects', { method: 'POST', body: JSON.stringify({ name: 'traces', repo_url: 'https://git.example.invalid/t.git' }) })).json() as { id: number };
  const JOBS_PER = 4;
  const PIPELINES = 24;
  const yaml = Array.from({ length: JOBS_PER }, (_, i) => `job_${i}:\n  script: [make]\n  artifacts:\n    paths: [out/]\n`).join('');
  // one sha for all: a newer pipeline of another commit would auto-cancel the older ones
  for (let p = 0; p < PIPELINES; p++) {
    const res = await api(live, `/api/v4/projects/${project.id}/pipeline`, { method: 'POST', body: JSON.stringify({ ref: 'main', sha: 'e'.repeat(40), content: yaml }) });
    expect(res.status).toBe(201);
  }
  // many small PATCHes (one per line, no pause) and archives big enough that a backup copies
  // them for a while — the window between the database copy and the trace copy
  const behaviours: Record<string, JobBehaviour> = Object.fromEntries(Array.from({ length: JOBS_PER }, (_, i) => [`job_${i}`, {
    output: Array.from({ length: 60 }, (_, n) => `job_${i} line ${n} ${'#'.repeat((n * 7) % 50)}`), artifacts: new Uint8Array(256 * 1024).fill(i + 1),
  }]));
  const runners = [
    ...await Promise.all(Array.from({ length: 12 }, (_, k) => FakeRunnerV4.register(live.url, REGISTRATION_TOKEN, { description: `v4-${k}` }))),
    ...await Promise.all(Array.from({ length: 2 }, (_, k) => FakeRunnerV1.register(live.url, REGISTRATION_TOKEN, { description: `v1-${k}` }))),
  ];
  const ran = new Map<number, RunResult>();
  const failures: string[] = [];
  let stop = false;
  const draining = drain(live, runners, behaviours, ran, failures, () => stop);

  // chaos: cancel running jobs mid-log, retry canceled ones, take backups
  const backups: string[] = [];
  let canceled = 0;
  let retried = 0;
  const chaos = (async () => {
    const started = Date.now();
    while (!stop) {
      const jobs = await allJobs(live, project.id);
      const running = jobs.filter((j) => j.status === 'running');
      if (running.length) {
        const victim = running[Math.floor(Math.random() * running.length)];
        if ((await api(live, `/api/v4/projects/${project.id}/jobs/${victim.id}/cancel`, { method: 'POST' })).status === 201) canceled++;
      }
      const again = jobs.filter((j) => j.status === 'canceled');
      if (again.length && Math.random() < 0.5) {
        const r = await api(live, `/api/v4/projects/${project.id}/jobs/${again[0].id}/retry`, { method: 'POST' });
        if (r.status === 201) retried++;
      }
      const due = backups.length === 0 ? started + 300 : started + 300 + backups.length * 1500;
      if (backups.length < 3 && Date.now() >= due) {
        const file = join(temp('ti-backup'), `b${backups.length}.tar`);
        const made = await baton(['backup', '--data-dir', live.dataDir, '--to', file]);
        expect(`${made.code} ${made.stderr}`).toBe('0 ');
        backups.push(file);
      }
      const left = jobs.filter((j) => ['created', 'pending', 'running'].includes(j.status)).length;
      if (left === 0 && backups.length === 3) stop = true;
      if (Date.now() - started > 90_000) stop = true;
      await Bun.sleep(40);
    }
  })();
  await chaos;
  await draining;
  expect(failures).toEqual([]);
  const liveChecked = await checkTraces(live, project.id, ran, 'live');
  console.log(`live: ${ran.size} runs, ${canceled} canceled mid-log, ${retried} retried, ${backups.length} backups; traces whole ${liveChecked.whole}, prefixes ${liveChecked.prefixes}`);
  expect(backups.length).toBe(3);
  expect(await live.stop()).toBe(0);

  for (const [which, file] of [['first', backups[0]], ['last', backups[2]]] as const) {
    const dir = join(temp(`ti-restored-${which}`), 'data');
    const r = await baton(['restore', '--from', file, '--data-dir', dir]);
    expect(`${r.code} ${r.stderr}`).toBe('0 ');
    const b = await spawnBaton(dir);
    processes.push(b);
    const pendingBefore = (await allJobs(b, project.id)).filter((j) => j.status === 'pending').length;
    const fresh = await Promise.all(Array.from({ length: 4 }, (_, k) => FakeRunnerV4.register(b.url, REGISTRATION_TOKEN, { description: `after-${which}-${k}` })));
    const ranThere = new Map<number, RunResult>();
    let quiet = 0;
    const there = drain(b, fresh, behaviours, ranThere, failures, () => quiet > 30);
    while (quiet <= 30) {
      const pending = (await allJobs(b, project.id)).filter((j) => j.status === 'pending').length;
      quiet = pending === 0 ? quiet + 1 : 0;
      await Bun.sleep(20);
    }
    await there;
    expect(failures).toEqual([]);
    const checked = await checkTraces(b, project.id, ranThere, `restored ${which}`);
    console.log(`restored ${which} backup: ${pendingBefore} jobs pending, ${ranThere.size} run there, traces whole ${checked.whole}`);
    expect(checked.whole).toBe(ranThere.size);
    expect(await b.stop()).toBe(0);
  }
}, 240_000);
