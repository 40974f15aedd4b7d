/** Real git repositories for tests: `git init` in a temp dir, commits with chosen messages and authors. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(['git', ...args], {
    cwd, stdout: 'pipe', stderr: 'pipe',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Lovelace', GIT_COMMITTER_EMAIL: 'ada@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

export interface TestRepo {
  dir: string;
  /** writes files and commits them; returns the new sha */
  commit(message: string, files?: Record<string, string>): string;
  sha(rev?: string): string;
  branch(name: string): void;
  checkout(name: string): void;
  tag(name: string, annotated?: boolean): string;
  remove(): void;
}

export const CI_YAML = 'build:\n  script: [echo build]\n';

export function makeRepo(files: Record<string, string> = { '.gitlab-ci.yml': CI_YAML }): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'baton-repo-'));
  git(dir, 'init', '--quiet', '--initial-branch=main');
  const repo: TestRepo = {
    dir,
    commit(message, more = {}) {
      for (const [path, text] of Object.entries(more)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      git(dir, 'add', '-A');
      git(dir, 'commit', '--quiet', '--allow-empty', '-m', message);
      return repo.sha();
    },
    sha: (rev = 'HEAD') => git(dir, 'rev-parse', rev),
    branch: (name) => void git(dir, 'branch', name),
    checkout: (name) => void git(dir, 'checkout', '--quiet', name),
    tag(name, annotated = false) {
      if (annotated) git(dir, 'tag', '-a', name, '-m', `release ${name}`); else git(dir, 'tag', name);
      return git(dir, 'rev-parse', name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  repo.commit('initial commit', files);
  return repo;
}
