/** A Bun macro, run at bundle time: the git revision Baton is built from ("dev" outside a checkout). */
export function gitRevision(): string {
  try {
    const out = Bun.spawnSync(['git', 'rev-parse', '--short=8', 'HEAD'], { cwd: import.meta.dir, stderr: 'ignore' });
    const rev = out.stdout.toString().trim();
    return out.exitCode === 0 && /^[0-9a-f]{8}$/.test(rev) ? rev : 'dev';
  } catch {
    return 'dev';
  }
}
