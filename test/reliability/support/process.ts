/**
 * Baton as a real child process (`bun src/main.ts serve`), for tests that must kill it with
 * SIGKILL, run two of them on one data dir, measure its memory or read what it logs on
 * stdout. Everything it prints is kept; the URL is read from its "serving on" line.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ADMIN_TOKEN = 'reliability-admin-token-9f3c2a71';
export const REGISTRATION_TOKEN = 'reliability-registration-token-5d1e';
const ROOT = resolve(import.meta.dir, '../../..');

export interface BatonProcess {
  url: string;
  pid: number;
  dataDir: string;
  /** everything written to stdout and stderr so far */
  output(): string;
  /** resident memory in bytes (Linux /proc), or null once it is gone */
  rss(): number | null;
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function tempDataDir(tag = 'rel'): string {
  return mkdtempSync(join(tmpdir(), `baton-${tag}-`));
}

/** Starts a server on a random loopback port; `flags` are extra `--flag value` pairs. */
export async function spawnBaton(dataDir: string, flags: Record<string, string> = {}, opts: { startTimeoutMs?: number } = {}): Promise<BatonProcess> {
  const args = {
    listen: '127.0.0.1:0', 'data-dir': dataDir, 'admin-token': ADMIN_TOKEN, 'registration-token': REGISTRATION_TOKEN,
    'poll-timeout': '0', 'log-level': 'warn', 'min-free-disk': '0', ...flags,
  };
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]);
  const proc = Bun.spawn([process.execPath, 'run', join(ROOT, 'src/main.ts'), 'serve', ...argv], {
    cwd: ROOT, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let urlResolve: (u: string) => void;
  const urlSeen = new Promise<string>((r) => (urlResolve = r));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      out += dec.decode(chunk, { stream: true });
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) urlResolve(m[1]);
    }
  };
  const pumps = Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>), pump(proc.stderr as ReadableStream<Uint8Array>)]);
  const exited = proc.exited.then(async (code) => { await pumps.catch(() => {}); return code; });
  const timeout = opts.startTimeoutMs ?? 20_000;
  const url = await Promise.race([
    urlSeen,
    exited.then((code) => { throw new Error(`baton exited (${code}) before listening:\n${out}`); }),
    Bun.sleep(timeout).then(() => { throw new Error(`baton did not listen within ${timeout} ms:\n${out}`); }),
  ]);
  return {
    url, pid: proc.pid, dataDir, exited,
    output: () => out,
    rss() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : null;
      } catch { return null; }
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      proc.kill('SIGTERM');
      return Promise.race([exited, Bun.sleep(15_000).then(() => { proc.kill('SIGKILL'); return exited; })]);
    },
  };
}

/** fetch that turns "connection refused / reset" (a dead server) into null instead of throwing. */
export async function tryFetch(url: string, init?: RequestInit & { timeoutMs?: number }): Promise<Response | null> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(init?.timeoutMs ?? 30_000) });
  } catch {
    return null;
  }
}
