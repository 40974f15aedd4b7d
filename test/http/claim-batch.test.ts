/**
 * Group commit (src/core/dispatch.ts, claim-batch.ts): the job requests of one event-loop
 * turn are claimed in one write transaction and share one candidate search per scope and
 * the rows of a pipeline. That must hand out exactly what the same requests, answered one
 * at a time, hand out: the same job to the same runner, with the same timeout, the same
 * fairness between projects on instance runners (which changes with every claim), the same
 * `release:` jobs failed for runners without multi_build_steps — also when more jobs are
 * taken in one batch than a search's window holds.
 *
 * Two servers get the same projects, runners and pipelines (so the same ids); on one the
 * runners ask one after the other, on the other all at once, round after round.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { FakeClock } from '../../src/clock';
import type { Runner } from '../../src/db/schema';
import type { JobContext } from '../../src/core/jobs';
import { CANDIDATE_WINDOW, SEARCH } from '../../src/core/queue';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

const matrix = (prefix: string, n: number, extra = '') =>
  Array.from({ length: n }, (_, i) => `${prefix}_${i}:\n  script: [x]\n${extra}`).join('');

interface World { runners: { runner: Runner; features?: Record<string, unknown> }[]; projectIds: number[] }

/** The same fixture on any server: three projects, jobs interleaved across them, eighteen runners. */
async function build(s: TestServer): Promise<World> {
  const x = makeProject(s.core, { name: 'x' });
  const y = makeProject(s.core, { name: 'y', buildTimeout: 1200 });
  const z = makeProject(s.core, { name: 'z' });
  // project CI/CD variables: one of the runs of variables the jobs of a batch share
  s.core.projects.createVariable(x.id, { key: 'X_SECRET', value: 'x-secret-value', masked: true });
  s.core.projects.createVariable(y.id, { key: 'Y_PLAIN', value: 'y plain' });
  // More pending jobs than one search's window plus a batch, in alternating projects and pipelines.
  await makePipeline(s.core, x.id, matrix('x', 50));
  await makePipeline(s.core, y.id, `${matrix('y', 20)}y_gpu:\n  tags: [gpu]\n  script: [x]\ny_release:\n  script: [x]\n  release: { tag_name: v1, description: d }\n`);
  await makePipeline(s.core, x.id, `variables: { GLOBAL_V: g }\n${matrix('x2', 30, '  timeout: 10m\n  variables: { OWN: "$CI_JOB_NAME" }\n')}`);
  await makePipeline(s.core, z.id, `${matrix('z', 15)}z_gpu:\n  tags: [gpu]\n  script: [x]\n`);
  await makePipeline(s.core, y.id, matrix('y2', 40));
  const shared = (i: number, extra: Partial<Parameters<TestServer['core']['runners']['register']>[0]> = {}) =>
    s.core.runners.register({ token: REGISTRATION_TOKEN, description: `shared-${i}`, protocol: 'v4', ...extra }).runner;
  const runners: World['runners'] = [];
  for (let i = 0; i < 10; i++) runners.push({ runner: shared(i), features: i % 2 ? { multi_build_steps: true } : undefined });
  runners.push({ runner: shared(10, { tagList: ['gpu'], runUntagged: false }) });
  runners.push({ runner: shared(11, { tagList: ['gpu'] }) });
  runners.push({ runner: shared(12, { maximumTimeout: 300 }) });
  for (let i = 0; i < 3; i++) runners.push({ runner: s.core.runners.create({ description: `z-${i}`, protocol: 'v4', projectId: z.id }).runner });
  for (let i = 0; i < 2; i++) runners.push({ runner: s.core.runners.create({ description: `x-${i}`, protocol: 'v4', projectId: x.id, tagList: ['gpu'] }).runner });
  return { runners, projectIds: [x.id, y.id, z.id] };
}

/** What a round handed out: runner → job name and timeout, or what else it was told; and each job's variables. */
type Round = string[];

/**
 * A job's variables, the same on both servers (they share one fixed clock): only the server's
 * address and port and the job token stand for themselves. Jobs of one batch share the rows
 * of their pipeline and project (claim-batch.ts); each must still get its own variables.
 */
function variablesOf(s: TestServer, ctx: JobContext): string {
  const { host, port } = new URL(s.url);
  return ctx.variables.map((v) => `${v.key}=${v.key === 'CI_SERVER_PORT' && v.value === port ? 'PORT' : v.value.split(ctx.token).join('TOKEN').split(host).join('HOST')} ${v.public} ${v.masked}`).join('\n');
}

