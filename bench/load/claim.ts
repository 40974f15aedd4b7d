/**
 * P2/P7 load: runners claiming jobs until the queue is empty. Every job id received is
 * returned, so run.ts can count jobs handed out twice across all generator processes.
 * With `sequential` one runner claims `count` jobs one after the other and the latency of
 * each claim is returned (P7).
 */
import { main, options, ready, wallNow } from './common';
import { RunnerClient, type Proto } from './runner';

interface Opts {
  url: string; proto: Proto; runners: number; registrationToken: string;
  /** P7: claim exactly this many, one at a time, and time each */
  sequential?: number;
  /** P7: claims made (untimed) before the timed ones, to warm the server up */
  warmup?: number;
}

main(async () => {
  const o = options<Opts>();
  const runners = await Promise.all(Array.from({ length: o.runners }, () => RunnerClient.register(o.url, o.proto, o.registrationToken)));
  for (let i = 0; i < (o.warmup ?? 0); i++) {
    if (!(await runners[0].poll({ echo: false })).job) throw new Error(`warm-up claim ${i + 1}: no job; seed more pending jobs`);
  }
  await ready();
  if (o.sequential !== undefined) {
    const [r] = runners;
    const latencies: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < o.sequential; i++) {
      const t0 = performance.now();
      const a = await r.poll({ echo: false });
      latencies.push(performance.now() - t0);
      if (!a.job) throw new Error(`claim ${i + 1} of ${o.sequential}: no job (HTTP ${a.status}); seed more pending jobs`);
      ids.push(a.job.id);
    }
    return { ids, latencies };
  }
  const ids: number[] = [];
  const start = wallNow();
  let lastClaim = start;
  let conflicts = 0;
  await Promise.all(runners.map(async (r) => {
    for (;;) {
      const a = await r.poll({ echo: false });
      if (a.status === 409) { conflicts++; continue; }
      if (!a.job) break;
      ids.push(a.job.id);
      lastClaim = Math.max(lastClaim, wallNow());
    }
  }));
  return { ids, start, lastClaim, conflicts };
});
