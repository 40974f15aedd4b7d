/**
 * GET /metrics against a real server: the exposition parses as Prometheus text, every
 * documented name has HELP and TYPE, counters move where the core does the thing (claims,
 * conflicts, trace and artifact bytes, job histograms), HTTP series are labelled by route
 * template only, the job counts kept by triggers stay exact through every kind of change
 * (also made by a second core on the same data dir, and by cascade deletes), and
 * --metrics-token closes the endpoint to all but `Authorization: Bearer <token>`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { sql } from 'drizzle-orm';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { MetricsRegistry } from '../../src/core/metrics';
import { openCore } from '../../src/server';
import { FakeRunnerV1 } from '../support/fake-runner-v1';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { parseExposition, scrape } from '../support/prometheus';

/** The names dashboards are built on (the list), with their types. */
const DOCUMENTED: Record<string, string> = {
  baton_jobs: 'gauge',
  baton_queue_pending_jobs: 'gauge',
  baton_queue_oldest_pending_seconds: 'gauge',
  baton_job_queued_seconds: 'histogram',
  baton_job_duration_seconds: 'histogram',
  baton_runners_online: 'gauge',
  baton_long_polls_held: 'gauge',
  baton_claims_total: 'counter',
  baton_claim_conflicts_total: 'counter',
  baton_trace_bytes_total: 'counter',
  baton_artifact_bytes_total: 'counter',
  baton_http_requests_total: 'counter',
  baton_http_request_duration_seconds: 'histogram',
  baton_database_bytes: 'gauge',
  baton_data_dir_bytes: 'gauge',
  baton_artifacts_evicted_total: 'counter',
};

const YAML = `build:
  stage: build
  script: [make]
  artifacts:
    paths: [out/]
test:
  stage: test
  script: [make test]
`;

let s: TestServer;
let clock: FakeClock;
beforeAll(async () => {
  clock = new FakeClock(Date.now());
  s = await startTestServer({}, { clock });
});
afterAll(() => s?.stop());

