/**
 * Long polling on both runner protocols: a request echoing the current queue value is held
 * and answered the moment a job it can take becomes pending (in-process wake-up); stale or
 * missing values are answered at once; held requests are released on shutdown and when the
 * client goes away.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { openCore } from '../../src/server';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

let server: TestServer;
let stopped = false;
afterEach(async () => {
  if (!stopped) await server?.stop();
  stopped = false;
});

interface Protocol {
  name: string;
  register(): Promise<string>;
  request(token: string, lastUpdate?: string, signal?: AbortSignal): Promise<Response>;
  noJob: number;
}

const json = (url: string, body: unknown, extra: RequestInit = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.7.5; linux/amd64)' }, body: JSON.stringify(body), ...extra });

const protocols: Protocol[] = [
  {
    name: 'v1 builds/register',
    noJob: 204,
    async register() { return (await (await json(`${server.url}/ci/api/v1/runners/register.json`, { token: REGISTRATION_TOKEN })).json() as { token: string }).token; },
    request(token, lastUpdate, signal) { return json(`${server.url}/ci/api/v1/builds/register.json`, { token, ...(lastUpdate ? { last_update: lastUpdate } : {}) }, { signal }); },
  },
  {
    name: 'v4 jobs/request',
    noJob: 204,
    async register() { return (await (await json(`${server.url}/api/v4/runners`, { token: REGISTRATION_TOKEN })).json() as { token: string }).token; },
    request(token, lastUpdate, signal) { return json(`${server.url}/api/v4/jobs/request`, { token, ...(lastUpdate ? { last_update: lastUpdate } : {}) }, { signal }); },
  },
];

async function until(cond: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await Bun.sleep(2);
  }
}

describe.each(protocols)('long polling: $name', (p) => {
  test('a held request gets a new job within milliseconds of the pipeline being created', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const project = makeProject(server.core);
    const token = await p.register();
    const first = await p.request(token);
    expect(first.status).toBe(p.noJob);
    const lastUpdate = first.headers.get('x-gitlab-last-update')!;
    expect(lastUpdate).toBeTruthy();
    const held = p.request(token, lastUpdate);
    await until(() => server.core.deps.notifier.waiting === 1);
    const t0 = performance.now();
    await makePipeline(server.core, project.id, 'job:\n  script: [echo hi]\n');
    const res = await held;
    const pickup = performance.now() - t0;
    expect(res.status).toBe(201);
    expect(((await res.json()) as { id: number }).id).toBeGreaterThan(0);
    expect(pickup).toBeLessThan(200);
  });

  test('a stale or missing last_update is answered at once; holding is off with --poll-timeout 0', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const token = await p.register();
    const t0 = performance.now();
    const stale = await p.request(token, 'stale-value');
    expect(stale.status).toBe(p.noJob);
    expect(stale.headers.get('x-gitlab-last-update')).not.toBe('stale-value');
    expect(performance.now() - t0).toBeLessThan(1000);
    await server.stop();
    server = await startTestServer({ pollTimeout: 0 });
    const token2 = await p.register();
    const lu = (await p.request(token2)).headers.get('x-gitlab-last-update')!;
    const t1 = performance.now();
    expect((await p.request(token2, lu)).status).toBe(p.noJob);
    expect(performance.now() - t1).toBeLessThan(1000);
  });

  test('a job the runner cannot take (other tags) does not release it; its own job does', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const project = makeProject(server.core);
    const token = await p.register();
    const lu = (await p.request(token)).headers.get('x-gitlab-last-update')!;
    const held = p.request(token, lu);
    await until(() => server.core.deps.notifier.waiting === 1);
    await makePipeline(server.core, project.id, 'gpu:\n  tags: [gpu]\n  script: [x]\n');
    await Bun.sleep(50);
    expect(server.core.deps.notifier.waiting).toBe(1);
    await makePipeline(server.core, project.id, 'plain:\n  script: [x]\n');
    const res = await held;
    expect(res.status).toBe(201);
    expect(((await res.json()) as Record<string, unknown>).id).toBeDefined();
  });

  test('shutdown releases held requests with a no-job answer', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const token = await p.register();
    const lu = (await p.request(token)).headers.get('x-gitlab-last-update')!;
    const held = p.request(token, lu);
    await until(() => server.core.deps.notifier.waiting === 1);
    const t0 = performance.now();
    const stopping = server.stop();
    stopped = true;
    const res = await held;
    expect(res.status).toBe(p.noJob);
    expect(performance.now() - t0).toBeLessThan(1000);
    await stopping;
  });

  test('a client that goes away stops being held', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const token = await p.register();
    const lu = (await p.request(token)).headers.get('x-gitlab-last-update')!;
    const ac = new AbortController();
    const held = p.request(token, lu, ac.signal).catch(() => 'aborted');
    await until(() => server.core.deps.notifier.waiting === 1);
    ac.abort();
    expect(await held).toBe('aborted');
    await until(() => server.core.deps.notifier.waiting === 0);
  });
});

/**
 * The slow poll paths (issue 14, bench P1b/P8): held polls are woken only when a job their
 * runner's tags fit became pending, another process's work still reaches them, and a runner
 * that does not echo last_update searches the queue once per epoch, not once per poll.
 */
