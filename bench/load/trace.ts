/**
 * P4 load: N running jobs, each appending its log in fixed-size chunks at the next byte
 * offset as fast as the server acknowledges them (one PATCH in flight per job, as a runner
 * does). Counts chunks acknowledged inside the measured window; returns each job's final
 * length so run.ts can check the bytes on disk.
 */
import { main, options, ready, wallNow } from './common';
import { patchTrace, RunnerClient, type ClaimedJob, type Proto } from './runner';

interface Opts { url: string; proto: Proto; jobs: number; chunkBytes: number; warmupMs: number; durationMs: number; registrationToken: string }

/** Log-like text: numbered lines of printable ASCII. */
function logChunk(n: number): Uint8Array {
  const line = (i: number) => `[${String(i).padStart(6, '0')}] step ${i % 17}: compiling module_${i % 97}.c -> module_${i % 97}.o ok\n`;
  let s = '';
  for (let i = 0; s.length < n; i++) s += line(i);
  return new TextEncoder().encode(s.slice(0, n));
}

main(async () => {
  const o = options<Opts>();
  const runner = await RunnerClient.register(o.url, o.proto, o.registrationToken);
  const jobs: ClaimedJob[] = [];
  while (jobs.length < o.jobs) {
    const a = await runner.poll({ echo: false });
    if (!a.job) throw new Error(`only ${jobs.length} of ${o.jobs} jobs could be claimed`);
    jobs.push(a.job);
  }
  const chunk = logChunk(o.chunkBytes);
  await ready();
  const start = wallNow();
  const from = start + o.warmupMs;
  const until = from + o.durationMs;
  let counted = 0;
  const lengths = await Promise.all(jobs.map(async (job) => {
    let offset = 0;
    while (wallNow() < until) {
      const res = await patchTrace(o.url, o.proto, job, offset, chunk);
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`trace PATCH job ${job.id} at ${offset}: HTTP ${res.status}`);
      offset += chunk.length;
      const t = wallNow();
      if (t >= from && t < until) counted++;
    }
    return { id: job.id, length: offset };
  }));
  const seconds = o.durationMs / 1000;
  return { chunks: counted, rate: counted / seconds, mibps: (counted * o.chunkBytes) / 2 ** 20 / seconds, lengths };
});
