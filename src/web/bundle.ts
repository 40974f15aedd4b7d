/**
 * A Bun macro: run at bundle time (bun test, bun run and bun build --compile alike), it
 * builds the dashboard's browser code (client/main.ts, with ansi_up) and its stylesheet with
 * `bun build --minify` and inlines the results as strings, so the binary carries them and
 * nothing is fetched at run time. (Bun.build cannot run inside a macro; the CLI can.)
 */
import { join } from 'node:path';

function build(entry: string, args: string[] = []): string {
  const r = Bun.spawnSync([process.execPath, 'build', join(import.meta.dir, entry), '--minify', ...args], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NO_COLOR: '1' } });
  if (r.exitCode !== 0) throw new Error(`bun build ${entry} failed:\n${r.stderr.toString()}`);
  return r.stdout.toString();
}

export function bundleClient(): { js: string; css: string; hash: string } {
  const js = build('client/main.ts', ['--target=browser', '--format=esm']);
  const css = build('client/style.css');
  const hash = Bun.hash(js + css).toString(36).slice(0, 10);
  return { js, css, hash };
}
