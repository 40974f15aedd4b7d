#!/usr/bin/env bun
/**
 * The `baton` executable: `serve` (default) runs the server; `tokens` shows or rotates the
 * instance tokens of a data dir; `backup` / `restore` copy a data dir to one archive and
 * back (src/core/backup/); the other commands are HTTP clients of a running server
 * (src/cli/). Any failure ends with a non-zero status and one line saying why.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, serverFlagOptions, serverFlagsHelp } from './config';
import { openCore, startServer, type RunningServer } from './server';
import { runClientCommand, CLIENT_HELP, ClientError } from './cli';
import { VERSION } from './version';
import { backup, BackupError, restore } from './core/backup';
import { formatBytes } from './core/disk';
import { statSync } from 'node:fs';

const HELP = `baton ${VERSION} — a CI coordinator for stock GitLab Runner agents

Usage: baton [command] [flags]

Commands:
  serve                 run the server (default)
  tokens                print the runner registration token of --data-dir
                        (--rotate-registration / --rotate-admin make new ones)
  backup --to FILE      write one archive of --data-dir (safe while Baton runs)
  restore --from FILE   make a new --data-dir from such an archive (never overwrites)
${CLIENT_HELP}
  help                  this text

Server flags (serve, tokens):
${serverFlagsHelp()}

Every flag also reads its BATON_* environment variable; flags win over the environment.
`;

const serverOptions = serverFlagOptions;

function fail(message: string): never {
  process.stderr.write(`baton: ${message}\n`);
  process.exit(1);
}

async function serve(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { ...serverOptions, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return void process.stdout.write(HELP);
  const config = loadConfig(values as Record<string, string | boolean | undefined>);
  // Handlers first: a signal that arrives while starting must not kill the process halfway.
  let server: RunningServer | undefined;
  let signals = 0;
  const stop = async (sig: string) => {
    if (++signals > 1) process.exit(130);
    process.stdout.write(`${sig}: stopping (in-flight requests get up to 10 s)\n`);
    await server?.stop(10_000);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  server = await startServer(config);
  if (server.generated.registration) process.stdout.write(`Runner registration token: ${server.generated.registration}\n`);
  if (server.generated.admin) process.stdout.write(`Admin API token: ${server.generated.admin}\n  (shown once; it is stored only as a hash — \`baton tokens --rotate-admin\` makes a new one)\n`);
  for (const w of server.warnings) process.stderr.write(`baton: warning: ${w}\n`);
  process.stdout.write(`Baton ${VERSION} serving on ${server.url} (data dir ${config.dataDir})\n`);
}

function tokens(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { ...serverOptions, 'rotate-registration': { type: 'boolean' }, 'rotate-admin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return void process.stdout.write(HELP);
  const config = loadConfig(values as Record<string, string | boolean | undefined>);
  const core = openCore({ ...config, logLevel: 'silent' });
  const generated = core.instance.ensureTokens({ admin: config.adminToken, registration: config.registrationToken });
  if (generated.admin) process.stdout.write(`Admin API token: ${generated.admin}\n`);
  if (values['rotate-registration']) core.instance.rotateRegistrationToken();
  process.stdout.write(`Runner registration token: ${core.instance.registrationToken()}\n`);
  if (values['rotate-admin']) process.stdout.write(`Admin API token: ${core.instance.rotateAdminToken()}\n`);
  core.deps.db.$client.close();
}

function backupCommand(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, to: { type: 'string' }, 'without-secret-key': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return void process.stdout.write('baton backup --data-dir DIR --to FILE [--without-secret-key]\n  writes one tar archive (mode 0600): a consistent copy of the database and every file it refers to\n  (traces, artifacts, report files, the key of sealed tokens unless --without-secret-key);\n  safe while Baton serves runners\n');
  if (!values.to) throw new BackupError('--to: expected the file to write the backup to');
  const { dataDir } = loadConfig({ 'data-dir': values['data-dir'] });
  const started = performance.now();
  const m = backup(dataDir, values.to, { version: VERSION, withoutSecretKey: values['without-secret-key'] });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`Backup of ${dataDir} written to ${values.to}: ${m.jobs} jobs, ${m.traces} traces, ${m.artifacts} artifacts, ${m.reports ?? 0} report files, ${formatBytes(statSync(values.to).size)} in ${secs} s`
    + `${m.artifactsDropped || m.reportsDropped ? ` (${(m.artifactsDropped ?? 0) + (m.reportsDropped ?? 0)} files replaced or deleted after the snapshot left out)` : ''}\n`);
}

function restoreCommand(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return void process.stdout.write('baton restore --from FILE --data-dir NEW\n  makes a new data dir from a backup (checked entry by entry); refuses a non-empty --data-dir\n');
  if (!values.from) throw new BackupError('--from: expected the backup file to restore');
  if (!values['data-dir']) throw new BackupError('--data-dir: expected the new data dir to restore into');
  const m = restore(values.from, values['data-dir']);
  process.stdout.write(`Restored ${values.from} (taken ${m.createdAt} by Baton ${m.version}) into ${values['data-dir']}: ${m.jobs} jobs, ${m.traces} traces, ${m.artifacts} artifacts\n`
    + `Start it with: baton --data-dir ${values['data-dir']}\n`);
}

async function main(argv: string[]) {
  const [first, ...rest] = argv;
  if (first === '--version' || first === 'version') return void process.stdout.write(`baton ${VERSION}\n`);
  if (first === 'help' || first === '--help' || first === '-h') return void process.stdout.write(HELP);
  if (first === undefined || first.startsWith('-')) return serve(argv);
  if (first === 'serve') return serve(rest);
  if (first === 'tokens') return tokens(rest);
  if (first === 'backup') return backupCommand(rest);
  if (first === 'restore') return restoreCommand(rest);
  if (await runClientCommand(first, rest)) return;
  fail(`unknown command "${first}" (see baton --help)`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof ClientError || e instanceof BackupError) fail(e.message);
  const code = (e as { code?: string })?.code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    fail(`${(e as Error).message} (see baton --help)`);
  }
  if (code === 'EADDRINUSE') fail(`--listen: the address is already in use`);
  fail((e as Error)?.message ?? String(e));
});
