/**
 * `npm run db:check` (scripts/check-drift.ts): passes while src/db/schema.ts and drizzle/
 * agree, fails naming the SQL drizzle-kit would add when they do not, and leaves no file
 * behind in either case.
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from './spawn';

const temps: string[] = [];
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'baton-drift-test-'));
  temps.push(d);
  return d;
}
afterAll(() => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort().map((p) => `${p}:${statSync(join(dir, p)).mtimeMs}`);
}

function check(args: string[] = []) {
  // A private TMPDIR shows whether the script cleans up after itself.
  const tmp = tempDir();
  const before = listing(join(ROOT, 'drizzle'));
  const proc = Bun.spawnSync([process.execPath, 'run', 'scripts/check-drift.ts', ...args], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdout: 'pipe', stderr: 'pipe' });
  expect(listing(join(ROOT, 'drizzle'))).toEqual(before);
  // (drizzle-kit's own loader keeps a tsx-* cache there; that one is not ours)
  expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

test('schema.ts and drizzle/ agree', () => {
  const r = check();
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toContain('matches');
}, 120_000);

test('a column added to the schema without a migration is reported as drift', () => {
  const dir = tempDir();
  // The copy resolves drizzle-orm through a link to the project's node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const original = readFileSync(join(ROOT, 'src/db/schema.ts'), 'utf8');
  const changed = original.replace(/(export const settings = sqliteTable\('settings', \{\n)/, "$1  driftProbe: text('drift_probe'),\n");
  expect(changed).not.toBe(original);
  writeFileSync(join(dir, 'schema.ts'), changed);
  const r = check(['--schema', relative(ROOT, join(dir, 'schema.ts'))]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('drifted');
  expect(r.stderr).toMatch(/ALTER TABLE `settings` ADD `drift_probe` text/);
}, 120_000);

test('a schema drizzle-kit cannot load is an error, not a pass', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'schema.ts'), "import { nothing } from 'no-such-module';\nexport const x = nothing;\n");
  const r = check(['--schema', relative(ROOT, join(dir, 'schema.ts'))]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('did not confirm');
}, 120_000);
