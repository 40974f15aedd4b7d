/**
 * Pipelines that start themselves, with real processes:
 * - `baton hook post-receive` installed in a real bare repository, driven by `git push`
 *   (branch, second push with before_sha, tag, [skip ci], deletion);
 * - two Baton processes on one data dir with a due schedule: one pipeline, not two;
 * - the CLI: trigger create|list, schedule create|list|play, project webhook-secret, project forge set.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { openCore } from '../../src/server';
import { git } from '../support/git-repo';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { spawnBaton, ADMIN_TOKEN as REL_ADMIN, tempDataDir } from '../reliability/support/process';
import { MAIN, runBaton, SOURCE } from './spawn';

let server: TestServer;
let tmp: string;
beforeAll(async () => {
  server = await startTestServer({}, { outboxEveryMs: 50 });
  tmp = mkdtempSync(join(tmpdir(), 'baton-push-'));
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** `git` without blocking: the server answering the hook runs in this process. */
async function gitAsync(cwd: string, ...args: string[]) {
  const proc = Bun.spawn(['git', ...args], { cwd, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, HOME: cwd } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe('baton hook post-receive in a bare repository', () => {
  test('git push starts push pipelines; tags, [skip ci] and deletions as a forge would', async () => {
    const bare = join(tmp, 'app.git');
    git(tmp, 'init', '--quiet', '--bare', bare);
    const project = (await (await server.api('/api/v4/projects', { method: 'POST', json: { name: 'bare', repo_url: bare } })).json()) as { id: number; webhook_secret: string };
    const hook = join(bare, 'hooks', 'post-receive');
    writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" run "${MAIN}" hook post-receive --url "${server.url}" --project ${project.id} --token "${project.webhook_secret}"\n`);
    chmodSync(hook, 0o755);

    const work = join(tmp, 'work');
    git(tmp, 'clone', '--quiet', bare, work);
    git(work, 'checkout', '--quiet', '-b', 'main');
    writeFileSync(join(work, '.gitlab-ci.yml'), 'build:\n  script: [echo hi]\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'first: add CI');
    const first = git(work, 'rev-parse', 'HEAD');
    const pushOut = await gitAsync(work, 'push', 'origin', 'main');
    expect(pushOut.code).toBe(0);
    expect(pushOut.stderr).toContain('remote: baton: refs/heads/main: pipeline queued');

    const pipelines = async () => (await (await server.api(`/api/v4/projects/${project.id}/pipelines`)).json()) as { id: number; sha: string; before_sha: string; ref: string; tag: boolean; source: string }[];
    const [p1] = await until('the first pipeline', async () => ((await pipelines()).length === 1 ? pipelines() : null));
    expect({ sha: p1.sha, ref: p1.ref, source: p1.source, before: p1.before_sha }).toEqual({ sha: first, ref: 'main', source: 'push', before: '0'.repeat(40) });

    git(work, 'commit', '--quiet', '--allow-empty', '-m', 'second');
    const second = git(work, 'rev-parse', 'HEAD');
    git(work, 'tag', '-a', 'v1.0', '-m', 'release 1.0');
    expect((await gitAsync(work, 'push', '--quiet', 'origin', 'main', 'v1.0')).code).toBe(0);
    const three = await until('three pipelines', async () => { const l = await pipelines(); return l.length === 3 ? l : null; });
    const branch = three.find((p) => !p.tag)!;
    expect([branch.sha, branch.before_sha]).toEqual([second, first]);
    const tag = three.find((p) => p.tag)!;
    expect([tag.ref, tag.sha]).toEqual(['v1.0', second]);

    git(work, 'commit', '--quiet', '--allow-empty', '-m', 'docs [ci skip]');
    expect((await gitAsync(work, 'push', '--quiet', 'origin', 'main')).code).toBe(0);
    expect((await gitAsync(work, 'push', '--quiet', 'origin', ':refs/tags/v1.0')).code).toBe(0);
    const deliveries = async () => (await (await server.api(`/api/v4/projects/${project.id}/forge/deliveries`)).json()) as { state: string; reason: string; event: string }[];
    const d = await until('the skip and the deletion', async () => { const l = await deliveries(); return l.length === 5 ? l : null; });
    expect(d.slice(0, 2).map((x) => [x.event, x.state, x.reason])).toEqual([
      ['git push', 'skipped', 'tag v1.0 was deleted: no pipeline'],
      ['git push', 'skipped', 'the head commit asks for [skip ci]: no pipeline'],
    ]);
    expect((await pipelines()).length).toBe(3);

    // a wrong secret: git's push still succeeds (post-receive cannot undo it), the hook says why
    writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" run "${MAIN}" hook post-receive --url "${server.url}" --project ${project.id} --token wrong-secret\n`);
    git(work, 'commit', '--quiet', '--allow-empty', '-m', 'third');
    const refused = await gitAsync(work, 'push', 'origin', 'main');
    expect(refused.stderr).toContain('remote: baton: refs/heads/main: HTTP 401');
  }, 60_000);
});

describe('two processes on one data dir', () => {
  test('a due schedule creates one pipeline, not one per process', async () => {
    const dataDir = tempDataDir('sched2');
    const repo = join(tmp, 'sched-repo');
    git(tmp, 'init', '--quiet', '--initial-branch=main', repo);
    writeFileSync(join(repo, '.gitlab-ci.yml'), 'nightly:\n  script: [echo night]\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'ci');
    // made an hour and a half ago: its slot has passed
    const core = openCore({ ...loadConfig({}, {}), dataDir, logLevel: 'silent' }, { clock: new FakeClock(Date.now() - 90 * 60_000) });
    const project = core.projects.create({ name: 'two', repoUrl: repo });
    core.schedules.create(project.id, { description: 'hourly', ref: 'main', cron: '@hourly' });
    core.deps.db.$client.close();
    const [a, b] = await Promise.all([spawnBaton(dataDir), spawnBaton(dataDir)]);
    try {
      const list = async () => (await (await fetch(`${a.url}/api/v4/projects/${project.id}/pipelines`, { headers: { 'PRIVATE-TOKEN': REL_ADMIN } })).json()) as { source: string }[];
      await until('the scheduled pipeline', async () => ((await list()).length > 0 ? true : null));
      await Bun.sleep(1500); // room for a second (wrong) run to show up
      expect((await list()).map((p) => p.source)).toEqual(['schedule']);
      const deliveries = (await (await fetch(`${b.url}/api/v4/projects/${project.id}/forge/deliveries?kind=schedule`, { headers: { 'PRIVATE-TOKEN': REL_ADMIN } })).json()) as { state: string }[];
      expect(deliveries.map((d) => d.state)).toEqual(['done']);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('CLI', () => {
  const cli = (args: string[]) => runBaton(SOURCE, [...args, '--url', server.url, '--token', ADMIN_TOKEN]);

  test('trigger, schedule, webhook-secret and forge commands', async () => {
    const project = (await (await server.api('/api/v4/projects', { method: 'POST', json: { name: 'cli-auto', repo_url: '/nonexistent' } })).json()) as { id: number; webhook_secret: string };
    const P = String(project.id);
    const created = await cli(['trigger', 'create', '--project', P, '--description', 'deploy']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/token:\s+glptt-[0-9a-f]{40}/);
    const listed = await cli(['trigger', 'list', '--project', P]);
    expect(listed.stdout).toMatch(/glptt-[0-9a-f]{4}…\s+deploy/);

    const sched = await cli(['schedule', 'create', '--project', P, '--ref', 'main', '--cron', '0 4 * * *', '--timezone', 'Europe/Berlin', '--variable', 'MODE=nightly']);
    expect(sched.code).toBe(0);
    expect(sched.stdout).toContain('cron:        0 4 * * * (Europe/Berlin)');
    const schedId = /Created schedule (\d+)/.exec(sched.stdout)![1];
    expect((await cli(['schedule', 'list', '--project', P])).stdout).toContain('0 4 * * *');
    expect((await cli(['schedule', 'play', schedId, '--project', P])).stdout).toBe(`Schedule ${schedId} queued to run now.\n`);
    const bad = await cli(['schedule', 'create', '--project', P, '--ref', 'main', '--cron', 'every day']);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('cron is invalid')]);

    const shown = await cli(['project', 'webhook-secret', '--project', P]);
    expect(shown.stdout).toContain(`webhook_secret: ${project.webhook_secret}`);
    const rotated = await cli(['project', 'webhook-secret', '--project', P, '--rotate']);
    expect(rotated.stdout).not.toContain(project.webhook_secret);
    expect(rotated.stdout).toMatch(/webhook_secret: [0-9a-f]{40}/);

    const forge = await cli(['project', 'forge', 'set', '--project', P, '--kind', 'gitea', '--api-url', 'https://git.example.com/api/v1', '--repo', 'octo/app', '--forge-token', 'tok-123456']);
    expect(forge.code).toBe(0);
    expect(forge.stdout).toContain('forge_token:   set (write-only)');
    expect(forge.stdout).not.toContain('tok-123456');
    const wrong = await cli(['project', 'forge', 'set', '--project', P, '--kind', 'svn']);
    expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringContaining('forge_kind does not have a valid value')]);
  }, 60_000);
});