/** What job_counts must say: a real count over jobs. */
function countedByScan(): Record<string, number> {
  const rows = s.core.deps.db.all<{ status: string; n: number }>(sql`SELECT status, count(*) AS n FROM jobs GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
async function jobsGauge(): Promise<Record<string, number>> {
  const m = await scrape(s.url);
  return Object.fromEntries(m.series('baton_jobs').filter((x) => x.value !== 0).map((x) => [x.labels.status, x.value]));
}

describe('the exposition', () => {
  test('parses as Prometheus text; every documented name has HELP and TYPE of its kind; served as text/plain 0.0.4 without a token', async () => {
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parseExposition(await res.text());
    for (const [name, type] of Object.entries(DOCUMENTED)) {
      expect({ name, type: m.type.get(name), help: (m.help.get(name) ?? '').length > 0 }).toEqual({ name, type, help: true });
    }
    // every family has both lines, and no sample is without its family
    expect([...m.type.keys()].sort()).toEqual([...m.help.keys()].sort());
    for (const key of m.samples.keys()) {
      const name = key.replace(/\{.*$/, '');
      expect(m.type.has(name) || m.type.has(name.replace(/_(bucket|sum|count)$/, ''))).toBe(true);
    }
  });

  test('a registry renders labelled counters, histograms (cumulative buckets) and gauges, escaping label values', () => {
    const r = new MetricsRegistry();
    const c = r.counterVec('x_total', 'help with \\ and\nnewline', ['route']);
    c.inc(['/a"b\\c\nd']);
    c.inc(['/a"b\\c\nd'], 2);
    const h = r.histogram('x_seconds', 'h', [1, 5]);
    for (const v of [0.5, 1, 3, 7]) h.observe(v);
    r.gauge('x_gauge', 'g', () => [{ labels: { a: 'x' }, value: 2 }]);
    r.gauge('x_broken', 'a gauge that throws has no sample', () => { throw new Error('gone'); });
    const text = r.render();
    expect(text).toContain('# HELP x_total help with \\\\ and\\nnewline\n');
    expect(text).toContain('x_total{route="/a\\"b\\\\c\\nd"} 3\n');
    expect(text).toContain('x_seconds_bucket{le="1"} 2\nx_seconds_bucket{le="5"} 3\nx_seconds_bucket{le="+Inf"} 4\nx_seconds_sum 11.5\nx_seconds_count 4\n');
    expect(text).toContain('x_gauge{a="x"} 2\n');
    expect(text).toContain('# TYPE x_broken gauge\n');
    expect(text).not.toMatch(/^x_broken /m);
    const m = parseExposition(text);
    expect(m.value('x_total', { route: '/a"b\\c\nd' })).toBe(3);
    expect(() => r.counter('x_total', 'again')).toThrow('registered twice');
    expect(() => r.counter('bad-name', 'x')).toThrow('not a Prometheus name');
    expect(() => r.histogramVec('y', 'x', ['le'], [1])).toThrow('label "le"');
  });
});

describe('counters move where the core does the thing', () => {
  test('claims, trace and artifact bytes, job histograms, jobs by status, runners online per protocol', async () => {
    const project = makeProject(s.core);
    makePipeline(s.core, project.id, YAML);
    const before = await scrape(s.url);
    clock.advance(7_000); // the build job waited 7 s
    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN);
    const archive = new Uint8Array(3000).fill(9);
    const build = await runner.runNext({ build: { output: ['compiling', 'done'], artifacts: archive } });
    expect(build?.state).toBe('success');
    const v1 = await FakeRunnerV1.register(s.url, REGISTRATION_TOKEN);
    const polled = await v1.poll();
    expect(polled?.name).toBe('test');
    const t = await v1.run(polled!, { output: ['ok'] });
    expect(t?.state).toBe('success');

    const after = await scrape(s.url);
    const delta = (name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
    expect(delta('baton_claims_total')).toBe(2);
    expect(delta('baton_artifact_bytes_total')).toBe(archive.length);
    // every byte the runners logged (v4 in slices, v1 whole)
    expect(delta('baton_trace_bytes_total')).toBeGreaterThanOrEqual(build!.trace.length + t!.trace.length);
    expect(delta('baton_job_queued_seconds_count')).toBe(2);
    expect(delta('baton_job_queued_seconds_bucket', { le: '5' })).toBe(1); // the test job waited 0 s
    expect(delta('baton_job_queued_seconds_bucket', { le: '10' })).toBe(2); // the build job 7 s
    expect(delta('baton_job_duration_seconds_count')).toBe(2);
    expect(delta('baton_jobs', { status: 'success' })).toBe(2);
    expect(after.value('baton_runners_online', { protocol: 'v1' })).toBeGreaterThanOrEqual(1);
    expect(after.value('baton_runners_online', { protocol: 'v4' })).toBeGreaterThanOrEqual(1);
    expect(after.value('baton_database_bytes')).toBeGreaterThan(0);
    expect(after.value('baton_data_dir_bytes')).toBeGreaterThan(0);
  });

  test('a claim that loses its candidate to another writer counts a conflict', async () => {
    const project = makeProject(s.core);
    const p = makePipeline(s.core, project.id, 'only:\n  script: [x]\n');
    const before = (await scrape(s.url)).value('baton_claim_conflicts_total')!;
    const { runner } = s.core.runners.create({ description: 'loser', protocol: 'v4' });
    // As if another process took the job between the search and the conditional write: the
    // write changes no row (a temporary trigger of this connection swallows it).
    const db = s.core.deps.db.$client;
    db.exec(`CREATE TEMP TRIGGER lose_claim BEFORE UPDATE OF status ON jobs WHEN NEW.status = 'running' AND OLD.pipeline_id = ${p.id} BEGIN SELECT RAISE(IGNORE); END`);
    try {
      expect(s.core.jobs.claim(s.core.runners.get(runner.id)).outcome).toBe('conflict');
    } finally {
      db.exec('DROP TRIGGER lose_claim');
    }
    expect((await scrape(s.url)).value('baton_claim_conflicts_total')).toBe(before + 1);
    s.core.pipelines.cancel(p.id);
  });

  test('long polls held, and the oldest pending wait from the index', async () => {
    const srv = await startTestServer({ pollTimeout: 10 });
    try {
      const runner = await FakeRunnerV4.register(srv.url, REGISTRATION_TOKEN);
      const first = await fetch(`${srv.url}/api/v4/jobs/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: runner.token }) });
      expect(first.status).toBe(204);
      const epoch = first.headers.get('x-gitlab-last-update')!;
      const controller = new AbortController();
      const held = fetch(`${srv.url}/api/v4/jobs/request`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: runner.token, last_update: epoch }), signal: controller.signal,
      }).catch(() => null);
      let m = await scrape(srv.url);
      for (let i = 0; i < 50 && m.value('baton_long_polls_held') !== 1; i++) { await Bun.sleep(20); m = await scrape(srv.url); }
      expect(m.value('baton_long_polls_held')).toBe(1);
      expect(m.value('baton_queue_oldest_pending_seconds')).toBe(0);
      controller.abort();
      await held;
    } finally {
      await srv.stop();
    }
    // a pending job queued 90 s ago (fake clock) is 90 s old
    const project = makeProject(s.core);
    makePipeline(s.core, project.id, 'wait:\n  script: [x]\n  tags: [nobody-has-this]\n');
    clock.advance(90_000);
    const m = await scrape(s.url);
    expect(m.value('baton_queue_oldest_pending_seconds')).toBeGreaterThanOrEqual(90);
    expect(m.value('baton_queue_pending_jobs')).toBe(countedByScan().pending);
    // the query is an index search, not a scan of jobs
    const own = new Database(join(s.dataDir, 'baton.db'), { readonly: true });
    try {
      const plan = own.query(`EXPLAIN QUERY PLAN SELECT min(queued_at) AS t FROM jobs WHERE status = 'pending'`).all() as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toContain('USING COVERING INDEX jobs_pending_queued');
    } finally {
      own.close();
    }
  });
});

