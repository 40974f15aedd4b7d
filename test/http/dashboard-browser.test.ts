/**
 * The dashboard in a real headless Chromium, every request outside loopback refused: sign
 * in (a wrong password first), run a pipeline from the form (read from a real git
 * repository), watch a simulated gitlab-runner's log arrive live with colours and folded
 * sections, cancel and retry, follow the pipeline graph with `needs`, open a 50 MB log, see
 * the admin pages, and check that a Reporter sees no buttons. No page may log an error
 * (a Content-Security-Policy violation is one). A screenshot of each page is written to
 * `$BATON_CI_LOG_DIR/screenshots` (else a temp folder, printed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { planFor } from '../support/compile';
import { addMember, createAccount, ROLE, type Account } from '../support/accounts';
import { openBrowser, type Browser } from '../support/browser';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { makePipeline, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { makeZip } from '../support/zip';

const SHOTS = process.env.BATON_CI_LOG_DIR ? join(process.env.BATON_CI_LOG_DIR, 'screenshots') : mkdtempSync(join(tmpdir(), 'baton-dashboard-shots-'));
mkdirSync(SHOTS, { recursive: true });
console.log(`dashboard screenshots: ${SHOTS}`);

const CI_YAML = `stages: [build, test]
build:
  stage: build
  script: make
test:
  stage: test
  script: make test
`;

function git(cwd: string, ...args: string[]) {
  const r = Bun.spawnSync(['git', ...args], { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' } });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}


/** Retries an assertion until it holds (what a page shows arrives asynchronously). */
async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await Bun.sleep(50);
    }
  }
}
const attr = (l: Locator, name: string) => l.first().getAttribute(name);
const text = async (l: Locator) => (await l.first().textContent()) ?? '';

let s: TestServer;
let browser: Browser;
let repo: string;
let admin: Account;
let dev: Account;
let reporter: Account;
let stranger: Account;
let project: { id: number; path_with_namespace: string };
const errors: string[] = [];

async function newPage(opts: { dark?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // A refused sign-in (401, 429 when rate-limited) and pages a Reporter may not open (403) are expected answers.
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403|429)/.test(m.text())) errors.push(`console: ${m.text()}`); });
  if (opts.dark) await page.emulateMedia({ colorScheme: 'dark' });
  return page;
}

