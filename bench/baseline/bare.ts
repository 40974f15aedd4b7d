#!/usr/bin/env bun
/**
 * The baseline every Baton figure is measured against: a bare `Bun.serve` speaking just
 * enough of the runner protocols for the same load generators to drive it — no framework,
 * no database, no authentication, no validation. It is the ceiling of this machine, this
 * runtime and these load generators.
 *
 *   job request (v1/v4 path)  → 201 with a job of the same shape and size as Baton's, from an
 *                               in-memory queue of --jobs N, else 204 (long-held while the
 *                               runner echoes the current epoch and --poll-timeout > 0)
 *   POST …/pipeline            → one more job in the queue, held requests are woken
 *   PATCH trace                → the body appended to <dir>/<id>.log (appendFileSync)
 *   POST artifacts             → the raw body streamed to <dir>/<id>.upload
 *   GET /-/health              → 200
 *
 * Usage: bare.ts [--listen 127.0.0.1:0] [--dir DIR] [--jobs N] [--poll-timeout S] [--job-bytes N]
 * Prints "serving on http://…" like Baton.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    dir: { type: 'string' },
    jobs: { type: 'string', default: '0' },
    'poll-timeout': { type: 'string', default: '0' },
    'job-bytes': { type: 'string', default: '4000' },
  },
});
const [host, port] = values.listen!.split(/:(?=\d+$)/);
const ownDir = values.dir === undefined;
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'bare-'));
const pollTimeoutMs = Number(values['poll-timeout']) * 1000;
const pad = 'x'.repeat(Math.max(0, Number(values['job-bytes']) - 100));

let queued = Number(values.jobs);
let nextId = 1;
let epoch = 1;
let waiters: (() => void)[] = [];

const jobResponse = () => new Response(JSON.stringify({ id: nextId++, token: `bare-${Math.random().toString(36).slice(2)}`, pad }), {
  status: 201, headers: { 'content-type': 'application/json' },
});
const none = () => new Response(null, { status: 204, headers: { 'X-GitLab-Last-Update': String(epoch) } });

async function request(req: Request): Promise<Response> {
  if (queued > 0) { queued--; return jobResponse(); }
  if (pollTimeoutMs <= 0) return none();
  const body = (await req.json()) as { last_update?: string };
  if (body.last_update !== String(epoch)) return none();
  const deadline = Date.now() + pollTimeoutMs;
  while (Date.now() < deadline && !req.signal.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, deadline - Date.now());
      const wake = () => { clearTimeout(t); resolve(); };
      waiters.push(wake);
      req.signal.addEventListener('abort', wake, { once: true });
    });
    // A runner that went away must not take the job with it.
    if (queued > 0 && !req.signal.aborted) { queued--; return jobResponse(); }
  }
  return none();
}

async function upload(req: Request, id: string): Promise<Response> {
  const file = await open(join(dir, `${id}.upload`), 'w');
  let size = 0;
  for await (const chunk of req.body!) { size += chunk.length; await file.write(chunk); }
  await file.close();
  return Response.json({ id: Number(id), size }, { status: 201 });
}

const server = Bun.serve({
  hostname: host || '127.0.0.1',
  port: Number(port),
  maxRequestBodySize: 2 ** 40,
  idleTimeout: 255,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (req.method === 'POST' && (path.endsWith('/jobs/request') || path.includes('/builds/register'))) return request(req);
    if (req.method === 'PATCH') {
      const id = /\/(\d+)\/trace/.exec(path)?.[1] ?? '0';
      const bytes = new Uint8Array(await req.arrayBuffer());
      appendFileSync(join(dir, `${id}.log`), bytes);
      return new Response(null, { status: 202, headers: { Range: `0-${bytes.length}` } });
    }
    if (req.method === 'POST' && path.includes('/artifacts')) return upload(req, /\/(\d+)\/artifacts/.exec(path)?.[1] ?? '0');
    if (req.method === 'POST' && path.endsWith('/pipeline')) {
      queued++; epoch++;
      const w = waiters; waiters = [];
      for (const f of w) f();
      return Response.json({ id: epoch }, { status: 201 });
    }
    if (req.method === 'POST' && (path.endsWith('/runners') || path.includes('/runners/register'))) {
      return Response.json({ id: 1, token: `bare-runner-${Math.random().toString(36).slice(2)}` }, { status: 201 });
    }
    if (path === '/-/health') return Response.json({ status: 'ok' });
    return new Response('not found', { status: 404 });
  },
});
process.stdout.write(`bare baseline serving on http://${server.hostname}:${server.port} (dir ${dir})\n`);
const stop = () => {
  server.stop(true);
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
