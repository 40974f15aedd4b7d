/**
 * R2 — crashes: v1 runners work through a run with traces and artifacts while the server is
 * killed with SIGKILL at random moments and started again on the same data dir. Every job's
 * log and archive are derived from its id, so whatever the server stored can be checked
 * against what any runner could have sent. Shared by test/reliability (≥ 20 kills of a
 * ~100-job run) and test/soak (500 jobs).
 *
 * The runners behave like gitlab-ci-multi-runner 1.x: a dead server is retried, a 416 on the
 * trace re-syncs to the length the server reports, a job the server no longer runs (404 on
 * the update, 403 on the upload, Build-Status failed/canceled) is given up. Some runners
 * also "die" with a job in hand, which the reaper must fail as stuck.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINAL, integrityCheck, jobRows, seed, statusCounts } from '../support/data';
import { REGISTRATION_TOKEN, spawnBaton, type BatonProcess } from '../support/process';
import { sleep, V1Client } from '../support/v1';

/** A deterministic generator, so a job's content is a function of its id. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

/** The whole log a runner sends for job `id`, and where its slices end. */
export function expectedTrace(id: number): { text: string; cuts: number[] } {
  const rnd = prng(id * 7919);
  let text = '';
  const cuts: number[] = [];
  const slices = 2 + Math.floor(rnd() * 4);
  for (let s = 0; s < slices; s++) {
    const lines = 1 + Math.floor(rnd() * 20);
    for (let l = 0; l < lines; l++) text += `[job ${id}] slice ${s} line ${l} ${'.'.repeat(Math.floor(rnd() * 80))}\n`;
    cuts.push(text.length);
  }
  return { text, cuts };
}

