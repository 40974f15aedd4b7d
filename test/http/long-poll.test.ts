/**
 * Long polling on both runner protocols: a request echoing the current queue value is held
 * and answered the moment a job it can take becomes pending (in-process wake-up); stale or
 * missing values are answered at once; held requests are released on shutdown and when the
 * client goes away.
 */
import { afterEach, describe, expect, test } from 'bun:test';
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