describe('who is woken, and who searches', () => {
  const register = async (tags: string[] = []) => (await (await json(`${server.url}/api/v4/runners`, { token: REGISTRATION_TOKEN, tag_list: tags, run_untagged: tags.length === 0 })).json() as { token: string }).token;
  const request = (token: string, lastUpdate?: string) => json(`${server.url}/api/v4/jobs/request`, { token, ...(lastUpdate ? { last_update: lastUpdate } : {}) });
  /** Counts the queue searches (claims) the core makes. */
  function countClaims() {
    const jobs = server.core.jobs;
    const real = jobs.take.bind(jobs);
    const seen: number[] = [];
    // every claim (held or batched) takes through take()
    jobs.take = (runner, features, batch) => { seen.push(runner.id); return real(runner, features, batch); };
    return seen;
  }

  // `fit`: the runners whose tags fit; exactly one of them is woken (one per new job) and takes it.
  const cases: { name: string; yaml: string; fit: ('plain' | 'gpu' | 'gpuLinux')[] }[] = [
    { name: 'a gpu job wakes one of the two gpu runners, which takes it', yaml: 'x:\n  tags: [gpu]\n  script: [x]\n', fit: ['gpu', 'gpuLinux'] },
    { name: 'a gpu+linux job wakes the gpu+linux runner only', yaml: 'x:\n  tags: [gpu, linux]\n  script: [x]\n', fit: ['gpuLinux'] },
    { name: 'an untagged job wakes the runner that runs untagged jobs only', yaml: 'x:\n  script: [x]\n', fit: ['plain'] },
    { name: 'a job no runner fits wakes nobody', yaml: 'x:\n  tags: [arm]\n  script: [x]\n', fit: [] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      server = await startTestServer({ pollTimeout: 20 });
      const project = makeProject(server.core);
      const tokens = { plain: await register(), gpu: await register(['gpu']), gpuLinux: await register(['gpu', 'linux']) };
      const ids = Object.fromEntries(Object.entries(tokens).map(([k, t]) => [server.core.runners.authenticate(t)!.id, k]));
      const lu = (await request(tokens.plain)).headers.get('x-gitlab-last-update')!;
      const answers: Record<string, number> = {};
      const held = Object.entries(tokens).map(([k, t]) => request(t, lu).then((r) => { answers[k] = r.status; }));
      await until(() => server.core.deps.notifier.waiting === 3);
      const claims = countClaims();
      await makePipeline(server.core, project.id, c.yaml);
      await Bun.sleep(100);
      const took = Object.entries(answers).filter(([, s]) => s === 201).map(([k]) => k);
      expect(claims.map((id) => ids[id])).toEqual(took);
      expect(took.length).toBe(c.fit.length ? 1 : 0);
      if (c.fit.length) expect(c.fit).toContain(took[0] as never);
      expect(server.core.deps.notifier.waiting).toBe(3 - took.length);
      await server.stop();
      stopped = true;
      await Promise.all(held);
    });
  }

  test('two new jobs wake two runners; a woken runner that may not take the job wakes the next', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const project = makeProject(server.core);
    const elsewhere = makeProject(server.core);
    // held first, so woken first: a project runner of another project, with the gpu tag
    const other = server.core.runners.create({ protocol: 'v4', projectId: elsewhere.id, tagList: ['gpu'], runUntagged: false });
    const shared = [await register(['gpu']), await register(['gpu'])];
    const lu = (await request(other.token)).headers.get('x-gitlab-last-update')!;
    const answers: number[] = [];
    const heldOther = request(other.token, lu).then((r) => r.status);
    await until(() => server.core.deps.notifier.waiting === 1);
    const heldShared = shared.map((t) => request(t, lu).then((r) => { answers.push(r.status); }));
    await until(() => server.core.deps.notifier.waiting === 3);
    const claims = countClaims();
    await makePipeline(server.core, project.id, 'a:\n  tags: [gpu]\n  script: [x]\nb:\n  tags: [gpu]\n  script: [x]\n');
    await Promise.all(heldShared);
    expect(answers).toEqual([201, 201]);
    expect(claims[0]).toBe(other.runner.id);
    expect(claims.length).toBe(3);
    expect(server.core.deps.notifier.waiting).toBe(1);
    await server.stop();
    stopped = true;
    expect(await heldOther).toBe(204);
  });

  test('a runner setting change wakes every held poll, which reads its runner again', async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const project = makeProject(server.core);
    const token = await register(['gpu']);
    const id = server.core.runners.authenticate(token)!.id;
    await makePipeline(server.core, project.id, 'x:\n  tags: [arm]\n  script: [x]\n');
    const lu = (await request(token)).headers.get('x-gitlab-last-update')!;
    const held = request(token, lu);
    await until(() => server.core.deps.notifier.waiting === 1);
    server.core.runners.edit(id, { tagList: ['gpu', 'arm'] });
    const res = await held;
    expect(res.status).toBe(201);
  });

  test("another process's new job reaches a poll held here (the epoch watcher, within about 2 s)", async () => {
    server = await startTestServer({ pollTimeout: 20 });
    const project = makeProject(server.core);
    const token = await register();
    const lu = (await request(token)).headers.get('x-gitlab-last-update')!;
    const held = request(token, lu);
    await until(() => server.core.deps.notifier.waiting === 1);
    const other = openCore(server.config);
    try {
      await makePipeline(other, project.id, 'x:\n  script: [x]\n');
      const t0 = performance.now();
      const res = await held;
      expect(res.status).toBe(201);
      expect(performance.now() - t0).toBeLessThan(4000);
    } finally {
      other.deps.db.$client.close();
    }
  });

  test('without last_update, a runner searches the queue once per epoch; new work is found at once', async () => {
    server = await startTestServer({ pollTimeout: 0 });
    const project = makeProject(server.core);
    const token = await register();
    const claims = countClaims();
    for (let i = 0; i < 5; i++) expect((await request(token)).status).toBe(204);
    expect(claims.length).toBe(1);
    await makePipeline(server.core, project.id, 'x:\n  script: [x]\n');
    expect((await request(token)).status).toBe(201);
    expect(claims.length).toBe(2);
  });
});