async function signIn(page: Page, who: Account) {
  await browser.context.clearCookies();
  await page.goto(`${s.url}/users/sign_in`);
  await page.getByLabel('Username or email').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${s.url}/`);
}

async function shot(page: Page, name: string, fullPage = true) {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  expect(statSync(file).size).toBeGreaterThan(5_000);
}

beforeAll(async () => {
  s = await startTestServer();
  repo = mkdtempSync(join(tmpdir(), 'baton-dash-repo-'));
  git(repo, 'init', '--quiet', '-b', 'main');
  writeFileSync(join(repo, '.gitlab-ci.yml'), CI_YAML);
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'Add the CI configuration\n\nwith a body');
  admin = await createAccount(s, { username: 'ada', admin: true });
  dev = await createAccount(s, { username: 'dev' });
  reporter = await createAccount(s, { username: 'rita' });
  stranger = await createAccount(s, { username: 'sam' });
  const res = await s.api('/api/v4/projects', { method: 'POST', json: { name: 'app', namespace: 'team', repo_url: repo } });
  expect(res.status).toBe(201);
  project = (await res.json()) as typeof project;
  await addMember(s, project.id, dev.id, ROLE.developer);
  await addMember(s, project.id, reporter.id, ROLE.reporter);
  browser = await openBrowser({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
  rmSync(repo, { recursive: true, force: true });
});

describe('dashboard in Chromium', () => {
  test('sign in (a wrong password is said on the page), projects, run a pipeline, watch its log live with colours and sections', async () => {
    const page = await newPage();
    const res = await page.goto(`${s.url}/`);
    expect(page.url()).toBe(`${s.url}/users/sign_in`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('Username or email').fill(dev.username);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(async () => expect(await text(page.getByRole('alert'))).toBe('Invalid username, email or password.'));
    await shot(page, 'sign-in', false);
    await page.getByLabel('Password').fill(dev.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${s.url}/`);
    await page.getByRole('link', { name: 'team / app' }).first().waitFor({ state: 'visible', timeout: 10_000 });

    await page.getByRole('link', { name: 'team / app' }).click();
    await page.getByRole('link', { name: 'Run pipeline' }).click();
    await page.getByLabel('Branch or tag').fill('main');
    await page.getByLabel('Key').fill('GREETING');
    await page.getByLabel('Value').fill('hello');
    await shot(page, 'run-pipeline', false);
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.waitForURL(/\/team\/app\/-\/pipelines\/\d+$/);
    const pipelineId = Number(page.url().split('/').at(-1));
    const pipeline = s.core.pipelines.get(pipelineId);
    expect(pipeline).toMatchObject({ source: 'web', userId: dev.id, commitMessage: expect.stringContaining('Add the CI configuration'), triggerVariables: [{ key: 'GREETING', value: 'hello' }] });
    await eventually(async () => expect(await page.locator('li.job').count()).toBe(2));
    await shot(page, 'pipeline-pending');

    // a runner takes the build job and writes slowly; the job page shows it as it comes
    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN, { updateIntervalMs: 120, description: 'fake-linux' });
    const output = Array.from({ length: 25 }, (_, i) => i % 5 === 0 ? `\x1b[31;1merror-ish line ${i}\x1b[0m` : `\x1b[38;2;255;128;0mline ${i}\x1b[0m plain`);
    const run = runner.runOne({ build: { output } });
    await eventually(async () => expect(await attr(page.locator('li.job[data-name="build"] .ci-status'), 'data-status')).toBe('running'), 10_000);
    await page.locator('li.job[data-name="build"] a.job-link').click();
    await page.waitForURL(/\/-\/jobs\/\d+$/);
    await page.locator('.log .line').first().waitFor({ state: 'visible', timeout: 10_000 });
    const early = await page.locator('.log .line').count();
    await page.locator('.log .line', { hasText: 'line 24' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('.log .line').count()).toBeGreaterThan(early);
    // colours: ansi_up's class for red, the exact RGB set through the CSSOM (the CSP refuses style attributes)
    const red = page.locator('.log .ansi-red-fg', { hasText: 'error-ish line 0' });
    await red.first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await red.evaluate((el) => (globalThis as any).getComputedStyle(el).fontWeight)).toBe('700');
    const orange = page.locator('.log span', { hasText: /^line 1$/ });
    expect(await orange.evaluate((el) => (globalThis as any).getComputedStyle(el).color)).toBe('rgb(255, 128, 0)');
    // sections folded with their duration; the status comes as an event
    await eventually(async () => expect(await attr(page.locator('[data-job-badge] .ci-status'), 'data-status')).toBe('success'), 20_000);
    await run;
    // the next stage runs too, so the pipeline ends
    expect((await runner.runOne({ test: { output: ['ok'] } }))?.state).toBe('success');
    await page.locator('details.section[data-section="build_script"] > summary .section-duration').first().waitFor({ state: 'attached' });
    await shot(page, 'job');
    const section = page.locator('details.section[data-section="build_script"]');
    await eventually(async () => expect(await attr(section, 'open')).toBe(''));
    await eventually(async () => expect(await text(section.locator(':scope > summary .section-duration'))).toMatch(/^\d\d:\d\d$/));
    await section.locator(':scope > summary').click();
    await eventually(async () => expect(await attr(section, 'open')).toBeNull());
    await section.locator('.line', { hasText: 'line 3 plain' }).first().waitFor({ state: 'hidden' });
    await eventually(async () => expect(await text(page.locator('.facts .runner'))).toContain('fake-linux'));
    // line numbers link to themselves
    const link = page.locator('.log .line[id] a.lineno').first();
    expect(await link.getAttribute('href')).toMatch(/^#L\d+$/);
    await shot(page, 'job-folded');
    // every byte of the stored log is on the page
    const stored = new TextDecoder().decode(s.core.jobs.readTrace(s.core.pipelines.latestJobs(pipelineId)[0].id));
    for (const l of output) expect(stored).toContain(l);
    await page.close();
  }, 90_000);

  test('cancel a running job from its page, then retry it; the pipeline graph follows and draws needs', async () => {
    const page = await newPage();
    await signIn(page, dev);
    // a pipeline whose second job needs the first (jobs.spec.needs as the compiler stores it)
    const parsed = { plan: await planFor('stages: [build, test, deploy]\nbuild:\n  stage: build\n  script: make\nlint:\n  stage: build\n  script: lint\nunit:\n  stage: test\n  script: t\ndeploy:\n  stage: deploy\n  script: d\n  when: manual\n') };
    parsed.plan.jobs.find((j) => j.name === 'unit')!.needs = [{ job: 'build', artifacts: true, optional: false }];
    const pipeline = s.core.pipelines.create(project.id, { ref: 'main', tag: false, sha: 'b'.repeat(40), userId: dev.id }, parsed.plan);
    await page.goto(`${s.url}/team/app/-/pipelines/${pipeline.id}`);
    await eventually(async () => expect(await page.locator('svg.needs path.edge[data-from="build"][data-to="unit"]').count()).toBe(1));
    await page.getByRole('button', { name: 'Cancel pipeline' }).first().waitFor({ state: 'visible', timeout: 10_000 });

    const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN, { updateIntervalMs: 100 });
    const long = Array.from({ length: 300 }, (_, i) => `tick ${i}`);
    const run = runner.runOne({ build: { output: long }, lint: { output: long } });
    await page.locator('.job .ci-running').first().waitFor({ state: 'visible', timeout: 10_000 });
    await shot(page, 'pipeline-running');
    const runningName = await page.locator('li.job:has(.ci-running)').first().getAttribute('data-name');
    await page.locator(`li.job[data-name="${runningName}"] a.job-link`).click();
    await page.locator('.log .line', { hasText: 'tick 2' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.getByRole('button', { name: `Cancel ${runningName}` }).click();
    await eventually(async () => expect(await attr(page.locator('[data-job-badge] .ci-status'), 'data-status')).toBe('canceled'), 10_000);
    const result = await run;
    expect(result?.aborted).toBe(true);
    const jobUrl = page.url();
    await page.getByRole('button', { name: `Retry ${runningName}` }).click();
    await page.waitForURL((u) => u.href !== jobUrl && /\/-\/jobs\/\d+$/.test(u.pathname));
    await eventually(async () => expect(await attr(page.locator('[data-job-badge] .ci-status'), 'data-status')).toMatch(/pending|created/));
    await page.close();
  }, 60_000);

  test('a Reporter sees pipelines, jobs and logs but no button; the run form is refused', async () => {
    const page = await newPage();
    await signIn(page, reporter);
    // the first pipeline: its build job has a log
    const pipelineId = s.core.pipelines.list(project.id, { offset: 0, limit: 100 }).rows.at(-1)!.id;
    const jobId = s.core.pipelines.latestJobs(pipelineId)[0].id;
    await page.goto(`${s.url}/team/app`);
    await page.getByRole('heading', { name: 'app' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await eventually(async () => expect(await page.getByRole('link', { name: 'Run pipeline' }).count()).toBe(0));
    await page.goto(`${s.url}/team/app/-/pipelines/${pipelineId}`);
    await page.locator('li.job').first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('button[data-action]').count()).toBe(0);
    await page.goto(`${s.url}/team/app/-/jobs/${jobId}`);
    await page.locator('.log .line').first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('button[data-action]').count()).toBe(0);
    const res = await page.goto(`${s.url}/team/app/-/pipelines/new`);
    expect(res?.status()).toBe(403);
    const admin = await page.goto(`${s.url}/admin/runners`);
    expect(admin?.status()).toBe(403);
    await page.close();
  }, 30_000);

  test('a 50 MB log opens at its end without freezing the page; earlier output and line links load on demand', async () => {
    const parsed = { plan: await planFor('big:\n  script: x\n') };
    const pipeline = s.core.pipelines.create(project.id, { ref: 'main', tag: false, sha: 'c'.repeat(40) }, parsed.plan);
    const [job] = s.core.pipelines.latestJobs(pipeline.id);
    // 50 MiB of numbered lines, written straight into the store
    const line = (i: number) => `\x1b[32mline ${String(i).padStart(7, '0')}\x1b[0m ${'x'.repeat(60)}\n`;
    let offset = 0;
    let n = 0;
    while (offset < 50 * 2 ** 20) {
      let chunk = '';
      for (let k = 0; k < 10_000; k++) chunk += line(++n);
      const bytes = Buffer.from(chunk);
      s.core.deps.store.appendTrace(job.id, offset, bytes);
      offset += bytes.length;
    }
    s.core.jobs.cancel(job.id);
    const page = await newPage();
    await signIn(page, admin);
    const t0 = Date.now();
    await page.goto(`${s.url}/team/app/-/jobs/${job.id}`);
    await page.locator(`#L${n}`).first().waitFor({ state: 'visible', timeout: 10_000 });
    const opened = Date.now() - t0;
    // the page answers at once: it drew the tail only
    const t1 = Date.now();
    const drawn = await page.locator('.log .line').count();
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(drawn).toBeLessThan(5000);
    expect(opened).toBeLessThan(8000);
    const first = Number((await page.locator('.log .line[id]').first().getAttribute('id'))!.slice(1));
    expect(first).toBe(n - drawn + 1);
    await eventually(async () => expect(await text(page.locator('[data-earlier]'))).toContain('Show earlier output'));
    await page.locator('[data-earlier]').click();
    await page.locator(`#L${first - 1}`).first().waitFor({ state: 'attached', timeout: 10_000 });
    expect(await page.locator(`#L${first - 1} .text`).textContent()).toBe(`line ${String(first - 1).padStart(7, '0')} ${'x'.repeat(60)}`);
    await shot(page, 'job-50mb', false);
    // a link to a line far up loads what it needs
    await page.goto(`${s.url}/team/app/-/jobs/${job.id}#L${n - 30_000}`);
    await page.locator(`#L${n - 30_000}`).first().waitFor({ state: 'visible', timeout: 20_000 });
    await page.close();
  }, 120_000);

  test('admin pages (runners with the registration token, users), the pipelines list, dark mode and a phone', async () => {
    const page = await newPage();
    await signIn(page, admin);
    await page.goto(`${s.url}/admin/runners`);
    await page.locator('table.runners tbody tr').first().waitFor({ state: 'visible', timeout: 10_000 });
    await eventually(async () => expect(await text(page.locator('[data-registration-token]'))).toBe(s.core.instance.registrationToken()));
    await eventually(async () => expect(await text(page.locator('table.runners'))).toContain('v4'));
    await shot(page, 'admin-runners');
    const first = await page.locator('table.runners button[data-action]').first();
    const label = await first.getAttribute('aria-label');
    expect(label).toMatch(/^Pause runner #\d+$/);
    await first.click();
    await page.waitForLoadState('load');
    await page.getByRole('button', { name: label!.replace('Pause', 'Resume') }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.goto(`${s.url}/admin/users`);
    await eventually(async () => expect(await text(page.locator('table.users'))).toContain('rita'));
    await shot(page, 'admin-users');
    await page.goto(`${s.url}/team/app/-/pipelines`);
    await page.locator('table.pipelines tbody tr').first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.getByLabel('Status').selectOption('canceled');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=canceled/);
    for (const badge of await page.locator('table.pipelines tbody .ci-status').all()) expect(await badge.getAttribute('data-status')).toBe('canceled');
    await page.goto(`${s.url}/team/app/-/pipelines`);
    await shot(page, 'pipelines');
    await page.goto(`${s.url}/`);
    await shot(page, 'projects');
    // a second project whose job leaves artifacts, run by its own project runner
    const lib = (await (await s.api('/api/v4/projects', { method: 'POST', json: { name: 'lib', namespace: 'team', repo_url: repo } })).json()) as { id: number; runners_token: string };
    await makePipeline(s.core, lib.id, 'pack:\n  script: make dist\n  artifacts:\n    paths: [dist/]\n');
    const packer = await FakeRunnerV4.register(s.url, lib.runners_token, { description: 'lib-runner' });
    const packed = await packer.runOne({ pack: { output: ['packing'], artifacts: makeZip([{ path: 'dist/', data: '' }, { path: 'dist/lib.js', data: 'x'.repeat(5000) }, { path: 'dist/lib.d.ts', data: 'y'.repeat(300) }]) } });
    await page.goto(`${s.url}/team/lib/-/jobs/${packed!.jobId}`);
    await eventually(async () => expect(await text(page.locator('table.files'))).toContain('dist/lib.js'));
    await page.getByRole('link', { name: 'Browse' }).click();
    await page.waitForURL(/\/artifacts\/browse$/);
    await shot(page, 'artifacts');
    await page.goto(`${s.url}/team/lib`);
    await shot(page, 'project');
    await page.getByRole('link', { name: 'Runners' }).last().click();
    await page.waitForURL(/\/team\/lib\/-\/runners$/);
    await eventually(async () => expect(await text(page.locator('table.runners'))).toContain('lib-runner'));
    await shot(page, 'project-runners');
    await page.close();

    const dark = await newPage({ dark: true });
    await signIn(dark, admin);
    const jobId = s.core.pipelines.latestJobs(s.core.pipelines.list(project.id, { offset: 0, limit: 100 }).rows.at(-1)!.id)[0].id;
    await dark.goto(`${s.url}/team/app/-/jobs/${jobId}`);
    await dark.locator('.log .line').first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await dark.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(24, 23, 29)');
    await shot(dark, 'job-dark', false);
    await dark.setViewportSize({ width: 390, height: 844 });
    await dark.reload();
    await dark.locator('.log .line').first().waitFor({ state: 'visible', timeout: 10_000 });
    // nothing wider than the phone but the log's own scroll box
    expect(await dark.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(dark, 'job-phone', false);
    await dark.close();
  }, 60_000);

  // Last: it uses up the failed sign-ins this address may make for a while.
  test('too many failed sign-ins: the page says when to try again, and the button waits', async () => {
    await browser.context.clearCookies();
    const page = await newPage();
    await page.goto(`${s.url}/users/sign_in`);
    const alert = page.getByRole('alert');
    for (let i = 0; i < 6; i++) {
      await page.getByLabel('Username or email').fill(stranger.username);
      await page.getByLabel('Password').fill(`wrong-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await eventually(async () => expect(await text(alert)).toMatch(/Invalid|Too many/));
      if ((await text(alert)).startsWith('Too many')) break;
    }
    await eventually(async () => expect(await text(alert)).toMatch(/^Too many failed sign-ins\. Try again in \d+ seconds?\.$/));
    expect(await page.getByRole('button', { name: 'Sign in' }).isDisabled()).toBe(true);
    await shot(page, 'sign-in-rate-limited', false);
    await page.close();
  }, 30_000);

  test('no page needed the network, and none logged an error (CSP violations included)', () => {
    expect(browser.blocked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