describe('baton_jobs is exact without counting jobs', () => {
  test('through create, claim, finish, cancel, retry, play, pipeline delete (cascade) and a second core on the same data dir', async () => {
    const project = makeProject(s.core);
    const p1 = makePipeline(s.core, project.id, 'a:\n  script: [x]\nb:\n  script: [y]\nm:\n  script: [z]\n  when: manual\n');
    expect(await jobsGauge()).toEqual(countedByScan());
    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN);
    await runner.runNext({ a: { exit: 'failed' }, b: {}, wait: {}, only: {}, build: {}, test: {} });
    expect(await jobsGauge()).toEqual(countedByScan());
    const failed = s.core.deps.db.all<{ id: number }>(sql`SELECT id FROM jobs WHERE pipeline_id = ${p1.id} AND status = 'failed'`);
    for (const f of failed) s.core.jobs.retry(f.id);
    const manual = s.core.deps.db.all<{ id: number }>(sql`SELECT id FROM jobs WHERE pipeline_id = ${p1.id} AND status = 'manual'`);
    for (const j of manual) s.core.jobs.play(j.id);
    s.core.pipelines.cancel(p1.id);
    expect(await jobsGauge()).toEqual(countedByScan());

    // another process's changes go through the same triggers
    const other = openCore({ ...loadConfig({}, {}), dataDir: s.dataDir, logLevel: 'silent', minFreeDisk: 0 });
    try {
      const p2 = makePipeline(other, project.id, 'c:\n  script: [x]\nd:\n  script: [y]\n');
      expect(await jobsGauge()).toEqual(countedByScan());
      other.pipelines.delete(p2.id);
      expect(await jobsGauge()).toEqual(countedByScan());
    } finally {
      other.deps.db.$client.close();
    }
    // deleting the project cascades to pipelines and jobs
    s.core.projects.delete(project.id);
    expect(await jobsGauge()).toEqual(countedByScan());
  });
});

