#!/usr/bin/env bun
/**
 * `npm run db:check`: fails when src/db/schema.ts and the migrations in drizzle/ disagree,
 * i.e. when `drizzle-kit generate` would write a new migration. It runs drizzle-kit on a
 * temporary copy of drizzle/, so nothing is left behind in the repository either way.
 *
 *   bun run scripts/check-drift.ts [--schema FILE] [--migrations DIR]
 *
 * Exit 0: no drift. Exit 1: drift (the migration drizzle-kit would add is printed) or
 * drizzle-kit could not decide (for example it wanted to ask about a rename).
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dir, '..');
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { schema: { type: 'string', default: 'src/db/schema.ts' }, migrations: { type: 'string', default: 'drizzle' } },
});
const schema = resolve(root, values.schema!);
const migrations = resolve(root, values.migrations!);

/** Every file under dir, relative to it, with its content. */
function snapshot(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) snapshot(p, base, out);
    else out.set(relative(base, p), readFileSync(p, 'utf8'));
  }
  return out;
}

/** Runs drizzle-kit on a copy of the migrations; returns what is wrong, or null. */
function check(work: string): string | null {
  const out = join(work, 'drizzle');
  if (existsSync(migrations)) cpSync(migrations, out, { recursive: true });
  const before = snapshot(out);
  // drizzle-kit prefixes --out with "./", so it must be relative to the working directory.
  const proc = Bun.spawnSync(
    [join(root, 'node_modules/.bin/drizzle-kit'), 'generate', '--dialect', 'sqlite', '--schema', relative(root, schema), '--out', relative(root, out)],
    { cwd: root, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: 120_000, env: { ...process.env, CI: 'true', FORCE_COLOR: '0' } },
  );
  const output = `${proc.stdout.toString()}${proc.stderr.toString()}`;
  const after = snapshot(out);
  const changed = [...after].filter(([name, text]) => before.get(name) !== text).map(([name]) => name);
  const added = changed.filter((name) => name.endsWith('.sql') && !before.has(name));
  if (added.length > 0) {
    const sql = added.map((name) => `-- ${name}\n${after.get(name)}`).join('\n');
    return `src/db/schema.ts and drizzle/ have drifted; \`npm run db:generate\` would add:\n${sql}`;
  }
  if (proc.exitCode !== 0 || !/No schema changes/i.test(output)) {
    return `drizzle-kit generate did not confirm "No schema changes" (exit ${proc.exitCode ?? 'timeout'}):\n${output.trim()}`;
  }
  if (changed.length > 0) return `drizzle-kit would rewrite ${changed.join(', ')} although it reports no schema changes`;
  process.stdout.write(`db:check: ${relative(root, schema)} matches the ${[...before.keys()].filter((n) => n.endsWith('.sql')).length} migration(s) in ${relative(root, migrations)}/\n`);
  return null;
}

const work = mkdtempSync(join(tmpdir(), 'baton-drift-'));
let problem: string | null;
try {
  problem = check(work);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (problem) {
  process.stderr.write(`db:check: ${problem}\n`);
  process.exit(1);
}
