/**
 * Helpers for the REST API tests: real local git repositories in a temp dir, a runner that
 * takes and ends jobs through the core, and typed JSON reads.
 */
import { expect } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Core } from '../../src/core';
import type { Project, Runner } from '../../src/db/schema';
import { REGISTRATION_TOKEN } from '../support/harness';
import { requireGit } from '../support/git';

export const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';

/** Runs git in `cwd`; throws with git's stderr on failure; returns stdout trimmed. */
export function git(cwd: string, ...args: string[]): string {
  requireGit();
  const r = Bun.spawnSync(['git', '-c', 'user.name=Baton Test', '-c', 'user.email=test@baton.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

export interface LocalRepo {
  dir: string;
  /** writes the files, commits them all on the current branch, returns the full sha */
  commit(files: Record<string, string>, message?: string): string;
  /** `git <args>` in the repo */
  git(...args: string[]): string;
  remove(): void;
}

/** A fresh repository with one commit of `files` on `main`. */
export function makeRepo(files: Record<string, string>): LocalRepo {
  const dir = mkdtempSync(join(tmpdir(), 'baton-repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  const repo: LocalRepo = {
    dir,
    commit(f, message = 'change') {
      for (const [path, text] of Object.entries(f)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
    git: (...args) => git(dir, ...args),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  repo.commit(files, 'initial');
  return repo;
}

/** An instance runner registered through the core. */
export function sharedRunner(core: Core, opts: { description?: string; tags?: string[] } = {}): Runner {
  return core.runners.register({ token: REGISTRATION_TOKEN, protocol: 'v4', description: opts.description ?? 'test runner', tagList: opts.tags }).runner;
}

/** A project runner of `project` only: it never takes the jobs other tests left pending. */
export function projectRunner(core: Core, project: Project, opts: { description?: string; tags?: string[] } = {}): Runner {
  return core.runners.register({ token: project.runnersToken, protocol: 'v1', description: opts.description ?? 'project runner', tagList: opts.tags }).runner;
}

/** The runner takes the next job it may (there must be one) and ends it with `state` (or leaves it running). */
export function runNext(core: Core, runner: Runner, state: 'success' | 'failed' | 'running' = 'success', trace?: string) {
  const claimed = core.jobs.claim(runner);
  if (claimed.outcome !== 'job') throw new Error(`no job for runner ${runner.id}: ${claimed.outcome}`);
  const job = claimed.context.job;
  if (trace !== undefined) core.jobs.appendTrace(job, 0, new TextEncoder().encode(trace));
  if (state !== 'running') core.jobs.update(job, { state });
  return core.jobs.get(job.id);
}

export async function body<T = any>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(`${res.status} ${text}`.slice(0, 600)).toStartWith(`${status} `);
  return text === '' ? (undefined as T) : JSON.parse(text);
}

/** The admin-token cases every route shares: missing, wrong, and both header spellings working. */
export const BAD_TOKENS: { name: string; headers: Record<string, string> }[] = [
  { name: 'no token', headers: {} },
  { name: 'wrong PRIVATE-TOKEN', headers: { 'PRIVATE-TOKEN': 'not-the-admin-token' } },
  { name: 'wrong Bearer', headers: { Authorization: 'Bearer not-the-admin-token' } },
  { name: 'registration token', headers: { 'PRIVATE-TOKEN': REGISTRATION_TOKEN } },
];
