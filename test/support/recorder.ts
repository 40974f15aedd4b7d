/**
 * A loopback HTTP server that plays a forge's status API or a hook receiver: it records
 * every request (method, path, headers, JSON body) and answers as told — a status, or
 * "hang" (never answer in time) — per request, so a test can make it fail, time out and
 * recover.
 */
export interface Recorded { method: string; path: string; headers: Record<string, string>; body: any }
export type Behaviour = number | 'hang';

export interface Recorder {
  url: string;
  requests: Recorded[];
  /** answers for the next requests, in order; afterwards `fallback` */
  script: Behaviour[];
  fallback: Behaviour;
  stop(): void;
}

export function startRecorder(fallback: Behaviour = 201): Recorder {
  const rec: Recorder = {
    url: '', requests: [], script: [], fallback,
    stop: () => server.stop(true),
  };
  const server = Bun.serve({
    hostname: '127.0.0.1', port: 0, idleTimeout: 30,
    async fetch(req) {
      const text = await req.text();
      let body: unknown = text;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      const u = new URL(req.url);
      rec.requests.push({ method: req.method, path: u.pathname, headers: Object.fromEntries(req.headers.entries()), body });
      const how = rec.script.length ? rec.script.shift()! : rec.fallback;
      if (how === 'hang') { await Bun.sleep(5_000); return new Response('late', { status: 201 }); }
      return Response.json({ id: rec.requests.length }, { status: how });
    },
  });
  rec.url = `http://127.0.0.1:${server.port}`;
  return rec;
}
