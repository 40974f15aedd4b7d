/**
 * P10 load, the runner: claims the one pending job and appends its log in fixed-size chunks
 * at a steady pace (one PATCH in flight, as a runner does), then reports success. Returns
 * when each chunk was acknowledged (offset after it → wall time), how long each PATCH took,
 * the rate kept and a hash of the whole log.
 */
import { main, options, ready, wallNow } from './common';
import { jobTokenHeader, patchTrace, RunnerClient, userAgent, type Proto } from './runner';

/** `pace`: PATCHes per second the runner aims at (0: as fast as the server answers) */
interface Opts { url: string; proto: Proto; registrationToken: string; chunks: number; chunkBytes: number; pace: number }

main(async () => {
  const o = options<Opts>();
  const runner = await RunnerClient.register(o.url, o.proto, o.registrationToken);
  const a = await runner.poll({ echo: false });
  if (!a.job) throw new Error('no job to claim');
  const job = a.job;
  const line = (i: number) => `\x1b[32m[${String(i).padStart(6, '0')}]\x1b[0m compiling module_${i % 97}.c -> module_${i % 97}.o ok\n`;
  let text = '';
  for (let i = 0; text.length < o.chunkBytes; i++) text += line(i);
  const chunk = new TextEncoder().encode(text.slice(0, o.chunkBytes - 1) + '\n');
  const hasher = new Bun.CryptoHasher('sha256');
  await ready();
  const acks: [offset: number, at: number][] = [];
  const t0 = wallNow();
  let offset = 0;
  const patchMs: number[] = [];
  for (let i = 0; i < o.chunks; i++) {
    if (o.pace > 0) {
      const due = t0 + (i * 1000) / o.pace;
      if (wallNow() < due) await Bun.sleep(due - wallNow());
    }
    const sent = wallNow();
    const res = await patchTrace(o.url, o.proto, job, offset, chunk);
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`PATCH at ${offset}: HTTP ${res.status}`);
    offset += chunk.length;
    hasher.update(chunk);
    const at = wallNow();
    acks.push([offset, at]);
    patchMs.push(at - sent);
  }
  const seconds = (wallNow() - t0) / 1000;
  const path = o.proto === 'v1' ? `/ci/api/v1/builds/${job.id}.json` : `/api/v4/jobs/${job.id}`;
  const res = await fetch(o.url + path, {
    method: 'PUT', headers: { 'content-type': 'application/json', 'user-agent': userAgent(o.proto), [jobTokenHeader(o.proto)]: job.token },
    body: JSON.stringify({ token: job.token, state: 'success' }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`final update: HTTP ${res.status}`);
  return { jobId: job.id, bytes: offset, sha256: hasher.digest('hex'), acks, patchMs, rate: o.chunks / seconds };
});
