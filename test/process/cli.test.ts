/**
 * The client commands (`baton project|pipeline|job|runner …`) as a person runs them: the
 * real `baton` process (bun run src/main.ts) against a real server over HTTP. Jobs are
 * driven through the v1 runner API, so `job trace --follow` follows a log that grows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../support/compile';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { ROOT, runBaton, SOURCE } from './spawn';

const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';
const YAML = 'build:\n  stage: build\n  script: make\ntest:\n  stage: test\n  script: make test\n';

let server: TestServer;
let tmp: string;
beforeAll(async () => {
  server = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'baton-cli-'));
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface CliOptions { connect?: boolean; env?: Record<string, string> }
const connection = (opts: CliOptions) => (opts.connect === false ? [] : ['--url', server.url, '--token', ADMIN_TOKEN]);

/** Runs `baton …args` to completion; with the test server's --url and --token unless connect: false. */
const cli = (args: string[], opts: CliOptions = {}) => runBaton(SOURCE, [...args, ...connection(opts)], { env: opts.env });

/** Collects a process's stdout as it arrives, so a test can wait for a piece of it. */
function collect(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  const state = { text: '', done: false, waiters: [] as (() => void)[] };
  const wake = () => { for (const w of state.waiters.splice(0)) w(); };
  const finished = (async () => {
    for await (const chunk of stream) {
      state.text += decoder.decode(chunk, { stream: true });
      wake();
    }
    state.text += decoder.decode();
    state.done = true;
    wake();
  })();
  return {
    get text() { return state.text; },
    finished,
    /** resolves once stdout ends with `suffix`; fails after 10 s saying what arrived */
    async waitForEnd(suffix: string) {
      const deadline = Date.now() + 10_000;
      while (!state.text.endsWith(suffix)) {
        if (state.done || Date.now() > deadline) throw new Error(`stdout never ended with ${JSON.stringify(suffix)}; got ${JSON.stringify(state.text)}`);
        await new Promise<void>((resolve) => {
          state.waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
    },
  };
}

async function createProject(name: string) {
  const { stdout, code, stderr } = await cli(['project', 'create', '--name', name, '--repo-url', `https://git.example.com/${name}.git`, '--json']);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(stdout) as { id: number; path: string; runners_token: string };
}

async function createPipeline(projectId: number, yaml = YAML) {
  const file = join(tmp, `ci-${projectId}-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  const { stdout, code, stderr } = await cli(['pipeline', 'create', '--project', String(projectId), '--ref', 'main', '--sha', SHA, '--file', file, '--json']);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(stdout) as { id: number; status: string };
}

/** A v1 runner (gitlab-ci-multi-runner 1.x) of one project, so other tests' jobs stay out of its way. */
async function v1Runner(runnersToken: string) {
  const post = (path: string, body: unknown) => fetch(`${server.url}/ci/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reg = await post('/runners/register', { token: runnersToken, description: 'cli-test-runner' });
  expect(reg.status).toBe(201);
  const { token } = (await reg.json()) as { token: string };
  return {
    async take() {
      const res = await post('/builds/register', { token });
      expect(res.status).toBe(201);
      const build = (await res.json()) as { id: number; token: string };
      let length = 0;
      return {
        id: build.id,
        /** PATCHes the bytes at the end of the log, as the runner does */
        async append(piece: string | Uint8Array) {
          const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
          const res = await fetch(`${server.url}/ci/api/v1/builds/${build.id}/trace.txt`, {
            method: 'PATCH',
            headers: { 'BUILD-TOKEN': build.token, 'Content-Range': `${length}-${length + bytes.length - 1}`, 'content-type': 'text/plain' },
            body: bytes,
          });
          expect(res.status).toBe(202);
          length += bytes.length;
        },
        async finish(state: 'success' | 'failed') {
          const res = await fetch(`${server.url}/ci/api/v1/builds/${build.id}`, {
            method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, state }),
          });
          expect(res.status).toBe(200);
        },
      };
    },
  };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe('help', () => {
  test('baton --help lists every client command and how to connect', async () => {
    const { code, stdout } = await cli(['--help'], { connect: false });
    expect(code).toBe(0);
    for (const line of ['project create', 'project list', 'lint [FILE]', 'pipeline create', 'pipeline show ID', 'job trace ID', 'runner list', 'user create', 'user list', 'token create', 'token list', 'token revoke ID', 'BATON_URL', 'BATON_TOKEN']) {
      expect(stdout).toContain(line);
    }
    // a command name never runs into its summary: a long one has the summary on the next line
    const lines = stdout.slice(stdout.indexOf('Commands:'), stdout.indexOf('Server flags')).split('\n');
    for (const [i, line] of lines.entries()) {
      if (!/^  \S/.test(line)) continue;
      const aligned = /^  .{20}  \S/.test(line) || (/^  \S+( \S+)*$/.test(line) && (lines[i + 1] ?? '').startsWith(' '.repeat(24)));
      expect({ line, aligned }).toEqual({ line, aligned: true });
    }
    expect(stdout).toContain('  project webhook-secret\n                        the project');
    // the forge's token is --forge-token: --token is the caller's own API token
    expect(stdout).toContain('  project forge set     where pipeline statuses go (--project, --kind, --api-url, --repo, [--forge-token])\n');
  });

  test.each([
    ['project', 'create', '--repo-url'],
    ['project', 'list', '--json'],
    ['pipeline', 'create', '--file'],
    ['pipeline', 'show', 'Without it, the projects are asked in turn'],
    ['job', 'trace', '1 when it ends failed'],
    ['runner', 'list', '--json'],
    ['user', 'create', 'BATON_NEW_PASSWORD'],
    ['token', 'create', 'shown'],
  ])('baton %s %s --help', async (group, sub, text) => {
    const { code, stdout, stderr } = await cli([group, sub, '--help'], { connect: false });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toStartWith(`Usage: baton ${group} ${sub}`);
    expect(stdout.replace(/\s+/g, ' ')).toContain(text);
    expect(stdout).toContain('--token TOKEN');
  });

  test('a group without a command names the choices', async () => {
    const { code, stderr } = await cli(['pipeline'], { connect: false });
    expect(code).toBe(1);
    expect(stderr).toBe('baton: pipeline: missing command, one of: create, show (see baton pipeline --help)\n');
  });
});

describe('projects', () => {
  test('project create prints id, path and runners_token; project list shows it', async () => {
    const created = await cli(['project', 'create', '--name', 'Alpha Site', '--repo-url', 'https://git.example.com/alpha.git']);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const id = Number(/^id:\s+(\d+)$/m.exec(created.stdout)?.[1]);
    const stored = (await (await server.api(`/api/v4/projects/${id}`)).json()) as { path_with_namespace: string; runners_token: string; repo_url: string };
    expect(stored.repo_url).toBe('https://git.example.com/alpha.git');
    expect(created.stdout).toMatch(new RegExp(`^path:\\s+${stored.path_with_namespace}$`, 'm'));
    expect(created.stdout).toMatch(new RegExp(`^runners_token:\\s+${stored.runners_token}$`, 'm'));

    const listed = await cli(['project', 'list']);
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+PATH\s+DEFAULT BRANCH\s+REPO URL\s+CREATED$/);
    expect(rows.find((r) => r.startsWith(`${id} `))).toMatch(new RegExp(`^${id}\\s+${stored.path_with_namespace}\\s+main\\s+https://git.example.com/alpha.git\\s+\\d{4}-`));

    const json = await cli(['project', 'list', '--json']);
    expect((JSON.parse(json.stdout) as { id: number }[]).map((p) => p.id)).toContain(id);
  });

  test('a missing required flag is named before any request', async () => {
    const { code, stdout, stderr } = await cli(['project', 'create', '--name', 'x']);
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: 'baton: --repo-url is required (see baton project create --help)\n' });
  });
});