describe('HTTP metrics are labelled by route template', () => {
  test('two job ids are one series; unknown paths are "unmatched"; no raw path or query string ever becomes a label', async () => {
    for (const path of ['/api/v4/projects/1/jobs/123456', '/api/v4/projects/2/jobs/654321?private_token=secret', '/no/such/7777777']) await s.api(path);
    // refused while the body is parsed (before the route's hooks run): still its route
    expect((await s.api('/api/v4/projects', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' })).status).toBe(400);
    await fetch(`${s.url}/api/v4/jobs/99999/trace`, { method: 'PATCH', headers: { 'content-range': '0-0' }, body: 'x' });
    const m = await scrape(s.url);
    const routes = m.series('baton_http_requests_total').map((x) => x.labels.route);
    expect(routes).toContain('/api/v4/projects/:id/jobs/:job_id');
    expect(routes).toContain('/api/v4/jobs/:id/trace');
    expect(routes).toContain('unmatched');
    expect(routes.filter((r) => /\d{4,}|secret|\?/.test(r))).toEqual([]);
    const statusOf = m.series('baton_http_requests_total').filter((x) => x.labels.route === '/api/v4/jobs/:id/trace').map((x) => x.labels.status);
    expect(statusOf).toContain('404');
    expect(m.value('baton_http_request_duration_seconds_count', { route: '/api/v4/projects/:id/jobs/:job_id' })).toBeGreaterThanOrEqual(2);
    expect(m.value('baton_http_requests_total', { route: '/api/v4/projects', status: '400' })).toBe(1);
  });
});

describe('--metrics-token', () => {
  test('without the Bearer token → 401; the admin token is not it; the right one → 200', async () => {
    const srv = await startTestServer({ metricsToken: 'scrape-me-0123456789' });
    try {
      const get = (headers: Record<string, string>) => fetch(`${srv.url}/metrics`, { headers }).then(async (r) => ({ status: r.status, body: await r.text() }));
      expect(await get({})).toEqual({ status: 401, body: '{"message":"401 Unauthorized"}' });
      expect((await get({ authorization: 'Bearer scrape-me-012345678' })).status).toBe(401);
      expect((await get({ authorization: 'Bearer scrape-me-0123456789x' })).status).toBe(401);
      expect((await get({ 'private-token': srv.config.adminToken! })).status).toBe(401);
      expect((await get({ authorization: 'Basic c2NyYXBlLW1lLTAxMjM0NTY3ODk=' })).status).toBe(401);
      const ok = await get({ authorization: 'Bearer scrape-me-0123456789' });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('# TYPE baton_jobs gauge');
    } finally {
      await srv.stop();
    }
  });

  test('the flag and BATON_METRICS_TOKEN are read; a short token stops start-up naming the flag', () => {
    expect(loadConfig({ 'metrics-token': 'abcdefgh' }, {}).metricsToken).toBe('abcdefgh');
    expect(loadConfig({}, { BATON_METRICS_TOKEN: 'from-env-123' }).metricsToken).toBe('from-env-123');
    expect(() => loadConfig({ 'metrics-token': 'short' }, {})).toThrow('--metrics-token');
  });
});

test('baton_data_dir_bytes follows the data dir after a refresh', async () => {
  const before = (await s.core.dataDirSize.refresh())!;
  writeFileSync(join(s.dataDir, 'tmp', 'padding.bin'), new Uint8Array(200_000));
  expect((await s.core.dataDirSize.refresh())! - before).toBeGreaterThanOrEqual(200_000);
});
