/**
 * End-to-end scenarios: each *.yml beside this file is one case — a .gitlab-ci.yml (and, with
 * `files:`, the other files of a real git repository the pipeline is created from, for
 * `include`/`trigger:include`), what the runner's "script" does per job (per attempt when a
 * list), which manual jobs to play, and what must come out: end statuses, runners,
 * downloaded archives, the variables a job received, downstream pipelines, test reports,
 * coverage, statuses seen on the way, jobs that never overlap. Every scenario runs against a
 * real server with the v1 fake runner (gitlab-ci-multi-runner 1.11.5) and with the v4 fake
 * runner — the same files, the same expectations, two protocols — unless it names the
 * `protocols` that can carry it (1.x runners upload no reports and report no exit codes).
 *
 * The runners poll concurrently, so a job may be held running (`hold_until`, `hold_ms`)
 * while others go on: that is how a DAG job is seen to start while an unrelated earlier-stage
 * job still runs. The driver stops when every runner found nothing to do after the last
 * change and nothing runs, waits for its time (delayed jobs) or starts (bridges); it then
 * plays the next job of `play`, or ends.
 *
 * Job payloads and artifact downloads are observed at the fetch level (the 201 of
 * …/jobs/request or …/builds/register.json, GET …/jobs/:id/artifacts or
 * …/builds/:id/artifacts), so the checks do not depend on either fake's bookkeeping, and
 * every downloaded byte is compared with what the dependency's runner uploaded.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { jobs as jobsTable, type Job, type Pipeline } from '../../src/db/schema';
import { isFinal } from '../../src/core/status';
import { FakeRunnerV1, type JobBehaviour, type V1Build } from '../support/fake-runner-v1';
import { makeRepo, type TestRepo } from '../support/git-repo';
import { makeZip } from '../support/zip';
import { makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';

// ---------------------------------------------------------------- scenario files

/** the archive's bytes: text, random bytes of a size, or a real zip of these files */
type ArtifactSpec = string | { size: number } | { zip: Record<string, string> };
interface BehaviourSpec {
  output?: string[];
  exit?: 'success' | 'failed';
  /** the exit code the runner reports (v4) */
  exit_code?: number;
  artifacts?: ArtifactSpec;
  /** report files by artifact type (v4 uploads one per `artifacts:reports` entry) */
  reports?: Record<string, string>;
  /** the script keeps running until that job of the same pipeline has this status (15 s at most, else the scenario fails) */
  hold_until?: { job: string; status: string };
  /** the script runs this long */
  hold_ms?: number;
}
interface RunnerSpec { name: string; tags?: string[]; run_untagged?: boolean }
interface PipelineExpectation { pipeline: string; jobs: Record<string, string | string[]> }
type ProtocolName = 'v1' | 'v4';
interface Scenario {
  file: string;
  description: string;
  'gitlab-ci': string;
  /** other files of the repository (the pipeline is then created from a real git repository) */
  files?: Record<string, string>;
  /** the protocols that can carry the scenario (default both) */
  protocols?: ProtocolName[];
  /** how many pipelines of the file are created, one after the other (default 1) */
  pipelines?: number;
  /** pipeline variables */
  variables?: Record<string, string>;
  runners?: RunnerSpec[];
  jobs?: Record<string, BehaviourSpec | BehaviourSpec[]>;
  play?: string[];
  expect: Partial<PipelineExpectation> & {
    /** the pipeline is not created: the 400's message */
    error?: string;
    downloads?: Record<string, string[]>;
    ran_on?: Record<string, string>;
    /** variables in the job's payload as the runner reads them (the last entry wins); null = absent */
    variables?: Record<string, Record<string, string | null>>;
    /** `allow_failure` of the latest attempt */
    allow_failure?: Record<string, boolean>;
    /** bridge name → the downstream pipeline it created */
    downstream?: Record<string, PipelineExpectation>;
    /** `GET …/pipelines/:id/test_report`, matched as a subset */
    test_report?: Record<string, unknown>;
    coverage?: Record<string, number | null>;
    /** the pipeline entity's `coverage` */
    pipeline_coverage?: string | null;
    /** statuses a job (any pipeline) was seen in while the scenario ran */
    seen?: Record<string, string[]>;
    /** jobs whose runs (across the scenario's pipelines) never overlap in time */
    one_at_a_time?: string[];
  };
}

