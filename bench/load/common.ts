/**
 * What every load generator shares: its options (JSON in argv[2]), the ready/go handshake
 * with bench/run.ts (set-up is never timed, and several generators start together), the
 * result line, and a wall clock that agrees across processes.
 */

export function options<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Says "ready" and waits for run.ts to say "go" on stdin. */
export async function ready(): Promise<void> {
  process.stdout.write('ready\n');
  const reader = Bun.stdin.stream().getReader();
  let seen = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error('stdin closed before "go"');
    seen += new TextDecoder().decode(value);
    if (seen.includes('go')) break;
  }
  reader.releaseLock();
}

/** Any failure of a generator ends it with a message run.ts shows. */
export function main(fn: () => Promise<unknown>) {
  // The result line is written out whole before the exit (a large one, as P10's watchers
  // send, would be cut by process.exit while the pipe is still taking it).
  fn().then(async (r) => {
    await Bun.write(Bun.stdout, `RESULT ${JSON.stringify(r)}\n`);
    process.exit(0);
  }, (e: unknown) => {
    process.stderr.write(`load generator failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