describe('claims of one event-loop turn share one commit', () => {
  const register = async () => (await (await json(`${server.url}/api/v4/runners`, { token: REGISTRATION_TOKEN })).json() as { token: string }).token;
  const request = (token: string) => json(`${server.url}/api/v4/jobs/request`, { token });

  test('16 runners asking at once get 16 different jobs in fewer transactions than claims', async () => {
    server = await startTestServer({ pollTimeout: 0 });
    const project = makeProject(server.core);
    await makePipeline(server.core, project.id, Array.from({ length: 20 }, (_, i) => `j${i}:\n  script: [x]\n`).join(''));
    const tokens = await Promise.all(Array.from({ length: 16 }, () => register()));
    const client = server.core.deps.db.$client;
    const real = { transaction: client.transaction.bind(client), exec: client.exec.bind(client) };
    let immediate = 0;
    // counts the write transactions begun (IMMEDIATE), whether by bun:sqlite's helper or by a plain BEGIN
    (client as { transaction: unknown }).transaction = (fn: (...a: unknown[]) => unknown) => {
      const t = real.transaction(fn);
      return Object.assign((...a: unknown[]) => t(...a), { immediate: (...a: unknown[]) => { immediate++; return t.immediate(...a); }, deferred: t.deferred, exclusive: t.exclusive });
    };
    (client as { exec: unknown }).exec = (sql: string, ...a: unknown[]) => {
      if (/^\s*BEGIN IMMEDIATE/i.test(sql)) immediate++;
      return (real.exec as (s: string, ...b: unknown[]) => unknown)(sql, ...a);
    };
    const answers = await Promise.all(tokens.map((t) => request(t).then(async (r) => ({ status: r.status, id: r.status === 201 ? ((await r.json()) as { id: number }).id : null }))));
    Object.assign(client, real);
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(201));
    expect(new Set(answers.map((a) => a.id)).size).toBe(16);
    expect(immediate).toBeGreaterThan(0);
    expect(immediate).toBeLessThan(16);
  });

  test('a claim that fails inside a shared transaction fails alone', async () => {
    server = await startTestServer({ pollTimeout: 0 });
    const project = makeProject(server.core);
    await makePipeline(server.core, project.id, Array.from({ length: 8 }, (_, i) => `j${i}:\n  script: [x]\n`).join(''));
    const tokens = await Promise.all(Array.from({ length: 8 }, () => register()));
    const broken = server.core.runners.authenticate(tokens[3])!.id;
    const jobs = server.core.jobs;
    const real = jobs.take.bind(jobs);
    jobs.take = (runner, features, batch) => {
      const r = real(runner, features, batch);
      if (runner.id === broken) throw new Error('injected failure after the take');
      return r;
    };
    const statuses = await Promise.all(tokens.map((t) => request(t).then((r) => r.status)));
    jobs.take = real;
    expect(statuses[3]).toBe(500);
    expect(statuses.filter((s) => s === 201).length).toBe(7);
    // the broken claim's take was rolled back (the batch undone, then its claim alone): its job is still pending
    const pending = server.core.deps.db.$client.query("SELECT count(*) AS n FROM jobs WHERE status = 'pending'").get() as { n: number };
    expect(pending.n).toBe(1);
  });
});