describe('pipelines', () => {
  test('pipeline create --file sends the file and prints id and status', async () => {
    const project = await createProject('pipe-create');
    const file = join(tmp, 'good.yml');
    writeFileSync(file, YAML);
    const { code, stdout, stderr } = await cli(['pipeline', 'create', '--project', String(project.id), '--ref', 'main', '--sha', SHA, '--file', file]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const id = Number(/^id:\s+(\d+)$/m.exec(stdout)?.[1]);
    expect(stdout).toMatch(/^status:\s+pending$/m);
    const stored = (await (await server.api(`/api/v4/projects/${project.id}/pipelines/${id}`)).json()) as { status: string; sha: string; ref: string };
    expect(stored).toMatchObject({ status: 'pending', sha: SHA, ref: 'main' });
  });

  test.each([
    ['one problem → one line', 'build:\n  script: make\n  dependencies: [nope]\n'],
    ['several problems → each on its own line', 'a:\n  script: x\n  when: later\nb:\n  script: x\n  retry: 5\n'],
  ])('a configuration error prints the server\'s lines and creates nothing: %s', async (_, yaml) => {
    const parsed = await compile(yaml);
    if (parsed.plan) throw new Error('the test YAML must be invalid');
    const project = await createProject(`bad-${parsed.errors.length}`);
    const file = join(tmp, `bad-${parsed.errors.length}.yml`);
    writeFileSync(file, yaml);
    const { code, stdout, stderr } = await cli(['pipeline', 'create', '--project', String(project.id), '--ref', 'main', '--sha', SHA, '--file', file]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe(parsed.errors.length === 1
      ? `baton: pipeline not created: ${parsed.errors[0]}\n`
      : `baton: pipeline not created, ${parsed.errors.length} problems:\n${parsed.errors.map((l) => `  ${l}\n`).join('')}`);
    const list = (await (await server.api(`/api/v4/projects/${project.id}/pipelines`)).json()) as unknown[];
    expect(list).toEqual([]);
  });

  test('pipeline show finds the project by itself, or takes --project', async () => {
    const other = await createProject('show-other');
    await createPipeline(other.id);
    const project = await createProject('show-me');
    const pipeline = await createPipeline(project.id);
    await createProject('show-newer'); // listed first (newest first), must be skipped over

    for (const extra of [[], ['--project', String(project.id)]]) {
      const { code, stdout, stderr } = await cli(['pipeline', 'show', String(pipeline.id), ...extra]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toStartWith(`Pipeline ${pipeline.id} (project ${project.id}): pending\n`);
      expect(stdout).toMatch(new RegExp(`^sha:\\s+${SHA}$`, 'm'));
      const rows = stdout.slice(stdout.indexOf('JOB ')).trimEnd().split('\n');
      expect(rows[0]).toMatch(/^JOB\s+STAGE\s+NAME\s+STATUS\s+RUNNER\s+DURATION$/);
      expect(rows.slice(1).map((r) => r.split(/\s+/).slice(1, 4))).toEqual([['build', 'build', 'pending'], ['test', 'test', 'created']]);
    }

    const json = JSON.parse((await cli(['pipeline', 'show', String(pipeline.id), '--json'])).stdout) as { id: number; project_id: number; jobs: { name: string }[] };
    expect(json).toMatchObject({ id: pipeline.id, project_id: project.id });
    expect(json.jobs.map((j) => j.name).sort()).toEqual(['build', 'test']);
  });
});

describe('lint', () => {
  test('a valid file: "valid" and exit 0; --jobs lists them; warnings are printed', async () => {
    const project = await createProject('lint-ok');
    const file = join(tmp, 'ok.yml');
    writeFileSync(file, 'build:\n  stage: build\n  script: make\nnightly:\n  script: x\n  rules:\n    - when: always\n');
    const { code, stdout, stderr } = await cli(['lint', file, '--project', String(project.id), '--jobs']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe('valid\nwarning: jobs:nightly may allow multiple pipelines to run for a single action due to `rules:when` clause with no `workflow:rules` - read more: https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning\njob: build (stage build, when on_success)\njob: nightly (stage test, when on_success)\n');
  });

  test('an invalid file: each error on its own line, exit 1', async () => {
    const project = await createProject('lint-bad');
    const file = join(tmp, 'bad.yml');
    writeFileSync(file, 'a:\n  script: x\n  when: later\nb:\n  script: x\n  retry: 5\n');
    const { code, stdout, stderr } = await cli(['lint', file, '--project', String(project.id)]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: 'invalid\n' });
    expect(stderr).toBe('jobs:a when should be one of: on_success, on_failure, always, manual, delayed\nretry config must be less than or equal to 2\nbaton: the configuration is invalid (2 errors)\n');
  });

  test('--dry-run evaluates the rules for a push to --ref (content, so no repository is needed for this file)', async () => {
    const project = await createProject('lint-dry');
    const file = join(tmp, 'dry.yml');
    writeFileSync(file, 'workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\nj:\n  script: x\n');
    const { code, stderr } = await cli(['lint', file, '--project', String(project.id), '--dry-run', '--ref', 'main']);
    expect(code).toBe(1);
    expect(stderr).toContain('baton: ');
    const missing = await cli(['lint', file]);
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 1, stderr: 'baton: --project is required (see baton lint --help)\n' });
  });
});

describe('job trace', () => {
  test('prints the log so far, finding the project by itself', async () => {
    const project = await createProject('trace-once');
    const runner = await v1Runner(project.runners_token);
    await createPipeline(project.id);
    const job = await runner.take();
    await job.append('line 1\n');
    await job.append('line 2 ✓\n');
    const { code, stdout, stderr } = await cli(['job', 'trace', String(job.id)]);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'line 1\nline 2 ✓\n', stderr: '' });
  });

  test.each([
    ['success', 0, ''],
    ['failed', 1, 'failed (script_failure)'],
  ] as const)('--follow prints every byte exactly once as it arrives; job %s → exit %d', async (state, exitCode, word) => {
    const project = await createProject(`follow-${state}`);
    const runner = await v1Runner(project.runners_token);
    await createPipeline(project.id);
    const job = await runner.take();
    // "✓" is 3 bytes: the second piece ends inside it, the third completes it.
    const tick = Buffer.from('✓');
    const parts = [Buffer.from('$ make\n'), Buffer.concat([Buffer.from('compiling… '), tick.subarray(0, 1)]), tick.subarray(1), Buffer.from('done\n')];
    const proc = Bun.spawn([...SOURCE, 'job', 'trace', String(job.id), '--project', String(project.id), '--follow', '--interval', '0.05', ...connection({})],
      { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    const out = collect(proc.stdout);
    const stderr = new Response(proc.stderr).text();
    const sent: Buffer[] = [];
    for (const part of parts) {
      await job.append(part);
      sent.push(part);
      // The next piece goes only once the CLI has printed this one: it follows, it does not wait for the end.
      const text = Buffer.concat(sent).toString();
      if (!text.endsWith('\uFFFD')) await out.waitForEnd(text);
    }
    await job.finish(state);
    const code = await proc.exited;
    await out.finished;
    expect(out.text).toBe('$ make\ncompiling… ✓done\n');
    expect(code).toBe(exitCode);
    expect(await stderr).toBe(word ? `baton: job ${job.id} ${word}\n` : '');
  });
});

describe('runners', () => {
  test('runner list shows registered runners', async () => {
    const project = await createProject('runner-list');
    await v1Runner(project.runners_token);
    const { code, stdout } = await cli(['runner', 'list']);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^ID\s+DESCRIPTION\s+TYPE\s+STATUS\s+TAGS\s+VERSION\s+CONTACTED$/);
    expect(stdout).toMatch(/^\d+\s+cli-test-runner\s+project_type\s+/m);
    const json = JSON.parse((await cli(['runner', 'list', '--json'])).stdout) as { description: string }[];
    expect(json.some((r) => r.description === 'cli-test-runner')).toBe(true);
  });
});

