/**
 * R1 — many runners drain a queue: each simulated v1 runner asks for work, appends one trace
 * slice and reports success, as fast as it can, against one or several Baton processes on
 * the same data dir. What comes back says which job went to whom, so the caller can prove
 * that no job was handed out twice and none was lost. Shared by test/reliability (small)
 * and test/soak (64 runners × 10 000 jobs).
 */
import { REGISTRATION_TOKEN } from '../support/process';
import { sleep, V1Client } from '../support/v1';

export interface DrainReport {
  /** job id → how many times a runner received it */
  handedOut: Map<number, number>;
  /** status → count, for every answer that is not a normal step of the protocol */
  unexpected: Map<number, number>;
  requests: number;
  conflicts: number;
  ms: number;
}

export async function drain(opts: { urls: string[]; runners: number; totalJobs: number; deadlineMs: number }): Promise<DrainReport> {
  const started = performance.now();
  const report: DrainReport = { handedOut: new Map(), unexpected: new Map(), requests: 0, conflicts: 0, ms: 0 };
  const odd = (status: number) => report.unexpected.set(status, (report.unexpected.get(status) ?? 0) + 1);
  let finished = 0;
  const deadline = performance.now() + opts.deadlineMs;

  const runner = async (i: number) => {
    // Each runner talks to one process, as a runner configured with one URL does.
    const client = new V1Client(() => opts.urls[i % opts.urls.length]);
    const reg = await client.register(REGISTRATION_TOKEN, { description: `load-${i}` });
    report.requests++;
    if (reg.status !== 201) throw new Error(`runner ${i} could not register: ${reg.status}`);
    let idle = 0;
    while (finished < opts.totalJobs && performance.now() < deadline) {
      const r = await client.requestJob(reg.token!);
      report.requests++;
      if (r.status === 409) { report.conflicts++; continue; }
      if (r.status === 204 || r.status === 404) { await sleep(Math.min(50, 5 * ++idle)); continue; }
      if (r.status !== 201) { odd(r.status); await sleep(20); continue; }
      idle = 0;
      const job = r.job!;
      report.handedOut.set(job.id, (report.handedOut.get(job.id) ?? 0) + 1);
      const line = new TextEncoder().encode(`job ${job.id} on runner ${i}\n`);
      const p = await client.patchTrace(job.id, job.token, 0, line);
      report.requests++;
      if (p.status !== 202) odd(p.status);
      const u = await client.update(job.id, reg.token!, 'success');
      report.requests++;
      if (u !== 200) odd(u);
      else finished++;
    }
  };
  await Promise.all(Array.from({ length: opts.runners }, (_, i) => runner(i)));
  report.ms = performance.now() - started;
  return report;
}
