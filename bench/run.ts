#!/usr/bin/env bun
/**
 * `npm run bench` — Baton measured against this machine's limit. Every figure is measured
 * in this one run, next to a baseline measured in the same run on the same machine: the
 * server is its own process, each load generator is its own process (bench/load/), and a
 * figure is the median of several repetitions, baseline and Baton interleaved.
 *
 *   --quick       small counts, one repetition, under a minute: proves the harness works
 *                 (CI runs it). Fails only on errors and on jobs handed out twice.
 *   --only P1,P4  run some figures only (BENCHMARKS.md is written only by a full run of all)
 *
 * A full run prints PASS/MISS per target and rewrites BENCHMARKS.md (bench/intro.md + the
 * table + the raw repetitions).
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, median, percentile } from './lib/stats';
import {
  ADMIN_TOKEN, BUN, REGISTRATION_TOKEN, ROOT, batonArgs, procMemory, runLoad, serverHandle, startBare, startBaton, startElysiaRoute, type Server,
} from './lib/proc';
import { hasWrk, wrkPolls } from './lib/wrk';
import { INFO, RunnerClient } from './load/runner';
import { cloneDataDir, seedFinished, seedPending, seedPipelines, tempDir } from './lib/seed';

const { values: flags } = parseArgs({ args: process.argv.slice(2), options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
const QUICK = !!flags.quick;
const ONLY = flags.only ? new Set(flags.only.toUpperCase().split(',').map((s) => s.trim())) : null;

/** Counts and durations; the quick set keeps every code path but finishes in seconds. */
const C = QUICK
  ? { reps: 1, bigReps: 1, pollClients: 64, pollWarmupMs: 300, pollMs: 700, drainJobs: 1000, drainProcs: 2, drainRunners: 32,
    pickupSamples: 20, pickupRunners: 4, traceJobs: 100, traceWarmupMs: 200, traceMs: 600, uploadBytes: 64 * 2 ** 20,
    startReps: 2, claimWarmup: 30, claims: 100, historyRows: 50_000, dashPipelines: 10_000, pageWarmup: 5, pageRequests: 20,
    sseWatchers: 50, sseChunks: 100, ssePace: 50, stormGpu: 100, stormOthers: 900, stormEvents: 20 }
  : { reps: 5, bigReps: 3, pollClients: 64, pollWarmupMs: 1000, pollMs: 3000, drainJobs: 10_000, drainProcs: 2, drainRunners: 32,
    pickupSamples: 200, pickupRunners: 4, traceJobs: 100, traceWarmupMs: 1000, traceMs: 3000, uploadBytes: 2 ** 30,
    startReps: 5, claimWarmup: 200, claims: 1000, historyRows: 1_000_000, dashPipelines: 10_000, pageWarmup: 20, pageRequests: 200,
    sseWatchers: 50, sseChunks: 1000, ssePace: 50, stormGpu: 100, stormOthers: 900, stormEvents: 100 };

type Verdict = 'PASS' | 'MISS' | 'ERROR' | '—';

interface Row {
  id: string;
  what: string;
  baton: string;
  baseline: string;
  ratio: string;
  target: string;
  /** null: nothing to judge (information only) */
  pass: boolean | null;
}

const rows: Row[] = [];
const raw: string[] = [];
const errors: string[] = [];
const started = performance.now();

const say = (msg: string) => process.stdout.write(`${msg}\n`);
const ms = (n: number) => `${fmt(n)} ms`;
const mb = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
const rate = (n: number, unit: string) => `${fmt(n)} ${unit}`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const proto = { v4: false };

function verdict(r: Row): Verdict {
  if (r.baton === 'ERROR') return 'ERROR';
  if (r.pass === null || QUICK) return '—';
  return r.pass ? 'PASS' : 'MISS';
}

/** Stops servers and removes temp dirs even when a figure fails half-way. */
async function withCleanup<T>(fn: (defer: (f: () => unknown) => void) => Promise<T>): Promise<T> {
  const undo: (() => unknown)[] = [];
  try {
    return await fn((f) => undo.push(f));
  } finally {
    for (const f of undo.reverse()) {
      try { await f(); } catch (e) { errors.push(`cleanup: ${(e as Error).message}`); }
    }
  }
}

const rmDir = (d: string) => () => rmSync(d, { recursive: true, force: true });