describe('users and tokens', () => {
  const signIn = (login: string, password: string) => fetch(`${server.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password }) });

  test('user create (password from BATON_NEW_PASSWORD) prints the user; the user signs in; user list shows it', async () => {
    const created = await cli(['user', 'create', '--username', 'cli-alice', '--email', 'cli-alice@example.com'], { env: { BATON_NEW_PASSWORD: 'alice-secret-pw' } });
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^Created user \d+ \(cli-alice\)$/m);
    expect(created.stdout).toMatch(/^name:\s+cli-alice$/m);
    expect(created.stdout).toMatch(/^admin:\s+no$/m);
    expect(created.stdout).toMatch(/^password:\s+set$/m);
    expect(created.stdout).not.toContain('alice-secret-pw');
    expect((await signIn('cli-alice', 'alice-secret-pw')).status).toBe(200);

    const admin = await cli(['user', 'create', '--username', 'cli-admin', '--name', 'CLI Admin', '--password', 'admin-secret-pw', '--admin', '--json']);
    expect(JSON.parse(admin.stdout)).toMatchObject({ username: 'cli-admin', name: 'CLI Admin', is_admin: true });

    const listed = await cli(['user', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+USERNAME\s+NAME\s+EMAIL\s+ADMIN\s+STATE\s+LAST SIGN-IN$/);
    expect(listed.stdout).toMatch(/^\d+\s+cli-alice\s+cli-alice\s+cli-alice@example\.com\s+no\s+active\s+\d{4}-/m);
    expect(listed.stdout).toMatch(/^1\s+root\s+Administrator\s+-\s+yes\s+active\s+-$/m);
  });

  test('user create without a password makes a tokens-only user; a short one is refused before any request', async () => {
    const bot = await cli(['user', 'create', '--username', 'cli-bot']);
    expect(bot.code).toBe(0);
    expect(bot.stdout).toMatch(/^password:\s+none \(tokens only until an admin sets one\)$/m);
    const short = await cli(['user', 'create', '--username', 'cli-short', '--password', 'short']);
    expect({ code: short.code, stderr: short.stderr }).toEqual({ code: 1, stderr: 'baton: --password / BATON_NEW_PASSWORD: must be at least 8 characters\n' });
    const taken = await cli(['user', 'create', '--username', 'cli-bot']);
    expect({ code: taken.code, stderr: taken.stderr }).toEqual({ code: 1, stderr: 'baton: 409 Conflict: Username has already been taken (POST /api/v4/users)\n' });
  });

  test('token create prints the token once; it works with its scopes; token list and revoke', async () => {
    const user = JSON.parse((await cli(['user', 'create', '--username', 'cli-tok', '--json'])).stdout) as { id: number };
    const made = await cli(['token', 'create', '--user', String(user.id), '--name', 'ci', '--scopes', 'read_api', '--expires-at', '2099-01-01']);
    expect({ code: made.code, stderr: made.stderr }).toEqual({ code: 0, stderr: '' });
    expect(made.stdout).toMatch(new RegExp(`^Created token \\d+ \\(ci\\) for user ${user.id}; it is shown only now:$`, 'm'));
    const token = /^token:\s+(glpat-\S+)$/m.exec(made.stdout)![1];
    const id = Number(/^id:\s+(\d+)$/m.exec(made.stdout)![1]);
    expect(made.stdout).toMatch(/^scopes:\s+read_api$/m);
    expect(made.stdout).toMatch(/^expires_at:\s+2099-01-01$/m);

    const asUser = (args: string[]) => runBaton(SOURCE, [...args, '--url', server.url, '--token', token]);
    expect((await asUser(['project', 'list'])).code).toBe(0);
    const write = await asUser(['project', 'create', '--name', 'nope', '--repo-url', 'https://git.example.com/nope.git']);
    expect(write.code).toBe(1);
    expect(write.stderr).toBe("baton: 403 Forbidden - the token has the read_api scope only: this token's user may not do that (POST /api/v4/projects)\n");
    const notAdmin = await asUser(['user', 'list']);
    expect(notAdmin.code).toBe(0);
    expect(notAdmin.stdout).toMatch(/^\d+\s+cli-tok\s+cli-tok\s+-\s+-\s+active/m);

    const list = await cli(['token', 'list', '--user', String(user.id)]);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+USER\s+SCOPES\s+STATE\s+EXPIRES\s+LAST USED$/);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+ci\\s+${user.id}\\s+read_api\\s+active\\s+2099-01-01\\s+\\d{4}-`, 'm'));
    expect(list.stdout).not.toContain(token);

    const revoked = await cli(['token', 'revoke', String(id)]);
    expect({ code: revoked.code, stdout: revoked.stdout }).toEqual({ code: 0, stdout: `Revoked token ${id}\n` });
    const after = await asUser(['project', 'list']);
    expect(after.code).toBe(1);
    expect(after.stderr).toBe('baton: 401 Unauthorized: the server refused the token — check --token / BATON_TOKEN (Token was revoked. You have to re-authorize from the user.)\n');
  });

  test('token create without --user is for oneself; a non-admin may not create users', async () => {
    const user = JSON.parse((await cli(['user', 'create', '--username', 'cli-self', '--json'])).stdout) as { id: number };
    const first = /^token:\s+(\S+)$/m.exec((await cli(['token', 'create', '--user', String(user.id), '--name', 'a', '--scopes', 'api'])).stdout)![1];
    const own = await runBaton(SOURCE, ['token', 'create', '--name', 'b', '--scopes', 'api,read_api', '--json', '--url', server.url, '--token', first]);
    expect(JSON.parse(own.stdout)).toMatchObject({ user_id: user.id, name: 'b', scopes: ['api', 'read_api'], token: expect.stringMatching(/^glpat-/) });
    const denied = await runBaton(SOURCE, ['user', 'create', '--username', 'x-nope', '--url', server.url, '--token', first]);
    expect({ code: denied.code, stderr: denied.stderr }).toEqual({ code: 1, stderr: "baton: 403 Forbidden: this token's user may not do that (POST /api/v4/users)\n" });
    const bad = await cli(['token', 'create', '--name', 'x', '--scopes', 'sudo']);
    expect(bad.stderr).toBe('baton: 400 Bad request - scopes does not have a valid value: "sudo" (Baton knows api, read_api) (POST /api/v4/user/personal_access_tokens)\n');
  });
});