function describeOutcome(s: TestServer, r: Awaited<ReturnType<TestServer['core']['dispatch']['nextJob']>>, runner: Runner): string {
  const res = r.result;
  return res.outcome === 'job'
    ? `${runner.description} → ${res.context.job.name} (${res.context.job.timeout}s)\n${variablesOf(s, res.context)}`
    : `${runner.description} → ${res.outcome}`;
}

async function oneAtATime(s: TestServer, w: World): Promise<Round> {
  const out: Round = [];
  for (const { runner, features } of w.runners) out.push(describeOutcome(s, await s.core.dispatch.nextJob(runner, undefined, { timeoutMs: 0, features }), runner));
  return out;
}

async function allAtOnce(s: TestServer, w: World): Promise<Round> {
  const answers = await Promise.all(w.runners.map(({ runner, features }) => s.core.dispatch.nextJob(runner, undefined, { timeoutMs: 0, features })));
  return answers.map((a, i) => describeOutcome(s, a, w.runners[i].runner));
}

/** Every job's end state: who took it, its timeout, its failure reason. */
function jobTable(s: TestServer): string[] {
  return s.core.deps.db.$client.query<{ line: string }, []>(`SELECT j.name || ' ' || j.status || ' ' || coalesce(r.description, '-') || ' ' ||
      coalesce(j.timeout, '-') || ' ' || coalesce(j.failure_reason, '-') AS line
    FROM jobs j LEFT JOIN runners r ON r.id = j.runner_id ORDER BY j.id`).all().map((r) => r.line);
}

describe('claims of one group commit = the same claims one at a time', () => {
  let serial: TestServer;
  let batched: TestServer;
  let ws: World;
  let wb: World;

  beforeAll(async () => {
    // one fixed clock: both servers stamp the same times (CI_PIPELINE_CREATED_AT, CI_JOB_STARTED_AT)
    const clock = new FakeClock();
    serial = await startTestServer({}, { clock });
    batched = await startTestServer({}, { clock });
    ws = await build(serial);
    wb = await build(batched);
  });
  afterAll(async () => {
    await serial.stop();
    await batched.stop();
  });

  test('the fixture is the same on both servers and more than a window plus a batch is pending', () => {
    expect(jobTable(batched)).toEqual(jobTable(serial));
    expect(wb.runners.map((r) => r.runner.id)).toEqual(ws.runners.map((r) => r.runner.id));
    const pending = serial.core.deps.db.$client.query<{ n: number }, []>(`SELECT count(*) AS n FROM jobs WHERE status = 'pending'`).get()!.n;
    expect(pending).toBeGreaterThan(CANDIDATE_WINDOW + ws.runners.length);
  });

  test('round after round, each runner gets the same job (or the same "none"), until the queue is empty', async () => {
    let rounds = 0;
    for (;;) {
      const a = await oneAtATime(serial, ws);
      const b = await allAtOnce(batched, wb);
      expect(b).toEqual(a);
      rounds++;
      if (a.every((line) => !line.includes('(')) || rounds > 20) break;
    }
    expect(rounds).toBeGreaterThan(5);
    const table = jobTable(batched);
    expect(table).toEqual(jobTable(serial));
    // the cases the fixture is there for actually happened
    expect(table.some((l) => l.startsWith('y_release failed - - runner_unsupported') || /^y_release running shared-\d+ /.test(l))).toBe(true);
    expect(table.filter((l) => l.startsWith('x2_') && l.includes(' running ')).every((l) => / (600|300) -$/.test(l))).toBe(true);
    expect(table.some((l) => / running shared-12 300 -$/.test(l))).toBe(true);
    expect(table.some((l) => /^y_\d+ running shared-\d+ 1200 -$/.test(l))).toBe(true);
  });
});

describe('the candidate search', () => {
  let s: TestServer;
  beforeAll(async () => { s = await startTestServer(); });
  afterAll(async () => { await s.stop(); });

  // jobs_queue holds every column the search reads: no job row is read per candidate (bench P2)
  test.each(['shared', 'project'] as const)('%s runners: the queue is read from jobs_queue alone (covering)', (scope) => {
    const plan = s.core.deps.db.$client.query<{ detail: string }, Record<string, string | number>>(`EXPLAIN QUERY PLAN ${SEARCH[scope]}`)
      .all(scope === 'shared' ? { tags: '[]', untagged: 1, limit: 64 } : { tags: '[]', untagged: 1, runner: 1, limit: 64 });
    expect(plan.map((p) => p.detail)).toContain('SCAN j USING COVERING INDEX jobs_queue');
  });
});