/** Is the v4 runner API mounted? An unknown token is 403 there, an unknown route 404. */
async function hasV4(url: string): Promise<boolean> {
  const res = await fetch(`${url}/api/v4/jobs/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"probe"}' });
  await res.arrayBuffer();
  return res.status !== 404;
}

// ---------------------------------------------------------------------------------- P1

/**
 * P1 (echoing `last_update`) and P1b (not echoing it: a runner's first poll, and every held
 * runner's poll after any change to the queue) with wrk, so the baseline is the machine's.
 */
async function p1() {
  if (!hasWrk()) throw new Error('P1 needs wrk (Debian package "wrk"; .ci/run installs it)');
  await withCleanup(async (defer) => {
    const bare = await startBare();
    defer(() => bare.stop());
    const dir = tempDir('p1');
    defer(rmDir(dir));
    const baton = await startBaton(dir, ['--poll-timeout', '0']);
    defer(() => baton.stop());
    const REF_PREFIX = 'bench-ref-';
    const reference = await startElysiaRoute(REF_PREFIX, C.pollClients);
    defer(() => reference.stop());
    const refTokens = Array.from({ length: C.pollClients }, (_, i) => `${REF_PREFIX}${i}`);
    const protos: ('v1' | 'v4')[] = proto.v4 ? ['v4', 'v1'] : ['v1'];
    const runners: Record<string, RunnerClient[]> = {};
    for (const p of protos) {
      runners[p] = [];
      for (let i = 0; i < C.pollClients; i += 16) {
        runners[p].push(...(await Promise.all(Array.from({ length: Math.min(16, C.pollClients - i) }, () => RunnerClient.register(baton.url, p, REGISTRATION_TOKEN)))));
      }
    }
    // After every registration (each one ticks the queue epoch), so the echoed value is current.
    for (const p of protos) for (const r of runners[p]) if ((await r.poll()).status !== 204) throw new Error('P1: the queue is not empty');
    /** `judged`: a Baton leg with a target; `lastUpdate`: the echoed epoch (none: not echoing) */
    interface Leg { name: string; url: string; p: 'v1' | 'v4'; tokens: string[]; lastUpdate?: string; judged: boolean }
    const legs: Leg[] = [
      { name: 'bare', url: bare.url, p: 'v4', tokens: ['bare'], judged: false },
      // the v4 runners' bodies under the yardstick's own tokens, echoing the epoch it keeps
      { name: 'reference', url: reference.url, p: 'v4', tokens: refTokens, lastUpdate: '1', judged: false },
    ];
    for (const p of protos) {
      const tokens = runners[p].map((r) => r.token);
      legs.push({ name: `${p} echo`, url: baton.url, p, tokens, lastUpdate: runners[p][0].lastUpdate, judged: true }, { name: `${p} no echo`, url: baton.url, p, tokens, judged: true });
    }
    const got: Record<string, number[]> = Object.fromEntries(legs.map((l) => [l.name, []]));
    for (let rep = 1; rep <= C.reps; rep++) {
      for (const leg of legs) {
        const r = await wrkPolls({
          url: leg.url, proto: leg.p, tokens: leg.tokens, info: INFO[leg.p], lastUpdate: leg.lastUpdate, connections: C.pollClients, threads: 2,
          warmupSeconds: C.pollWarmupMs / 1000, seconds: C.pollMs / 1000, dir,
        });
        if (r.non2xx > 0 || r.socketErrors > 0) throw new Error(`P1 ${leg.name}: ${r.non2xx} answers other than 2xx, ${r.socketErrors} socket errors`);
        got[leg.name].push(r.rate);
      }
      say(`  P1 rep ${rep}/${C.reps}: ${legs.map((l) => `${l.name} ${fmt(got[l.name].at(-1)!)}/s`).join(', ')}`);
    }
    const base = median(got.bare);
    const judged = legs.filter((l) => l.judged);
    for (const leg of judged) {
      const echo = leg.lastUpdate !== undefined;
      const v = median(got[leg.name]);
      const target = echo ? 0.5 : 0.4;
      rows.push({
        id: echo ? 'P1' : 'P1b',
        what: `empty-queue polls/s (wrk, ${C.pollClients} connections, ${C.pollClients} runners), ${leg.p === 'v4' ? 'v4 jobs/request' : 'v1 builds/register'}, ${echo ? 'echoing last_update' : 'without last_update'}`,
        baton: rate(v, '/s'), baseline: `${rate(base, '/s')} (bare 204)`, ratio: ratio(v, base), target: `≥ ${target}×`, pass: v / base >= target,
      });
      raw.push(`P1 ${leg.name} polls/s: ${got[leg.name].map((x) => fmt(x)).join(', ')}`);
    }
    const ref = median(got.reference);
    const first = judged[0];
    rows.push({
      id: 'P1ref',
      what: `the yardstick P1's target was set by, same load: one Elysia route, TypeBox body, one SQLite lookup (bench/baseline/elysia-route.ts), echoing last_update; Baton's ${first.name} against it: ${ratio(median(got[first.name]), ref)}`,
      baton: rate(ref, '/s'), baseline: `${rate(base, '/s')} (bare 204)`, ratio: ratio(ref, base), target: '—', pass: null,
    });
    raw.push(`P1 reference polls/s: ${got.reference.map((x) => fmt(x)).join(', ')}`);
    raw.push(`P1 bare polls/s: ${got.bare.map((x) => fmt(x)).join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------- P2

interface DrainResult { ids: number[]; start: number; lastClaim: number; conflicts: number }

/** Drains with C.drainRunners runners in C.drainProcs generator processes; process i talks to urls[i % urls.length]. */
async function drain(urls: string[], p: 'v1' | 'v4'): Promise<{ rate: number; ids: number[]; conflicts: number }> {
  const per = C.drainRunners / C.drainProcs;
  const results = await runLoad<DrainResult>(Array.from({ length: C.drainProcs }, (_, i) => ({
    script: 'claim', options: { url: urls[i % urls.length], proto: p, runners: per, registrationToken: REGISTRATION_TOKEN },
  })));
  const ids = results.flatMap((r) => r.ids);
  const start = Math.min(...results.map((r) => r.start));
  const end = Math.max(...results.map((r) => r.lastClaim));
  return { rate: ids.length / ((end - start) / 1000), ids, conflicts: results.reduce((a, r) => a + r.conflicts, 0) };
}

/**
 * P2: the bare queue, then Baton (one process), then two Baton processes on one data dir
 * with the runners split across them (the ids of both checked together), per repetition.
 */
async function p2() {
  await withCleanup(async (defer) => {
    const template = tempDir('p2-seed');
    defer(rmDir(template));
    await seedPending(template, C.drainJobs / 100, 100);
    const p = proto.v4 ? 'v4' : 'v1';
    const legs = [{ name: 'one', servers: 1 }, { name: 'two', servers: 2 }] as const;
    const rates: Record<'bare' | 'one' | 'two', number[]> = { bare: [], one: [], two: [] };
    let duplicates = 0;
    let conflicts = 0;
    for (let rep = 1; rep <= C.reps; rep++) {
      const bare = await startBare(['--jobs', String(C.drainJobs)]);
      try {
        rates.bare.push((await drain([bare.url], p)).rate);
      } finally { await bare.stop(); }
      for (const leg of legs) {
        const dir = cloneDataDir(template, 'p2');
        try {
          // One after the other: the second finds the migrations done.
          const servers: Server[] = [];
          try {
            for (let i = 0; i < leg.servers; i++) servers.push(await startBaton(dir));
            const r = await drain(servers.map((s) => s.url), p);
            const distinct = new Set(r.ids).size;
            duplicates += r.ids.length - distinct;
            conflicts += r.conflicts;
            if (distinct !== C.drainJobs) throw new Error(`P2 (${leg.servers} Baton processes): ${distinct} distinct jobs claimed of ${C.drainJobs} pending`);
            rates[leg.name].push(r.rate);
          } finally { for (const s of servers) await s.stop(); }
        } finally { rmSync(dir, { recursive: true, force: true }); }
      }
      say(`  P2 rep ${rep}/${C.reps}: bare ${fmt(rates.bare.at(-1)!)}/s, Baton ${fmt(rates.one.at(-1)!)}/s, two Batons ${fmt(rates.two.at(-1)!)}/s, duplicates so far ${duplicates}`);
    }
    const base = median(rates.bare);
    for (const leg of legs) {
      const v = median(rates[leg.name]);
      const where = leg.servers === 1 ? 'one Baton process' : `${leg.servers} Baton processes on one data dir (${C.drainRunners / leg.servers} runners each)`;
      rows.push({
        id: 'P2', what: `claims/s draining ${fmt(C.drainJobs)} pending jobs, ${C.drainRunners} runners in ${C.drainProcs} processes (${p}), ${where}`,
        baton: rate(v, '/s'), baseline: `${rate(base, '/s')} (bare in-memory queue)`, ratio: ratio(v, base), target: '≥ 0.25×', pass: v / base >= 0.25,
      });
    }
    rows.push({
      id: 'P2', what: `jobs handed out twice (all ${C.reps * legs.length} drains; ${conflicts} lost races answered 409)`,
      baton: String(duplicates), baseline: '—', ratio: '—', target: '0', pass: duplicates === 0,
    });
    if (duplicates > 0) errors.push(`P2: ${duplicates} jobs were handed out twice`);
    raw.push(`P2 Baton claims/s: ${rates.one.map((x) => fmt(x)).join(', ')}`, `P2 two Batons claims/s: ${rates.two.map((x) => fmt(x)).join(', ')}`,
      `P2 bare claims/s: ${rates.bare.map((x) => fmt(x)).join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------- P3

interface PickupResult { latencies: number[]; createMs: number[]; duplicates: number; stray: number }

async function p3() {
  await withCleanup(async (defer) => {
    const dir = tempDir('p3');
    defer(rmDir(dir));
    const { projectId } = await seedPending(dir, 0, 0);
    const baton = await startBaton(dir, ['--poll-timeout', '30']);
    defer(() => baton.stop());
    const bare = await startBare(['--poll-timeout', '30']);
    defer(() => bare.stop());
    const probe = await fetch(`${baton.url}/api/v4/projects/${projectId}/pipeline`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'private-token': ADMIN_TOKEN }, body: JSON.stringify({ ref: 'main', sha: 'a9738e26eea81eb998fab5ed3f808875eaec5196', content: 'not: [valid' }),
    });
    await probe.arrayBuffer();
    if (probe.status === 404) throw new Error('P3 needs POST /api/v4/projects/:id/pipeline (REST API), which answers 404 here');
    const p = proto.v4 ? 'v4' : 'v1';
    const got = { bare: { p50: [] as number[], p99: [] as number[] }, baton: { p50: [] as number[], p99: [] as number[], create: [] as number[] } };
    for (let rep = 1; rep <= C.bigReps; rep++) {
      for (const [name, server] of [['bare', bare], ['baton', baton]] as const) {
        const [r] = await runLoad<PickupResult>([{
          script: 'pickup',
          options: { url: server.url, proto: p, runners: C.pickupRunners, samples: C.pickupSamples, gapMs: 25, registrationToken: REGISTRATION_TOKEN, adminToken: ADMIN_TOKEN, projectId },
        }]);
        if (r.duplicates > 0 || r.stray > 0) throw new Error(`P3 ${name}: ${r.duplicates} jobs received twice, ${r.stray} unexpected`);
        got[name].p50.push(percentile(r.latencies, 50));
        got[name].p99.push(percentile(r.latencies, 99));
        if (name === 'baton') got.baton.create.push(percentile(r.createMs, 50));
      }
      say(`  P3 rep ${rep}/${C.bigReps}: bare p50 ${ms(got.bare.p50.at(-1)!)} p99 ${ms(got.bare.p99.at(-1)!)}, Baton p50 ${ms(got.baton.p50.at(-1)!)} p99 ${ms(got.baton.p99.at(-1)!)}`);
    }
    const what = `pickup latency, pipeline POST → long-polling runner holds the job (${C.pickupRunners} runners, ${p}, ${C.pickupSamples} samples/rep)`;
    const b50 = median(got.baton.p50);
    const b99 = median(got.baton.p99);
    rows.push({ id: 'P3', what: `${what}, p50`, baton: ms(b50), baseline: `${ms(median(got.bare.p50))} (bare relay)`, ratio: '—', target: '< 5 ms', pass: b50 < 5 });
    rows.push({ id: 'P3', what: `${what}, p99`, baton: ms(b99), baseline: `${ms(median(got.bare.p99))} (bare relay)`, ratio: '—', target: '< 20 ms', pass: b99 < 20 });
    raw.push(
      `P3 Baton p50/p99 ms: ${got.baton.p50.map((x, i) => `${fmt(x)}/${fmt(got.baton.p99[i])}`).join(', ')} (of which the pipeline POST itself, p50: ${got.baton.create.map((x) => fmt(x)).join(', ')})`,
      `P3 bare p50/p99 ms: ${got.bare.p50.map((x, i) => `${fmt(x)}/${fmt(got.bare.p99[i])}`).join(', ')}`,
    );
  });
}

// ---------------------------------------------------------------------------------- P4

interface TraceResult { chunks: number; rate: number; mibps: number; lengths: { id: number; length: number }[] }

async function p4() {
  await withCleanup(async (defer) => {
    const dir = tempDir('p4');
    defer(rmDir(dir));
    await seedPending(dir, C.reps, C.traceJobs);
    const baton = await startBaton(dir);
    defer(() => baton.stop());
    const bareDir = tempDir('p4-bare');
    defer(rmDir(bareDir));
    const bare = await startBare(['--jobs', String(C.reps * C.traceJobs), '--dir', bareDir]);
    defer(() => bare.stop());
    const p = proto.v4 ? 'v4' : 'v1';
    const got = { bare: [] as number[], baton: [] as number[] };
    const opts = { proto: p, jobs: C.traceJobs, chunkBytes: 4096, warmupMs: C.traceWarmupMs, durationMs: C.traceMs, registrationToken: REGISTRATION_TOKEN };
    for (let rep = 1; rep <= C.reps; rep++) {
      const [b] = await runLoad<TraceResult>([{ script: 'trace', options: { ...opts, url: bare.url } }]);
      got.bare.push(b.rate);
      const [r] = await runLoad<TraceResult>([{ script: 'trace', options: { ...opts, url: baton.url } }]);
      for (const { id, length } of r.lengths) {
        const size = statSync(join(dir, 'traces', `${id}.log`)).size;
        if (size !== length) throw new Error(`P4: job ${id} trace is ${size} bytes on disk, the runner sent ${length}`);
      }
      got.baton.push(r.rate);
      say(`  P4 rep ${rep}/${C.reps}: bare ${fmt(b.rate)} chunks/s, Baton ${fmt(r.rate)} chunks/s (${fmt(r.mibps)} MiB/s)`);
    }
    const v = median(got.baton);
    const base = median(got.bare);
    const mibs = (n: number) => fmt((n * 4096) / 2 ** 20);
    rows.push({
      id: 'P4', what: `trace ingest, ${C.traceJobs} running jobs PATCHing 4 KiB chunks (${p})`,
      baton: `${rate(v, 'chunks/s')} (${mibs(v)} MiB/s)`, baseline: `${rate(base, 'chunks/s')} (bare append)`, ratio: ratio(v, base), target: '≥ 0.7×', pass: v / base >= 0.7,
    });
    raw.push(`P4 Baton chunks/s: ${got.baton.map((x) => fmt(x)).join(', ')}`, `P4 bare chunks/s: ${got.bare.map((x) => fmt(x)).join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------- P5

interface UploadResult { jobId: number; bytes: number; seconds: number; mibps: number }

async function p5() {
  await withCleanup(async (defer) => {
    const dir = tempDir('p5');
    defer(rmDir(dir));
    await seedPending(dir, 1, C.bigReps);
    const limitMib = Math.ceil(C.uploadBytes / 2 ** 20) + 16;
    const baton = await startBaton(dir, ['--max-artifact-size', String(limitMib)]);
    defer(() => baton.stop());
    const bareDir = tempDir('p5-bare');
    defer(rmDir(bareDir));
    const bare = await startBare(['--jobs', String(C.bigReps), '--dir', bareDir]);
    defer(() => bare.stop());
    const p = proto.v4 ? 'v4' : 'v1';
    const idle = baton.rss();
    const got = { bare: [] as number[], baton: [] as number[] };
    const opts = { proto: p, bytes: C.uploadBytes, chunkBytes: 65536, registrationToken: REGISTRATION_TOKEN };
    for (let rep = 1; rep <= C.bigReps; rep++) {
      const [b] = await runLoad<UploadResult>([{ script: 'upload', options: { ...opts, url: bare.url } }]);
      const bareFile = join(bareDir, `${b.jobId}.upload`);
      // the bare baseline stores the raw multipart body: the file plus its framing
      if (statSync(bareFile).size < C.uploadBytes) throw new Error('P5: the bare baseline stored less than was sent');
      rmSync(bareFile);
      got.bare.push(b.mibps);
      const [r] = await runLoad<UploadResult>([{ script: 'upload', options: { ...opts, url: baton.url } }]);
      const stored = join(dir, 'artifacts', `${r.jobId}.zip`);
      if (!existsSync(stored) || statSync(stored).size !== C.uploadBytes) throw new Error(`P5: job ${r.jobId}'s archive is not ${C.uploadBytes} bytes on disk`);
      rmSync(stored);
      got.baton.push(r.mibps);
      say(`  P5 rep ${rep}/${C.bigReps}: bare ${fmt(b.mibps)} MiB/s, Baton ${fmt(r.mibps)} MiB/s, Baton peak RSS so far ${mb(baton.peakRss())}`);
    }
    const v = median(got.baton);
    const base = median(got.bare);
    const peak = baton.peakRss();
    const barePeak = bare.peakRss();
    const size = C.uploadBytes >= 2 ** 30 ? `${C.uploadBytes / 2 ** 30} GiB` : mb(C.uploadBytes);
    rows.push({
      id: 'P5', what: `one ${size} artifact, chunked multipart upload (${p})`,
      baton: rate(v, 'MiB/s'), baseline: `${rate(base, 'MiB/s')} (bare stream to disk)`, ratio: ratio(v, base), target: '≥ 0.9×', pass: v / base >= 0.9,
    });
    rows.push({
      id: 'P5', what: `peak RSS of the server over all ${C.bigReps} uploads (${mb(idle)} before the first)`,
      baton: mb(peak), baseline: `${mb(barePeak)} (bare)`, ratio: '—', target: '< 150 MB', pass: peak < 150e6,
    });
    raw.push(`P5 Baton MiB/s: ${got.baton.map((x) => fmt(x)).join(', ')}`, `P5 bare MiB/s: ${got.bare.map((x) => fmt(x)).join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------- P6

function freePort(): number {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** The flags of `npm run build`, so P6 measures the binary that ships (plus --compile if missing). */
function buildFlags(): string[] {
  const script: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts?.build ?? '';
  const words = script.split(/\s+/).filter(Boolean);
  if (words[0] !== 'bun' || words[1] !== 'build') return ['--compile', '--minify', '--sourcemap'];
  const flags: string[] = [];
  for (let i = 2; i < words.length; i++) {
    if (words[i] === '--outfile') { i++; continue; }
    if (words[i].startsWith('-')) flags.push(words[i]);
  }
  return flags.includes('--compile') ? flags : ['--compile', ...flags];
}

function compile(entry: string, outfile: string) {
  const r = Bun.spawnSync([BUN, 'build', ...buildFlags(), entry, '--outfile', outfile], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`bun build --compile ${entry} failed:\n${r.stderr.toString()}`);
}

/** Spawn → first 200 on /-/health; then the resident memory after a second of idling. */
async function coldStart(cmd: (port: number, dataDir: string) => string[]): Promise<{ ms: number; idleRss: number }> {
  const port = freePort();
  const dataDir = tempDir('p6-data');
  const t0 = performance.now();
  const proc = Bun.spawn(cmd(port, dataDir), { cwd: dataDir, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const server = serverHandle(proc, `http://127.0.0.1:${port}`);
  try {
    let took = NaN;
    while (performance.now() - t0 < 10_000) {
      if (proc.exitCode !== null) throw new Error(`${cmd(port, dataDir)[0]} exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
      try {
        const res = await fetch(`${server.url}/-/health`);
        await res.arrayBuffer();
        if (res.status === 200) { took = performance.now() - t0; break; }
      } catch { /* not listening yet */ }
      await Bun.sleep(1);
    }
    if (Number.isNaN(took)) throw new Error('no 200 on /-/health within 10 s');
    await Bun.sleep(1000);
    return { ms: took, idleRss: procMemory(proc.pid).rss };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function p6() {
  await withCleanup(async (defer) => {
    const dir = tempDir('p6-bin');
    defer(rmDir(dir));
    const batonBin = join(dir, 'baton');
    const bareBin = join(dir, 'bare');
    const t = performance.now();
    compile('src/main.ts', batonBin);
    compile('bench/baseline/bare.ts', bareBin);
    say(`  P6: compiled both binaries (bun build ${buildFlags().join(' ')}) in ${fmt((performance.now() - t) / 1000)} s`);
    const got = { bare: { ms: [] as number[], rss: [] as number[] }, baton: { ms: [] as number[], rss: [] as number[] } };
    for (let rep = 1; rep <= C.startReps; rep++) {
      const b = await coldStart((port, d) => [bareBin, '--listen', `127.0.0.1:${port}`, '--dir', d]);
      got.bare.ms.push(b.ms); got.bare.rss.push(b.idleRss);
      const r = await coldStart((port, d) => [batonBin, ...batonArgs(d, `127.0.0.1:${port}`)]);
      got.baton.ms.push(r.ms); got.baton.rss.push(r.idleRss);
      say(`  P6 rep ${rep}/${C.startReps}: bare ${ms(b.ms)} ${mb(b.idleRss)}, Baton ${ms(r.ms)} ${mb(r.idleRss)}`);
    }
    const v = median(got.baton.ms);
    const rss = median(got.baton.rss);
    rows.push({
      id: 'P6', what: 'compiled binary, start (fresh data dir, migrations) → first 200 on /-/health',
      baton: ms(v), baseline: `${ms(median(got.bare.ms))} (compiled bare)`, ratio: '—', target: '< 150 ms', pass: v < 150,
    });
    rows.push({
      id: 'P6', what: 'compiled binary, idle RSS 1 s after start',
      baton: mb(rss), baseline: `${mb(median(got.bare.rss))} (compiled bare)`, ratio: '—', target: '< 80 MB', pass: rss < 80e6,
    });
    raw.push(
      `P6 Baton start ms: ${got.baton.ms.map((x) => fmt(x)).join(', ')}; idle RSS MiB: ${got.baton.rss.map((x) => fmt(x / 2 ** 20)).join(', ')}`,
      `P6 bare start ms: ${got.bare.ms.map((x) => fmt(x)).join(', ')}; idle RSS MiB: ${got.bare.rss.map((x) => fmt(x / 2 ** 20)).join(', ')}`,
    );
  });
}

// ---------------------------------------------------------------------------------- P7

async function p7() {
  await withCleanup(async (defer) => {
    const per = C.claimWarmup + C.claims;
    const pipelines = Math.ceil((C.bigReps * per) / 100);
    const empty = tempDir('p7-empty');
    defer(rmDir(empty));
    const big = tempDir('p7-history');
    defer(rmDir(big));
    const t = performance.now();
    await seedFinished(big, C.historyRows);
    await seedPending(big, pipelines, 100);
    await seedPending(empty, pipelines, 100);
    say(`  P7: seeded ${fmt(C.historyRows)} finished jobs in ${fmt((performance.now() - t) / 1000)} s`);
    const servers: Record<'empty' | 'history', Server> = { empty: await startBaton(empty), history: await startBaton(big) };
    defer(() => servers.empty.stop());
    defer(() => servers.history.stop());
    const p = proto.v4 ? 'v4' : 'v1';
    const got = { empty: { p50: [] as number[], p99: [] as number[] }, history: { p50: [] as number[], p99: [] as number[] } };
    for (let rep = 1; rep <= C.bigReps; rep++) {
      for (const name of ['empty', 'history'] as const) {
        const [r] = await runLoad<{ latencies: number[] }>([{
          script: 'claim', options: { url: servers[name].url, proto: p, runners: 1, registrationToken: REGISTRATION_TOKEN, sequential: C.claims, warmup: C.claimWarmup },
        }]);
        got[name].p50.push(percentile(r.latencies, 50));
        got[name].p99.push(percentile(r.latencies, 99));
      }
      say(`  P7 rep ${rep}/${C.bigReps}: empty p50 ${ms(got.empty.p50.at(-1)!)}, with history p50 ${ms(got.history.p50.at(-1)!)}`);
    }
    const v = median(got.history.p50);
    const base = median(got.empty.p50);
    rows.push({
      id: 'P7', what: `claim latency p50 (one runner, ${p}) with ${fmt(C.historyRows)} finished jobs in the database (p99 ${ms(median(got.history.p99))} vs ${ms(median(got.empty.p99))})`,
      baton: ms(v), baseline: `${ms(base)} (empty database)`, ratio: ratio(v, base), target: '≤ 1.2×', pass: v / base <= 1.2,
    });
    raw.push(
      `P7 history p50/p99 ms: ${got.history.p50.map((x, i) => `${fmt(x)}/${fmt(got.history.p99[i])}`).join(', ')}`,
      `P7 empty p50/p99 ms: ${got.empty.p50.map((x, i) => `${fmt(x)}/${fmt(got.empty.p99[i])}`).join(', ')}`,
    );
  });
}

// ---------------------------------------------------------------------------------- P8

interface StormResult { latencies: number[]; cpuMs: number; seconds: number; events: number }

/**
 * The wake-up storm: 100 `gpu` runners hold long polls, alone and then beside 900 runners
 * without the tag (1 000 held polls on 1 000 connections); a pipeline with one gpu job at a
 * time. Pickup latency, and the server's CPU per event in each case: the extra held polls
 * should cost (almost) nothing, since only runners that could take the job are woken.
 */
async function p8() {
  await withCleanup(async (defer) => {
    const dir = tempDir('p8');
    defer(rmDir(dir));
    const { projectId } = await seedPending(dir, 0, 0);
    const baton = await startBaton(dir, ['--poll-timeout', '50']);
    defer(() => baton.stop());
    const got: Record<'100' | '1000', { p50: number[]; p99: number[]; cpu: number[]; released: number[] }> = {
      100: { p50: [], p99: [], cpu: [], released: [] }, 1000: { p50: [], p99: [], cpu: [], released: [] },
    };
    // holders stay registered (and held) between repetitions only within one leg
    for (let rep = 1; rep <= C.bigReps; rep++) {
      for (const leg of ['100', '1000'] as const) {
        const stopFile = join(dir, `stop-${rep}-${leg}`);
        const others = leg === '1000' ? C.stormOthers : 0;
        const holderProcs = others ? Math.ceil(others / 225) : 0;
        const common = { url: baton.url, registrationToken: REGISTRATION_TOKEN, stopFile, startFile: join(dir, `start-${rep}-${leg}`) };
        const specs = [
          { script: 'storm', options: { ...common, role: 'creator', runners: C.stormGpu, adminToken: ADMIN_TOKEN, projectId, events: C.stormEvents, gapMs: 20, serverPid: baton.pid, held: C.stormGpu + others } },
          ...Array.from({ length: holderProcs }, (_, i) => ({ script: 'storm', options: { ...common, role: 'holders', runners: Math.min(225, others - i * 225) } })),
        ];
        const [creator, ...holders] = await runLoad<StormResult & { released: number }>(specs);
        got[leg].p50.push(percentile(creator.latencies, 50));
        got[leg].p99.push(percentile(creator.latencies, 99));
        got[leg].cpu.push(creator.cpuMs / creator.events);
        got[leg].released.push(holders.reduce((a, h) => a + h.released, 0));
        // let the server forget the aborted polls of this leg
        await Bun.sleep(300);
      }
      say(`  P8 rep ${rep}/${C.bigReps}: ${(['100', '1000'] as const).map((l) => `${l} held: p50 ${ms(got[l].p50.at(-1)!)} p99 ${ms(got[l].p99.at(-1)!)} CPU/event ${ms(got[l].cpu.at(-1)!)}${l === '1000' ? `, other runners released ${got[l].released.at(-1)}` : ''}`).join('; ')}`);
    }
    const m = (l: '100' | '1000', k: 'p50' | 'p99' | 'cpu') => median(got[l][k]);
    const held = C.stormGpu + C.stormOthers;
    rows.push({
      id: 'P8', what: `wake-up storm: a pipeline with one gpu job while ${fmt(held)} runners hold long polls (${C.stormGpu} gpu), pickup p50 (POST sent → a gpu runner holds the job)`,
      baton: ms(m('1000', 'p50')), baseline: `${ms(m('100', 'p50'))} (${C.stormGpu} gpu runners alone)`, ratio: '—', target: '< 10 ms', pass: m('1000', 'p50') < 10,
    });
    rows.push({
      id: 'P8', what: `same, pickup p99`, baton: ms(m('1000', 'p99')), baseline: `${ms(m('100', 'p99'))} (${C.stormGpu} alone)`, ratio: '—', target: '< 50 ms', pass: m('1000', 'p99') < 50,
    });
    rows.push({
      id: 'P8', what: `same, server CPU per event (the pipeline POST included; the ${fmt(C.stormOthers)} other runners' polls were released ${median(got['1000'].released)} times in all)`,
      baton: ms(m('1000', 'cpu')), baseline: `${ms(m('100', 'cpu'))} (${C.stormGpu} held polls)`, ratio: ratio(m('1000', 'cpu'), m('100', 'cpu')), target: '≤ 1.5×', pass: m('1000', 'cpu') / m('100', 'cpu') <= 1.5,
    });
    raw.push(
      `P8 ${held} held p50/p99 ms, CPU ms/event: ${got['1000'].p50.map((x, i) => `${fmt(x)}/${fmt(got['1000'].p99[i])}, ${fmt(got['1000'].cpu[i])}`).join('; ')}; other runners released: ${got['1000'].released.join(', ')}`,
      `P8 ${C.stormGpu} held p50/p99 ms, CPU ms/event: ${got['100'].p50.map((x, i) => `${fmt(x)}/${fmt(got['100'].p99[i])}, ${fmt(got['100'].cpu[i])}`).join('; ')}`,
    );
  });
}

// ---------------------------------------------------------------------------------- P9, P10

/** The dashboard's pipeline list and pipeline page, with 10 000 pipelines against 10. */
async function p9p10() {
  await withCleanup(async (defer) => {
    const big = tempDir('p9-big');
    defer(rmDir(big));
    const small = tempDir('p9-small');
    defer(rmDir(small));
    const t = performance.now();
    const seeded = { big: await seedPipelines(big, C.dashPipelines, 6), small: await seedPipelines(small, 10, 6) };
    say(`  P9: seeded ${fmt(C.dashPipelines)} pipelines in ${fmt((performance.now() - t) / 1000)} s`);
    const servers = { big: await startBaton(big), small: await startBaton(small) };
    defer(() => servers.big.stop());
    defer(() => servers.small.stop());
    const paths = (x: { path: string; pipelineId: number }) => ({
      list: `/${x.path}/-/pipelines`, filtered: `/${x.path}/-/pipelines?status=failed&ref=main&page=3`, pipeline: `/${x.path}/-/pipelines/${x.pipelineId}`,
    });
    type Kind = 'list' | 'filtered' | 'pipeline';
    const got: Record<'big' | 'small', Record<Kind, { p50: number[]; p99: number[] }>> = {
      big: { list: { p50: [], p99: [] }, filtered: { p50: [], p99: [] }, pipeline: { p50: [], p99: [] } },
      small: { list: { p50: [], p99: [] }, filtered: { p50: [], p99: [] }, pipeline: { p50: [], p99: [] } },
    };
    for (let rep = 1; rep <= C.bigReps; rep++) {
      for (const name of ['small', 'big'] as const) {
        const ps = paths(seeded[name]);
        const [r] = await runLoad<{ latencies: Record<string, number[]> }>([{
          script: 'pages', options: { url: servers[name].url, token: ADMIN_TOKEN, paths: Object.values(ps), warmup: C.pageWarmup, requests: C.pageRequests },
        }]);
        for (const k of Object.keys(ps) as Kind[]) {
          got[name][k].p50.push(percentile(r.latencies[ps[k]], 50));
          got[name][k].p99.push(percentile(r.latencies[ps[k]], 99));
        }
      }
      say(`  P9/P10 rep ${rep}/${C.bigReps}: list p50 ${ms(got.big.list.p50.at(-1)!)} (10 pipelines: ${ms(got.small.list.p50.at(-1)!)}), pipeline page p50 ${ms(got.big.pipeline.p50.at(-1)!)}`);
    }
    const m = (name: 'big' | 'small', k: Kind, q: 'p50' | 'p99') => median(got[name][k][q]);
    rows.push({
      id: 'P9', what: `dashboard pipeline list, page 1, with ${fmt(C.dashPipelines)} pipelines in the project (p99 ${ms(m('big', 'list', 'p99'))}; filtered by status and ref, page 3: p50 ${ms(m('big', 'filtered', 'p50'))}, p99 ${ms(m('big', 'filtered', 'p99'))})`,
      baton: ms(m('big', 'list', 'p50')), baseline: `${ms(m('small', 'list', 'p50'))} (10 pipelines)`, ratio: ratio(m('big', 'list', 'p50'), m('small', 'list', 'p50')),
      target: '≤ 2×, p99 < 100 ms', pass: m('big', 'list', 'p50') / m('small', 'list', 'p50') <= 2 && m('big', 'list', 'p99') < 100 && m('big', 'filtered', 'p99') < 100,
    });
    rows.push({
      id: 'P10', what: `dashboard pipeline page (6 jobs in 3 stages) with ${fmt(C.dashPipelines)} pipelines in the project (p99 ${ms(m('big', 'pipeline', 'p99'))})`,
      baton: ms(m('big', 'pipeline', 'p50')), baseline: `${ms(m('small', 'pipeline', 'p50'))} (10 pipelines)`, ratio: ratio(m('big', 'pipeline', 'p50'), m('small', 'pipeline', 'p50')),
      target: '≤ 2×, p99 < 100 ms', pass: m('big', 'pipeline', 'p50') / m('small', 'pipeline', 'p50') <= 2 && m('big', 'pipeline', 'p99') < 100,
    });
    for (const name of ['big', 'small'] as const) {
      for (const k of ['list', 'filtered', 'pipeline'] as Kind[]) raw.push(`P9/P10 ${name} ${k} p50/p99 ms: ${got[name][k].p50.map((x, i) => `${fmt(x)}/${fmt(got[name][k].p99[i])}`).join(', ')}`);
    }
  });
}

// ---------------------------------------------------------------------------------- P11

interface SseWriteResult { jobId: number; bytes: number; sha256: string; acks: [number, number][]; patchMs: number[]; rate: number }
interface SseWatchResult { watchers: { bytes: number; sha256: string; arrivals: [number, number][]; ended: boolean }[] }

/**
 * A log delivered live to 50 watchers (Server-Sent Events) while a runner writes it at a
 * steady, chatty pace (real runners PATCH every 3 s; this one 50 times a second), against
 * the same writing with nobody watching: how late each slice reaches every watcher, and
 * what the watchers cost the runner's PATCHes.
 */
async function p11() {
  await withCleanup(async (defer) => {
    const p = proto.v4 ? 'v4' : 'v1';
    const got = { p50: [] as number[], p99: [] as number[], patchWatched: [] as number[], patchAlone: [] as number[], rate: [] as number[] };
    const write = { proto: p, registrationToken: REGISTRATION_TOKEN, chunks: C.sseChunks, chunkBytes: 4096, pace: C.ssePace };
    for (let rep = 1; rep <= C.reps; rep++) {
      for (const leg of ['alone', 'watched'] as const) {
        const dir = tempDir(`p11-${leg}`);
        defer(rmDir(dir));
        const { projectId } = await seedPending(dir, 1, 1);
        const baton = await startBaton(dir, ['--max-streams-per-user', String(C.sseWatchers + 10)]);
        defer(() => baton.stop());
        if (leg === 'alone') {
          const [w] = await runLoad<SseWriteResult>([{ script: 'sse-write', options: { ...write, url: baton.url } }]);
          got.patchAlone.push(percentile(w.patchMs, 99));
        } else {
          const [watch, w] = await runLoad<SseWatchResult | SseWriteResult>([
            { script: 'sse-watch', options: { url: baton.url, token: ADMIN_TOKEN, projectId, jobId: 1, watchers: C.sseWatchers } },
            { script: 'sse-write', options: { ...write, url: baton.url } },
          ]) as [SseWatchResult, SseWriteResult];
          got.patchWatched.push(percentile(w.patchMs, 99));
          got.rate.push(w.rate);
          const acked = new Map(w.acks);
          const lags: number[] = [];
          for (const [i, x] of watch.watchers.entries()) {
            if (!x.ended || x.bytes !== w.bytes || x.sha256 !== w.sha256) throw new Error(`P11: watcher ${i} got ${x.bytes} of ${w.bytes} bytes (${x.ended ? 'ended' : 'no end'}, hash ${x.sha256 === w.sha256 ? 'equal' : 'different'})`);
            for (const [offset, at] of x.arrivals) {
              const ack = acked.get(offset);
              if (ack !== undefined) lags.push(Math.max(0, at - ack));
            }
          }
          got.p50.push(percentile(lags, 50));
          got.p99.push(percentile(lags, 99));
        }
        await baton.stop();
      }
      say(`  P11 rep ${rep}/${C.reps}: delivery to ${C.sseWatchers} watchers p50 ${ms(got.p50.at(-1)!)} p99 ${ms(got.p99.at(-1)!)}; PATCH p99 ${ms(got.patchWatched.at(-1)!)} watched, ${ms(got.patchAlone.at(-1)!)} alone; ${fmt(got.rate.at(-1)!)} PATCH/s`);
    }
    const p99 = median(got.p99);
    const watched = median(got.patchWatched);
    const alone = median(got.patchAlone);
    const pace = median(got.rate);
    rows.push({
      id: 'P11', what: `one job's log (${C.sseChunks} × 4 KiB PATCHes at ${C.ssePace}/s, ${p}) streamed to ${C.sseWatchers} SSE watchers, each getting every byte: delivery after the PATCH p50 ${ms(median(got.p50))}, p99 (Baton column) ${ms(p99)}; the runner's PATCH p99 ${ms(watched)} while watched (ratio) vs alone (baseline); ${fmt(pace)} PATCH/s kept`,
      baton: ms(p99), baseline: `${ms(alone)} PATCH p99 (nobody watching)`, ratio: ratio(watched, alone),
      target: 'delivery p99 < 100 ms; pace kept (≥ 95 %)', pass: p99 < 100 && pace >= 0.95 * C.ssePace,
    });
    raw.push(`P11 delivery p50/p99 ms: ${got.p50.map((x, i) => `${fmt(x)}/${fmt(got.p99[i])}`).join(', ')}`,
      `P11 PATCH p99 ms watched/alone: ${got.patchWatched.map((x, i) => `${fmt(x)}/${fmt(got.patchAlone[i])}`).join(', ')}`,
      `P11 PATCH/s kept: ${got.rate.map((x) => fmt(x)).join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------- run

const FIGURES: [string, () => Promise<void>][] = [['P1', p1], ['P2', p2], ['P3', p3], ['P4', p4], ['P5', p5], ['P6', p6], ['P7', p7], ['P8', p8], ['P9/P10', p9p10], ['P11', p11]];

function table(): string {
  const head = ['#', 'What', 'Baton', 'Baseline (same run)', 'Baton/baseline', 'Target', 'Result'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${[r.id, r.what, r.baton, r.baseline, r.ratio, r.target, verdict(r)].join(' | ')} |`);
  return lines.join('\n');
}

function machine(): string {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${cpus().length} × ${model}, ${fmt(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 2 ** 20)} GiB RAM, Linux ${release()}, Bun ${Bun.version}`;
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function main() {
  const loadAtStart = loadAverage();
  if (Number(loadAtStart.split(' ')[0]) > 1.5) say(`  warning: load average ${loadAtStart} — other processes use this 2-core machine; figures will be low and noisy`);
  say(`Baton benchmarks${QUICK ? ' (--quick: small counts, one repetition, targets not judged)' : ''} on ${machine()}`);
  {
    // Which runner protocol legs exist (v4 is measured once it is mounted).
    const dir = tempDir('probe');
    const s = await startBaton(dir);
    try { proto.v4 = await hasV4(s.url); } finally { await s.stop(); rmSync(dir, { recursive: true, force: true }); }
    if (!proto.v4) say('  (the v4 runner API is not mounted: v4 legs are skipped, v1 is used throughout)');
  }
  for (const [id, fn] of FIGURES) {
    if (ONLY && !id.split('/').some((x) => ONLY.has(x))) continue;
    const t = performance.now();
    say(`${id} …`);
    try {
      await fn();
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      errors.push(`${id}: ${msg}`);
      rows.push({ id, what: msg.split('\n')[0].slice(0, 200), baton: 'ERROR', baseline: '—', ratio: '—', target: '—', pass: false });
    }
    say(`${id} done in ${fmt((performance.now() - t) / 1000)} s`);
  }
  const total = (performance.now() - started) / 1000;
  say('');
  say(table());
  say('');
  say(`total ${fmt(total)} s; load average at start ${loadAtStart}, at end ${loadAverage()}`);
  if (!QUICK && !ONLY) {
    const intro = readFileSync(join(import.meta.dir, 'intro.md'), 'utf8').trimEnd();
    const doc = `${intro}

## Figures of the last full run

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}, in ${fmt(total)} s
(load average ${loadAtStart} at the start, ${loadAverage()} at the end).
Reproduce with:

\`\`\`
npm run bench            # this table (about ${Math.ceil(total / 60)} minutes); rewrites BENCHMARKS.md
npm run bench -- --quick # the harness only, small counts (CI runs this)
\`\`\`

Figures are medians of ${C.reps} repetitions (P3, P5 and P7: ${C.bigReps}; P6: ${C.startReps}); the baseline of each
figure was measured in the same run, interleaved with Baton's repetitions.

${table()}

### Every repetition

${raw.map((l) => `- ${l}`).join('\n')}
${errors.length ? `\n### Errors\n\n${errors.map((e) => `- ${e}`).join('\n')}\n` : ''}`;
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), doc);
    say('wrote BENCHMARKS.md');
  }
  if (errors.length) {
    say(`\n${errors.length} error(s):\n${errors.map((e) => `- ${e}`).join('\n')}`);
    process.exit(1);
  }
  if (!QUICK) {
    const missed = rows.filter((r) => r.pass === false).map((r) => r.id);
    say(missed.length ? `targets missed: ${[...new Set(missed)].join(', ')}` : 'all targets met');
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
