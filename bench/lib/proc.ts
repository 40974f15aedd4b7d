/**
 * Processes of a benchmark run: the server under test (Baton from source, the compiled
 * binary, or the bare baseline) and the load generators, each its own process. Servers are
 * found by the "serving on http://…" line they print; their memory is read from /proc.
 */
import type { Subprocess } from 'bun';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dir, '..', '..');
export const BUN = process.execPath;
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const REGISTRATION_TOKEN = 'bench-registration-token-0123';

export interface Server {
  url: string;
  pid: number;
  /** resident memory now, bytes */
  rss(): number;
  /** peak resident memory over the process's life, bytes */
  peakRss(): number;
  stop(): Promise<void>;
}

/** VmRSS / VmHWM of a process, in bytes. */
export function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Keeps the last few KiB of a stream (for error messages) and calls `onLine` per line. */
function drain(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): { tail(): string; done: Promise<void> } {
  let tail = '';
  let partial = '';
  const done = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      const text = dec.decode(chunk, { stream: true });
      tail = (tail + text).slice(-4096);
      partial += text;
      let nl: number;
      while ((nl = partial.indexOf('\n')) !== -1) {
        onLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    }
    if (partial) onLine(partial);
  })().catch(() => {});
  return { tail: () => tail, done };
}

/** Starts a server command and resolves once it printed its URL. */
export async function startServer(cmd: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Server> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...opts.env } });
  let resolveUrl!: (u: string) => void;
  const urlSeen = new Promise<string>((r) => (resolveUrl = r));
  const out = drain(proc.stdout, (line) => {
    const m = /serving on (http:\/\/\S+)/.exec(line);
    if (m) resolveUrl(m[1]);
  });
  const err = drain(proc.stderr, () => {});
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timer: Timer | undefined;
  const url = await Promise.race([
    urlSeen,
    proc.exited.then((code) => { throw new Error(`${cmd.join(' ')} exited ${code} before serving:\n${out.tail()}${err.tail()}`); }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${cmd.join(' ')} did not print its URL within ${timeoutMs} ms:\n${out.tail()}${err.tail()}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return serverHandle(proc, url, () => out.tail() + err.tail());
}

export function serverHandle(proc: Subprocess, url: string, tail: () => string = () => ''): Server {
  return {
    url,
    pid: proc.pid,
    rss: () => procMemory(proc.pid).rss,
    peakRss: () => procMemory(proc.pid).hwm,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      let timer: Timer | undefined;
      const done = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 15_000); })]);
      clearTimeout(timer);
      if (!done) {
        proc.kill('SIGKILL');
        await proc.exited;
        throw new Error(`server ${url} did not stop on SIGTERM within 15 s:\n${tail()}`);
      }
    },
  };
}

/** Baton from source on a data dir (its own process), tokens pinned. */
export function startBaton(dataDir: string, extra: string[] = []): Promise<Server> {
  return startServer([BUN, 'run', join(ROOT, 'src/main.ts'), ...batonArgs(dataDir), ...extra]);
}

export function batonArgs(dataDir: string, listen = '127.0.0.1:0'): string[] {
  return ['--listen', listen, '--data-dir', dataDir, '--log-level', 'warn', '--admin-token', ADMIN_TOKEN, '--registration-token', REGISTRATION_TOKEN, '--min-free-disk', '0'];
}

/** The bare baseline server (bench/baseline/bare.ts). */
export function startBare(extra: string[] = []): Promise<Server> {
  return startServer([BUN, 'run', join(ROOT, 'bench/baseline/bare.ts'), ...extra]);
}

/** The P1 yardstick: one Elysia route, TypeBox body, one SQLite lookup (bench/baseline/elysia-route.ts). */
export function startElysiaRoute(tokenPrefix: string, runners: number): Promise<Server> {
  return startServer([BUN, 'run', join(ROOT, 'bench/baseline/elysia-route.ts'), '--runners', String(runners), '--token-prefix', tokenPrefix]);
}

export interface LoadSpec { script: string; options: unknown }

/**
 * Runs load generators (bench/load/<script>.ts) in their own processes: waits until every
 * one has finished its set-up ("ready"), says "go" to all at once, and returns their results.
 */
export async function runLoad<R = Record<string, unknown>>(specs: LoadSpec[], timeoutMs = 300_000): Promise<R[]> {
  const procs = specs.map((s) => {
    const proc = Bun.spawn([BUN, 'run', join(ROOT, 'bench/load', `${s.script}.ts`), JSON.stringify(s.options)], {
      cwd: ROOT, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe',
    });
    let resolveReady!: () => void;
    let result: R | undefined;
    const isReady = new Promise<void>((r) => (resolveReady = r));
    const out = drain(proc.stdout, (line) => {
      if (line === 'ready') resolveReady();
      else if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as R;
    });
    const err = drain(proc.stderr, () => {});
    const failed = proc.exited.then((code) => {
      throw new Error(`load generator ${s.script} exited ${code}:\n${err.tail() || out.tail()}`);
    });
    failed.catch(() => {});
    return { proc, isReady, failed, out, err, result: () => result, script: s.script };
  });
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`load generators did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  deadline.catch(() => {});
  try {
    await Promise.race([Promise.all(procs.map((p) => Promise.race([p.isReady, p.failed]))), deadline]);
    for (const p of procs) { p.proc.stdin.write('go\n'); p.proc.stdin.flush(); }
    return await Promise.race([
      Promise.all(procs.map(async (p) => {
        const code = await p.proc.exited;
        await p.out.done;
        const r = p.result();
        if (code !== 0 || r === undefined) throw new Error(`load generator ${p.script} exited ${code}:\n${p.err.tail() || p.out.tail()}`);
        return r;
      })),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
  }
}
