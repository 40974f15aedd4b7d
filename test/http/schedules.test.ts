/**
 * Pipeline schedules with an injected clock: the REST API (GitLab's shapes and errors),
 * slots across both DST changes of Europe/Berlin, a downtime (a stop, the clock moved on, a
 * start on the same data dir) that runs once and not once per missed slot, play, variables
 * and `source: schedule`. Two processes on one data dir: test/process/schedules.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { FakeClock } from '../../src/clock';
import { makeRepo, type TestRepo } from '../support/git-repo';
import { startTestServer, type TestServer } from '../support/harness';
import { FakeRunnerV4 } from '../support/fake-runner-v4';

let repo: TestRepo;
beforeAll(() => { repo = makeRepo(); });
afterAll(() => repo.remove());

interface Schedule { id: number; next_run_at: string; active: boolean; cron: string; cron_timezone: string; last_pipeline: { id: number; source: string; status: string } | null; variables: { key: string; value: string; variable_type: string }[] }

async function setup(at: number) {
  const clock = new FakeClock(at);
  const server = await startTestServer({}, { clock, outboxEveryMs: 0 });
  const project = ((await (await server.api('/api/v4/projects', { method: 'POST', json: { name: `sched-${Math.random().toString(36).slice(2, 7)}`, repo_url: repo.dir } })).json()) as { id: number }).id;
  const create = async (body: Record<string, unknown>) => server.api(`/api/v4/projects/${project}/pipeline_schedules`, { method: 'POST', json: { description: 'nightly', ref: 'main', ...body } });
  const get = async (id: number) => (await (await server.api(`/api/v4/projects/${project}/pipeline_schedules/${id}`)).json()) as Schedule;
  const pipelines = async () => (await (await server.api(`/api/v4/projects/${project}/pipelines`)).json()) as { id: number; source: string }[];
  return { clock, server, project, create, get, pipelines };
}

const at = (iso: string) => new Date(iso).getTime();

describe('pipeline schedules', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  afterAll(async () => ctx?.server.stop());

  test('create, list, show, edit, delete in GitLab shapes; invalid cron or time zone → 400 naming the field', async () => {
    ctx = await setup(at('2026-01-05T10:15:00Z'));
    const res = await ctx.create({ cron: '*/30 9-17 * JAN-MAR mon-fri', cron_timezone: 'Europe/Berlin' });
    expect(res.status).toBe(201);
    const s = (await res.json()) as Schedule;
    expect(s).toMatchObject({ cron: '*/30 9-17 * JAN-MAR mon-fri', cron_timezone: 'Europe/Berlin', active: true, last_pipeline: null, variables: [] });
    expect(s.next_run_at).toBe('2026-01-05T10:30:00.000Z'); // 11:30 in Berlin (CET)
    for (const [body, why] of [
      [{ cron: '61 * * * *' }, 'cron is invalid'],
      [{ cron: '* * * * * *' }, 'cron is invalid: expected 5 fields'],
      [{ cron: '@fortnightly' }, 'cron is invalid'],
      [{ cron: '0 0 31 2 *' }, 'never runs'],
      [{ cron: '0 * * * *', cron_timezone: 'Mars/Olympus' }, 'cron_timezone is invalid'],
      [{ cron: '0 * * * *', ref: 'a..b' }, 'ref is invalid'],
      [{ ref: 'main' }, 'cron is missing'],
    ] as const) {
      const r = await ctx.create(body);
      expect(`${JSON.stringify(body)}: ${r.status}`).toBe(`${JSON.stringify(body)}: 400`);
      expect(((await r.json()) as { message: string }).message).toContain(why);
    }
    for (const nick of ['@hourly', '@daily', '@weekly', '@monthly', '@yearly']) expect((await ctx.create({ cron: nick })).status).toBe(201);
    const list = (await (await ctx.server.api(`/api/v4/projects/${ctx.project}/pipeline_schedules`)).json()) as Schedule[];
    expect(list.length).toBe(6);
    const edited = (await (await ctx.server.api(`/api/v4/projects/${ctx.project}/pipeline_schedules/${s.id}`, { method: 'PUT', json: { cron: '0 6 * * *', active: false } })).json()) as Schedule;
    expect([edited.cron, edited.active, edited.next_run_at]).toEqual(['0 6 * * *', false, '2026-01-06T05:00:00.000Z']);
    const inactive = (await (await ctx.server.api(`/api/v4/projects/${ctx.project}/pipeline_schedules?scope=inactive`)).json()) as Schedule[];
    expect(inactive.map((x) => x.id)).toEqual([s.id]);
    expect((await ctx.server.api(`/api/v4/projects/${ctx.project}/pipeline_schedules/${s.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await ctx.server.api(`/api/v4/projects/${ctx.project}/pipeline_schedules/${s.id}`)).status).toBe(404);
  });

  test('variables: add (201), edit (200), delete (202 with the variable); they reach the pipeline; play runs it now', async () => {
    const s = (await (await ctx.create({ cron: '0 0 1 1 *' })).json()) as Schedule;
    const base = `/api/v4/projects/${ctx.project}/pipeline_schedules/${s.id}/variables`;
    expect((await ctx.server.api(base, { method: 'POST', json: { key: 'TARGET', value: 'staging' } })).status).toBe(201);
    expect((await ctx.server.api(base, { method: 'POST', json: { key: 'GONE', value: 'x' } })).status).toBe(201);
    expect((await ctx.server.api(base, { method: 'POST', json: { key: 'TARGET', value: 'again' } })).status).toBe(400);
    expect((await ctx.server.api(base, { method: 'POST', json: { key: 'F', value: 'x', variable_type: 'file' } })).status).toBe(400);
    expect(((await (await ctx.server.api(`${base}/TARGET`, { method: 'PUT', json: { value: 'prod' } })).json()) as { value: string }).value).toBe('prod');
    const del = await ctx.server.api(`${base}/GONE`, { method: 'DELETE' });
    expect([del.status, ((await del.json()) as { key: string }).key]).toEqual([202, 'GONE']);
    expect((await ctx.server.api(`${base}/GONE`, { method: 'DELETE' })).status).toBe(404);
    const play = await ctx.server.api(`/api/v4/projects/${ctx.project}/pipeline_schedules/${s.id}/play`, { method: 'POST' });
    expect([play.status, await play.json()]).toEqual([201, { message: '201 Created' }]);
    await ctx.server.core.outbox.drain();
    const shown = await ctx.get(s.id);
    expect(shown.last_pipeline?.source).toBe('schedule');
    expect(shown.variables).toEqual([{ variable_type: 'env_var', key: 'TARGET', value: 'prod', raw: false, masked: false, protected: false } as never]);
    expect(ctx.server.core.pipelines.get(shown.last_pipeline!.id).triggerVariables).toEqual([{ key: 'TARGET', value: 'prod' }]);
    expect(shown.next_run_at).toBe('2027-01-01T00:00:00.000Z'); // play does not move the timetable
  });

  test('CI_PIPELINE_SCHEDULE_DESCRIPTION: the rules see it, and so does the runner', async () => {
    const own = makeRepo({ '.gitlab-ci.yml': 'nightly-only:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SCHEDULE_DESCRIPTION == "nightly build"\nother:\n  script: [y]\n  rules:\n    - if: $CI_PIPELINE_SCHEDULE_DESCRIPTION == "weekly"\nalways:\n  script: [z]\n' });
    try {
      const project = ((await (await ctx.server.api('/api/v4/projects', { method: 'POST', json: { name: 'sched-desc', repo_url: own.dir } })).json()) as { id: number }).id;
      const s = (await (await ctx.server.api(`/api/v4/projects/${project}/pipeline_schedules`, { method: 'POST', json: { description: 'nightly build', ref: 'main', cron: '0 0 1 1 *' } })).json()) as Schedule;
      expect((await ctx.server.api(`/api/v4/projects/${project}/pipeline_schedules/${s.id}/play`, { method: 'POST' })).status).toBe(201);
      await ctx.server.core.outbox.drain();
      const id = ((await (await ctx.server.api(`/api/v4/projects/${project}/pipeline_schedules/${s.id}`)).json()) as Schedule).last_pipeline!.id;
      expect(ctx.server.core.pipelines.latestJobs(id).map((j) => j.name)).toEqual(['nightly-only', 'always']);
      // a plain API pipeline has no such variable
      const api = (await (await ctx.server.api(`/api/v4/projects/${project}/pipeline`, { method: 'POST', json: { ref: 'main' } })).json()) as { id: number };
      expect(ctx.server.core.pipelines.latestJobs(api.id).map((j) => j.name)).toEqual(['always']);
      const token = ((await (await ctx.server.api(`/api/v4/projects/${project}`)).json()) as { runners_token: string }).runners_token;
      const runner = await FakeRunnerV4.register(ctx.server.url, token);
      const got = (await runner.poll())!;
      expect(got.job_info.name).toBe('nightly-only');
      const vars = new Map((runner.payloads.at(-1) as { variables: { key: string; value: string }[] }).variables.map((v) => [v.key, v.value]));
      expect(vars.get('CI_PIPELINE_SCHEDULE_DESCRIPTION')).toBe('nightly build');
    } finally { own.remove(); }
  });
});

describe('the clock', () => {
  test('spring forward: 02:30 Berlin does not exist on 29 March; the run comes right after the gap, once', async () => {
    const c = await setup(at('2026-03-28T12:00:00Z'));
    try {
      const s = (await (await c.create({ cron: '30 2 * * *', cron_timezone: 'Europe/Berlin' })).json()) as Schedule;
      expect(s.next_run_at).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
      c.clock.set(at('2026-03-29T00:59:59Z'));
      expect(c.server.core.schedules.tick()).toBe(0);
      c.clock.set(at('2026-03-29T01:00:00Z'));
      expect(c.server.core.schedules.tick()).toBe(1);
      expect(c.server.core.schedules.tick()).toBe(0);
      await c.server.core.outbox.drain();
      expect((await c.pipelines()).map((p) => p.source)).toEqual(['schedule']);
      expect((await c.get(s.id)).next_run_at).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
    } finally { await c.server.stop(); }
  });

  test('fall back: 02:30 Berlin happens twice on 25 October; the schedule runs once', async () => {
    const c = await setup(at('2026-10-24T12:00:00Z'));
    try {
      const s = (await (await c.create({ cron: '30 2 * * *', cron_timezone: 'Europe/Berlin' })).json()) as Schedule;
      expect(s.next_run_at).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST, the first one
      c.clock.set(at('2026-10-25T00:30:00Z'));
      expect(c.server.core.schedules.tick()).toBe(1);
      c.clock.set(at('2026-10-25T01:30:00Z')); // 02:30 CET, the second one
      expect(c.server.core.schedules.tick()).toBe(0);
      expect((await c.get(s.id)).next_run_at).toBe('2026-10-26T01:30:00.000Z');
    } finally { await c.server.stop(); }
  });

  test('a downtime: slots missed while Baton was down run once at start-up, not once per slot', async () => {
    const clock = new FakeClock(at('2026-02-02T08:10:00Z'));
    const first = await startTestServer({}, { clock, outboxEveryMs: 0, keepDataDir: true });
    const project = ((await (await first.api('/api/v4/projects', { method: 'POST', json: { name: 'down', repo_url: repo.dir } })).json()) as { id: number }).id;
    const s = (await (await first.api(`/api/v4/projects/${project}/pipeline_schedules`, { method: 'POST', json: { description: 'hourly', ref: 'main', cron: '0 * * * *' } })).json()) as Schedule;
    expect(s.next_run_at).toBe('2026-02-02T09:00:00.000Z');
    await first.stop();
    clock.set(at('2026-02-02T14:20:00Z')); // five slots missed
    // the next start ticks at once (its timer is far off: only the start-up tick can run)
    const second = await startTestServer({}, { clock, outboxEveryMs: 0, scheduleEveryMs: 3600_000, dataDir: first.dataDir });
    try {
      await second.core.outbox.drain();
      const pls = (await (await second.api(`/api/v4/projects/${project}/pipelines`)).json()) as { source: string }[];
      expect(pls.map((p) => p.source)).toEqual(['schedule']);
      const shown = (await (await second.api(`/api/v4/projects/${project}/pipeline_schedules/${s.id}`)).json()) as Schedule;
      expect(shown.next_run_at).toBe('2026-02-02T15:00:00.000Z');
      expect(shown.last_pipeline?.status).toBe('pending');
      expect(second.core.schedules.tick()).toBe(0);
    } finally {
      await second.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });

  test('an inactive schedule does not run; switched on again it starts from now (no catching up)', async () => {
    const c = await setup(at('2026-04-01T00:00:00Z'));
    try {
      const s = (await (await c.create({ cron: '@hourly', active: false })).json()) as Schedule;
      c.clock.advance(5 * 3600_000);
      expect(c.server.core.schedules.tick()).toBe(0);
      const on = (await (await c.server.api(`/api/v4/projects/${c.project}/pipeline_schedules/${s.id}`, { method: 'PUT', json: { active: true } })).json()) as Schedule;
      expect(on.next_run_at).toBe('2026-04-01T06:00:00.000Z');
      expect(c.server.core.schedules.tick()).toBe(0);
    } finally { await c.server.stop(); }
  });
});
