/**
 * Client commands: `baton project|pipeline|job|runner|user|token …` call the REST API of a running
 * Baton over HTTP (consumer-api.md §1). main.ts hands over any command it does not know;
 * a failure is thrown as ClientError, which main prints as one `baton: …` line, exit 1.
 */
import { parseArgs } from 'node:util';
import { BatonClient, connection } from './client';
import { Args, CONNECTION_HELP, CONNECTION_OPTIONS, renderHelp, type Command } from './command';
import { ClientError } from './errors';
import { hookCommands } from './hook';
import { jobCommands } from './jobs';
import { lintCommand } from './lint';
import { write } from './output';
import { pipelineCommands } from './pipelines';
import { projectCommands } from './projects';
import { runnerCommands } from './runners';
import { tokenCommands } from './tokens';
import { userCommands } from './users';
import { scheduleCommands } from './schedules';
import { triggerCommands } from './triggers';

export { ClientError } from './errors';

const GROUPS: Record<string, Record<string, Command>> = {
  project: projectCommands,
  pipeline: pipelineCommands,
  job: jobCommands,
  runner: runnerCommands,
  user: userCommands,
  token: tokenCommands,
  trigger: triggerCommands,
  schedule: scheduleCommands,
  hook: hookCommands,
};

/** Help lines: two spaces, the name in its column (at least two spaces after it), the summary. */
const NAME_COLUMN = 22;
const SUMMARY_INDENT = ' '.repeat(2 + NAME_COLUMN);
/** One help line; a name too long for the column puts its summary under it, aligned. */
const helpLine = (name: string, summary: string) =>
  name.length <= NAME_COLUMN - 2 ? `  ${name.padEnd(NAME_COLUMN)}${summary}` : `  ${name}\n${SUMMARY_INDENT}${summary}`;

const commandLines = (group: string) => Object.entries(GROUPS[group]).map(([sub, cmd]) =>
  helpLine(`${group} ${sub}${cmd.positionals?.length ? ` ${cmd.positionals.join(' ')}` : ''}`, cmd.summary));

/** Commands without a group (`baton lint …`). */
const SINGLE: Record<string, Command> = { lint: lintCommand };

/** The client commands' lines of `baton --help`. */
export const CLIENT_HELP = [
  ...Object.keys(GROUPS).flatMap(commandLines),
  ...Object.entries(SINGLE).map(([name, cmd]) => helpLine(`${name} [FILE]`, cmd.summary)),
  `${SUMMARY_INDENT}(client commands talk to a running server: --url / BATON_URL,`,
  `${SUMMARY_INDENT}--token / BATON_TOKEN; \`baton <command> --help\` for details)`,
].join('\n');

function groupHelp(group: string): string {
  return `Usage: baton ${group} <command> [flags]\n\nCommands:\n${commandLines(group).join('\n')}\n\n` +
    `\`baton ${group} <command> --help\` describes one.\n\n${CONNECTION_HELP}\n`;
}

/** Runs `name argv…` when it is a client command; false when main should try something else. */
export async function runClientCommand(name: string, argv: string[]): Promise<boolean> {
  const single = SINGLE[name];
  if (single) return runSingle(name, single, argv);
  const group = GROUPS[name];
  if (!group) return false;
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') return write(groupHelp(name)).then(() => true);
  const choices = Object.keys(group).join(', ');
  if (sub === undefined) throw new ClientError(`${name}: missing command, one of: ${choices} (see baton ${name} --help)`);
  const cmd = group[sub];
  if (!cmd) throw new ClientError(`unknown command "${name} ${sub}", expected one of: ${choices} (see baton ${name} --help)`);
  const command = `${name} ${sub}`;

  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: { ...CONNECTION_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    // node's own wording is long ("To specify a positional argument starting with…")
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message);
    const why = unknown ? `unknown flag ${unknown[1]}` : (e as Error).message;
    throw new ClientError(`${command}: ${why} (see baton ${command} --help)`);
  }
  if (parsed.values.help) return write(renderHelp(cmd)).then(() => true);
  const wanted = cmd.positionals ?? [];
  if (parsed.positionals.length < wanted.length) throw new ClientError(`${command}: missing ${wanted.slice(parsed.positionals.length).join(' ')} (see baton ${command} --help)`);
  if (parsed.positionals.length > wanted.length) throw new ClientError(`${command}: unexpected argument "${parsed.positionals[wanted.length]}" (see baton ${command} --help)`);

  const args = new Args(command, parsed.values, parsed.positionals);
  const client = new BatonClient(connection(parsed.values as { url?: string; token?: string }, process.env, cmd.tokenEnv));
  await cmd.run(args, client);
  return true;
}

async function runSingle(command: string, cmd: Command, argv: string[]): Promise<boolean> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message);
    throw new ClientError(`${command}: ${unknown ? `unknown flag ${unknown[1]}` : (e as Error).message} (see baton ${command} --help)`);
  }
  if (parsed.values.help) return write(renderHelp(cmd)).then(() => true);
  const args = new Args(command, parsed.values, parsed.positionals);
  await cmd.run(args, new BatonClient(connection(parsed.values as { url?: string; token?: string })));
  return true;
}
