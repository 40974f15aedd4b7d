/**
 * Pipeline states back to the forge, and project hooks, through the outbox — each forge's
 * status API played by a loopback server that records what it receives (Baton runs with
 * --allow-local-requests for it). Pipelines run on a fake v4 runner; the outbox worker is
 * driven by hand with a FakeClock, so backoff is exact: fail, time out, recover, give up.
 * A restart with deliveries pending (a stop and start on the same data dir) loses none.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { FakeClock } from '../../src/clock';
import { deliver, pushPayload, ZERO } from '../support/forge-deliveries';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { makeRepo } from '../support/git-repo';
import { makePipeline, REGISTRATION_TOKEN, startTestServer, type TestServer, type TestServerOptions } from '../support/harness';
import { startRecorder, type Recorder } from '../support/recorder';

const YAML = 'build:\n  script: [echo build]\n';
let server: TestServer | undefined;
let recorders: Recorder[] = [];
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const r of recorders) r.stop();
  recorders = [];
});

function recorder(fallback: number | 'hang' = 201) {
  const r = startRecorder(fallback);
  recorders.push(r);
  return r;
}

async function start(opts: TestServerOptions = {}, allowLocalRequests = true) {
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
  server = await startTestServer({ allowLocalRequests }, { clock, outboxEveryMs: 0, outbox: { requestTimeoutMs: 400 }, ...opts });
  return { clock, s: server };
}

async function forgeProject(s: TestServer, forge: { kind: string; api: string; repo: string; token?: string }) {
  const res = await s.api('/api/v4/projects', { method: 'POST', json: { name: `st-${Math.random().toString(36).slice(2, 8)}`, repo_url: '/nonexistent', forge_kind: forge.kind, forge_api_url: forge.api, forge_repo: forge.repo, forge_token: forge.token ?? 'forge-secret-token-42' } });
  expect(res.status).toBe(201);
  return res.json() as Promise<{ id: number; path: string; path_with_namespace: string; forge_kind: string; forge_token_set: boolean }>;
}

async function runOne(s: TestServer, exit: 'success' | 'failed' = 'success') {
  const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN);
  const job = await runner.poll();
  expect(job).not.toBeNull();
  await runner.run(job!, { exit });
}

const CASES = [
  { kind: 'gitea', prefix: '/api/v1', repo: 'octo/app', path: (sha: string) => `/api/v1/repos/octo/app/statuses/${sha}`, auth: ['authorization', 'token forge-secret-token-42'], states: ['pending', 'success'] },
  { kind: 'forgejo', prefix: '/api/v1', repo: 'octo/app', path: (sha: string) => `/api/v1/repos/octo/app/statuses/${sha}`, auth: ['authorization', 'token forge-secret-token-42'], states: ['pending', 'success'] },
  { kind: 'github', prefix: '', repo: 'octo/app', path: (sha: string) => `/repos/octo/app/statuses/${sha}`, auth: ['authorization', 'Bearer forge-secret-token-42'], states: ['pending', 'success'] },
  { kind: 'gitlab', prefix: '/api/v4', repo: 'grp/app', path: (sha: string) => `/api/v4/projects/grp%2Fapp/statuses/${sha}`, auth: ['private-token', 'forge-secret-token-42'], states: ['pending', 'success'] },
] as const;

describe('commit statuses', () => {
  for (const c of CASES) {
    test(`${c.kind}: each state change is posted; states in between are coalesced`, async () => {
      const rec = recorder();
      const { s } = await start();
      const p = await forgeProject(s, { kind: c.kind, api: rec.url + c.prefix, repo: c.repo });
      const pl = await makePipeline(s.core, p.id, YAML);
      await s.core.outbox.drain();
      // running and success happen before the worker runs again: only success goes out
      await runOne(s);
      await s.core.outbox.drain();
      expect(rec.requests.map((r) => [r.method, r.path])).toEqual([['POST', c.path(pl.sha)], ['POST', c.path(pl.sha)]]);
      expect(rec.requests.map((r) => (r.body as { state: string }).state)).toEqual([...c.states]);
      const last = rec.requests[1];
      expect(last.headers[c.auth[0]]).toBe(c.auth[1]);
      const target = `${s.url}/${p.path_with_namespace}/-/pipelines/${pl.id}`;
      if (c.kind === 'gitlab') {
        expect(last.body).toEqual({ state: 'success', ref: 'main', name: 'baton/pipeline', target_url: target, description: 'Pipeline passed on Baton' });
      } else {
        expect(last.body).toEqual({ state: 'success', target_url: target, description: 'Pipeline passed on Baton', context: 'baton/pipeline' });
      }
      if (c.kind === 'github') expect([last.headers.accept, last.headers['x-github-api-version']]).toEqual(['application/vnd.github+json', '2022-11-28']);
      const list = (await (await s.api(`/api/v4/projects/${p.id}/forge/deliveries?kind=commit_status`)).json()) as { state: string; event: string; response_status: number; attempts: number }[];
      expect(list.map((d) => [d.event, d.state, d.response_status])).toEqual([['success', 'done', 201], ['pending', 'done', 201]]);
    });
  }

  test('a failed pipeline maps per forge: GitHub failure, GitLab failed, Gitea failure', async () => {
    const rec = recorder();
    const { s } = await start();
    const gh = await forgeProject(s, { kind: 'github', api: rec.url, repo: 'octo/app' });
    await makePipeline(s.core, gh.id, YAML);
    await runOne(s, 'failed');
    await s.core.outbox.drain();
    expect(rec.requests.map((r) => (r.body as { state: string }).state)).toEqual(['failure']);
  });

  test('fails, times out, recovers: retried with backoff (10 s, 20 s), then done; the runner never waited', async () => {
    const rec = recorder();
    rec.script = [500, 'hang'];
    const { s, clock } = await start();
    const p = await forgeProject(s, { kind: 'gitea', api: `${rec.url}/api/v1`, repo: 'octo/app' });
    await makePipeline(s.core, p.id, YAML);
    await s.core.outbox.drain();
    const row = () => (s.core.outbox.list(p.id, { kinds: ['commit_status'], offset: 0, limit: 1 }).rows[0]);
    expect([row().state, row().attempts, row().responseStatus]).toEqual(['pending', 1, 500]);
    expect(row().nextAttemptAt - clock.now()).toBe(10_000);
    await s.core.outbox.drain(); // not due yet: nothing sent
    expect(rec.requests.length).toBe(1);
    clock.advance(10_000);
    await s.core.outbox.drain();
    expect(rec.requests.length).toBe(2);
    expect([row().state, row().attempts]).toEqual(['pending', 2]);
    expect(row().reason).toContain('timed out');
    expect(row().nextAttemptAt - clock.now()).toBe(20_000);
    clock.advance(20_000);
    await s.core.outbox.drain();
    expect([row().state, row().attempts, row().responseStatus]).toEqual(['done', 3, 201]);
    expect(rec.requests.map((r) => (r.body as { state: string }).state)).toEqual(['pending', 'pending', 'pending']);
    // finished rows are kept two weeks for the deliveries list, then pruned
    clock.advance(13 * 24 * 3600_000);
    expect(s.core.outbox.prune()).toBe(0);
    clock.advance(2 * 24 * 3600_000);
    expect(s.core.outbox.prune()).toBe(1);
    expect(row()).toBeUndefined();
  });

  test('a newer state arriving while a send is retried replaces it (one row per pipeline, latest state)', async () => {
    const rec = recorder(503);
    const { s, clock } = await start();
    const p = await forgeProject(s, { kind: 'github', api: rec.url, repo: 'octo/app' });
    await makePipeline(s.core, p.id, YAML);
    await s.core.outbox.drain();
    await runOne(s);
    rec.fallback = 201;
    clock.advance(1); // the coalesced row is due at once
    await s.core.outbox.drain();
    expect(rec.requests.map((r) => (r.body as { state: string }).state)).toEqual(['pending', 'success']);
    expect(s.core.outbox.list(p.id, { kinds: ['commit_status'], offset: 0, limit: 10 }).rows.map((r) => [r.event, r.state, r.version])).toEqual([['success', 'done', 3]]);
  });

  test('gives up after the bounded time with a log line; a 4xx fails at once', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const rec = recorder(502);
    const { s, clock } = await start({ log, outbox: { requestTimeoutMs: 400, giveUpMs: 3600_000 } });
    const p = await forgeProject(s, { kind: 'gitlab', api: `${rec.url}/api/v4`, repo: '42' });
    await makePipeline(s.core, p.id, YAML);
    for (let i = 0; i < 30; i++) {
      await s.core.outbox.drain();
      clock.advance(600_000);
    }
    const [row] = s.core.outbox.list(p.id, { kinds: ['commit_status'], offset: 0, limit: 1 }).rows;
    expect(row.state).toBe('failed');
    expect(row.reason).toMatch(/^gave up after \d+ attempts: .* answered HTTP 502/);
    // 10 s, 20 s, 40 s … 10 min: an hour is 9 attempts or so, not 30
    expect(row.attempts).toBeLessThan(12);
    expect(lines.some((l) => l.includes('outbox: giving up on a delivery'))).toBe(true);

    rec.fallback = 401;
    const q = await forgeProject(s, { kind: 'github', api: rec.url, repo: 'octo/app' });
    await makePipeline(s.core, q.id, YAML);
    await s.core.outbox.drain();
    const [refused] = s.core.outbox.list(q.id, { kinds: ['commit_status'], offset: 0, limit: 1 }).rows;
    expect([refused.state, refused.attempts, refused.responseStatus]).toEqual(['failed', 1, 401]);
  });

  test('without --allow-local-requests a loopback forge is refused, and says why', async () => {
    const rec = recorder();
    const { s } = await start({}, false);
    const p = await forgeProject(s, { kind: 'gitea', api: `${rec.url}/api/v1`, repo: 'octo/app' });
    await makePipeline(s.core, p.id, YAML);
    await s.core.outbox.drain();
    expect(rec.requests).toEqual([]);
    const [row] = s.core.outbox.list(p.id, { kinds: ['commit_status'], offset: 0, limit: 1 }).rows;
    expect(row.state).toBe('failed');
    expect(row.reason).toContain('--allow-local-requests');
  });

  test('forge settings: checked (400 naming the field), the token write-only and sealed at rest', async () => {
    const { s } = await start();
    const p = await forgeProject(s, { kind: 'github', api: 'https://api.github.com', repo: 'octo/app', token: 'ghp_verysecretforgetoken1234' });
    expect(p.forge_token_set).toBe(true);
    const shown = await (await s.api(`/api/v4/projects/${p.id}`)).text();
    expect(shown).not.toContain('ghp_verysecretforgetoken1234');
    for (const [body, why] of [
      [{ forge_kind: 'bitbucket' }, 'forge_kind does not have a valid value'],
      [{ forge_api_url: 'ftp://x' }, 'forge_api_url is invalid'],
      [{ forge_repo: 'just-a-name' }, 'forge_repo is invalid: expected owner/name'],
    ] as const) {
      const res = await s.api(`/api/v4/projects/${p.id}`, { method: 'PUT', json: body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain(why);
    }
    const fresh = await s.api('/api/v4/projects', { method: 'POST', json: { name: 'nf', repo_url: '/x', forge_kind: 'gitea' } });
    expect(((await fresh.json()) as { message: string }).message).toContain('forge_api_url is missing');
    const cleared = (await (await s.api(`/api/v4/projects/${p.id}`, { method: 'PUT', json: { forge_kind: '' } })).json()) as { forge_kind: null; forge_token_set: boolean };
    expect([cleared.forge_kind, cleared.forge_token_set]).toEqual([null, false]);
    await s.api(`/api/v4/projects/${p.id}`, { method: 'PUT', json: { forge_kind: 'gitea', forge_api_url: 'https://git.example.com/api/v1', forge_repo: 'a/b', forge_token: 'gitea-token-never-in-clear-77' } });
    const files = readdirSync(s.dataDir).filter((f) => f.startsWith('baton.db'));
    for (const f of files) expect(readFileSync(join(s.dataDir, f)).includes(Buffer.from('gitea-token-never-in-clear-77'))).toBe(false);
  });
});

describe('project hooks', () => {
  test('Pipeline Hook, Job Hook and Push Hook in GitLab shapes, with X-Gitlab-Event and X-Gitlab-Token', async () => {
    const rec = recorder(200);
    const { s } = await start();
    const repo = makeRepo();
    try {
      const p = (await (await s.api('/api/v4/projects', { method: 'POST', json: { name: 'hooks', repo_url: repo.dir } })).json()) as { id: number; webhook_secret: string };
      const hook = await s.api(`/api/v4/projects/${p.id}/hooks`, { method: 'POST', json: { url: `${rec.url}/hook`, token: 'hook-token-sent-as-is', pipeline_events: true, job_events: true } });
      expect(hook.status).toBe(201);
      const hj = (await hook.json()) as Record<string, unknown>;
      expect(hj).toMatchObject({ url: `${rec.url}/hook`, push_events: true, pipeline_events: true, job_events: true, token_set: true });
      expect(JSON.stringify(hj)).not.toContain('hook-token-sent-as-is');
      const pl = await makePipeline(s.core, p.id, YAML);
      await runOne(s);
      // a push delivered to the project's webhook is told to the hook too
      const d = deliver('github', p.webhook_secret, pushPayload('github', { ref: 'refs/heads/main', before: ZERO, after: repo.sha(), message: 'pushed\n' }));
      expect((await fetch(`${s.url}/api/v4/projects/${p.id}/webhook`, { method: 'POST', headers: d.headers, body: d.body })).status).toBe(202);
      await s.core.outbox.drain();
      const events = rec.requests.map((r) => r.headers['x-gitlab-event']);
      expect(events.filter((e) => e === 'Pipeline Hook').length).toBeGreaterThanOrEqual(3); // pending, running, success (+ the pushed pipeline's)
      expect(events).toContain('Job Hook');
      expect(events).toContain('Push Hook');
      for (const r of rec.requests) {
        expect(r.headers['x-gitlab-token']).toBe('hook-token-sent-as-is');
        expect(r.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      }
      const pipelineHooks = rec.requests.filter((r) => r.headers['x-gitlab-event'] === 'Pipeline Hook' && r.body.object_attributes.id === pl.id);
      const done = pipelineHooks.at(-1)!.body;
      expect(done.object_kind).toBe('pipeline');
      expect(done.object_attributes).toMatchObject({ id: pl.id, ref: 'main', sha: pl.sha, status: 'success', detailed_status: 'passed', stages: ['test'], source: 'api' });
      expect(done.object_attributes.finished_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      expect(done.builds[0]).toMatchObject({ name: 'build', stage: 'test', status: 'success', manual: false, allow_failure: false });
      expect(done.project.path_with_namespace).toMatch(/^root\//);
      const jobHooks = rec.requests.filter((r) => r.headers['x-gitlab-event'] === 'Job Hook' && r.body.pipeline_id === pl.id).map((r) => r.body);
      expect(jobHooks.map((j) => j.build_status)).toEqual(['pending', 'running', 'success']);
      expect(jobHooks[2]).toMatchObject({ object_kind: 'build', build_name: 'build', build_stage: 'test', sha: pl.sha, commit: { id: pl.id, sha: pl.sha, status: 'running' } }); // the pipeline ends just after its job
      const push = rec.requests.find((r) => r.headers['x-gitlab-event'] === 'Push Hook')!.body;
      expect(push).toMatchObject({ object_kind: 'push', ref: 'refs/heads/main', checkout_sha: repo.sha(), commits: [{ id: repo.sha(), message: 'pushed\n' }] });
      // hooks CRUD
      const id = hj.id as number;
      const edited = (await (await s.api(`/api/v4/projects/${p.id}/hooks/${id}`, { method: 'PUT', json: { job_events: false } })).json()) as { job_events: boolean };
      expect(edited.job_events).toBe(false);
      expect((await s.api(`/api/v4/projects/${p.id}/hooks`, { method: 'POST', json: { url: 'file:///etc/passwd' } })).status).toBe(400);
      expect((await s.api(`/api/v4/projects/${p.id}/hooks/${id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await s.api(`/api/v4/projects/${p.id}/hooks/${id}`)).status).toBe(404);
    } finally {
      repo.remove();
    }
  });
});

describe('durable across restarts', () => {
  test('statuses, hook events and webhook deliveries pending at a stop are all delivered after the next start', async () => {
    const rec = recorder(503);
    const repo = makeRepo();
    const first = await startTestServer({ allowLocalRequests: true }, { keepDataDir: true, outbox: { baseDelayMs: 50, maxDelayMs: 200, requestTimeoutMs: 1000 } });
    const dataDir = first.dataDir;
    let second: TestServer | undefined;
    try {
      const api = (path: string, init?: Parameters<TestServer['api']>[1]) => first.api(path, init);
      const p = (await (await api('/api/v4/projects', { method: 'POST', json: { name: 'durable', repo_url: repo.dir, forge_kind: 'github', forge_api_url: rec.url, forge_repo: 'octo/app', forge_token: 't' } })).json()) as { id: number; webhook_secret: string };
      await api(`/api/v4/projects/${p.id}/hooks`, { method: 'POST', json: { url: `${rec.url}/hook`, pipeline_events: true } });
      const pipelines = [await makePipeline(first.core, p.id, YAML), await makePipeline(first.core, p.id, YAML), await makePipeline(first.core, p.id, YAML)];
      for (const pl of pipelines) first.core.pipelines.cancel(pl.id);
      // wait until the worker has tried (and failed) a few times
      for (let i = 0; i < 100 && rec.requests.length < 6; i++) await Bun.sleep(20);
      expect(rec.requests.length).toBeGreaterThanOrEqual(6);
      // and a push the stopping server accepts but does not build
      await first.core.outbox.stop();
      const d = deliver('gitlab', p.webhook_secret, pushPayload('gitlab', { ref: 'refs/heads/main', before: ZERO, after: repo.sha() }));
      expect((await fetch(`${first.url}/api/v4/projects/${p.id}/webhook`, { method: 'POST', headers: d.headers, body: d.body })).status).toBe(202);
      await first.stop();

      rec.fallback = 201;
      const seenBefore = rec.requests.length;
      second = await startTestServer({ allowLocalRequests: true }, { dataDir, outbox: { baseDelayMs: 50, maxDelayMs: 200, requestTimeoutMs: 1000 } });
      for (let i = 0; i < 200 && second.core.outbox.pendingCount() > 0; i++) await Bun.sleep(25);
      expect(second.core.outbox.pendingCount()).toBe(0);
      const rows = second.core.outbox.list(p.id, { offset: 0, limit: 100 }).rows;
      expect(rows.filter((r) => r.state !== 'done').map((r) => [r.kind, r.state, r.reason])).toEqual([]);
      const statuses = rec.requests.slice(seenBefore).filter((r) => r.path.includes('/statuses/'));
      // every pipeline's latest state reached the forge: canceled → error, plus the pushed pipeline's pending
      expect(statuses.filter((r) => r.body.state === 'error').length).toBe(3);
      const built = rows.find((r) => r.kind === 'webhook')!;
      expect(built.pipelineId).not.toBeNull();
      expect(second.core.pipelines.get(built.pipelineId!).source).toBe('push');
    } finally {
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      repo.remove();
    }
  });
});
