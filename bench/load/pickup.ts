/**
 * P3 load: long-polling runners wait for work; one pipeline of one job is created at a time
 * through the REST API, and the time from sending that request to a runner holding the job
 * is one sample. Between samples the winner re-polls (to learn the new epoch) and is held
 * again before the next pipeline is created.
 */
import { main, options, ready, sleep, wallNow } from './common';
import { RunnerClient, type Proto } from './runner';

interface Opts {
  url: string; proto: Proto; runners: number; samples: number; gapMs: number;
  registrationToken: string; adminToken: string; projectId: number;
}

/** With a full sha and the content given, Baton does not ask git about the ref. */
const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';
const YAML = 'pickup:\n  script:\n    - echo picked up\n';

main(async () => {
  const o = options<Opts>();
  const runners = await Promise.all(Array.from({ length: o.runners }, () => RunnerClient.register(o.url, o.proto, o.registrationToken)));
  for (const r of runners) {
    const first = await r.poll();
    if (first.job) throw new Error('the queue was not empty before the pickup samples');
  }
  const stop = new AbortController();
  let waiting: ((t: number, id: number) => void) | null = null;
  const received: number[] = [];
  let stray = 0;
  const loops = runners.map(async (r) => {
    while (!stop.signal.aborted) {
      let a;
      try { a = await r.poll({ signal: stop.signal }); } catch (e) { if (stop.signal.aborted) return; throw e; }
      if (!a.job) continue;
      received.push(a.job.id);
      const t = wallNow();
      if (waiting) { const w = waiting; waiting = null; w(t, a.job.id); } else stray++;
    }
  });
  loops.forEach((l) => l.catch(() => {}));
  await sleep(200);
  await ready();

  const latencies: number[] = [];
  const createMs: number[] = [];
  for (let i = 0; i < o.samples; i++) {
    await sleep(o.gapMs);
    const got = new Promise<{ t: number; id: number }>((resolve, reject) => {
      waiting = (t, id) => resolve({ t, id });
      setTimeout(() => reject(new Error(`sample ${i + 1}: no runner received the job within 10 s`)), 10_000).unref();
    });
    const t0 = wallNow();
    const res = await fetch(`${o.url}/api/v4/projects/${o.projectId}/pipeline`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'private-token': o.adminToken },
      body: JSON.stringify({ ref: 'main', sha: SHA, content: YAML }),
    });
    createMs.push(wallNow() - t0);
    if (res.status !== 201) throw new Error(`create pipeline: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    const { t } = await got;
    latencies.push(t - t0);
  }
  stop.abort();
  const dup = received.length - new Set(received).size;
  return { latencies, createMs, duplicates: dup, stray };
});