export function expectedArtifact(id: number): Uint8Array {
  const rnd = prng(id * 104729);
  const out = new Uint8Array(1024 + Math.floor(rnd() * 96 * 1024));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

export interface CrashReport {
  kills: number;
  /** kills that happened while some job was not final */
  killsDuringRun: number;
  integrity: string[];
  jobs: number;
  statuses: Record<string, number>;
  pipelineStatuses: Record<string, number>;
  failureReasons: Record<string, number>;
  /** every problem found, as text (empty = all promises kept) */
  violations: string[];
  /** answers ≥ 500 seen by runners */
  serverErrors: number;
  requests: number;
  abandoned: number;
  ms: number;
}

export interface CrashOptions {
  dataDir: string;
  pipelines: number;
  jobsPerPipeline: number;
  runners: number;
  kills: number;
  /** how long the server lives between two kills (random in this range) */
  uptimeMs: [number, number];
  /** pause between two calls of one runner (random in this range) */
  stepMs: [number, number];
  /** share of jobs a runner abandons halfway (the runner "dies") */
  abandonRate: number;
  deadlineMs: number;
  log?: (line: string) => void;
}

const enc = new TextEncoder();
const between = ([a, b]: [number, number]) => a + Math.random() * (b - a);

export async function crashRun(o: CrashOptions): Promise<CrashReport> {
  const started = performance.now();
  const seeded = await seed(o.dataDir, { projects: 2, pipelines: Math.ceil(o.pipelines / 2), jobsPerPipeline: o.jobsPerPipeline });
  const flags = { 'stuck-timeout': '2s', 'reaper-interval': '1s' };
  const report: CrashReport = {
    kills: 0, killsDuringRun: 0, integrity: [], jobs: seeded.jobs, statuses: {}, pipelineStatuses: {}, failureReasons: {},
    violations: [], serverErrors: 0, requests: 0, abandoned: 0, ms: 0,
  };
  const violation = (s: string) => { if (report.violations.length < 50) report.violations.push(s); };
  let baton: BatonProcess = await spawnBaton(o.dataDir, flags);
  let url = baton.url;
  const client = new V1Client(() => url);
  let allFinal = false;
  let handed = 0;
  const deadline = performance.now() + o.deadlineMs;
  const alive = () => !allFinal && performance.now() < deadline;

  /** What runners were told, to check durability: acknowledged writes must survive. */
  const acked = { success: new Set<number>(), artifact: new Set<number>(), tokens: new Map<number, string>() };

  const step = () => sleep(between(o.stepMs));
  const count = (status: number) => { report.requests++; if (status >= 500) report.serverErrors++; };

  const runJob = async (runnerToken: string, id: number, token: string) => {
    acked.tokens.set(id, token);
    const { text, cuts } = expectedTrace(id);
    const bytes = enc.encode(text);
    const abandonAt = Math.random() < o.abandonRate ? 1 : Infinity;
    let off = 0;
    for (let c = 0; c < cuts.length; c++) {
      if (c >= abandonAt) { report.abandoned++; return; }
      while (off < cuts[c] && alive()) {
        await step();
        const r = await client.patchTrace(id, token, off, bytes.subarray(off, cuts[c]));
        count(r.status);
        if (r.status === 0 || r.status >= 500) continue;
        if ((r.status === 202 || r.status === 416) && r.range !== undefined) {
          if (r.range > bytes.length) violation(`job ${id}: server reports ${r.range} trace bytes, runner sent at most ${bytes.length}`);
          off = r.range;
          if (r.buildStatus === 'failed' || r.buildStatus === 'canceled') return;
          continue;
        }
        if (r.status === 403 || r.status === 404) return;
        violation(`job ${id}: trace PATCH answered ${r.status}`);
        return;
      }
    }
    for (let tries = 0; alive(); tries++) {
      await step();
      const s = await client.uploadArtifact(id, token, expectedArtifact(id));
      count(s);
      if (s === 201) { acked.artifact.add(id); break; }
      if (s === 403) return;
      if (s !== 0 && s < 500) { violation(`job ${id}: artifact upload answered ${s}`); return; }
    }
    while (alive()) {
      await step();
      const s = await client.update(id, runnerToken, 'success', text);
      count(s);
      if (s === 200) { acked.success.add(id); return; }
      if (s === 404 || s === 403) return;
      if (s !== 0 && s < 500) { violation(`job ${id}: final update answered ${s}`); return; }
    }
  };

  const runner = async (i: number) => {
    let token: string | undefined;
    while (!token && alive()) {
      const r = await client.register(REGISTRATION_TOKEN, { description: `crash-${i}` });
      count(r.status);
      token = r.token;
      if (!token) await sleep(100);
    }
    while (alive()) {
      // Pace the run by the kills, so they fall all over it: before the k-th kill at most
      // k/(kills+2) of the jobs are handed out or skipped (the moments of the kills stay random).
      // Skipped jobs are counted afresh: a failed pipeline skips its later jobs all at once,
      // and with the watcher's count (up to 300 ms old) the run could end before the last kill.
      if (report.kills < o.kills && handed + (statusCounts(o.dataDir, 'jobs').skipped ?? 0) >= ((report.kills + 1) / (o.kills + 2)) * seeded.jobs) { await sleep(50); continue; }
      const r = await client.requestJob(token!);
      count(r.status);
      if (r.status === 201) handed++;
      if (r.status === 201) await runJob(token!, r.job!.id, r.job!.token);
      else await sleep(r.status === 0 ? 100 : 50);
    }
  };

  const watcher = (async () => {
    while (alive()) {
      await sleep(300);
      const c = statusCounts(o.dataDir, 'jobs');
      allFinal = Object.keys(c).every((s) => FINAL.has(s));
    }
  })();

  const killer = (async () => {
    for (let k = 0; k < o.kills && performance.now() < deadline; k++) {
      await sleep(between(o.uptimeMs));
      const running = !Object.keys(statusCounts(o.dataDir, 'jobs')).every((st) => FINAL.has(st));
      await baton.kill9();
      report.kills++;
      if (running) report.killsDuringRun++;
      report.integrity.push(integrityCheck(o.dataDir));
      const tmp = join(o.dataDir, 'tmp');
      baton = await spawnBaton(o.dataDir, flags);
      url = baton.url;
      // Leftovers of the killed process are gone once the new one is up.
      const left = readdirSync(tmp).filter((f) => !f.startsWith(`${baton.pid}-`));
      if (left.length) violation(`after restart ${k + 1}: ${left.length} temp files of a dead process remain in tmp/`);
      o.log?.(`kill ${k + 1}: ${JSON.stringify(statusCounts(o.dataDir, 'jobs'))}`);
    }
  })();

  await Promise.all([killer, watcher, ...Array.from({ length: o.runners }, (_, i) => runner(i))]);
  await Promise.all([killer, watcher]);

  // ------------------------------------------------------------ what must hold now
  const rows = jobRows(o.dataDir);
  for (const r of rows) {
    report.statuses[r.status] = (report.statuses[r.status] ?? 0) + 1;
    if (r.status === 'failed') report.failureReasons[r.failure_reason ?? '?'] = (report.failureReasons[r.failure_reason ?? '?'] ?? 0) + 1;
    if (!FINAL.has(r.status)) violation(`job ${r.id} is still ${r.status}`);
    if (r.status === 'failed' && r.failure_reason !== 'stuck_or_timeout_failure') violation(`job ${r.id} failed with ${r.failure_reason}`);
    if (acked.success.has(r.id) && r.status !== 'success') violation(`job ${r.id}: runner was told success, the database says ${r.status}`);
    const { text } = expectedTrace(r.id);
    const tracePath = join(o.dataDir, 'traces', `${r.id}.log`);
    const stored = existsSync(tracePath) ? readFileSync(tracePath, 'latin1') : '';
    if (!text.startsWith(stored)) violation(`job ${r.id}: stored trace (${stored.length} bytes) is not a prefix of what was sent`);
    if (acked.success.has(r.id) && stored !== text) violation(`job ${r.id}: finished with the whole log, ${stored.length}/${text.length} bytes stored`);
    const token = acked.tokens.get(r.id);
    if (token) {
      const d = await client.downloadArtifact(r.id, token);
      count(d.status);
      if (d.status === 200 && !Buffer.from(d.bytes!).equals(Buffer.from(expectedArtifact(r.id)))) violation(`job ${r.id}: a partial or foreign artifact is served (${d.bytes!.length} bytes)`);
      if (d.status !== 200 && acked.artifact.has(r.id)) violation(`job ${r.id}: upload was acknowledged, download answers ${d.status}`);
      if (d.status !== 200 && d.status !== 404) violation(`job ${r.id}: artifact download answered ${d.status}`);
    }
  }
  for (const f of readdirSync(join(o.dataDir, 'artifacts'))) {
    const id = Number(/^(\d+)\.zip$/.exec(f)?.[1]);
    if (!id) { violation(`unexpected file artifacts/${f}`); continue; }
    if (!Buffer.from(readFileSync(join(o.dataDir, 'artifacts', f))).equals(Buffer.from(expectedArtifact(id)))) violation(`artifacts/${f} is partial`);
  }
  report.pipelineStatuses = statusCounts(o.dataDir, 'pipelines');
  for (const s of Object.keys(report.pipelineStatuses)) if (!FINAL.has(s)) violation(`${report.pipelineStatuses[s]} pipelines still ${s}`);
  const code = await baton.stop();
  if (code !== 0) violation(`graceful stop exited ${code}`);
  report.integrity.push(integrityCheck(o.dataDir));
  report.ms = performance.now() - started;
  return report;
}
