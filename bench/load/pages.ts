/**
 * P8 load: one client asking dashboard pages one after the other (keep-alive, the admin
 * token), as a person clicking through; returns each path's latencies in ms.
 */
import { main, options, ready } from './common';

interface Opts { url: string; token: string; paths: string[]; warmup: number; requests: number }

main(async () => {
  const o = options<Opts>();
  const get = async (path: string) => {
    const res = await fetch(o.url + path, { headers: { 'private-token': o.token } });
    const body = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return body.byteLength;
  };
  for (const p of o.paths) for (let i = 0; i < o.warmup; i++) await get(p);
  await ready();
  const latencies: Record<string, number[]> = {};
  const bytes: Record<string, number> = {};
  for (const p of o.paths) {
    latencies[p] = [];
    for (let i = 0; i < o.requests; i++) {
      const t = performance.now();
      bytes[p] = await get(p);
      latencies[p].push(performance.now() - t);
    }
  }
  return { latencies, bytes };
});
