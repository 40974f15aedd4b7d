/**
 * P1 load: N keep-alive runners polling an empty queue as fast as they can, each echoing
 * the `X-GitLab-Last-Update` it was given (as real runners do). Counts answers completed
 * inside the measured window after a warm-up.
 */
import { main, options, ready, wallNow } from './common';
import { RunnerClient, type Proto } from './runner';

interface Opts { url: string; proto: Proto; clients: number; warmupMs: number; durationMs: number; registrationToken: string; echo: boolean }

main(async () => {
  const o = options<Opts>();
  const runners: RunnerClient[] = [];
  for (let i = 0; i < o.clients; i += 16) {
    runners.push(...(await Promise.all(Array.from({ length: Math.min(16, o.clients - i) }, () => RunnerClient.register(o.url, o.proto, o.registrationToken)))));
  }
  for (const r of runners) await r.poll();
  await ready();
  const start = wallNow();
  const from = start + o.warmupMs;
  const until = from + o.durationMs;
  let counted = 0;
  let jobs = 0;
  await Promise.all(runners.map(async (r) => {
    while (wallNow() < until) {
      const a = await r.poll({ echo: o.echo });
      if (a.status === 201) jobs++;
      const t = wallNow();
      if (t >= from && t < until) counted++;
    }
  }));
  if (jobs > 0) throw new Error(`the queue was not empty: ${jobs} jobs handed out`);
  return { polls: counted, seconds: o.durationMs / 1000, rate: counted / (o.durationMs / 1000) };
});
