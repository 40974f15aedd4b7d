#!/usr/bin/env bun
/**
 * Profiles Baton under one load generator, to find what limits a figure:
 *
 *   bun run bench/profile.ts poll '{"proto":"v4","clients":64,"warmupMs":500,"durationMs":3000,"echo":true}' [--pending N] [-- server flags]
 *
 * Starts Baton from source with `--cpu-prof-md` on a fresh data dir (with N pending jobs
 * seeded, default 0), runs bench/load/<script>.ts against it (url and registrationToken
 * are filled in), stops the server and prints where the markdown profile is.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BUN, REGISTRATION_TOKEN, ROOT, batonArgs, runLoad, startServer } from './lib/proc';
import { seedPending, tempDir } from './lib/seed';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const serverFlags = dash === -1 ? [] : argv.slice(dash + 1);
const [script, json = '{}', ...rest] = dash === -1 ? argv : argv.slice(0, dash);
if (!script) {
  process.stderr.write('usage: bun run bench/profile.ts <load script> [json options] [--pending N] [-- server flags]\n');
  process.exit(2);
}
const pendingAt = rest.indexOf('--pending');
const pending = pendingAt === -1 ? 0 : Number(rest[pendingAt + 1]);

const dir = tempDir('profile');
const profDir = tempDir('profile-out');
if (pending > 0) await seedPending(dir, Math.ceil(pending / 100), Math.min(100, pending));
const server = await startServer([BUN, '--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${profDir}`, 'run', join(ROOT, 'src/main.ts'), ...batonArgs(dir), ...serverFlags]);
try {
  const [result] = await runLoad([{ script, options: { registrationToken: REGISTRATION_TOKEN, ...JSON.parse(json), url: server.url } }]);
  const summary = Object.fromEntries(Object.entries(result as object).filter(([, v]) => !Array.isArray(v)));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const f of readdirSync(profDir)) process.stdout.write(`profile: ${join(profDir, f)}\n`);
