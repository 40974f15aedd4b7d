/**
 * The live streams (Server-Sent Events) through the real server: a simulated gitlab-runner
 * writes a log while a client follows it, dropping the connection again and again and
 * resuming with Last-Event-ID — every byte arrives exactly once; statuses arrive as events;
 * the stream ends when the job ends; characters cut by a PATCH are not cut in an event; the
 * pipeline stream follows statuses; streams are bounded per user and in all, and released
 * when the client goes away and when the server stops.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createApp } from '../../src/app';
import { planFor } from '../support/compile';
import { createLogger } from '../../src/log';
import { ADMIN_TOKEN, makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { addMember, createAccount, ROLE } from '../support/accounts';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { SseReader, type SseEvent } from '../support/sse';

const auth = (token = ADMIN_TOKEN) => ({ 'PRIVATE-TOKEN': token });

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await Bun.sleep(10);
  }
}

describe('job log stream', () => {
  let s: TestServer;
  beforeAll(async () => { s = await startTestServer(); });
  afterAll(async () => { await s.stop(); });

  test('a log written by a runner arrives byte for byte, once, across dropped connections; statuses and the end are events', async () => {
    const project = makeProject(s.core);
    const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: make\n');
    const [job] = s.core.pipelines.latestJobs(pipeline.id);
    const url = `${s.url}/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream`;

    const lines = Array.from({ length: 60 }, (_, i) => `\x1b[32;1mstep ${i}\x1b[0;m — ünïcödé ✓ 🎉 ${'x'.repeat(i * 7)}`);
    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN, { updateIntervalMs: 15 });

    let reader = await SseReader.open(url, auth());
    expect(reader.response.status).toBe(200);
    expect(reader.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(reader.response.headers.get('cache-control')).toBe('no-store');
    const first = await reader.next();
    expect(first?.event).toBe('status');
    expect(JSON.parse(first!.data)).toMatchObject({ id: job.id, status: 'pending' });
    expect(reader.retry).toBe(2000);

    const run = runner.runOne({ build: { output: lines } });
    let text = '';
    let lastId = '0';
    const statuses: string[] = ['pending'];
    let end: SseEvent | undefined;
    let drops = 0;
    for (let traceEvents = 0; !end;) {
      const e = await reader.next(15_000);
      if (e === null) throw new Error('stream ended without an end event');
      if (e.event === 'trace') {
        const slice = JSON.parse(e.data) as string;
        text += slice;
        // the id is the byte offset after this slice
        expect(Number(e.id)).toBe(Buffer.byteLength(text));
        lastId = e.id!;
        if (++traceEvents % 3 === 0) {
          reader.drop();
          drops++;
          reader = await SseReader.open(url, { ...auth(), 'Last-Event-ID': lastId });
        }
      } else if (e.event === 'status') {
        statuses.push((JSON.parse(e.data) as { status: string }).status);
      } else if (e.event === 'end') {
        end = e;
      }
    }
    const result = await run;
    expect(result?.state).toBe('success');
    expect(drops).toBeGreaterThan(3);
    expect(JSON.parse(end.data)).toEqual({ status: 'success' });
    // every byte exactly once: the stored log, no more, no less
    expect(Buffer.from(text)).toEqual(Buffer.from(s.core.jobs.readTrace(job.id)));
    expect(text).toContain('step 59');
    expect(statuses).toContain('running');
    expect(statuses.at(-1)).toBe('success');
    // the stream closes after `end`
    expect(await reader.next()).toBeNull();
  }, 60_000);

  test('a character cut by a PATCH is not cut in an event; ?offset starts there; a finished job streams its rest and ends', async () => {
    const project = makeProject(s.core);
    const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: make\n');
    const [job] = s.core.pipelines.latestJobs(pipeline.id);
    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN);
    const claimed = (await runner.poll())!;
    expect(claimed.id).toBe(job.id);
    const bytes = Buffer.from('héllo 🎉 wörld\n');
    const cut = bytes.indexOf(Buffer.from('🎉')) + 2; // inside the 4-byte emoji
    const patch = (from: number, to: number) => runner.call('PATCH', `jobs/${job.id}/trace`, {
      text: bytes.subarray(from, to), headers: { 'Job-Token': claimed.token, 'Content-Range': `${from}-${to - 1}` },
    });
    expect((await patch(0, cut)).status).toBe(202);

    const reader = await SseReader.open(`${s.url}/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream`, auth());
    const a = await reader.next();
    expect(a?.event).toBe('trace');
    expect(JSON.parse(a!.data)).toBe('héllo ');
    expect(a!.id).toBe(String(Buffer.byteLength('héllo ')));
    expect((await reader.next())?.event).toBe('status');

    expect((await patch(cut, bytes.length)).status).toBe(202);
    const b = await reader.next();
    expect(b?.event).toBe('trace');
    expect(JSON.parse(b!.data)).toBe('🎉 wörld\n');
    expect(b!.id).toBe(String(bytes.length));

    const done = await runner.call('PUT', `jobs/${job.id}`, { json: { token: claimed.token, state: 'success' } });
    expect(done.status).toBe(200);
    const rest = await reader.until((e) => e.event === 'end');
    expect(rest.map((e) => e.event)).toEqual(['status', 'end']);
    expect(JSON.parse(rest[0].data).status).toBe('success');

    // a finished job: from an offset, the rest at once, then the end
    const again = await SseReader.open(`${s.url}/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream?offset=7`, auth());
    const all = await again.until((e) => e.event === 'end');
    expect(all.map((e) => e.event)).toEqual(['trace', 'status', 'end']);
    expect(Buffer.from(JSON.parse(all[0].data) as string)).toEqual(bytes.subarray(7));
    // Last-Event-ID wins over ?offset
    const resumed = await SseReader.open(`${s.url}/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream?offset=0`, { ...auth(), 'Last-Event-ID': String(bytes.length) });
    expect((await resumed.until((e) => e.event === 'end')).map((e) => e.event)).toEqual(['status', 'end']);
  }, 30_000);

  test('who may follow a log, and bad offsets (table)', async () => {
    const project = makeProject(s.core);
    const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: make\n');
    const [job] = s.core.pipelines.latestJobs(pipeline.id);
    s.core.jobs.cancel(job.id);
    const reporter = await createAccount(s);
    const stranger = await createAccount(s);
    await addMember(s, project.id, reporter.id, ROLE.reporter);
    const path = `/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream`;
    const cases: [string, Record<string, string>, string, number, string?][] = [
      ['admin', auth(), '', 200],
      ['reporter', auth(reporter.token), '', 200],
      ['non-member', auth(stranger.token), '', 404, '404 Project Not Found'],
      ['no credential', {}, '', 401, '401 Unauthorized'],
      ['garbage offset', auth(), '?offset=abc', 400, 'offset is invalid'],
      ['negative offset', auth(), '?offset=-1', 400, 'offset is invalid'],
      ['garbage Last-Event-ID', { ...auth(), 'Last-Event-ID': 'x' }, '', 400, 'Last-Event-ID is invalid'],
      ['job of another project', auth(), '', 404, '404 Job Not Found'],
    ];
    for (const [name, headers, query, status, message] of cases) {
      const p = name === 'job of another project' ? `/api/v4/projects/${makeProject(s.core).id}/jobs/${job.id}/trace/stream` : path;
      const res = await fetch(`${s.url}${p}${query}`, { headers });
      const body = status === 200 ? '' : await res.text();
      if (status === 200) await res.body?.cancel();
      expect({ name, status: res.status, message: message && body.includes(message) }).toEqual({ name, status, message: message && true });
    }
  });
});

describe('pipeline status stream', () => {
  let s: TestServer;
  beforeAll(async () => { s = await startTestServer(); });
  afterAll(async () => { await s.stop(); });

  test('the pipeline and its jobs as they change, then the end', async () => {
    const project = makeProject(s.core);
    // `needs` as the compiler stores it (jobs.spec.needs), set on the plan directly
    const parsed = { plan: await planFor('stages: [build, test]\nbuild:\n  stage: build\n  script: make\ntest:\n  stage: test\n  script: make test\n') };
    parsed.plan.jobs[1].needs = [{ job: 'build', artifacts: true, optional: false }];
    const pipeline = s.core.pipelines.create(project.id, { ref: 'main', tag: false, sha: 'a'.repeat(40) }, parsed.plan);
    const reader = await SseReader.open(`${s.url}/api/v4/projects/${project.id}/pipelines/${pipeline.id}/stream`, auth());
    expect(reader.response.status).toBe(200);
    const first = await reader.next();
    expect(first?.event).toBe('pipeline');
    const snap = JSON.parse(first!.data) as { pipeline: { id: number; status: string }; jobs: { name: string; status: string; needs: string[] | null }[] };
    expect(snap.pipeline).toMatchObject({ id: pipeline.id, status: 'pending' });
    expect(snap.jobs.map((j) => [j.name, j.status, j.needs])).toEqual([['build', 'pending', null], ['test', 'created', ['build']]]);

    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN, { updateIntervalMs: 60 });
    const slow = ['a', 'b', 'c', 'd', 'e', 'f'];
    const runAll = (async () => { while (await runner.runOne({ build: { output: slow }, test: { output: slow, exit: 'failed' } })); })();
    const events = await reader.until((e) => e.event === 'end');
    await runAll;
    const seen = events.filter((e) => e.event === 'pipeline').map((e) => {
      const d = JSON.parse(e.data) as typeof snap;
      return `${d.pipeline.status}:${d.jobs.map((j) => j.status).join(',')}`;
    });
    expect(seen).toContain('running:running,created');
    expect(seen.at(-1)).toBe('failed:success,failed');
    // an event says something new
    expect(seen.every((x, i) => i === 0 || x !== seen[i - 1])).toBe(true);
    expect(JSON.parse(events.at(-1)!.data)).toEqual({ status: 'failed' });
    expect(await reader.next()).toBeNull();
  }, 30_000);
});

describe('limits and release', () => {
  test('a silent stream sends keep-alive comments and looks again each time (changes made by another process are seen)', async () => {
    const s = await startTestServer();
    try {
      const app = createApp(s.core, createLogger('silent'), { pollTimeoutMs: 0, streams: { perUser: 5, total: 5, keepAliveMs: 150 } });
      const project = makeProject(s.core);
      const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: make\n');
      const [job] = s.core.pipelines.latestJobs(pipeline.id);
      const controller = new AbortController();
      const res = await app.handle(new Request(`http://baton.test/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream`, { headers: auth(), signal: controller.signal }));
      const reader = new SseReader(res, controller);
      expect((await reader.next())?.event).toBe('status');
      // written behind the notifier's back, as another Baton process on the same data dir would
      s.core.deps.db.$client.run(`UPDATE jobs SET status = 'canceled' WHERE id = ${job.id}`);
      const rest = await reader.until((e) => e.event === 'end', 5000);
      expect(reader.comments).toBeGreaterThanOrEqual(1);
      expect(rest.map((e) => e.event)).toEqual(['status', 'end']);
    } finally {
      await s.stop();
    }
  });

  test('streams are bounded per user and in all (429 + Retry-After), and a dropped client gives its slot back', async () => {
    const s = await startTestServer({ maxStreamsPerUser: 2, maxStreams: 3 });
    try {
      const project = makeProject(s.core);
      const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: make\n');
      const [job] = s.core.pipelines.latestJobs(pipeline.id);
      const url = `${s.url}/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream`;
      const other = await createAccount(s);
      await addMember(s, project.id, other.id, ROLE.reporter);
      const a = await SseReader.open(url, auth());
      const b = await SseReader.open(`${s.url}/api/v4/projects/${project.id}/pipelines/${pipeline.id}/stream`, auth());
      expect([a.response.status, b.response.status]).toEqual([200, 200]);
      const third = await fetch(url, { headers: auth() });
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('5');
      expect(((await third.json()) as { message: string }).message).toContain('at most 2 per user');
      const c = await SseReader.open(url, auth(other.token));
      expect(c.response.status).toBe(200);
      const overall = await fetch(url, { headers: auth(other.token) });
      expect(overall.status).toBe(429);
      expect(((await overall.json()) as { message: string }).message).toContain('at most 3');
      expect(s.core.deps.notifier.traces.watchers).toBe(2);

      a.drop();
      await until(() => s.core.deps.notifier.traces.watchers === 1);
      const again = await SseReader.open(url, auth());
      expect(again.response.status).toBe(200);
      for (const r of [b, c, again]) r.drop();
      await until(() => s.core.deps.notifier.traces.watchers === 0 && s.core.deps.notifier.pipelines.watchers === 0);
    } finally {
      await s.stop();
    }
  }, 30_000);

  test('stopping the server ends every open stream at once (no wait for the grace period)', async () => {
    const s = await startTestServer();
    const project = makeProject(s.core);
    const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: make\n');
    const [job] = s.core.pipelines.latestJobs(pipeline.id);
    const readers = await Promise.all([
      SseReader.open(`${s.url}/api/v4/projects/${project.id}/jobs/${job.id}/trace/stream`, auth()),
      SseReader.open(`${s.url}/api/v4/projects/${project.id}/pipelines/${pipeline.id}/stream`, auth()),
    ]);
    for (const r of readers) expect((await r.next())?.event).toMatch(/status|pipeline/);
    const t0 = performance.now();
    const ends = readers.map(async (r) => { while (await r.next(5000)); return true; });
    await s.stop(); // grace 1000 ms
    expect(await Promise.all(ends)).toEqual([true, true]);
    expect(performance.now() - t0).toBeLessThan(900);
    expect(s.core.deps.notifier.traces.watchers + s.core.deps.notifier.pipelines.watchers).toBe(0);
  }, 30_000);
});