const DIR = import.meta.dir;
const scenarios: Scenario[] = readdirSync(DIR).filter((f) => f.endsWith('.yml')).sort().map((file) => {
  const s = Bun.YAML.parse(readFileSync(join(DIR, file), 'utf8')) as Scenario;
  if (typeof s?.['gitlab-ci'] !== 'string' || !(s.expect?.error || (s.expect?.pipeline && s.expect.jobs))) {
    throw new Error(`${file}: needs gitlab-ci, and expect.pipeline with expect.jobs (or expect.error)`);
  }
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

function specFor(s: Scenario, name: string, attempt: number): BehaviourSpec {
  const spec = s.jobs?.[name];
  return (Array.isArray(spec) ? spec[Math.min(attempt, spec.length - 1)] : spec) ?? {};
}

function behaviourFrom(b: BehaviourSpec, seed: string): JobBehaviour {
  const artifacts = b.artifacts === undefined ? undefined
    : typeof b.artifacts === 'string' ? b.artifacts
      : 'zip' in b.artifacts ? makeZip(Object.entries(b.artifacts.zip).map(([path, data]) => ({ path, data }))) : bytesFor(seed, b.artifacts.size);
  // a held job needs a line to print: the hold happens on the tick after it
  const output = (b.hold_until || b.hold_ms) && !b.output?.length ? ['working…'] : b.output;
  return { output, exit: b.exit, artifacts, reports: b.reports, exitCode: b.exit_code };
}

const toBytes = (a: Uint8Array | string) => (typeof a === 'string' ? new TextEncoder().encode(a) : a);

// ---------------------------------------------------------------- the two protocols

interface RunResultLike { jobId: number; name: string; state: string; trace: string }
interface FakeRunner {
  poll(): Promise<unknown | null>;
  runOne(behaviours: Record<string, JobBehaviour>): Promise<RunResultLike | null>;
  run(job: never, behaviour: JobBehaviour, opts?: { onTick?: (i: { jobId: number }) => void | Promise<void> }): Promise<RunResultLike>;
}
interface Protocol {
  name: ProtocolName;
  register(url: string, token: string, opts: { description: string; tags: string[]; runUntagged?: boolean }): Promise<FakeRunner>;
  idOf(job: unknown): number;
  nameOf(job: unknown): string;
}

const v1: Protocol = {
  name: 'v1', register: (url, token, opts) => FakeRunnerV1.register(url, token, opts) as Promise<FakeRunner>,
  idOf: (b) => (b as V1Build).id, nameOf: (b) => (b as V1Build).name,
};

/**
 * The v4 twin (test/support/fake-runner-v4.ts) with the same API. If the module is missing or
 * lacks FakeRunnerV4, the v4 leg fails loudly rather than passing.
 */
async function loadV4(): Promise<Protocol | Error> {
  try {
    const mod = (await import('../support/fake-runner-v4')) as { FakeRunnerV4?: { register: Protocol['register'] } };
    if (typeof mod.FakeRunnerV4?.register !== 'function') return new Error('test/support/fake-runner-v4.ts has no FakeRunnerV4.register');
    const cls = mod.FakeRunnerV4;
    return {
      name: 'v4', register: (url, token, opts) => cls.register(url, token, opts),
      idOf: (j) => (j as { id: number }).id, nameOf: (j) => (j as { job_info: { name: string } }).job_info.name,
    };
  } catch (e) {
    return new Error(`test/support/fake-runner-v4.ts could not be loaded: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- watching the wire

interface SeenDownload { protocol: ProtocolName; dependencyId: number; token: string; bytes: Uint8Array }
interface SeenPayload { id: number; token: string; variables: { key: string; value: string }[] }
const DOWNLOAD = /\/(?:ci\/api\/v1\/builds|api\/v4\/jobs)\/(\d+)\/artifacts(?:\?|$)/;
const JOB_REQUEST = /\/(?:ci\/api\/v1\/builds\/register\.json|api\/v4\/jobs\/request)$/;

/** Wraps the global fetch to record every job handed out and every successful artifact download (bodies are teed). */
function watchWire() {
  const downloads: SeenDownload[] = [];
  const payloads = new Map<number, SeenPayload>();
  const original = globalThis.fetch;
  const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await original(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method === 'POST' && JOB_REQUEST.test(url) && res.status === 201) {
      const p = (await res.clone().json()) as SeenPayload;
      payloads.set(p.id, { id: p.id, token: p.token, variables: p.variables ?? [] });
      return res;
    }
    const m = DOWNLOAD.exec(url);
    if (method !== 'GET' || !m || res.status !== 200) return res;
    const headers = new Headers(init?.headers);
    const token = headers.get('job-token') ?? headers.get('build-token') ?? '';
    const bytes = new Uint8Array(await res.clone().arrayBuffer());
    downloads.push({ protocol: url.includes('/api/v4/') ? 'v4' : 'v1', dependencyId: Number(m[1]), token, bytes });
    return res;
  };
  globalThis.fetch = Object.assign(wrapped, original) as typeof fetch;
  return { downloads, payloads, restore: () => { globalThis.fetch = original; } };
}

// ---------------------------------------------------------------- the driver

interface Outcome {
  pipelines: Pipeline[];
  /** per pipeline: every attempt of every job (bridges included), in creation order */
  jobs: Job[][];
  /** job id → runner name */
  ranOn: Map<number, string>;
  /** job id → archives it downloaded */
  downloads: Map<number, SeenDownload[]>;
  /** job id → bytes its runner uploaded */
  uploaded: Map<number, Uint8Array>;
  payloads: Map<number, SeenPayload>;
  /** job name → statuses seen */
  seen: Map<string, Set<string>>;
  error?: string;
}

const HOLD_LIMIT_MS = 15_000;
const SCENARIO_LIMIT_MS = 60_000;

function allJobsOf(srv: TestServer, pipelineId: number): Job[] {
  return srv.core.deps.db.select().from(jobsTable).where(eq(jobsTable.pipelineId, pipelineId)).all().sort((a, b) => a.id - b.id);
}

async function drive(srv: TestServer, s: Scenario, protocol: Protocol): Promise<Outcome> {
  const core = srv.core;
  let repo: TestRepo | null = null;
  if (s.files) repo = makeRepo({ '.gitlab-ci.yml': s['gitlab-ci'], ...s.files });
  const project = makeProject(core, repo ? { repoUrl: repo.dir } : {});
  const runnerSpecs = s.runners ?? [{ name: 'default' }];
  const runners: { name: string; fake: FakeRunner; idleEpoch: number }[] = [];
  for (const r of runnerSpecs) {
    // Project runners (the project's runners token): scenarios sharing the server stay apart.
    runners.push({ name: r.name, fake: await protocol.register(srv.url, project.runnersToken, { description: r.name, tags: r.tags ?? [], runUntagged: r.run_untagged }), idleEpoch: -1 });
  }
  const out: Outcome = { pipelines: [], jobs: [], ranOn: new Map(), downloads: new Map(), uploaded: new Map(), payloads: new Map(), seen: new Map() };
  const variables = Object.entries(s.variables ?? {}).map(([key, value]) => ({ key, value }));
  for (let i = 0; i < (s.pipelines ?? 1); i++) {
    try {
      out.pipelines.push(repo
        ? await core.creator.create(project, { ref: 'main', source: 'api', variables })
        : await makePipeline(core, project.id, s['gitlab-ci'], { variables }));
    } catch (e) {
      out.error = (e as Error & { base?: string[] }).base?.join('; ') ?? (e as Error).message;
      repo?.remove();
      return out;
    }
  }
  const projectJobs = () => core.deps.db.select().from(jobsTable).where(and(eq(jobsTable.projectId, project.id), eq(jobsTable.retried, false))).all();
  const sample = () => {
    for (const j of projectJobs()) {
      if (!out.seen.has(j.name)) out.seen.set(j.name, new Set());
      out.seen.get(j.name)!.add(j.status);
    }
  };
  const attempts = new Map<string, number>();
  const specs = new Map<number, BehaviourSpec>();
  const toPlay = [...(s.play ?? [])];
  const watch = watchWire();
  /** bumped at every change the driver makes or sees (a job taken or ended, a play, any status change) */
  let epoch = 0;
  let stop = false;
  let failure: Error | null = null;

  const hold = async (jobId: number) => {
    const b = specs.get(jobId);
    sample();
    if (b?.hold_ms) await Bun.sleep(b.hold_ms);
    if (!b?.hold_until) return;
    const { job: other, status } = b.hold_until;
    const pipelineId = core.jobs.get(jobId).pipelineId;
    const deadline = Date.now() + HOLD_LIMIT_MS;
    for (;;) {
      sample();
      const cur = core.pipelines.latestJobs(pipelineId).find((j) => j.name === other);
      if (cur?.status === status) return;
      if (Date.now() > deadline) throw new Error(`${s.file}: job #${jobId} held ${HOLD_LIMIT_MS} ms, but "${other}" never reached ${status} (it is ${cur?.status ?? 'absent'})`);
      await Bun.sleep(10);
    }
  };

  const loop = async (r: (typeof runners)[number]) => {
    while (!stop && !failure) {
      const startedAt = epoch;
      const job = await r.fake.poll();
      if (!job) { r.idleEpoch = startedAt; await Bun.sleep(5); continue; }
      epoch++;
      const id = protocol.idOf(job);
      const name = protocol.nameOf(job);
      const attempt = attempts.get(name) ?? 0;
      attempts.set(name, attempt + 1);
      const b = specFor(s, name, attempt);
      specs.set(id, b);
      out.ranOn.set(id, r.name);
      const behaviour = behaviourFrom(b, `${name}#${attempt}`);
      if (behaviour.artifacts !== undefined) out.uploaded.set(id, toBytes(behaviour.artifacts));
      await r.fake.run(job as never, behaviour, { onTick: ({ jobId }) => hold(jobId) });
      epoch++;
    }
  };

  /** Nothing can move without the driver: every runner polled in vain since the last change, nothing runs, waits for time or starts. */
  const quiet = () => {
    if (runners.some((r) => r.idleEpoch !== epoch)) return false;
    for (const j of projectJobs()) {
      if (j.status === 'running' && (j.kind === 'build' || core.pipelines.downstreamOfJob(j.id) === null)) return false;
      if (j.status === 'scheduled' || (j.kind === 'bridge' && j.status === 'pending')) return false;
    }
    return true;
  };

  const loops = runners.map((r) => loop(r).catch((e) => { failure = e as Error; }));
  const deadline = Date.now() + SCENARIO_LIMIT_MS;
  // Changes the server makes by itself (a child pipeline, a delayed job's time, a resource
  // granted) count as changes too: the runners must look again after them.
  let fingerprint = '';
  try {
    while (!failure) {
      await Bun.sleep(15);
      sample();
      const now = projectJobs().map((j) => `${j.id}:${j.status}`).sort().join(',');
      if (now !== fingerprint) { fingerprint = now; epoch++; continue; }
      if (Date.now() > deadline) throw new Error(`${s.file}: still not settled after ${SCENARIO_LIMIT_MS} ms`);
      if (!quiet()) continue;
      const next = toPlay.shift();
      if (next === undefined) break;
      const job = out.pipelines.flatMap((p) => core.pipelines.latestJobs(p.id)).find((j) => j.name === next && j.status === 'manual');
      expect(job, `${s.file}: "${next}" should be waiting to be played`).toBeDefined();
      core.jobs.play(job!.id);
      epoch++;
    }
  } finally {
    stop = true;
    await Promise.all(loops);
    watch.restore();
    repo?.remove();
  }
  if (failure) throw failure;
  await core.coverage.idle();
  sample();
  const tokenToJob = new Map([...watch.payloads.values()].map((p) => [p.token, p.id]));
  for (const d of watch.downloads) {
    const by = tokenToJob.get(d.token);
    if (by === undefined) continue;
    if (!out.downloads.has(by)) out.downloads.set(by, []);
    out.downloads.get(by)!.push(d);
  }
  out.payloads = watch.payloads;
  out.pipelines = out.pipelines.map((p) => core.pipelines.get(p.id));
  out.jobs = out.pipelines.map((p) => allJobsOf(srv, p.id));
  return out;
}

function checkStatuses(file: string, what: string, want: PipelineExpectation, pipeline: Pipeline, jobs: Job[]) {
  // statuses: a list names every attempt in order, a string the latest one
  for (const [name, w] of Object.entries(want.jobs)) {
    const attemptsOf = jobs.filter((j) => j.name === name).map((j) => j.status);
    if (Array.isArray(w)) expect(attemptsOf, `${file}: ${what}attempts of ${name}`).toEqual(w);
    else expect(attemptsOf.at(-1), `${file}: ${what}status of ${name}`).toBe(w);
  }
  const unknown = [...new Set(jobs.map((j) => j.name))].filter((n) => !(n in want.jobs));
  expect(unknown, `${file}: ${what}jobs without an expectation`).toEqual([]);
  expect(pipeline.status, `${file}: ${what}pipeline status`).toBe(want.pipeline);
}

async function check(srv: TestServer, s: Scenario, o: Outcome) {
  const e = s.expect;
  if (e.error !== undefined) {
    expect(o.error, `${s.file}: the pipeline should not be created`).toBe(e.error);
    return;
  }
  expect(o.error, `${s.file}: pipeline creation`).toBeUndefined();
  o.pipelines.forEach((p, i) => checkStatuses(s.file, o.pipelines.length > 1 ? `pipeline ${i + 1}: ` : '', e as PipelineExpectation, p, o.jobs[i]));
  const [pipeline] = o.pipelines;
  const all = o.jobs.flat();
  const latest = new Map<string, Job>();
  for (const j of o.jobs[0]) latest.set(j.name, j);

  for (const [name, runner] of Object.entries(e.ran_on ?? {})) {
    expect(o.ranOn.get(latest.get(name)!.id), `${s.file}: runner of ${name}`).toBe(runner);
  }
  for (const [name, af] of Object.entries(e.allow_failure ?? {})) expect(latest.get(name)?.allowFailure, `${s.file}: allow_failure of ${name}`).toBe(af);

  for (const [bridge, want] of Object.entries(e.downstream ?? {})) {
    const b = latest.get(bridge);
    expect(b?.kind, `${s.file}: ${bridge} is a bridge`).toBe('bridge');
    const child = srv.core.pipelines.downstreamOfJob(b!.id);
    expect(child, `${s.file}: ${bridge} created a pipeline`).not.toBeNull();
    expect(child!.source).toBe('parent_pipeline');
    const childJobs = allJobsOf(srv, child!.id);
    checkStatuses(s.file, `downstream of ${bridge}: `, want, child!, childJobs);
    all.push(...childJobs);
  }

  const byId = new Map(all.map((j) => [j.id, j]));
  if (e.downloads) {
    for (const j of all) {
      if (j.kind !== 'build' || !o.ranOn.has(j.id)) continue;
      const got = (o.downloads.get(j.id) ?? []).map((d) => byId.get(d.dependencyId)?.name ?? `#${d.dependencyId}`).sort();
      const want = j.retried ? got : [...(e.downloads[j.name] ?? [])].sort();
      expect(got, `${s.file}: archives downloaded by ${j.name} (#${j.id})`).toEqual(want);
      for (const d of o.downloads.get(j.id) ?? []) {
        const uploaded = o.uploaded.get(d.dependencyId);
        expect(uploaded, `${s.file}: ${j.name} downloaded #${d.dependencyId}, which uploaded nothing`).toBeDefined();
        // byte-exact (compared as Buffers so a mismatch reports the first differing byte)
        expect(Buffer.from(d.bytes).equals(Buffer.from(uploaded!)), `${s.file}: bytes of ${byId.get(d.dependencyId)?.name} as downloaded by ${j.name}`).toBe(true);
      }
    }
  }

  for (const [name, want] of Object.entries(e.variables ?? {})) {
    const j = all.filter((x) => x.name === name && !x.retried).at(-1);
    const payload = j ? o.payloads.get(j.id) : undefined;
    expect(payload, `${s.file}: ${name} was handed to a runner`).toBeDefined();
    const got = new Map(payload!.variables.map((v) => [v.key, v.value]));
    for (const [k, v] of Object.entries(want)) expect(got.get(k) ?? null, `${s.file}: ${k} in the payload of ${name}`).toBe(v);
  }

  if (e.test_report) {
    const res = await srv.api(`/api/v4/projects/${pipeline.projectId}/pipelines/${pipeline.id}/test_report`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(e.test_report);
  }
  for (const [name, c] of Object.entries(e.coverage ?? {})) expect(latest.get(name)?.coverage, `${s.file}: coverage of ${name}`).toBe(c);
  if (e.pipeline_coverage !== undefined) {
    const res = await srv.api(`/api/v4/projects/${pipeline.projectId}/pipelines/${pipeline.id}`);
    expect(((await res.json()) as { coverage: string | null }).coverage, `${s.file}: pipeline coverage`).toBe(e.pipeline_coverage);
  }
  for (const [name, statuses] of Object.entries(e.seen ?? {})) {
    for (const st of statuses) expect([...(o.seen.get(name) ?? [])], `${s.file}: statuses ${name} was seen in`).toContain(st);
  }
  for (const name of e.one_at_a_time ?? []) {
    const runs = all.filter((j) => j.name === name && j.startedAt !== null).sort((a, b) => a.startedAt! - b.startedAt!);
    expect(runs.length, `${s.file}: runs of ${name}`).toBeGreaterThan(1);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i].startedAt!, `${s.file}: ${name} #${runs[i].id} started before #${runs[i - 1].id} ended`).toBeGreaterThanOrEqual(runs[i - 1].finishedAt!);
    }
  }
  for (const p of o.pipelines) expect(isFinal(p.status) || p.status === 'running' || p.status === 'manual', `${s.file}: pipeline ${p.id}`).toBe(true);
}

