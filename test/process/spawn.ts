/**
 * Runs Baton as a real process (`bun run src/main.ts …` or a compiled binary) for the
 * process tests: collects stdout/stderr, finds the address in the JSON "baton listening"
 * log line (so the log level must let info through), and stops it with a signal.
 * The child gets a clean environment: no BATON_* variable leaks in from the caller.
 */
import type { Subprocess } from 'bun';
import { join } from 'node:path';

export const ROOT = join(import.meta.dir, '../..');
export const MAIN = join(ROOT, 'src/main.ts');
/** `bun run src/main.ts` with the bun that runs the tests. */
export const SOURCE = [process.execPath, 'run', MAIN];

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
}

function cleanEnv(extra: Record<string, string> = {}) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BATON_')) env[k] = v;
  return { ...env, ...extra };
}

async function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }, onChunk: () => void) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    sink.text += decoder.decode(chunk, { stream: true });
    onChunk();
  }
}

export interface BatonProcess {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  /** http://127.0.0.1:PORT */
  url: string;
  stdout(): string;
  stderr(): string;
  /** the parsed JSON log lines so far */
  logs(): Record<string, unknown>[];
  /** lines of stdout that are not JSON (what a person reads) */
  messages(): string[];
  /** sends the signal and waits for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** waits for the exit code (and the last output) without sending anything */
  exited(): Promise<number>;
  /** waits until stdout matches, or fails after timeoutMs */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts a long-running baton and resolves once it listens. */
export async function startBaton(cmd: string[], args: string[], opts: SpawnOptions = {}): Promise<BatonProcess> {
  const proc = Bun.spawn([...cmd, ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const out = { text: '' };
  const err = { text: '' };
  const waiters = new Set<() => void>();
  const wake = () => { for (const w of waiters) w(); };
  const drained = Promise.all([collect(proc.stdout, out, wake), collect(proc.stderr, err, wake)]);
  void proc.exited.then(wake);

  const waitFor = (pattern: RegExp, timeoutMs = 20_000) => new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const m = out.text.match(pattern);
      if (m) { waiters.delete(check); clearTimeout(timer); resolve(m); return; }
      if (proc.exitCode !== null || proc.signalCode !== null) {
        waiters.delete(check); clearTimeout(timer);
        reject(new Error(`baton exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}\nstdout:\n${out.text}\nstderr:\n${err.text}`));
      }
    };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out.text}\nstderr:\n${err.text}`)); }, timeoutMs);
    waiters.add(check);
    check();
  });

  const exited = async () => {
    const code = await proc.exited;
    await drained; // every byte the process wrote, up to EOF
    return code;
  };
  const logs = () => out.text.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
  // "serving on" comes after the token lines; the JSON line may come before or after it.
  await waitFor(/serving on http:\/\/\S+/);
  await waitFor(/"msg":"baton listening"/);
  const listening = logs().find((l) => l.msg === 'baton listening')!;
  const [host, port] = String(listening.listen).split(/:(?=\d+$)/);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return {
    proc, url, waitFor, logs,
    stdout: () => out.text,
    stderr: () => err.text,
    messages: () => out.text.split('\n').filter((l) => l !== '' && !l.startsWith('{')),
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited();
    },
  };
}

/** Runs a short baton command to completion. */
export async function runBaton(cmd: string[], args: string[], opts: SpawnOptions = {}) {
  const proc = Bun.spawn([...cmd, ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Registers a v1 runner with `token`; the status says whether the token is accepted. */
export async function registerRunner(url: string, token: string) {
  const res = await fetch(`${url}/ci/api/v1/runners/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, description: 'process-test' }) });
  await res.arrayBuffer();
  return res.status;
}
