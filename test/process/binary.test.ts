/**
 * The compiled executable: built once with the same command as `npm run build`, copied alone
 * into an empty directory and started there. It must create its data dir, apply the embedded
 * migrations, answer /-/health and serve the Swagger page and assets from inside itself.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test';
import { Database } from 'bun:sqlite';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runBaton, startBaton, type BatonProcess } from './spawn';

// Real processes: generous on a loaded 2-core CI machine.
setDefaultTimeout(30_000);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: { build: string } };
const journal = JSON.parse(readFileSync(join(ROOT, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: unknown[] };

let work: string;
let binary: string;
let runDir: string;
let baton: BatonProcess | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'baton-binary-'));
  // The build command of package.json, with the output redirected into the temp dir.
  const build = pkg.scripts.build.split(/\s+/);
  expect(build.slice(0, 3)).toEqual(['bun', 'build', '--compile']);
  const outfile = build.indexOf('--outfile');
  build.splice(outfile, 2, '--outfile', join(work, 'build', 'baton'));
  const proc = Bun.spawnSync([process.execPath, ...build.slice(1)], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  if (proc.exitCode !== 0) throw new Error(`build failed:\n${proc.stdout}\n${proc.stderr}`);
  // Only the executable goes into the empty directory it will run from.
  runDir = join(work, 'run');
  mkdirSync(runDir);
  binary = join(runDir, 'baton');
  copyFileSync(join(work, 'build', 'baton'), binary);
  Bun.spawnSync(['chmod', '+x', binary]);
}, 180_000);

afterAll(async () => {
  if (baton) await baton.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Every embedded migration applied exactly once, and the one runner registered by the first start kept. */
function expectMigratedWithOneRunner() {
  const db = new Database(join(runDir, 'baton-data', 'baton.db'), { readonly: true });
  try {
    expect((db.query('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n).toBe(journal.entries.length);
    expect((db.query('SELECT count(*) AS n FROM runners').get() as { n: number }).n).toBe(1);
  } finally {
    db.close();
  }
}

test('--version runs with nothing beside the binary', async () => {
  expect(readdirSync(runDir)).toEqual(['baton']);
  const r = await runBaton([binary], ['--version'], { cwd: runDir });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`baton ${pkg.version}\n`);
});

test('started in its empty directory it creates ./baton-data, migrates, and serves health, version and Swagger', async () => {
  baton = await startBaton([binary], ['--listen', '127.0.0.1:0'], { cwd: runDir });
  expect(readdirSync(runDir).sort()).toEqual(['baton', 'baton-data']);
  expect(existsSync(join(runDir, 'baton-data', 'baton.db'))).toBe(true);
  expect(baton.messages().some((l) => l.startsWith('Runner registration token: '))).toBe(true);

  const health = await fetch(`${baton.url}/-/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  expect(health.headers.get('x-request-id')).toBeTruthy();

  const version = await fetch(`${baton.url}/api/v4/version`);
  expect(((await version.json()) as { version: string }).version).toBe(pkg.version);

  const page = await fetch(`${baton.url}/swagger`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('/swagger/assets/swagger-ui-bundle.js');
  for (const [asset, file] of [['swagger-ui-bundle.js', 'swagger-ui-bundle.js'], ['swagger-ui.css', 'swagger-ui.css']]) {
    const res = await fetch(`${baton.url}/swagger/assets/${asset}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(readFileSync(Bun.resolveSync(`swagger-ui-dist/${file}`, ROOT), 'utf8'));
  }
  const doc = (await (await fetch(`${baton.url}/swagger/json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/-/health', '/ci/api/v1/runners/register']));

  // a runner can register: the database is migrated and writable
  const token = /Runner registration token: (\S+)/.exec(baton.stdout())![1];
  const reg = await fetch(`${baton.url}/ci/api/v1/runners/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(reg.status).toBe(201);

  // one JSON request line per request, on stdout
  expect(baton.logs().filter((l) => l.msg === 'request' && l.path === '/-/health')).toHaveLength(1);

  expect(await baton.stop()).toBe(0);
  baton = undefined;

  expectMigratedWithOneRunner();
}, 60_000);

test('a second start of the binary applies no migration and prints no token', async () => {
  baton = await startBaton([binary], ['--listen', '127.0.0.1:0'], { cwd: runDir });
  expect(baton.messages().filter((l) => /token:/i.test(l))).toEqual([]);
  expect((await fetch(`${baton.url}/-/health`)).status).toBe(200);
  expect(await baton.stop()).toBe(0);
  baton = undefined;
  expectMigratedWithOneRunner();
}, 60_000);

test('`baton tokens` of the binary, run from another directory, reads the same data dir', async () => {
  const r = await runBaton([binary], ['tokens', '--data-dir', join(runDir, 'baton-data')], { cwd: tmpdir() });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Runner registration token: \S+\n$/);
});