// ---------------------------------------------------------------- the tests

let srv: TestServer;
beforeAll(async () => { srv = await startTestServer(); });
afterAll(async () => { await srv.stop(); });

test('scenario files are there', () => {
  expect(scenarios.map((s) => s.file)).toEqual(expect.arrayContaining([
    'two-stages-artifacts.yml', 'failure-skips-later-stages.yml', 'allow-failure.yml', 'when-on-failure-always.yml',
    'manual-job.yml', 'retry-auto.yml', 'dependencies-filter.yml', 'tags-routing.yml',
    'dag-needs-start-early.yml', 'dag-failed-need-skips.yml', 'needs-empty.yml', 'dotenv-to-dependant.yml', 'needs-artifacts.yml',
    'parallel-matrix-needs.yml', 'rules-and-workflow.yml', 'workflow-filtered-out.yml', 'child-pipeline-depend.yml',
    'child-pipeline-depend-fails.yml', 'resource-group-two-pipelines.yml', 'exit-codes.yml', 'junit-test-report.yml', 'coverage-from-trace.yml',
  ]));
});

const wants = (s: Scenario, p: ProtocolName) => (s.protocols ?? ['v1', 'v4']).includes(p);

describe('v1 runner (gitlab-ci-multi-runner 1.11.5)', () => {
  for (const s of scenarios.filter((x) => wants(x, 'v1'))) {
    test(`${s.file}: ${s.description}`, async () => check(srv, s, await drive(srv, s, v1)), SCENARIO_LIMIT_MS + 10_000);
  }
});

describe('v4 runner', () => {
  for (const s of scenarios.filter((x) => wants(x, 'v4'))) {
    test(`${s.file}: ${s.description}`, async () => {
      const v4 = await loadV4();
      if (v4 instanceof Error) throw v4;
      await check(srv, s, await drive(srv, s, v4));
    }, SCENARIO_LIMIT_MS + 10_000);
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
  const watch = watchWire();
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
    const got = watch.downloads.filter((d) => d.protocol === protocol);
    // each checking job downloaded both archives — one made by each protocol — byte-exact
    expect(got.map((d) => nameOf(d.dependencyId)).sort(), `${protocol} downloads`).toEqual(['from-v1', 'from-v4']);
    for (const d of got) expect(Buffer.from(d.bytes).equals(Buffer.from(archives[nameOf(d.dependencyId)])), `${protocol}: ${nameOf(d.dependencyId)}`).toBe(true);
  }
});