describe('connection and failures: exit 1 with one line saying why', () => {
  test('BATON_URL and BATON_TOKEN stand in for the flags', async () => {
    const { code, stderr } = await cli(['project', 'list'], { connect: false, env: { BATON_URL: server.url, BATON_TOKEN: ADMIN_TOKEN } });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  const conn = () => ['--url', server.url, '--token', ADMIN_TOKEN];
  const cases: [string, () => Promise<string[]>, RegExp][] = [
    ['server down', async () => ['project', 'list', '--url', `http://127.0.0.1:${await closedPort()}`, '--token', ADMIN_TOKEN], /^cannot reach Baton at http:\/\/127\.0\.0\.1:\d+: connection refused/],
    ['wrong token (401)', async () => ['runner', 'list', '--url', server.url, '--token', 'wrong-token'], /^401 Unauthorized: .*--token/],
    ['no token at all', async () => ['project', 'list', '--url', server.url], /^no token: pass --token or set BATON_TOKEN/],
    ['unknown project (404)', async () => ['pipeline', 'create', '--project', '99999', '--ref', 'main', ...conn()], /^404 Project Not Found/],
    ['unknown pipeline with --project (404)', async () => {
      const p = await createProject('fail-404');
      return ['pipeline', 'show', '99999', '--project', String(p.id), ...conn()];
    }, /^404 Pipeline Not Found/],
    ['pipeline in no project', async () => ['pipeline', 'show', '99999', ...conn()], /^pipeline 99999 not found in any of the \d+ project\(s\)/],
    ['job in no project', async () => ['job', 'trace', '99999', ...conn()], /^job 99999 not found in any/],
    ['invalid input (400) names the field', async () => ['project', 'create', '--name', 'x', '--repo-url', 'https://git.example.com/x.git', '--path', 'not a/path', ...conn()], /^400.*\bpath\b/],
    ['bad id', async () => ['job', 'trace', 'abc', ...conn()], /^job trace ID: expected a numeric id, got "abc"$/],
    ['bad --url', async () => ['project', 'list', '--url', 'ftp://x', '--token', ADMIN_TOKEN], /^--url: expected an http\(s\) URL/],
    ['unreadable --file', async () => ['pipeline', 'create', '--project', '1', '--ref', 'main', '--file', '/nonexistent/ci.yml', ...conn()], /^--file: cannot read "\/nonexistent\/ci.yml": ENOENT$/],
    ['unknown flag', async () => ['runner', 'list', '--bogus'], /^runner list: unknown flag --bogus \(see baton runner list --help\)$/],
    ['bad --interval', async () => ['job', 'trace', '1', '--follow', '--interval', '0', ...conn()], /^--interval: expected a number of seconds above 0/],
  ];
  test.each(cases)('%s', async (_, args, why) => {
    const { code, stdout, stderr } = await cli(await args(), { connect: false });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.split('\n');
    expect({ lines: lines.length, last: lines.at(-1) }).toEqual({ lines: 2, last: '' });
    expect(lines[0]).toStartWith('baton: ');
    expect(lines[0].slice('baton: '.length)).toMatch(why);
  });
});
