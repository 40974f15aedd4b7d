/**
 * End-to-end scenarios: each *.yml beside this file is one case — a .gitlab-ci.yml, what
 * the runner's "script" does per job (per attempt when a list), which manual jobs to play,
 * and the expected end statuses, runners and downloaded archives. Every scenario runs
 * against a real server with the v1 fake runner (gitlab-ci-multi-runner 1.11.5) and with
 * the v4 fake runner: the same files, the same expectations, two protocols.
 *
 * Downloads are observed at the fetch level (GET …/builds/:id/artifacts or
 * …/jobs/:id/artifacts), so the check does not depend on either fake's bookkeeping, and
 * every byte is compared with what the dependency's runner uploaded.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../src/db/schema';
import { FakeRunnerV1, type JobBehaviour } from '../support/fake-runner-v1';
import { makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';

// ---------------------------------------------------------------- scenario files

type ArtifactSpec = string | { size: number };
interface BehaviourSpec { output?: string[]; exit?: 'success' | 'failed'; artifacts?: ArtifactSpec }
interface RunnerSpec { name: string; tags?: string[]; run_untagged?: boolean }
interface Scenario {
  file: string;
  description: string;
  'gitlab-ci': string;
  runners?: RunnerSpec[];
  jobs?: Record<string, BehaviourSpec | BehaviourSpec[]>;
  play?: string[];
  expect: {
    pipeline: string;
    jobs: Record<string, string | string[]>;
    downloads?: Record<string, string[]>;
    ran_on?: Record<string, string>;
  };
}

const DIR = import.meta.dir;
const scenarios: Scenario[] = readdirSync(DIR).filter((f) => f.endsWith('.yml')).sort().map((file) => {
  const s = Bun.YAML.parse(readFileSync(join(DIR, file), 'utf8')) as Scenario;
  if (typeof s?.['gitlab-ci'] !== 'string' || !s.expect?.pipeline || !s.expect.jobs) throw new Error(`${file}: needs gitlab-ci, expect.pipeline and expect.jobs`);
  return { ...s, file };
});

/** Deterministic pseudo-random bytes (xorshift32 seeded by the name): binary, repeatable. */
function bytesFor(seed: string, size: number): Uint8Array {
  let x = 2166136261;
  for (const c of seed) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function behaviourFor(s: Scenario, name: string, attempt: number): JobBehaviour {
  const spec = s.jobs?.[name];
  const b = Array.isArray(spec) ? spec[Math.min(attempt, spec.length - 1)] : spec;
  if (!b) return {};
  const artifacts = b.artifacts === undefined ? undefined
    : typeof b.artifacts === 'string' ? b.artifacts : bytesFor(`${name}#${attempt}`, b.artifacts.size);
  return { output: b.output, exit: b.exit, artifacts };
}

const toBytes = (a: Uint8Array | string) => (typeof a === 'string' ? new TextEncoder().encode(a) : a);

// ---------------------------------------------------------------- the two protocols

interface RunResultLike { jobId: number; name: string; state: string; trace: string }
interface FakeRunner { runOne(behaviours: Record<string, JobBehaviour>, opts?: unknown): Promise<RunResultLike | null> }
interface Protocol {
  name: 'v1' | 'v4';
  register(url: string, token: string, opts: { description: string; tags: string[]; runUntagged?: boolean }): Promise<FakeRunner>;
}

const v1: Protocol = { name: 'v1', register: (url, token, opts) => FakeRunnerV1.register(url, token, opts) };

/**
 * The v4 twin (test/support/fake-runner-v4.ts, written alongside) with the same API. If the
 * module is missing or lacks FakeRunnerV4, the v4 leg fails loudly rather than passing.
 */
async function loadV4(): Promise<Protocol | Error> {
  try {
    const mod = (await import('../support/fake-runner-v4')) as { FakeRunnerV4?: { register: Protocol['register'] } };
    if (typeof mod.FakeRunnerV4?.register !== 'function') return new Error('test/support/fake-runner-v4.ts has no FakeRunnerV4.register');
    const cls = mod.FakeRunnerV4;
    return { name: 'v4', register: (url, token, opts) => cls.register(url, token, opts) };
  } catch (e) {
    return new Error(`test/support/fake-runner-v4.ts could not be loaded: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- watching downloads

interface SeenDownload { protocol: 'v1' | 'v4'; dependencyId: number; bytes: Uint8Array }
const DOWNLOAD = /\/(?:ci\/api\/v1\/builds|api\/v4\/jobs)\/(\d+)\/artifacts(?:\?|$)/;

/** Wraps the global fetch to record every successful artifact download (the body is teed). */
function watchDownloads() {
  const seen: SeenDownload[] = [];
  const original = globalThis.fetch;
  const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await original(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const m = DOWNLOAD.exec(url);
    if (method !== 'GET' || !m || res.status !== 200) return res;
    const bytes = new Uint8Array(await res.clone().arrayBuffer());
    seen.push({ protocol: url.includes('/api/v4/') ? 'v4' : 'v1', dependencyId: Number(m[1]), bytes });
    return res;
  };
  globalThis.fetch = Object.assign(wrapped, original) as typeof fetch;
  return { seen, restore: () => { globalThis.fetch = original; } };
}

// ---------------------------------------------------------------- the driver

interface Outcome {
  jobs: Job[];
  pipelineStatus: string;
  /** job id → runner name */
  ranOn: Map<number, string>;
  /** job id → archives it downloaded */
  downloads: Map<number, SeenDownload[]>;
  /** job id → bytes its runner uploaded */
  uploaded: Map<number, Uint8Array>;
}

async function drive(srv: TestServer, s: Scenario, protocol: Protocol): Promise<Outcome> {
  const project = makeProject(srv.core);
  const runnerSpecs = s.runners ?? [{ name: 'default' }];
  const runners: { name: string; fake: FakeRunner }[] = [];
  for (const r of runnerSpecs) {
    // Project runners (the project's runners token): scenarios sharing the server stay apart.
    runners.push({ name: r.name, fake: await protocol.register(srv.url, project.runnersToken, { description: r.name, tags: r.tags ?? [], runUntagged: r.run_untagged }) });
  }
  const pipeline = await makePipeline(srv.core, project.id, s['gitlab-ci']);
  const attempts = new Map<string, number>();
  const out: Outcome = { jobs: [], pipelineStatus: '', ranOn: new Map(), downloads: new Map(), uploaded: new Map() };
  const toPlay = [...(s.play ?? [])];
  const watch = watchDownloads();
  try {
    for (let round = 0; round < 100; round++) {
      let progressed = false;
      for (const { name, fake } of runners) {
        const behaviours: Record<string, JobBehaviour> = {};
        for (const j of Object.keys(s.jobs ?? {})) behaviours[j] = behaviourFor(s, j, attempts.get(j) ?? 0);
        const before = watch.seen.length;
        const res = await fake.runOne(behaviours);
        if (!res) continue;
        progressed = true;
        const b = behaviours[res.name] ?? {};
        attempts.set(res.name, (attempts.get(res.name) ?? 0) + 1);
        out.ranOn.set(res.jobId, name);
        out.downloads.set(res.jobId, watch.seen.slice(before));
        if (b.artifacts !== undefined) out.uploaded.set(res.jobId, toBytes(b.artifacts));
      }
      if (progressed) continue;
      const next = toPlay.shift();
      if (next === undefined) break;
      const job = srv.core.pipelines.latestJobs(pipeline.id).find((j) => j.name === next);
      expect(job?.status, `${s.file}: "${next}" should be waiting to be played`).toBe('manual');
      srv.core.jobs.play(job!.id);
    }
  } finally {
    watch.restore();
  }
  out.jobs = srv.core.jobs.list(project.id, { pipelineId: pipeline.id, offset: 0, limit: 500 }).rows.sort((a, b) => a.id - b.id);
  out.pipelineStatus = srv.core.pipelines.get(pipeline.id).status;
  return out;
}

function check(s: Scenario, o: Outcome) {
  // statuses: a list names every attempt in order, a string the latest one
  for (const [name, want] of Object.entries(s.expect.jobs)) {
    const attemptsOf = o.jobs.filter((j) => j.name === name).map((j) => j.status);
    if (Array.isArray(want)) expect(attemptsOf, `${s.file}: attempts of ${name}`).toEqual(want);
    else expect(attemptsOf.at(-1), `${s.file}: status of ${name}`).toBe(want);
  }
  const unknown = o.jobs.map((j) => j.name).filter((n) => !(n in s.expect.jobs));
  expect(unknown, `${s.file}: jobs without an expectation`).toEqual([]);
  expect(o.pipelineStatus, `${s.file}: pipeline status`).toBe(s.expect.pipeline);

  const latest = new Map<string, Job>();
  for (const j of o.jobs) latest.set(j.name, j);
  for (const [name, runner] of Object.entries(s.expect.ran_on ?? {})) {
    expect(o.ranOn.get(latest.get(name)!.id), `${s.file}: runner of ${name}`).toBe(runner);
  }

  if (s.expect.downloads) {
    const byId = new Map(o.jobs.map((j) => [j.id, j]));
    for (const j of o.jobs) {
      const got = (o.downloads.get(j.id) ?? []).map((d) => byId.get(d.dependencyId)?.name ?? `#${d.dependencyId}`).sort();
      const want = j.retried ? got : [...(s.expect.downloads[j.name] ?? [])].sort();
      expect(got, `${s.file}: archives downloaded by ${j.name} (#${j.id})`).toEqual(want);
      for (const d of o.downloads.get(j.id) ?? []) {
        const uploaded = o.uploaded.get(d.dependencyId);
        expect(uploaded, `${s.file}: ${j.name} downloaded #${d.dependencyId}, which uploaded nothing`).toBeDefined();
        // byte-exact (compared as Buffers so a mismatch reports the first differing byte)
        expect(Buffer.from(d.bytes).equals(Buffer.from(uploaded!)), `${s.file}: bytes of ${byId.get(d.dependencyId)?.name} as downloaded by ${j.name}`).toBe(true);
      }
    }
  }
}

// ---------------------------------------------------------------- the tests

let srv: TestServer;
beforeAll(async () => { srv = await startTestServer(); });
afterAll(async () => { await srv.stop(); });

test('scenario files are there', () => {
  expect(scenarios.map((s) => s.file)).toEqual(expect.arrayContaining([
    'two-stages-artifacts.yml', 'failure-skips-later-stages.yml', 'allow-failure.yml', 'when-on-failure-always.yml',
    'manual-job.yml', 'retry-auto.yml', 'dependencies-filter.yml', 'tags-routing.yml',
  ]));
});

describe('v1 runner (gitlab-ci-multi-runner 1.11.5)', () => {
  for (const s of scenarios) {
    test(`${s.file}: ${s.description}`, async () => check(s, await drive(srv, s, v1)));
  }
});

describe('v4 runner', () => {
  for (const s of scenarios) {
    test(`${s.file}: ${s.description}`, async () => {
      const v4 = await loadV4();
      if (v4 instanceof Error) throw v4;
      check(s, await drive(srv, s, v4));
    });
  }
});

test('a v1 runner and a v4 runner serve one instance at the same time', async () => {
  const v4 = await loadV4();
  if (v4 instanceof Error) throw v4;
  const project = makeProject(srv.core);
  const one = await v1.register(srv.url, project.runnersToken, { description: 'old', tags: ['v1'], runUntagged: false });
  const four = await v4.register(srv.url, project.runnersToken, { description: 'new', tags: ['v4'], runUntagged: false });
  const pipeline = await makePipeline(srv.core, project.id, `
stages: [build, test]
from-v1:
  stage: build
  tags: [v1]
  script: [make one]
  artifacts: { paths: [one/] }
from-v4:
  stage: build
  tags: [v4]
  script: [make four]
  artifacts: { paths: [four/] }
check-on-v1:
  stage: test
  tags: [v1]
  script: [check]
check-on-v4:
  stage: test
  tags: [v4]
  script: [check]
`);
  const archives: Record<string, Uint8Array> = { 'from-v1': bytesFor('one', 50_000), 'from-v4': bytesFor('four', 60_000) };
  const behaviours: Record<string, JobBehaviour> = {
    'from-v1': { output: ['one'], artifacts: archives['from-v1'] },
    'from-v4': { output: ['four'], artifacts: archives['from-v4'] },
  };
  const ran: Record<string, string> = {};
  const watch = watchDownloads();
  try {
    // Both runners poll concurrently until the pipeline is done (bounded).
    const loop = async (label: string, fake: FakeRunner) => {
      for (let i = 0; i < 200 && !['success', 'failed'].includes(srv.core.pipelines.get(pipeline.id).status); i++) {
        const r = await fake.runOne(behaviours);
        if (r) ran[r.name] = label;
        else await Bun.sleep(5);
      }
    };
    await Promise.all([loop('v1', one), loop('v4', four)]);
  } finally {
    watch.restore();
  }
  expect(srv.core.pipelines.get(pipeline.id).status).toBe('success');
  expect(ran).toEqual({ 'from-v1': 'v1', 'from-v4': 'v4', 'check-on-v1': 'v1', 'check-on-v4': 'v4' });
  const jobs = srv.core.pipelines.latestJobs(pipeline.id);
  const nameOf = (id: number) => jobs.find((j) => j.id === id)!.name;
  for (const protocol of ['v1', 'v4'] as const) {
    const got = watch.seen.filter((d) => d.protocol === protocol);
    // each checking job downloaded both archives — one made by each protocol — byte-exact
    expect(got.map((d) => nameOf(d.dependencyId)).sort(), `${protocol} downloads`).toEqual(['from-v1', 'from-v4']);
    for (const d of got) expect(Buffer.from(d.bytes).equals(Buffer.from(archives[nameOf(d.dependencyId)])), `${protocol}: ${nameOf(d.dependencyId)}`).toBe(true);
  }
});
