/**
 * P8 load, the wake-up storm: many runners hold long polls; pipelines with one `gpu` job are
 * created one at a time. Two roles, each its own process:
 *
 *   creator  registers the `gpu` runners (tag_list [gpu], no untagged jobs), waits until
 *            `held` polls are held on the server (its /metrics gauge), then creates `events`
 *            pipelines one after the other through the REST API, each after the previous
 *            job was picked up and its runner polls again. It returns the latency of each
 *            pickup (POST sent → a gpu runner holding the job) and the server's CPU time
 *            over all events (/proc/<pid>/stat), then writes `stopFile`.
 *   holders  register `runners` runners without the gpu tag, hold long polls until
 *            `stopFile` exists, and count how often a poll of theirs was answered (released)
 *            once the events began (`startFile`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { main, options, ready, sleep, wallNow } from './common';
import { INFO, userAgent } from './runner';

interface Opts {
  role: 'creator' | 'holders'; url: string; registrationToken: string; runners: number;
  stopFile: string;
  /** written by the creator when the first event is created: holders count releases from then on */
  startFile: string;
  /** creator: */ adminToken?: string; projectId?: number; events?: number; gapMs?: number; serverPid?: number; held?: number;
}

const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';
const YAML = 'train:\n  tags: [gpu]\n  script:\n    - echo on a gpu\n';
const headers = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': userAgent('v4') };

async function register(url: string, token: string, tags: string[]): Promise<string> {
  const res = await fetch(`${url}/api/v4/runners`, { method: 'POST', headers, body: JSON.stringify({ token, tag_list: tags, run_untagged: tags.length === 0, info: INFO.v4 }) });
  if (res.status !== 201) throw new Error(`register: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** One long-polling runner; `onJob` hears of each job it is given (with the wall time). */
async function holdLoop(url: string, token: string, stop: () => boolean, signal: AbortSignal, onAnswer: (status: number, pipelineId: number | null, t: number) => void) {
  let lastUpdate: string | undefined;
  while (!stop()) {
    let res: Response;
    try {
      res = await fetch(`${url}/api/v4/jobs/request`, { method: 'POST', headers, signal, body: JSON.stringify({ token, info: INFO.v4, ...(lastUpdate ? { last_update: lastUpdate } : {}) }) });
    } catch (e) {
      if (stop() || signal.aborted) return;
      throw e;
    }
    const t = wallNow();
    lastUpdate = res.headers.get('x-gitlab-last-update') ?? lastUpdate;
    if (res.status === 201) {
      const job = (await res.json()) as { job_info: { pipeline_id: number } };
      onAnswer(201, job.job_info.pipeline_id, t);
    } else {
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`job request: HTTP ${res.status}`);
      onAnswer(204, null, t);
    }
  }
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 (1-based) of the whole line, in clock ticks (100/s)
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function heldOnServer(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^baton_long_polls_held (\d+)/m.exec(text)?.[1] ?? 0);
}

main(async () => {
  const o = options<Opts>();
  const stopped = () => existsSync(o.stopFile);
  const abort = new AbortController();
  const gpu = o.role === 'creator';
  const tokens: string[] = [];
  for (let i = 0; i < o.runners; i += 25) {
    tokens.push(...(await Promise.all(Array.from({ length: Math.min(25, o.runners - i) }, () => register(o.url, o.registrationToken, gpu ? ['gpu'] : [])))));
  }
  let answered = 0;
  const received = new Map<number, number>();
  let waiting: ((pipelineId: number) => void) | null = null;
  const loops = tokens.map((t) => holdLoop(o.url, t, stopped, abort.signal, (status, pipelineId, at) => {
    if (status === 201 && pipelineId !== null) {
      received.set(pipelineId, at);
      waiting?.(pipelineId);
    } else if (gpu || existsSync(o.startFile)) answered++;
  }));
  const failed = Promise.all(loops).then(() => 'done' as const);
  failed.catch(() => {});
  await sleep(300);
  await ready();
  if (!gpu) {
    const stop = setInterval(() => { if (stopped()) abort.abort(); }, 100);
    await Promise.race([failed, new Promise((r) => abort.signal.addEventListener('abort', r))]);
    clearInterval(stop);
    return { released: answered };
  }
  try {
    // every poll of every process held before the first event
    for (let i = 0; (await heldOnServer(o.url)) < o.held!; i++) {
      if (i > 200) throw new Error(`fewer than ${o.held} polls held after 10 s`);
      await sleep(50);
    }
    writeFileSync(o.startFile, 'start');
    const latencies: number[] = [];
    const cpu0 = cpuMs(o.serverPid!);
    const t0all = wallNow();
    for (let i = 0; i < o.events!; i++) {
      await sleep(o.gapMs!);
      const t0 = wallNow();
      const res = await fetch(`${o.url}/api/v4/projects/${o.projectId}/pipeline`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'private-token': o.adminToken! },
        body: JSON.stringify({ ref: `storm-${i}`, sha: SHA, content: YAML }),
      });
      if (res.status !== 201) throw new Error(`create pipeline: HTTP ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: number };
      if (!received.has(id)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`event ${i + 1}: no gpu runner got pipeline ${id}'s job within 10 s`)), 10_000);
          waiting = (p) => { if (p === id) { clearTimeout(timer); waiting = null; resolve(); } };
        });
      }
      latencies.push(received.get(id)! - t0);
    }
    const cpu = cpuMs(o.serverPid!) - cpu0;
    const seconds = (wallNow() - t0all) / 1000;
    return { latencies, cpuMs: cpu, seconds, events: o.events };
  } finally {
    writeFileSync(o.stopFile, 'stop');
    abort.abort();
  }
});
